"""Demo data of the contract and its governance: clearly fictional, on the real territory."""

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from quartiers.models import Commune, Qpv, Secteur

from .models import (
    Action,
    Contact,
    ContratDeVille,
    Decision,
    DispositifConnexe,
    ElementPlanAction,
    Financement,
    Instance,
    LigneFinancement,
    NoeudStrategie,
    Organisation,
    PointOrdreDuJour,
    Presence,
    ProgrammeActions,
    Reunion,
    SuiteADonner,
    Tag,
    TypeInstance,
    Versement,
)
from .payments import refresh_paid_many
from .validators import luhn_ok

FICTIF = "(action fictive de démonstration)"
YEARS = range(2022, 2027)
# About what PMA programmes each year: 100 to 150 dossiers, a little under 2 M€ requested.
ACTIONS_PER_YEAR = 130

CONTRATS = [
    {
        "nom": "Contrat de ville unique 2015–2023",
        "annee_debut": 2015,
        "annee_fin": 2023,
        "statut": "termine",
        "libelle_axe": "pilier",
        "date_signature": date(2015, 7, 2),
        "axes": [
            (
                "Développement économique et emploi",
                ["Accès à l'emploi des jeunes", "Création d'activité dans les quartiers"],
            ),
            (
                "Renouvellement urbain et cadre de vie",
                ["Gestion urbaine de proximité", "Tranquillité résidentielle"],
            ),
            ("Cohésion sociale", ["Réussite éducative", "Santé et accès aux droits"]),
            (
                "Citoyenneté et vivre ensemble",
                ["Participation des habitants", "Lien social et culture"],
            ),
        ],
    },
    {
        "nom": "Engagements Quartiers 2030",
        "annee_debut": 2024,
        "annee_fin": 2030,
        "statut": "en_cours",
        "libelle_axe": "priorité",
        "date_signature": date(2024, 3, 29),
        "axes": [
            (
                "Réussite éducative",
                ["Accompagnement à la scolarité", "Parentalité et petite enfance"],
            ),
            ("Tranquillité publique", ["Prévention de la délinquance", "Médiation sociale"]),
            (
                "Accès à l'emploi",
                ["Repérage des publics invisibles", "Levée des freins à l'emploi"],
            ),
            ("Mobilités et santé", ["Mobilité vers l'emploi et la formation", "Prévention santé"]),
            ("Participation citoyenne", ["Conseils citoyens", "Démarches participatives"]),
        ],
    },
]
OBJECTIFS = [
    "Renforcer l'existant",
    "Expérimenter de nouvelles réponses",
    "Toucher les publics éloignés",
]
TAGS = [
    "Jeunesse",
    "Égalité femmes-hommes",
    "Lutte contre les discriminations",
    "Participation citoyenne",
    "Numérique",
    "Santé",
]
ACTIVITES = [
    "Atelier d'aide aux devoirs",
    "Chantier éducatif",
    "Permanence d'accès aux droits",
    "Médiation de rue",
    "Atelier de français langue étrangère",
    "Café des parents",
    "Parcours vers l'emploi",
    "Auto-école sociale",
    "Atelier santé bien-être",
    "Fête de quartier",
    "Jardin partagé",
    "Atelier numérique",
    "Sorties culturelles familles",
    "Club sportif de proximité",
    "Accompagnement à la création d'entreprise",
]
PUBLICS = [
    "collégiens",
    "jeunes 16-25 ans",
    "familles",
    "femmes isolées",
    "seniors",
    "demandeurs d'emploi",
    "habitants",
    "enfants 6-11 ans",
]
ASSOCIATIONS = [
    "Centre social des Buis",
    "Maison de quartier de la Petite-Hollande",
    "Centre social Escapade",
    "Association Jeunesse et Avenir",
    "Les Jardins du Pays de Montbéliard",
    "Médiation Nord Doubs",
    "Sport pour tous Sochaux",
    "Femmes Relais du Pays de Montbéliard",
    "Emploi Solidaire 25",
    "Lire et Écrire en Pays de Montbéliard",
    "Culture en Quartiers",
    "Santé Partagée",
    "Mobilité Solidaire",
    "Parents Ensemble",
    "Club de prévention Les Fougères",
    "Théâtre de la Chiffogne",
    "Numérique pour tous",
    "Accès Droits Conseil",
    "Les Petits Débrouillards du Doubs",
    "Régie de quartier Champvallon",
    "Maison pour tous Audincourt",
    "Initiatives Citoyennes",
    "École des parents",
    "Ateliers de la Savoureuse",
    "Solidarité Femmes Montbéliard",
]
BAILLEURS = ["Habitat Pays de Montbéliard", "Néolia Nord Franche-Comté", "Idéha Logement"]
PRENOMS = ["Claire", "Nicolas", "Samira", "Julie", "Mehdi", "Anne", "Paul", "Léa", "Yanis", "Inès"]
NOMS = ["Bernard", "Moreau", "Haddad", "Petit", "Garnier", "Roux", "Fontaine", "Chevalier"]
STATUTS_PASSES = ["solde"] * 6 + ["bilan_recu"] * 2 + ["bilan_attendu", "refuse", "retire"]
STATUTS_2025 = ["en_cours"] * 4 + ["bilan_attendu"] * 3 + ["conventionne", "refuse"]
STATUTS_2026 = [
    "depose",
    "en_instruction",
    "en_instruction",
    "instruit",
    "programme",
    "programme",
    "notifie",
    "conventionne",
    "refuse",
    "ajourne",
]
DECIDES = {
    "programme",
    "notifie",
    "conventionne",
    "en_cours",
    "bilan_attendu",
    "bilan_recu",
    "solde",
}
PAYES = {"en_cours", "bilan_attendu", "bilan_recu", "solde"}


def demo_siret(rng: random.Random) -> str:
    """A SIRET with a correct Luhn key (fictional: the first digit 8 is not attributed)."""
    body = "8" + "".join(rng.choice("0123456789") for _ in range(12))
    return body + next(d for d in "0123456789" if luhn_ok(body + d))


def _organisation(nom, type_, rng, **extra):
    organisation, created = Organisation.objects.get_or_create(
        nom=nom, defaults={"type": type_, "ville": "Montbéliard", "code_postal": "25200", **extra}
    )
    if created:
        for _ in range(rng.randint(1, 2)):
            prenom, nom_contact = rng.choice(PRENOMS), rng.choice(NOMS)
            Contact.objects.create(
                organisation=organisation,
                prenom=prenom,
                nom=nom_contact,
                fonction=rng.choice(["Directrice", "Coordinateur", "Chargée de mission"]),
                email=f"{prenom.lower()}.{nom_contact.lower()}@exemple.fr",
            )
    return organisation


# Beside the contrat de ville call (the State's envelope without a line).
ETAT_LIGNES = [
    ("Quartiers d'été", "147-QE"),
    ("Cités éducatives", "147-CE"),
    ("Programme de réussite éducative", "147-PRE"),
    ("Adultes-relais", "147-AR"),
]


def demo_organisations(rng: random.Random) -> dict:
    orgs = {
        "etat": _organisation("Préfecture du Doubs – BOP 147", "etat", rng, sigle="DDETS"),
        "pma": _organisation(
            "Pays de Montbéliard Agglomération", "epci", rng, sigle="PMA", siret="200065647"
        ),
        "caf": _organisation("CAF du Doubs", "caf", rng),
        "departement": _organisation("Département du Doubs", "departement", rng),
        "region": _organisation("Région Bourgogne-Franche-Comté", "region", rng),
        "france_travail": _organisation("France Travail Montbéliard", "france_travail", rng),
    }
    # The State's BOP 147 funding lines, for envelopes and financing lines to name.
    for libelle, code in ETAT_LIGNES:
        LigneFinancement.objects.get_or_create(
            financeur=orgs["etat"], libelle=libelle, defaults={"code": code}
        )
    orgs["bailleurs"] = [_organisation(f"{n} (démo)", "bailleur", rng) for n in BAILLEURS]
    orgs["communes"] = {
        c.code_insee: _organisation(
            f"Ville d'{c.nom}" if c.nom[0] in "AEIOUYÉÈÊ" else f"Ville de {c.nom}", "commune", rng
        )
        for c in Commune.objects.filter(qpvs__isnull=False).distinct()
    }
    orgs["associations"] = [
        _organisation(
            f"{nom} (démo)",
            "association",
            rng,
            siret=demo_siret(rng),
            rna=f"W25{rng.randint(1000000, 9999999)}",
        )
        for nom in ASSOCIATIONS
    ]
    return orgs


def demo_contrats(orgs: dict) -> list[ContratDeVille]:
    contrats = []
    for spec in CONTRATS:
        contrat, _ = ContratDeVille.objects.get_or_create(
            nom=spec["nom"],
            defaults={
                k: spec[k]
                for k in ("annee_debut", "annee_fin", "statut", "libelle_axe", "date_signature")
            },
        )
        contrat.signataires.set(
            [
                orgs["etat"],
                orgs["pma"],
                orgs["caf"],
                orgs["departement"],
                orgs["region"],
                *orgs["communes"].values(),
                *orgs["bailleurs"],
            ]
        )
        if not contrat.noeuds.exists():
            for a, (axe_label, orientations) in enumerate(spec["axes"], 1):
                axe = NoeudStrategie.objects.create(
                    contrat=contrat, niveau="axe", code=str(a), libelle=axe_label, ordre=a
                )
                for o, orientation_label in enumerate(orientations, 1):
                    orientation = NoeudStrategie.objects.create(
                        contrat=contrat,
                        parent=axe,
                        niveau="orientation",
                        code=f"{a}.{o}",
                        libelle=orientation_label,
                        ordre=o,
                    )
                    for n, objectif_label in enumerate(OBJECTIFS, 1):
                        NoeudStrategie.objects.create(
                            contrat=contrat,
                            parent=orientation,
                            niveau="objectif",
                            code=f"{a}.{o}.{n}",
                            libelle=f"{objectif_label} : {orientation_label.lower()}",
                            ordre=n,
                        )
        contrats.append(contrat)
    return contrats


def _amount(rng, low, high) -> Decimal:
    return Decimal(rng.randrange(low, high, 50)).quantize(Decimal("0.01"))


def demo_actions(*, rng, orgs, contrats, users) -> None:
    tags = [Tag.objects.get_or_create(nom=nom)[0] for nom in TAGS]
    secteurs = list(Secteur.objects.select_related("chef_projet").order_by("nom"))
    objectifs = {
        c.pk: list(NoeudStrategie.objects.filter(contrat=c, niveau="objectif")) for c in contrats
    }
    funders = [orgs["etat"], orgs["pma"], orgs["caf"], orgs["departement"], orgs["region"]]
    for year in YEARS:
        if Action.objects.filter(annee=year, description__endswith=FICTIF).exists():
            continue
        contrat = next(c for c in contrats if c.annee_debut <= year <= c.annee_fin)
        geographie = "2024" if year >= 2024 else "2015"
        statuts = STATUTS_2026 if year == 2026 else STATUTS_2025 if year == 2025 else STATUTS_PASSES
        programmes = {}
        for secteur in secteurs:
            programme, _ = ProgrammeActions.objects.get_or_create(
                contrat=contrat,
                secteur=secteur,
                annee_debut=year,
                defaults={
                    "nom": f"Programme {year} – {secteur.nom}",
                    "statut": "brouillon" if year == 2026 else "valide",
                    "valide_par": None if year == 2026 else users["service"],
                    "valide_le": None
                    if year == 2026
                    else timezone.make_aware(datetime(year, 4, 15, 10)),
                },
            )
            programme.communes.set(secteur.communes.all())
            programmes[secteur.pk] = programme
        qpvs_by_sector = {
            s.pk: list(Qpv.objects.filter(geographie=geographie, communes__secteur=s).distinct())
            for s in secteurs
        }
        actions, links = [], []
        for n in range(ACTIONS_PER_YEAR):
            secteur = secteurs[n % len(secteurs)]
            qpvs = qpvs_by_sector[secteur.pk]
            porteur = rng.choice(
                orgs["associations"] * 3 + orgs["bailleurs"] + list(orgs["communes"].values())
            )
            statut = rng.choice(statuts)
            actions.append(
                Action(
                    contrat=contrat,
                    programme=programmes[secteur.pk],
                    titre=f"{rng.choice(ACTIVITES)} – {rng.choice(PUBLICS)}",
                    porteur=porteur,
                    annee=year,
                    theme=rng.choice(
                        ["Éducation", "Emploi", "Santé", "Cadre de vie", "Citoyenneté"]
                    ),
                    public_vise=rng.choice(PUBLICS).capitalize(),
                    description=f"Action menée auprès des habitants du quartier. {FICTIF}",
                    numero_dauphin=f"{year % 100:02d}{n + 1:06d}" if rng.random() < 0.9 else "",
                    referent=secteur.chef_projet,
                    statut=statut,
                    cout_total=_amount(rng, 2000, 30000),
                )
            )
            links.append(
                (
                    rng.sample(qpvs, k=min(len(qpvs), rng.randint(1, 2))),
                    rng.sample(objectifs[contrat.pk], k=rng.randint(1, 2)),
                    rng.sample(tags, k=rng.randint(0, 2)),
                    secteur,
                )
            )
        bulk_create_with_history(actions, Action)
        qpv_links, objectif_links, tag_links, lines, paid = [], [], [], [], []
        for action, (qpvs, objs, action_tags, secteur) in zip(actions, links, strict=True):
            qpv_links += [Action.qpvs.through(action=action, qpv=q) for q in qpvs]
            objectif_links += [
                Action.objectifs.through(action=action, noeudstrategie=o) for o in objs
            ]
            tag_links += [Action.tags.through(action=action, tag=t) for t in action_tags]
            commune = secteur.communes.filter(qpvs__isnull=False).first()
            local = [orgs["communes"].get(commune.code_insee)] if commune else []
            chosen = rng.sample(funders + local + orgs["bailleurs"][:1], k=rng.randint(2, 4))
            remaining = action.cout_total
            for i, funder in enumerate(chosen):
                share = (
                    remaining
                    if i == len(chosen) - 1
                    else (remaining * Decimal(rng.uniform(0.2, 0.5))).quantize(Decimal("0.01"))
                )
                remaining -= share
                vote = (
                    (share * Decimal(rng.choice(["1", "1", "0.8", "0.9"]))).quantize(
                        Decimal("0.01")
                    )
                    if action.statut in DECIDES
                    else None
                )
                verse = (
                    (vote * Decimal(rng.choice(["0.5", "1"]))).quantize(Decimal("0.01"))
                    if (vote is not None and action.statut in PAYES)
                    else Decimal("0.00")
                )
                line = Financement(
                    action=action,
                    financeur=funder,
                    annee=year,
                    montant_demande=share,
                    montant_vote=vote,
                )
                lines.append(line)
                if verse:
                    paid.append((line, vote, verse))
        Action.qpvs.through.objects.bulk_create(qpv_links)
        Action.objectifs.through.objects.bulk_create(objectif_links)
        Action.tags.through.objects.bulk_create(tag_links)
        bulk_create_with_history(lines, Financement)
        demo_versements(year, paid)


def demo_versements(year: int, paid: list) -> None:
    """Paid amounts come from payments: an advance paid in spring and, for a line paid in full,
    the balance paid after the bilan; a line paid in part keeps its balance planned. Then the
    lines' paid totals (cvu.payments, in bulk)."""
    today = timezone.localdate()
    N, C = Versement.Nature, Versement.Condition
    versements = []
    for n, (line, vote, verse) in enumerate(paid):
        avance = verse if verse < vote else (vote / 2).quantize(Decimal("0.01"))
        versements.append(
            Versement(
                financement=line,
                nature=N.AVANCE,
                condition=C.NOTIFICATION,
                montant=avance,
                date_prevue=date(year, 4, 15),
                date_versement=min(date(year, 4, 15), today),
                numero_mandat=f"M{year}-{2 * n + 1:05d}",
            )
        )
        solde_paye = min(date(year + 1, 9, 15), today) if verse == vote else None
        versements.append(
            Versement(
                financement=line,
                nature=N.SOLDE,
                condition=C.BILAN,
                montant=vote - avance,
                date_prevue=date(year + 1, 9, 15),
                date_versement=solde_paye,
                numero_mandat=f"M{year}-{2 * n + 2:05d}" if solde_paye else "",
            )
        )
    bulk_create_with_history([v for v in versements if v.montant > 0], Versement)
    refresh_paid_many(Financement.objects.filter(pk__in=[line.pk for line, *_ in paid]))


def demo_contrat(*, users: dict) -> None:
    rng = random.Random(2024)
    orgs = demo_organisations(rng)
    contrats = demo_contrats(orgs)
    demo_actions(rng=rng, orgs=orgs, contrats=contrats, users=users)
    demo_evaluation(contrats)
    demo_engagements(contrats, orgs)
    demo_projets(contrats)
    demo_mi_parcours(contrats)


# Result indicators of two objectives of the 2024 contract: code, label, unit, baseline (2023),
# 2030 target, source, values of 2024 and 2025 (fictitious, for the demo), code of the QPV
# indicator that gives the years without an entered value.
EVALUATION = [
    ("1.1.1", "Élèves accompagnés passant en classe supérieure", "%", 82, 90, "PRE", (83, 85), ""),
    (
        "1.1.1",
        "Familles accompagnées à la scolarité",
        "familles",
        180,
        300,
        "Porteurs",
        (210, 245),
        "",
    ),
    (
        "3.2.1",
        "Taux d'emploi des 15-64 ans des QPV",
        "%",
        45.2,
        52,
        "INSEE",
        (45.9, 46.8),
        "taux_emploi",
    ),
]


def demo_evaluation(contrats) -> None:
    """The evaluation frame of two objectives, with their measures of 2024 and 2025."""
    from quartiers.models import Indicateur

    from .models import IndicateurResultat, ValeurResultat

    contrat = next((c for c in contrats if c.annee_debut == 2024), None)
    if contrat is None or IndicateurResultat.objects.filter(objectif__contrat=contrat).exists():
        return
    for ordre, (code, libelle, unite, base, cible, source, values, qpv_code) in enumerate(
        EVALUATION
    ):
        objectif = contrat.noeuds.filter(niveau="objectif", code=code).first()
        if objectif is None:
            continue
        indicateur = IndicateurResultat.objects.create(
            objectif=objectif,
            libelle=libelle,
            unite=unite,
            annee_reference=2023,
            valeur_reference=Decimal(str(base)),
            cible=Decimal(str(cible)),
            source=f"{source} (démonstration)",
            indicateur_qpv=Indicateur.objects.filter(code=qpv_code).first() if qpv_code else None,
            ordre=ordre,
        )
        for annee, valeur in zip((2024, 2025), values, strict=True):
            ValeurResultat.objects.create(
                indicateur=indicateur, annee=annee, valeur=Decimal(str(valeur))
            )


# Signatories' commitments (droit commun) of the 2024 contract: signatory key, commitment, code
# of its objective, indicator label (if any), state, months until the next review (fictitious).
ENGAGEMENTS = [
    (
        "etat",
        "Dédoubler les classes de grande section, CP et CE1 des écoles des QPV.",
        "1.1.1",
        "Élèves accompagnés passant en classe supérieure",
        "tenu",
        7,
    ),
    (
        "etat",
        "Affecter des policiers de sécurité du quotidien aux quartiers reconquête républicaine.",
        "",
        "",
        "en_cours",
        -1,
    ),
    (
        "caf",
        "Ouvrir des places de crèche à vocation d'insertion professionnelle dans chaque "
        "commune en QPV.",
        "3.2.1",
        "Taux d'emploi des 15-64 ans des QPV",
        "partiel",
        -1,
    ),
    (
        "departement",
        "Tenir une permanence de travailleur social dans chaque QPV.",
        "",
        "",
        "en_cours",
        4,
    ),
    (
        "pma",
        "Étendre la tarification sociale des transports urbains aux habitants des QPV.",
        "",
        "",
        "non_engage",
        2,
    ),
]


def demo_engagements(contrats, orgs: dict) -> None:
    """Commitments of five signatories of the 2024 contract, two of them due for review."""
    from .models import EngagementSignataire, IndicateurResultat

    contrat = next((c for c in contrats if c.annee_debut == 2024), None)
    if contrat is None or contrat.engagements.exists():
        return
    today = timezone.localdate()
    for ordre, (key, texte, code, indicateur, statut, months) in enumerate(ENGAGEMENTS):
        EngagementSignataire.objects.create(
            contrat=contrat,
            signataire=orgs[key],
            texte=f"{texte} (Engagement fictif de démonstration.)",
            objectif=contrat.noeuds.filter(code=code).first() if code else None,
            indicateur=IndicateurResultat.objects.filter(
                objectif__contrat=contrat, libelle=indicateur
            ).first()
            if indicateur
            else None,
            statut=statut,
            date_revue=today + timedelta(days=30 * months),
            ordre=ordre,
        )


# Two projets de quartier of the 2024 contract: QPV name, stakes, priorities (label, objective
# code). Fictitious, for the demo.
PROJETS = [
    (
        "Petite-Hollande",
        "Renouvellement urbain en cours, forte part de jeunes sans diplôme, centre social très "
        "fréquenté. (Projet fictif de démonstration.)",
        [
            ("Accompagner la scolarité de l'école au collège", "1.1.1"),
            ("Lever les freins à l'emploi des jeunes", "3.2.1"),
            ("Tranquillité des espaces publics rénovés", "2.1.1"),
        ],
    ),
    (
        "Champvallon",
        "Quartier enclavé, mobilité difficile vers les zones d'emploi. (Projet fictif de "
        "démonstration.)",
        [("Mobilité vers l'emploi", "3.1.1"), ("Accès aux soins", "4.1.1")],
    ),
]


def demo_projets(contrats) -> None:
    from .models import PrioriteQuartier, ProjetQuartier

    contrat = next((c for c in contrats if c.annee_debut == 2024), None)
    if contrat is None or contrat.projets_quartier.exists():
        return
    for nom, enjeux, priorites in PROJETS:
        qpv = Qpv.objects.filter(geographie=Qpv.Geographie.G2024, nom=nom).first()
        if qpv is None:
            continue
        projet = ProjetQuartier.objects.create(contrat=contrat, qpv=qpv, enjeux=enjeux)
        for ordre, (libelle, code) in enumerate(priorites, 1):
            objectif = contrat.noeuds.filter(code=code).first()
            if objectif is not None:
                PrioriteQuartier.objects.create(
                    projet=projet, libelle=libelle, objectif=objectif, ordre=ordre
                )


def demo_mi_parcours(contrats) -> None:
    """The 2027 mid-term evaluation of the 2024 contract, being drafted."""
    from .models import EvaluationMiParcours

    contrat = next((c for c in contrats if c.annee_debut == 2024), None)
    if contrat is None or EvaluationMiParcours.objects.filter(contrat=contrat).exists():
        return
    EvaluationMiParcours.objects.create(
        contrat=contrat,
        annee=2027,
        avis_conseils="Les conseils citoyens demandent davantage d'actions pour les jeunes "
        "adultes et une meilleure information sur les actions financées. (Fictif.)",
        conclusions="Premières conclusions à consolider après les bilans 2026. (Fictif.)",
    )


# ---------------------------------------------------------------- governance

TYPES = [
    ("Comité de pilotage", True),
    ("Comité technique", True),
    ("GTP", False),
    ("Comité des financeurs", False),
    ("Groupe technique communal", False),
    ("Groupe de travail « démarche participative »", False),
]
# Name, type, mode of coordination, and the commune the scheme covers (Montbéliard's schemes;
# the Graviers-Évoironnes renewal is Sochaux's).
DISPOSITIFS = [
    ("Programme de réussite éducative", "pre", "coherence", None),
    ("GRSQ Montbéliard", "grsq", "information", "25388"),
    ("CALEOL Habitat Pays de Montbéliard", "caleol", "information", None),
    ("GUSP Petite-Hollande", "gusp", "coherence", "25388"),
    ("NPNRU Petite-Hollande", "npnru", "coherence", "25388"),
    ("NPNRU Graviers-Évoironnes", "npnru", "coherence", "25547"),
    ("Cité éducative de Montbéliard", "cite_educative", "coherence", "25388"),
    ("CLSPD du Pays de Montbéliard", "clspd", "information", None),
    ("Adultes-relais", "adultes_relais", "information", None),
    ("Quartiers d'été", "quartiers_ete", "coherence", None),
    ("Abattement TFPB", "tfpb", "coherence", None),
]


def _beneficiaires(rng: random.Random) -> dict:
    """Who a demo bilan says it reached: mostly QPV residents, a little more women than men."""
    total = rng.randint(15, 240)
    femmes = round(total * rng.uniform(0.45, 0.65))
    jeunes = round(total * rng.uniform(0.1, 0.5))
    ados = round(total * rng.uniform(0.05, 0.25))
    seniors = round(total * rng.uniform(0.0, 0.15))
    return {
        "beneficiaires": total,
        "beneficiaires_qpv": round(total * rng.uniform(0.6, 0.95)),
        "femmes": femmes,
        "hommes": total - femmes,
        "moins_16": jeunes,
        "de_16_25": ados,
        "de_26_64": max(total - jeunes - ados - seniors, 0),
        "plus_65": seniors,
    }


def _beneficiaires_par_qpv(rng: random.Random, bilans) -> None:
    """Two bilans in three detail their QPV residents by the dossier's QPVs."""
    from .models import Action, BeneficiairesQpv

    qpvs = defaultdict(list)
    links = Action.qpvs.through.objects.filter(action__in=[b.action_id for b in bilans])
    for action_id, qpv_id in links.order_by("qpv_id").values_list("action_id", "qpv_id"):
        qpvs[action_id].append(qpv_id)
    rows = []
    for bilan in bilans:
        ids = qpvs.get(bilan.action_id)
        if not ids or not bilan.beneficiaires_qpv or rng.random() < 1 / 3:
            continue
        remaining = bilan.beneficiaires_qpv
        for index, qpv_id in enumerate(ids):
            nombre = remaining if index == len(ids) - 1 else rng.randint(0, remaining)
            remaining -= nombre
            rows.append(BeneficiairesQpv(bilan=bilan, qpv_id=qpv_id, nombre=nombre))
    BeneficiairesQpv.objects.bulk_create(rows)


def _meeting_dates(start: date, end: date, every_months: int, day: int = 12):
    current = start.replace(day=min(day, 28))
    while current <= end:
        yield current
        month = current.month - 1 + every_months
        current = current.replace(year=current.year + month // 12, month=month % 12 + 1)


def demo_gouvernance(*, users: dict) -> None:
    rng = random.Random(2025)
    types = {}
    for ordre, (nom, pilotage) in enumerate(TYPES, 1):
        types[nom] = TypeInstance.objects.get_or_create(
            nom=nom, defaults={"pilotage": pilotage, "ordre": ordre}
        )[0]
    communes = {c.code_insee: c for c in Commune.objects.filter(code_insee__in=["25388", "25547"])}
    for nom, type_, mode, code_insee in DISPOSITIFS:
        dispositif, created = DispositifConnexe.objects.get_or_create(
            nom=nom, defaults={"type": type_, "mode": mode}
        )
        if created and code_insee in communes:
            dispositif.communes.set([communes[code_insee]])
        if created and type_ == "gusp":
            for quoi, qui in [
                ("Diagnostic en marchant", "Bailleur et ville"),
                ("Propreté des pieds d'immeubles", "Bailleur"),
                ("Éclairage des cheminements", "Ville"),
                ("Réunion publique annuelle", "PMA"),
            ]:
                ElementPlanAction.objects.create(
                    dispositif=dispositif,
                    quoi=quoi,
                    qui=qui,
                    echeance=date(2026, rng.randint(1, 12), 15),
                )
        # One instance type per kind of scheme; PRE and GUSP meet in the demo calendar.
        scheme_type = TypeInstance.objects.get_or_create(
            nom=f"Instance {dispositif.get_type_display()}", defaults={"ordre": 20}
        )[0]
        if type_ in ("pre", "gusp"):
            Instance.objects.get_or_create(
                nom=f"Comité {nom}",
                defaults={
                    "type": scheme_type,
                    "echelle": "intercommunale",
                    "organisateur": users["cdp1"],
                    "dispositif": dispositif,
                    "mode": mode,
                },
            )
    members = list(Organisation.objects.exclude(type="association").order_by("nom")[:8])
    instances = [
        (
            Instance.objects.get_or_create(
                nom="Comité de pilotage du CVU",
                defaults={
                    "type": types["Comité de pilotage"],
                    "echelle": "intercommunale",
                    "organisateur": users["service"],
                    "sieges_conseil_citoyen": True,
                },
            )[0],
            6,
        ),
        (
            Instance.objects.get_or_create(
                nom="Comité technique du CVU",
                defaults={
                    "type": types["Comité technique"],
                    "echelle": "intercommunale",
                    "organisateur": users["service"],
                    "sieges_conseil_citoyen": True,
                },
            )[0],
            1,
        ),
        (
            Instance.objects.get_or_create(
                nom="GTP intercommunal",
                defaults={
                    "type": types["GTP"],
                    "echelle": "intercommunale",
                    "organisateur": users["service"],
                },
            )[0],
            2,
        ),
        (
            Instance.objects.get_or_create(
                nom="Groupe de travail démarche participative",
                defaults={
                    "type": types["Groupe de travail « démarche participative »"],
                    "echelle": "intercommunale",
                    "organisateur": users["cdp1"],
                },
            )[0],
            2,
        ),
    ]
    for secteur in Secteur.objects.order_by("nom"):
        commune = secteur.communes.filter(qpvs__isnull=False).order_by("nom").first()
        if commune is None:
            continue
        instance, created = Instance.objects.get_or_create(
            nom=f"Groupe technique communal – {commune.nom}",
            defaults={"type": types["Groupe technique communal"], "echelle": "communale"},
        )
        if created:
            instance.communes.set([commune])
        instances.append((instance, 3))
    for instance, _every in instances:
        if members and not instance.organisations_membres.exists():
            instance.organisations_membres.set(rng.sample(members, k=min(5, len(members))))
            instance.contacts_membres.set(
                Contact.objects.filter(organisation__in=instance.organisations_membres.all())
            )
    scheme_instances = [(i, 3) for i in Instance.objects.filter(dispositif__isnull=False)]
    today = timezone.localdate()
    chefs = [users[f"cdp{n}"] for n in range(1, 7)]
    for instance, every in instances + scheme_instances:
        if instance.reunions.exists():
            continue
        contacts = list(instance.contacts_membres.select_related("organisation"))
        for day in _meeting_dates(
            date(2025, 1, 1), date(2026, 12, 31), every, day=rng.randint(5, 25)
        ):
            start = timezone.make_aware(datetime.combine(day, time(rng.choice([9, 14]), 0)))
            past = day < today
            reunion = Reunion.objects.create(
                instance=instance,
                debut=start,
                fin=start + timedelta(hours=2),
                lieu=rng.choice(["Hôtel d'agglomération", "Mairie", "Maison de quartier"]),
                statut="tenue" if past else "prevue",
                compte_rendu="Tour de table des partenaires ; point sur les actions en cours. "
                "(Compte rendu fictif de démonstration.)"
                if past
                else "",
            )
            reunion.invites_contacts.set(contacts)
            PointOrdreDuJour.objects.bulk_create(
                [
                    PointOrdreDuJour(reunion=reunion, ordre=1, texte="Actualités des partenaires"),
                    PointOrdreDuJour(reunion=reunion, ordre=2, texte="Suivi de la programmation"),
                ]
            )
            if not past:
                continue
            Presence.objects.bulk_create(
                [
                    Presence(
                        reunion=reunion,
                        contact=c,
                        organisation=c.organisation,
                        statut=rng.choice(["present", "present", "present", "excuse", "absent"]),
                    )
                    for c in contacts
                ]
            )
            decision = Decision.objects.create(
                reunion=reunion, texte="Les partenaires valident les orientations présentées."
            )
            due = day + timedelta(days=rng.randint(15, 60))
            done = due < today and rng.random() < 0.7
            SuiteADonner.objects.create(
                reunion=reunion,
                decision=decision,
                quoi=rng.choice(
                    [
                        "Transmettre le bilan chiffré",
                        "Relancer les porteurs",
                        "Préparer la note de synthèse",
                        "Organiser une visite",
                    ]
                ),
                responsable=rng.choice(chefs),
                echeance=due,
                statut="fait" if done else "a_faire",
                fait_le=due if done else None,
            )


def demo_propositions(*, users: dict) -> None:
    """Three proposals of chefs de projet: one decided by a past COPIL with a follow-up, one on
    the next COPIL's agenda, one still being written."""
    from quartiers.models import Observation

    from .models import IndicateurResultat, PropositionReorientation
    from .propositions import agenda_text

    contrat = ContratDeVille.objects.filter(annee_debut=2024).first()
    copil = Instance.objects.filter(nom="Comité de pilotage du CVU").first()
    if contrat is None or copil is None or PropositionReorientation.objects.exists():
        return
    now = timezone.now()
    past = copil.reunions.filter(debut__lt=now, statut="tenue").order_by("-debut").first()
    upcoming = (
        Reunion.objects.filter(instance__type__pilotage=True, debut__gte=now, statut="prevue")
        .order_by("debut")
        .first()
    )
    objectif = contrat.noeuds.filter(niveau="objectif", code="1.1.1").first()
    qpv = Qpv.objects.filter(geographie=Qpv.Geographie.G2024).order_by("nom").first()
    stories = [
        (
            users["cdp1"],
            "Ouvrir l'accompagnement à la scolarité aux collégiens",
            "Les porteurs constatent que les élèves décrochent surtout à l'entrée au collège, "
            "alors que les actions financées visent l'école élémentaire. Proposition : ouvrir "
            "l'objectif 1.1.1 aux collégiens dès l'appel à projets suivant. (Fictif.)",
            past,
            PropositionReorientation.Issue.AMENDEE,
            "Ouverture aux élèves de 6e et 5e seulement, évaluée à la fin de l'année scolaire.",
        ),
        (
            users["cdp2"],
            "Mobilités : financer des ateliers d'apprentissage du vélo",
            "Les demandeurs d'emploi des quartiers renoncent à des offres faute de moyen de "
            "transport aux horaires décalés. (Fictif.)",
            upcoming,
            "",
            "",
        ),
        (
            users["cdp1"],
            "Santé : un objectif sur l'accès aux soins de premier recours",
            "Deux médecins généralistes partent en retraite dans le quartier. (Fictif.)",
            None,
            "",
            "",
        ),
    ]
    for auteur, objet, motifs, reunion, issue, termes in stories:
        proposition = PropositionReorientation.objects.create(
            contrat=contrat, objet=objet, motifs=motifs, objectif=objectif, auteur=auteur
        )
        if qpv is not None:
            proposition.qpvs.set([qpv])
            proposition.observations.set(Observation.objects.filter(qpv=qpv)[:1])
        if objectif is not None:
            proposition.indicateurs.set(IndicateurResultat.objects.filter(objectif=objectif))
        if reunion is None:
            continue
        proposition.point = PointOrdreDuJour.objects.create(
            reunion=reunion, ordre=3, texte=agenda_text(proposition)
        )
        if issue:
            proposition.issue = issue
            proposition.decidee_par = users["service"]
            proposition.decision = Decision.objects.create(
                reunion=reunion,
                texte=f"Proposition de réorientation « {objet} » : "
                f"{PropositionReorientation.Issue(issue).label.lower()}. {termes}",
            )
            SuiteADonner.objects.create(
                reunion=reunion,
                decision=proposition.decision,
                quoi="Modifier le cahier des charges de l'appel à projets",
                responsable=users["service"],
                echeance=reunion.debut.date() + timedelta(days=45),
            )
        proposition.save()


def demo_dispositifs_structures() -> None:
    """The TFPB programme of 2025 (with its yearly review) and 2026, and four adultes-relais
    posts, one of which must be renewed within six months."""
    from .models import ActionTFPB, AxeTFPB, PosteAdulteRelais

    tfpb = DispositifConnexe.objects.filter(type="tfpb").first()
    relais = DispositifConnexe.objects.filter(type="adultes_relais").first()
    qpvs = list(Qpv.objects.filter(geographie=Qpv.Geographie.G2024).order_by("nom")[:3])
    bailleurs = list(Organisation.objects.filter(type="bailleur").order_by("nom"))
    if not (tfpb and relais and qpvs and bailleurs) or ActionTFPB.objects.exists():
        return
    rng = random.Random(147)
    axes = ["personnel", "entretien", "tranquillite", "animation", "travaux"]
    for annee in (2025, 2026):
        for bailleur in bailleurs:
            for qpv in qpvs:
                for axe in rng.sample(axes, k=2):
                    prevu = Decimal(rng.randrange(5_000, 60_000, 500))
                    ActionTFPB.objects.create(
                        dispositif=tfpb,
                        annee=annee,
                        bailleur=bailleur,
                        qpv=qpv,
                        axe=axe,
                        libelle=f"{AxeTFPB(axe).label} – {qpv.nom} (fictif)",
                        montant_prevu=prevu,
                        montant_realise=(prevu * Decimal(rng.choice(["0.8", "0.95", "1"])))
                        if annee == 2025
                        else None,
                    )
    today = timezone.localdate()
    for n, (mission, months_left) in enumerate(
        [
            ("Médiation sociale de proximité", 4),
            ("Accès aux droits", 20),
            ("Médiation scolaire", 30),
            ("Tranquillité des espaces publics", 12),
        ]
    ):
        fin = today + timedelta(days=30 * months_left)
        PosteAdulteRelais.objects.create(
            dispositif=relais,
            employeur=bailleurs[n % len(bailleurs)],
            qpv=qpvs[n % len(qpvs)],
            mission=mission,
            convention_debut=fin - timedelta(days=3 * 365),
            convention_fin=fin,
        )


# ---------------------------------------------------------------- calls for projects

CRITERIA_KEYS = ["objectifs", "qpv", "public", "capacite", "faisabilite", "budget"]
AFTER_INSTRUCTION = {
    "instruit",
    "programme",
    "refuse",
    "ajourne",
    "notifie",
    "conventionne",
    "en_cours",
    "bilan_attendu",
    "bilan_recu",
    "solde",
}
BILAN_DONE = {"bilan_recu", "solde"}


def demo_appels(*, users: dict) -> None:
    """One call per year of the current contract, its envelopes, instructions, a committee and
    bilans, built over the demo actions that carry a Dauphin number. Idempotent."""
    from .aap import AWAITING_BILAN
    from .models import (
        AppelAProjets,
        Bilan,
        Comite,
        DecisionComite,
        Enveloppe,
        Instruction,
        TransitionStatut,
    )
    from .models.aap import default_bilan_deadline

    rng = random.Random(2026)
    contrat = ContratDeVille.objects.filter(annee_debut__lte=2026, annee_fin__gte=2026).first()
    if contrat is None:
        return
    for year in range(max(contrat.annee_debut, 2024), 2027):
        appel, created = AppelAProjets.objects.get_or_create(
            contrat=contrat,
            annee=year,
            defaults={
                "nom": f"Appel à projets politique de la ville {year}",
                "date_ouverture": date(year - 1, 10, 1),
                "date_cloture": date(year - 1, 11, 30),
                "statut": "ouvert" if year == 2026 else "programme",
                "conditions": "Mention du soutien des financeurs sur tous les supports de "
                "communication ; participation au bilan collectif de fin d'année.",
            },
        )
        if not created:
            continue
        appel.orientations.set(contrat.noeuds.filter(niveau="orientation")[:6])
        dossiers = list(
            Action.objects.filter(contrat=contrat, annee=year)
            .exclude(numero_dauphin="")
            .select_related("referent")
        )
        Action.objects.filter(pk__in=[a.pk for a in dossiers]).update(appel=appel)
        requested = (
            Financement.objects.filter(action__in=dossiers, annee=year)
            .values("financeur")
            .annotate(total=Sum("montant_demande"))
        )
        Enveloppe.objects.bulk_create(
            Enveloppe(
                appel=appel,
                financeur_id=row["financeur"],
                montant=(row["total"] * Decimal("0.85")).quantize(Decimal("1000")),
            )
            for row in requested
        )
        instructions, transitions, decisions = [], [], []
        for action in dossiers:
            if action.statut in AFTER_INSTRUCTION:
                notes = {f"{key}_note": rng.randint(1, 3) for key in CRITERIA_KEYS}
                avis = (
                    "defavorable"
                    if action.statut == "refuse"
                    else rng.choice(["favorable", "favorable", "reserve"])
                )
                instructions.append(
                    Instruction(
                        action=action,
                        avis=avis,
                        synthese="Dossier examiné selon la grille commune (démonstration).",
                        instruit_par=action.referent,
                        **notes,
                    )
                )
            if action.statut != "depose" and action.referent:
                transitions.append(
                    TransitionStatut(
                        action=action,
                        de="depose",
                        vers=action.statut,
                        par=action.referent,
                        motif="Reprise de l'historique (données de démonstration).",
                    )
                )
        Instruction.objects.bulk_create(instructions)
        TransitionStatut.objects.bulk_create(transitions)
        awaiting = [a for a in dossiers if a.statut in AWAITING_BILAN or a.statut in BILAN_DONE]
        for action in awaiting:
            action.date_limite_bilan = default_bilan_deadline(action)
        Action.objects.bulk_update(awaiting, ["date_limite_bilan"])
        comite = Comite.objects.create(
            appel=appel,
            date=date(year, 3, 20),
            lieu="Hôtel d'agglomération, Montbéliard",
            notes="Comité des financeurs (démonstration).",
        )
        on_agenda = [a for a in dossiers if a.statut in AFTER_INSTRUCTION]
        comite.dossiers.set(on_agenda)
        for action in on_agenda:
            sens = (
                action.statut
                if action.statut in ("refuse", "ajourne")
                else "programme"
                if action.statut != "instruit"
                else None
            )
            if sens:
                decisions.append(
                    DecisionComite(
                        comite=comite, action=action, sens=sens, saisie_par=users["service"]
                    )
                )
        DecisionComite.objects.bulk_create(decisions)
        bilans = Bilan.objects.bulk_create(
            Bilan(
                action=action,
                exercice=action.derniere_annee,
                recu_le=date(year + 1, 5, rng.randint(1, 28)),
                rapport="Objectifs atteints pour l'essentiel ; fréquentation en hausse "
                "(démonstration).",
                cout_realise=action.cout_total,
                saisi_par=action.referent,
                **_beneficiaires(rng),
            )
            for action in dossiers
            if action.statut in BILAN_DONE
        )
        _beneficiaires_par_qpv(random.Random(year), bilans)
