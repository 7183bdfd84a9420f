"""PDF reports: what each one holds, how a worker builds it, retries and the monthly pack.

A report type is a parameter form (reporting.forms), a context builder (below) and a template
(templates/pdf/rapport_<type>.html); core.pdf renders it. A build never raises: a failure is
recorded on the report, with a readable message, and can be retried.
"""

import logging
from collections import defaultdict
from datetime import timedelta
from functools import partial
from uuid import uuid4

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db.models import Count, Prefetch, Q
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core.editable import html_to_docx
from core.exports import xlsx_bytes
from core.pdf import html_to_pdf_pages
from core.queue import BROKER_DOWN, queue_on_commit
from cvu import evaluation, figures, minutes, projets
from cvu.models import Action, Bilan, ContratDeVille, DispositifConnexe
from participation import services as participation
from participation.models import (
    ConseilCitoyen,
    Demarche,
    Inscription,
    PointEtape,
    SessionFormation,
    VerificationCharte,
)
from quartiers.models import Commune, Observation, Qpv, ValeurIndicateur
from quartiers.services import indicator_series

from . import annuel, exports
from .dashboard import (
    Scope,
    by_axe,
    by_commune,
    by_funder,
    by_qpv,
    by_status,
    council_rows,
)
from .models import Rapport, stale_after
from .svg import line_chart

logger = logging.getLogger(__name__)
T = Rapport.Type


# ---------------------------------------------------------------- contexts


def participation_context(params: dict) -> dict:
    """Per commune: councils (composition, representativeness, presence), démarches and their
    latest points d'étape, trainings held, the charter's follow-up. Counts only, no names."""
    commune = Commune.objects.filter(pk=params.get("commune")).first()
    conseils = ConseilCitoyen.objects.all()
    demarches = Demarche.objects.prefetch_related(
        "communes",
        Prefetch("points", queryset=PointEtape.objects.order_by("-date", "-pk")),
        Prefetch(
            "verifications",
            queryset=VerificationCharte.objects.select_related("engagement"),
        ),
    ).order_by("titre")
    if commune is not None:
        conseils = conseils.filter(commune=commune)
        demarches = demarches.filter(communes=commune)
    rows, meetings = council_rows(conseils)
    compositions = participation.compositions([row.obj for row in rows])
    groupes: dict = defaultdict(lambda: {"conseils": [], "demarches": []})
    for row in rows:
        conseil = row.obj
        name = conseil.commune.nom if conseil.commune else "Intercommunal"
        groupes[name]["conseils"].append(
            {"row": row, "stats": compositions.get(conseil.pk, participation.Composition())}
        )
    for demarche in demarches:
        names = [c.nom for c in demarche.communes.all()] or ["Intercommunal"]
        points = list(demarche.points.all())
        verifications = list(demarche.verifications.all())
        entry = {
            "demarche": demarche,
            "dernier_point": points[0] if points else None,
            "charte": {
                label: sum(v.appreciation == value for v in verifications)
                for value, label in VerificationCharte.Appreciation.choices
            },
            "verifiee": bool(verifications),
        }
        for name in names:
            if commune is None or name == commune.nom:
                groupes[name]["demarches"].append(entry)
    since = timezone.now() - timedelta(days=365)
    sessions = (
        SessionFormation.objects.filter(date__gte=since, date__lte=timezone.now())
        .select_related("cycle")
        .annotate(
            presents=Count(
                "inscriptions", filter=Q(inscriptions__presence=Inscription.Presence.PRESENT)
            )
        )
        .order_by("date")
    )
    communes = sorted(groupes.items(), key=lambda item: (item[0] == "Intercommunal", item[0]))
    return {
        "perimetre": commune.nom if commune else "Intercommunal (toutes les communes)",
        "communes": communes,
        "sommaire": [
            *((f"commune-{n}", name) for n, (name, _) in enumerate(communes, start=1)),
            ("formations", "Formations tenues"),
        ]
        if len(communes) > 1
        else [],
        "sessions": list(sessions),
        "reunions_pilotage": meetings,
        "vide": not communes and not sessions,
    }


def programmation_context(params: dict) -> dict:
    """Totals by funder (against the envelopes), axe, QPV, commune and status, from cvu.figures
    like every other screen; the year's dossiers with porteur and amounts; bilans received and
    missing."""
    contrat = ContratDeVille.objects.get(pk=params["contrat"])
    annee = int(params["annee"])
    scope = Scope(contrat=contrat, annee=annee)
    chiffres = scope.chiffres
    actions = list(
        scope.actions()
        .select_related("porteur", "referent")
        .prefetch_related("qpvs", Prefetch("bilans", Bilan.objects.filter(exercice=annee)))
        .order_by("titre", "pk")
    )
    for action in actions:
        action.montants = chiffres.par_action[action.pk]
    today = timezone.localdate()
    received = (Action.Statut.BILAN_RECU, Action.Statut.SOLDE)
    recus = []
    for action in actions:
        bilan = next(iter(action.bilans.all()), None)  # the year's bilan (a CPO has one a year)
        action.bilan_recu_le = bilan.recu_le if bilan is not None else None
        if bilan is not None or action.statut in received:
            recus.append(action)
    # Missing: the dossier says a bilan is expected, or its deadline has passed (cvu's rule,
    # Action.objects.bilan_en_retard, asked once for the year's dossiers).
    late = dict(
        scope.actions()
        .bilan_en_retard(today)
        .with_exercice_en_retard(today)
        .values_list("pk", "exercice_en_retard")
    )
    manquants = []
    for action in actions:
        action.bilan_en_retard = action.pk in late
        action.exercice_en_retard = late.get(action.pk)
        if action.statut == Action.Statut.BILAN_ATTENDU or action.bilan_en_retard:
            manquants.append(action)
    sections = [
        by_funder(scope),
        by_axe(scope),
        by_qpv(scope),
        by_commune(scope),
        by_status(scope),
    ]
    # Above a size the PDF keeps its totals (by funder, axe, QPV, commune and status) and groups
    # the missing bilans by referent; the lists themselves go into the Excel annex.
    annexe = (
        _programmation_annexe(actions, recus, manquants)
        if (len(actions) > settings.PROGRAMMATION_LISTE_MAX)
        else None
    )
    return {
        "contrat": contrat,
        "annee": annee,
        "totals": scope.synthese.total.as_dict(),
        "nb_financees": scope.synthese.nb_financees,
        "sections": sections,
        "sommaire": [
            ("synthese", "Synthèse"),
            *((s.key, s.title) for s in sections),
            ("actions", "Dossiers de l'exercice"),
            ("bilans", "Bilans reçus et manquants"),
        ],
        "actions": actions,
        "bilans_recus": recus,
        "beneficiaires": scope.synthese.beneficiaires,
        "bilans_manquants": manquants,
        "annexe": annexe,
        "manquants_par_referent": _by_referent(manquants) if annexe else [],
        "liste_max": settings.PROGRAMMATION_LISTE_MAX,
        "vide": not actions,
    }


def _by_referent(actions: list) -> list[dict]:
    """Missing bilans per referent (« Sans référent » last): how many, how many late."""
    groups: dict = defaultdict(lambda: {"nombre": 0, "en_retard": 0})
    for action in actions:
        group = groups[str(action.referent) if action.referent else ""]
        group["nombre"] += 1
        group["en_retard"] += action.bilan_en_retard
    return [
        {"referent": name or "Sans référent", **counts}
        for name, counts in sorted(groups.items(), key=lambda item: (not item[0], item[0]))
    ]


def _programmation_annexe(actions: list, recus: list, manquants: list) -> list:
    """The annex workbook's sheets: the rows the PDF would list, with the same figures."""
    common = [
        ("Action", lambda a: a.titre),
        ("Porteur", lambda a: a.porteur.nom),
    ]
    return [
        (
            "Dossiers de l'exercice",
            [
                *common,
                ("Statut", lambda a: a.get_statut_display()),
                ("N° Dauphin", lambda a: a.numero_dauphin),
                ("QPV", lambda a: ", ".join(q.nom for q in a.qpvs.all())),
                ("Demandé (€)", lambda a: a.montants.demande),
                ("Voté (€)", lambda a: a.montants.vote),
                ("Versé (€)", lambda a: a.montants.verse),
            ],
            actions,
        ),
        ("Bilans reçus", [*common, ("Reçu le", lambda a: a.bilan_recu_le)], recus),
        (
            "Bilans manquants",
            [
                *common,
                ("Exercice du bilan", lambda a: a.exercice_en_retard),
                ("Attendu le", lambda a: a.echeance_en_retard),
                ("En retard", lambda a: a.bilan_en_retard),
                ("Référent", lambda a: str(a.referent) if a.referent else ""),
            ],
            manquants,
        ),
    ]


def fiche_context(params: dict) -> dict:
    """A QPV's or a commune's diagnosis over time (SVG charts), observations, actions,
    councils and connected schemes."""
    if params.get("qpv"):
        territory = Qpv.objects.prefetch_related("communes").get(pk=params["qpv"])
        actions = Action.objects.filter(qpvs=territory)
        conseils = ConseilCitoyen.objects.filter(qpvs=territory)
        dispositifs = DispositifConnexe.objects.filter(qpvs=territory)
        kind = "QPV"
    else:
        territory = Commune.objects.get(pk=params["commune"])
        actions = Action.objects.filter(qpvs__communes=territory).distinct()
        conseils = ConseilCitoyen.objects.filter(commune=territory)
        dispositifs = DispositifConnexe.objects.filter(communes=territory)
        kind = "Commune"
    series = indicator_series(
        ValeurIndicateur.objects.for_territory(territory).select_related("indicateur")
    )
    for entry in series:
        entry["svg"] = line_chart(
            [(v.annee, v.valeur) for v in entry["valeurs"]], unit=entry["indicateur"].unite
        )
    since = timezone.localdate().year - 2
    actions = list(
        figures.with_amounts(actions.filter(annee__gte=since))
        .select_related("porteur")
        .order_by("-annee", "titre")
    )
    rows, _ = council_rows(conseils)
    return {
        "territory": territory,
        "kind": kind,
        "series": series,
        "has_demo_values": any(v.est_demo for e in series for v in e["valeurs"]),
        "observations": list(
            Observation.objects.for_territory(territory).select_related("auteur")[:15]
        ),
        "actions": actions,
        "depuis": since,
        "conseils": rows,
        "dispositifs": list(dispositifs.order_by("nom")),
        "vide": not series and not actions,
    }


def projet_quartier_context(params: dict) -> dict:
    """The fiche projet de quartier: what the projet's page shows (cvu.projets.dossier)."""
    return projets.dossier(
        ContratDeVille.objects.get(pk=params["contrat"]), Qpv.objects.get(pk=params["qpv"])
    )


def mi_parcours_context(params: dict) -> dict:
    """The mid-term evaluation: what its page shows (cvu.evaluation.mi_parcours)."""
    return evaluation.mi_parcours(ContratDeVille.objects.get(pk=params["contrat"]))


REPORTS = {
    T.COMPTE_RENDU: (minutes.compte_rendu_context, "cvu/pdf/compte_rendu.html"),
    T.ANNUEL: (annuel.annuel_context, "pdf/rapport_annuel.html"),
    T.MI_PARCOURS: (mi_parcours_context, "pdf/rapport_mi_parcours.html"),
    T.PROJET_QUARTIER: (projet_quartier_context, "pdf/rapport_projet_quartier.html"),
    T.PARTICIPATION: (participation_context, "pdf/rapport_participation.html"),
    T.PROGRAMMATION: (programmation_context, "pdf/rapport_programmation.html"),
    T.FICHE: (fiche_context, "pdf/rapport_fiche.html"),
}


# ---------------------------------------------------------------- requests and builds


def rapport_request(
    *, type: str, titre: str, parametres: dict, user, envoyer_lien=False, reunion=None
) -> Rapport:
    """Records the request and queues its build once the transaction commits."""
    rapport = Rapport.objects.create(
        type=type,
        titre=titre,
        parametres=parametres,
        demande_par=user,
        envoyer_lien=envoyer_lien,
        reunion=reunion,
    )
    _queue(rapport)
    return rapport


def _queue(rapport: Rapport) -> None:
    """Queues the build once the transaction commits, under a task id recorded beforehand."""
    from .tasks import build_report  # reporting.tasks imports this module.

    rapport.task_id = str(uuid4())
    rapport.save(update_fields=["task_id"])
    queue_on_commit(
        build_report,
        rapport.pk,
        task_id=rapport.task_id,
        on_failure=partial(
            Rapport.objects.filter(pk=rapport.pk, statut=Rapport.Statut.EN_ATTENTE).update,
            statut=Rapport.Statut.ECHEC,
            erreur=BROKER_DOWN,
        ),
    )


def rapport_retry(*, rapport: Rapport) -> Rapport:
    if not rapport.retryable:
        return rapport
    rapport.delete_files()
    rapport.statut = Rapport.Statut.EN_ATTENTE
    rapport.erreur = ""
    rapport.started_at = rapport.finished_at = None
    rapport.save(
        update_fields=[
            "statut",
            "erreur",
            "started_at",
            "finished_at",
            "fichier",
            "annexe",
            "modifiable",
        ]
    )
    _queue(rapport)
    return rapport


MAX_ATTEMPTS = 3


def requeue_interrupted() -> int:
    """Every five minutes (beat): a report whose build was interrupted (still "en cours" after
    the task time limit) or whose request never reached a worker (still "en attente" as long:
    the broker lost it) is queued again, up to MAX_ATTEMPTS builds; then it fails with a message
    saying so. Returns how many were queued again."""
    limit = timezone.now() - stale_after()
    stuck = Rapport.objects.filter(
        Q(statut=Rapport.Statut.EN_COURS, started_at__lt=limit)
        | Q(statut=Rapport.Statut.EN_ATTENTE, created_at__lt=limit, started_at__isnull=True)
    )
    requeued = 0
    for rapport in stuck:
        if rapport.tentatives >= MAX_ATTEMPTS:
            Rapport.objects.filter(pk=rapport.pk, statut=rapport.statut).update(
                statut=Rapport.Statut.ECHEC,
                finished_at=timezone.now(),
                erreur=f"Production interrompue {rapport.tentatives} fois (arrêt du service de "
                "tâches) : relancez-le, et prévenez l'administrateur si cela se répète.",
            )
            continue
        logger.warning("Rapport %s interrompu ou perdu : relancé.", rapport.pk)
        rapport.statut = Rapport.Statut.EN_ATTENTE
        rapport.started_at = None
        rapport.save(update_fields=["statut", "started_at"])
        _queue(rapport)
        requeued += 1
    return requeued


def build_report(rapport_id: int) -> str:
    """Builds one report; returns its final status. Never raises: failures are recorded."""
    updated = Rapport.objects.filter(
        pk=rapport_id, statut__in=[Rapport.Statut.EN_ATTENTE, Rapport.Statut.EN_COURS]
    ).update(statut=Rapport.Statut.EN_COURS, started_at=timezone.now())
    rapport = Rapport.objects.select_related("demande_par").filter(pk=rapport_id).first()
    if rapport is None or not updated:
        return rapport.statut if rapport else "absent"
    Rapport.objects.filter(pk=rapport_id).update(tentatives=rapport.tentatives + 1)
    try:
        if rapport.is_export:
            content, name = exports.build_export(rapport)
            rapport.fichier.save(name, ContentFile(content), save=False)
            pages = None
            rapport.progression = rapport.parametres.get("lignes")
        else:
            builder, template = REPORTS[rapport.type]
            context = builder(rapport.parametres)
            if context.get("annexe"):
                rapport.annexe.save(
                    f"rapport-{rapport.type}-{rapport.pk}-annexe.xlsx",
                    ContentFile(xlsx_bytes(context["annexe"])),
                    save=False,
                )
            # One HTML for the PDF and, for the types that have one, the editable document:
            # both hold the same text in the same order (core.editable).
            html = render_to_string(
                template,
                {
                    **context,
                    "rapport": rapport,
                    "auteur": rapport.demande_par.get_full_name() or rapport.demande_par.email,
                    "produit_le": timezone.localtime(),
                },
            )
            if rapport.type in Rapport.MODIFIABLES:
                rapport.modifiable.save(
                    f"rapport-{rapport.type}-{rapport.pk}.docx",
                    ContentFile(html_to_docx(html)),
                    save=False,
                )
            content, pages = html_to_pdf_pages(html)
            rapport.fichier.save(
                f"rapport-{rapport.type}-{rapport.pk}.pdf", ContentFile(content), save=False
            )
    except Exception as error:  # noqa: BLE001 - any failure becomes a readable status.
        logger.exception("Rapport %s : échec de la production", rapport_id)
        # Files written before the failure: none is left without its record.
        for field in (rapport.annexe, rapport.modifiable):
            if field:
                field.delete(save=False)
        rapport.statut = Rapport.Statut.ECHEC
        rapport.erreur = _readable(error)
        rapport.finished_at = timezone.now()
        rapport.save(update_fields=["statut", "erreur", "finished_at"])
        return rapport.statut
    rapport.pages = pages
    rapport.statut = Rapport.Statut.PRET
    rapport.finished_at = timezone.now()
    rapport.erreur = ""
    rapport.save(
        update_fields=[
            "fichier",
            "annexe",
            "modifiable",
            "pages",
            "statut",
            "finished_at",
            "erreur",
            "progression",
        ]
    )
    if rapport.type in Rapport.REMPLACES:
        _replace_earlier(rapport)
    if rapport.envoyer_lien:
        try:
            _send_link(rapport)
        except OSError:  # The report is ready all the same; the link is on the reports page.
            logger.exception("Rapport %s : lien non envoyé", rapport_id)
    return rapport.statut


def _replace_earlier(rapport: Rapport) -> None:
    """A meeting keeps one compte rendu: the earlier versions (files and records) go once this
    one is ready; one still being built is left to finish."""
    earlier = Rapport.objects.filter(
        type=rapport.type, reunion_id=rapport.reunion_id, created_at__lt=rapport.created_at
    ).exclude(statut__in=[Rapport.Statut.EN_ATTENTE, Rapport.Statut.EN_COURS])
    for old in earlier:
        old.delete_files()
        old.delete()


def _readable(error: Exception) -> str:
    if isinstance(error, TemplateSyntaxError | TemplateDoesNotExist):
        return f"Erreur dans le modèle du rapport : {error}. Prévenez l'administrateur."
    if isinstance(error, KeyError | ValueError) or error.__class__.__name__ == "DoesNotExist":
        return (
            "Les paramètres du rapport ne correspondent plus aux données (un élément a pu être "
            f"supprimé) : {error}."
        )
    return f"Le rapport n'a pas pu être produit ({error.__class__.__name__} : {error})."


def _send_link(rapport: Rapport) -> None:
    url = rapport.adresse
    send_mail(
        subject=f"Pilotage CVU : {rapport.titre}",
        message=(
            f"Bonjour,\n\nLe rapport « {rapport.titre} » est prêt ({rapport.pages} pages"
            f"{', avec une annexe Excel' if rapport.annexe else ''}).\n"
            f"Il est disponible ici : {url}\n\n"
            "Direction cohésion sociale – Pays de Montbéliard Agglomération\n"
        ),
        from_email=None,
        recipient_list=[rapport.demande_par.email],
    )


# ---------------------------------------------------------------- scheduled jobs


def monthly_pack() -> int:
    """On the 1st: participation (intercommunal) and programming of the month just ended's year
    for each member of the direction de projet, who gets an e-mail with each link.

    The month just ended's year is the current year to date, except on 1 January, when the
    pack holds the whole year just closed, under the contract that covered it.
    """
    year = (timezone.localdate().replace(day=1) - timedelta(days=1)).year
    contrat = (
        ContratDeVille.objects.filter(annee_debut__lte=year, annee_fin__gte=year)
        .order_by("-annee_debut")
        .first()
    )
    users = get_user_model().objects.filter(is_active=True, role="direction").exclude(email="")
    count = 0
    for user in users:
        rapport_request(
            type=T.PARTICIPATION,
            titre="Avancement des démarches participatives – intercommunal",
            parametres={},
            user=user,
            envoyer_lien=True,
        )
        count += 1
        if contrat is not None:
            rapport_request(
                type=T.PROGRAMMATION,
                titre=f"Bilan de programmation {year} – {contrat.nom}",
                parametres={"contrat": contrat.pk, "annee": year},
                user=user,
                envoyer_lien=True,
            )
            count += 1
    return count


def purge(*, days: int | None = None) -> int:
    """Deletes reports (records and files) older than the retention period, except the
    versions of official records (Rapport.CONSERVES: the annual reports)."""
    days = settings.RAPPORTS_CONSERVATION_JOURS if days is None else days
    old = Rapport.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).exclude(
        type__in=Rapport.CONSERVES
    )
    count = 0
    for rapport in old:
        rapport.delete_files()
        rapport.delete()
        count += 1
    return count


def download_url(rapport: Rapport) -> str:
    return reverse("reporting:rapport_download", args=[rapport.pk])
