"""The rapport annuel politique de la ville (CGCT art. L1111-2, décret n° 2015-1118).

One report per contract and year, prepared by the chef de service:
- its draft is assembled from the data (`contenu`): the contract's orientations, the QPVs'
  situation, the year's actions with the dashboard's figures, bilans and beneficiaries,
  participation, instances held, the evaluation frame;
- chapters are written by the chefs de projet (their communes, the DSU communes) and by the
  service (prospects, droit commun, coordination, participation, evaluation);
- the draft is sent for opinion to the conseils citoyens and conseils municipaux (one month at
  least, silence being a favourable opinion: `Consultation.avis_au`), their opinions annexed;
- the conseil communautaire approves it, stating the follow-up given to the observations, and
  it is published.
Its PDF and editable document are built by the worker as reporting.Rapport records, one per
version (`produire`), never purged.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from cvu import evaluation, rights
from cvu.models import Reunion
from participation.models import ConseilCitoyen, Demarche, Inscription, SessionFormation
from quartiers.models import Commune, Qpv, ValeurIndicateur

from .dashboard import Scope, by_axe, by_commune, by_funder, by_qpv, council_rows
from .models import ChapitreRapport, Consultation, Rapport, RapportAnnuel

C = ChapitreRapport.Type

# The legal sections of the report (décret n° 2015-1118, art. 1), in the document's order.
SECTIONS = [
    ("orientations", "Rappel des orientations du contrat de ville"),
    ("quartiers", "Évolution de la situation des quartiers prioritaires"),
    ("actions", "Actions menées au titre de l'année"),
    ("bilans", "Bilans et publics touchés"),
    ("participation_habitants", "Participation des habitants"),
    ("instances", "Instances de pilotage réunies"),
    ("evaluation", "Évaluation"),
    ("communes", "Actions menées par les communes"),
    ("dsu", "Dotation de solidarité urbaine"),
    ("perspectives", "Perspectives et améliorations"),
    ("avis", "Annexe : avis des conseils citoyens et des conseils municipaux"),
    ("approbation", "Approbation et publication"),
]


# Checklist points that must be complete before the conseil communautaire approves the text.
BEFORE_APPROVAL = ("communes", "dsu", "perspectives", "avis")

# ---------------------------------------------------------------- starting a report


def communes_du_contrat(contrat):
    """The communes of the contract's QPVs: each has its chapter."""
    return Commune.objects.filter(qpvs__geographie=contrat.geographie).distinct().order_by("nom")


def dsu_par_defaut(contrat, annee: int) -> list[int]:
    """The DSU communes of the contract's previous report, as a starting point."""
    previous = (
        RapportAnnuel.objects.filter(contrat=contrat, annee__lt=annee).order_by("-annee").first()
    )
    return list(previous.communes_dsu.values_list("pk", flat=True)) if previous else []


@transaction.atomic
def demarrer(*, contrat, annee: int, communes_dsu, user) -> RapportAnnuel:
    """Creates the year's report with its empty chapters (one per commune of the contract, one
    per DSU commune, one per service chapter)."""
    rights.require_manager(user)
    if not contrat.annee_debut <= annee <= contrat.annee_fin:
        raise ValidationError(
            {"annee": f"Le contrat couvre les années {contrat.annee_debut} à {contrat.annee_fin}."}
        )
    if RapportAnnuel.objects.filter(contrat=contrat, annee=annee).exists():
        raise ValidationError({"annee": "Le rapport annuel de cette année existe déjà."})
    rapport = RapportAnnuel.objects.create(contrat=contrat, annee=annee, cree_par=user)
    rapport.communes_dsu.set(communes_dsu)
    ChapitreRapport.objects.bulk_create(
        [ChapitreRapport(rapport=rapport, type=t) for t in ChapitreRapport.DU_SERVICE]
    )
    _sync_chapitres(rapport)
    return rapport


def _sync_chapitres(rapport: RapportAnnuel) -> None:
    """A chapter for each commune of the contract and each DSU commune; a DSU chapter whose
    commune left the list goes, unless it holds text (it is then kept and shown)."""
    wanted = {
        (C.COMMUNE, c) for c in communes_du_contrat(rapport.contrat).values_list("pk", flat=True)
    }
    wanted |= {(C.DSU, c) for c in rapport.communes_dsu.values_list("pk", flat=True)}
    existing = {
        (t, c): (pk, texte)
        for pk, t, c, texte in rapport.chapitres.filter(commune__isnull=False).values_list(
            "pk", "type", "commune", "texte"
        )
    }
    ChapitreRapport.objects.bulk_create(
        [
            ChapitreRapport(rapport=rapport, type=t, commune_id=c)
            for t, c in sorted(wanted - existing.keys())
        ]
    )
    ChapitreRapport.objects.filter(
        pk__in=[
            pk
            for key, (pk, texte) in existing.items()
            if key not in wanted and key[0] == C.DSU and not texte.strip()
        ]
    ).delete()


@transaction.atomic
def communes_dsu_save(*, rapport: RapportAnnuel, communes, user) -> None:
    rights.require_manager(user)
    require_open(rapport)
    rapport.communes_dsu.set(communes)
    _sync_chapitres(rapport)


def require_open(rapport: RapportAnnuel) -> None:
    rights.require(
        not rapport.approuve,
        "Le conseil communautaire a approuvé ce rapport : son texte ne change plus.",
    )


# ---------------------------------------------------------------- chapters


def chapitres_editables(user, rapport: RapportAnnuel):
    return ChapitreRapport.objects.editable_by(user).filter(rapport=rapport)


CHAPITRE_REFUSE = (
    "Ce chapitre est rédigé par le chef de projet de la commune ou le chef de service, "
    "tant que le rapport n'est pas approuvé."
)


@transaction.atomic
def chapitre_save(*, chapitre: ChapitreRapport, texte: str, user) -> ChapitreRapport:
    """Saves a chapter's text: the chef de service any, a chef de projet their communes'."""
    rights.require(
        ChapitreRapport.objects.editable_by(user).filter(pk=chapitre.pk).exists(),
        CHAPITRE_REFUSE,
    )
    chapitre.texte = texte.strip()
    chapitre.modifie_par = user
    chapitre.save(update_fields=["texte", "modifie_par", "updated_at"])
    return chapitre


# ---------------------------------------------------------------- consultation and approval


@transaction.atomic
def consultation_save(*, form, user) -> Consultation:
    rights.require_manager(user)
    consultation = form.save(commit=False)
    require_open(consultation.rapport)
    consultation.full_clean()
    consultation.save()
    return consultation


@transaction.atomic
def consultation_delete(*, consultation: Consultation, user) -> None:
    rights.require_manager(user)
    require_open(consultation.rapport)
    if consultation.fichier:
        consultation.fichier.delete(save=False)
    consultation.delete()


def approbation_errors(rapport: RapportAnnuel, date_approbation, suites: dict) -> list[str]:
    """What prevents the approval on that date, in words (empty: it may be approved)."""
    data = contenu(rapport, jour=date_approbation)
    # The written chapters and the consultation of both kinds of council, as the checklist says
    # (a section built from the data holds what the data hold).
    errors = [
        f"{point.libelle} : {point.detail}"
        for point in checklist(data)
        if point.cle in BEFORE_APPROVAL and not point.ok
    ]
    for consultation in data["consultations"]:
        if date_approbation < consultation.envoye_le:
            errors.append(
                f"Le projet a été envoyé à {consultation.instance_nom} le "
                f"{consultation.envoye_le:%d/%m/%Y}, après la date d'approbation indiquée."
            )
        elif consultation.etat == "en_attente":
            errors.append(
                f"{consultation.instance_nom} a jusqu'au {consultation.echeance:%d/%m/%Y} pour "
                "rendre son avis : le conseil communautaire délibère après cette date."
            )
        if consultation.observations and not suites.get(consultation.pk, "").strip():
            errors.append(
                f"Indiquez la suite donnée aux observations de {consultation.instance_nom}."
            )
    return list(dict.fromkeys(errors))


@transaction.atomic
def approuver(
    *, rapport: RapportAnnuel, date_approbation, numero_deliberation: str, suites: dict, user
) -> None:
    """Records the conseil communautaire's approval and the follow-up given to each opinion;
    refuses while a council may still answer or an observation has no follow-up."""
    rights.require_manager(user)
    errors = approbation_errors(rapport, date_approbation, suites)
    if errors:
        raise ValidationError(errors)
    for consultation in rapport.consultations.all():
        consultation.suite_donnee = suites.get(consultation.pk, "").strip()
        consultation.save(update_fields=["suite_donnee"])
    rapport.date_approbation = date_approbation
    rapport.numero_deliberation = numero_deliberation.strip()
    rapport.save(update_fields=["date_approbation", "numero_deliberation"])


@transaction.atomic
def publier(*, rapport: RapportAnnuel, publie_le, lieu: str, user) -> None:
    rights.require_manager(user)
    if not rapport.approuve:
        raise ValidationError(
            "Le rapport se publie une fois approuvé par le conseil communautaire."
        )
    if publie_le < rapport.date_approbation:
        raise ValidationError(
            "La publication suit l'approbation du "
            f"{rapport.date_approbation:%d/%m/%Y} : vérifiez la date."
        )
    rapport.publie_le = publie_le
    rapport.lieu_publication = lieu.strip()
    rapport.save(update_fields=["publie_le", "lieu_publication"])


# ---------------------------------------------------------------- outputs


def produire(*, rapport: RapportAnnuel, user) -> Rapport:
    """Queues a version: the PDF and the editable document, built from the same HTML."""
    from .rapports import rapport_request  # reporting.rapports imports this module.

    rights.require_manager(user)
    etape = rapport.get_etape_display().lower()
    return rapport_request(
        type=Rapport.Type.ANNUEL,
        titre=f"{rapport} ({etape})",
        parametres={"rapport_annuel": rapport.pk, "etape": rapport.etape},
        user=user,
    )


def versions(rapport: RapportAnnuel):
    return Rapport.objects.filter(
        type=Rapport.Type.ANNUEL, parametres__rapport_annuel=rapport.pk
    ).select_related("demande_par")


# ---------------------------------------------------------------- the document's content


@dataclass
class Point:
    """A line of the checklist: a legal section and whether it is complete."""

    cle: str
    libelle: str
    ok: bool
    detail: str = ""


def _situation_quartiers(contrat, annee: int) -> list[dict]:
    """Per QPV of the contract: each indicator's latest value up to `annee`, with its source,
    the commune's value the same year as the comparison zone, and a change against an earlier
    vintage only two years apart or more (INSEE warns against reading two consecutive
    vintages of QPV data as a trend)."""
    qpvs = list(
        Qpv.objects.filter(geographie=contrat.geographie)
        .prefetch_related("communes")
        .order_by("nom")
    )
    values = ValeurIndicateur.objects.filter(annee__lte=annee).select_related("indicateur")
    per_qpv: dict = defaultdict(lambda: defaultdict(list))
    for valeur in values.filter(qpv__in=qpvs).order_by("annee"):
        per_qpv[valeur.qpv_id][valeur.indicateur_id].append(valeur)
    per_commune = {
        (v.commune_id, v.indicateur_id, v.annee): v
        for v in values.filter(commune__in={c for q in qpvs for c in q.communes.all()})
    }
    result = []
    for qpv in qpvs:
        lignes = []
        for series in per_qpv[qpv.pk].values():
            last = series[-1]
            earlier = [v for v in series if v.annee <= last.annee - 2]
            before = earlier[-1] if earlier else None
            comparaisons = [
                (commune.nom, per_commune[(commune.pk, last.indicateur_id, last.annee)])
                for commune in qpv.communes.all()
                if (commune.pk, last.indicateur_id, last.annee) in per_commune
            ]
            lignes.append(
                {
                    "indicateur": last.indicateur,
                    "derniere": last,
                    "avant": before,
                    "ecart": last.valeur - before.valeur if before else None,
                    "comparaisons": comparaisons,
                }
            )
        lignes.sort(key=lambda ligne: (ligne["indicateur"].ordre, ligne["indicateur"].libelle))
        result.append({"qpv": qpv, "lignes": lignes})
    return result


def _arbre(nodes) -> list[tuple]:
    """The strategy tree in reading order: (node, depth), each node followed by its children."""
    children: dict = defaultdict(list)
    for node in nodes:
        children[node.parent_id].append(node)

    def walk(parent_id, depth):
        for node in children[parent_id]:
            yield node, depth
            yield from walk(node.pk, depth + 1)

    return list(walk(None, 0))


def _participation(annee: int) -> dict:
    rows, _ = council_rows(ConseilCitoyen.objects.all())
    demarches = list(
        Demarche.objects.filter(date_debut__year__lte=annee)
        .filter(Q(date_fin__isnull=True) | Q(date_fin__year__gte=annee))
        .order_by("titre")
    )
    sessions = list(
        SessionFormation.objects.filter(date__year=annee)
        .select_related("cycle")
        .annotate(
            presents=Count(
                "inscriptions", filter=Q(inscriptions__presence=Inscription.Presence.PRESENT)
            )
        )
        .order_by("date")
    )
    return {"conseils": rows, "demarches": demarches, "sessions": sessions}


def contenu(rapport: RapportAnnuel, *, jour=None) -> dict:
    """Everything the document says, from the data of the report's year, on `jour` (today):
    the PDF, the editable document and the report's page show this."""
    jour = jour or timezone.localdate()
    contrat, annee = rapport.contrat, rapport.annee
    scope = Scope(contrat=contrat, annee=annee)
    chiffres = scope.chiffres
    actions = list(scope.actions().select_related("porteur").order_by("titre", "pk"))
    for action in actions:
        action.montants = chiffres.par_action[action.pk]
    nodes = evaluation.strategie(contrat, avant=annee + 1)
    chapitres = list(rapport.chapitres.select_related("commune", "modifie_par"))
    consultations = list(
        rapport.consultations.select_related("conseil_citoyen", "commune").order_by(
            "conseil_citoyen__nom", "commune__nom", "pk"
        )
    )
    for consultation in consultations:
        consultation.etat, consultation.avis_libelle = consultation.avis_au(jour)
    reunions = list(
        Reunion.objects.filter(debut__year=annee, statut=Reunion.Statut.TENUE)
        .select_related("instance")
        .order_by("debut")
    )
    return {
        "rapport_annuel": rapport,
        "contrat": contrat,
        "annee": annee,
        "annee_texte": str(annee),
        "approuve_le": rapport.date_approbation.strftime("%d/%m/%Y")
        if rapport.date_approbation
        else "",
        "jour": jour,
        "sections": SECTIONS,
        "strategie": _arbre(nodes),
        "quartiers": _situation_quartiers(contrat, annee),
        "totals": scope.synthese.total.as_dict(),
        "nb_financees": scope.synthese.nb_financees,
        "tableaux": [by_axe(scope), by_qpv(scope), by_commune(scope), by_funder(scope)],
        "actions": actions,
        "liste_max": settings.PROGRAMMATION_LISTE_MAX,
        "nb_bilans": scope.synthese.beneficiaires["nb_bilans"],
        "beneficiaires": scope.synthese.beneficiaires,
        "participation": _participation(annee),
        "reunions": reunions,
        "objectifs": evaluation.resultats(nodes, avant=annee + 1),
        "chapitres_communes": [c for c in chapitres if c.type == C.COMMUNE],
        "chapitres_dsu": [c for c in chapitres if c.type == C.DSU],
        "chapitres_service": sorted(
            (c for c in chapitres if c.type in ChapitreRapport.DU_SERVICE),
            key=lambda c: ChapitreRapport.DU_SERVICE.index(c.type),
        ),
        "consultations": consultations,
    }


def checklist(data: dict) -> list[Point]:
    """Which legal section is complete, from the document's content."""
    rapport = data["rapport_annuel"]
    vides_communes = [c.commune.nom for c in data["chapitres_communes"] if c.vide]
    vides_dsu = [c.commune.nom for c in data["chapitres_dsu"] if c.vide]
    vides_service = [c.titre for c in data["chapitres_service"] if c.vide]
    consultations = data["consultations"]
    attente = [c.instance_nom for c in consultations if c.etat == "en_attente"]
    has_cc = any(c.conseil_citoyen_id for c in consultations)
    has_cm = any(c.commune_id for c in consultations)

    def missing(names, what):
        return f"{what} : {', '.join(names)}." if names else ""

    return [
        Point(
            "orientations",
            SECTIONS[0][1],
            bool(data["strategie"]),
            "" if data["strategie"] else "La stratégie du contrat n'est pas saisie.",
        ),
        Point(
            "quartiers",
            SECTIONS[1][1],
            any(q["lignes"] for q in data["quartiers"]),
            "" if any(q["lignes"] for q in data["quartiers"]) else "Aucune valeur d'indicateur.",
        ),
        Point(
            "actions",
            SECTIONS[2][1],
            bool(data["actions"]),
            "" if data["actions"] else f"Aucune action sur {data['annee']}.",
        ),
        Point(
            "communes",
            SECTIONS[7][1],
            not vides_communes,
            missing(vides_communes, "Chapitres à rédiger"),
        ),
        Point(
            "dsu",
            SECTIONS[8][1],
            not vides_dsu,
            missing(vides_dsu, "Chapitres à rédiger")
            or ("" if data["chapitres_dsu"] else "Aucune commune DSU indiquée pour l'année."),
        ),
        Point(
            "perspectives",
            SECTIONS[9][1],
            not vides_service,
            missing(vides_service, "Chapitres du service à rédiger"),
        ),
        Point(
            "avis",
            "Avis des conseils citoyens et des conseils municipaux",
            has_cc and has_cm and not attente,
            " ".join(
                filter(
                    None,
                    [
                        "" if has_cc else "Aucun conseil citoyen consulté.",
                        "" if has_cm else "Aucun conseil municipal consulté.",
                        missing(attente, "Avis attendus"),
                    ],
                )
            ),
        ),
        Point(
            "approbation",
            "Approbation par le conseil communautaire",
            rapport.approuve,
            "" if rapport.approuve else "Date et n° de délibération à indiquer.",
        ),
        Point(
            "publication",
            "Publication",
            bool(rapport.publie_le),
            "" if rapport.publie_le else "Date de publication à indiquer.",
        ),
    ]


def annuel_context(params: dict) -> dict:
    """The document of a version (reporting.rapports.REPORTS)."""
    rapport = RapportAnnuel.objects.select_related("contrat").get(pk=params["rapport_annuel"])
    return contenu(rapport)
