"""The meeting's compte rendu, requested from the meeting page and built by a worker as a
generated file (reporting.Rapport, type « compte rendu »): a PDF and the same text as an
editable document (.docx) that agents correct in their word processor. A new version replaces
the previous one once ready; until then, and if it fails, the previous one stays downloadable."""

from django.db.models import F, Prefetch

from . import rights
from .models import Presence, Reunion, SuiteADonner


def reunion_request_pdf(*, reunion: Reunion, user):
    """Queues a new version of the compte rendu (reporting.rapports' one task path)."""
    from reporting.models import Rapport
    from reporting.rapports import rapport_request

    rights.require_change(user, reunion)
    return rapport_request(
        type=Rapport.Type.COMPTE_RENDU,
        titre=f"Compte rendu – {reunion}",
        parametres={"reunion": reunion.pk},
        user=user,
        reunion=reunion,
    )


def etat(reunion: Reunion) -> dict:
    """The meeting's latest compte rendu request (any status), whether it is being built or
    failed, and the latest ready version."""
    # A few rows at most: a ready version replaces the earlier ones (reporting.rapports).
    versions = list(reunion.comptes_rendus.order_by("-created_at", "-pk"))
    latest = versions[0] if versions else None
    return {
        "compte_rendu": latest,
        "compte_rendu_pret": next((v for v in versions if v.statut == "pret"), None),
        "compte_rendu_en_cours": bool(latest and latest.in_progress),
        "compte_rendu_echec": bool(latest and latest.retryable),
    }


def compte_rendu_context(params: dict) -> dict:
    """The document of a version (reporting.rapports.REPORTS)."""
    reunion = _fetch(params["reunion"])
    if reunion is None:
        raise Reunion.DoesNotExist(f"réunion {params['reunion']} supprimée")
    return _context(reunion)


def _fetch(reunion_id: int) -> Reunion | None:
    return (
        Reunion.objects.select_related("instance__type")
        .prefetch_related(
            "points",
            Prefetch(
                "presences",
                queryset=Presence.objects.select_related(
                    "contact", "utilisateur", "organisation"
                ).order_by(
                    # PMA's agents (no organisation) first, on SQLite and PostgreSQL alike.
                    F("organisation__nom").asc(nulls_first=True),
                    "contact__nom",
                    "utilisateur__last_name",
                    "pk",
                ),
            ),
            "decisions",
            Prefetch(
                "suites",
                queryset=SuiteADonner.objects.select_related(
                    "responsable", "responsable_contact__organisation"
                ),
            ),
        )
        .filter(pk=reunion_id)
        .first()
    )


def _context(reunion: Reunion) -> dict:
    presences = list(reunion.presences.all())
    groupes = [
        (label, [p for p in presences if p.statut == statut])
        for statut, label in [
            (Presence.Statut.PRESENT, "Présents"),
            (Presence.Statut.EXCUSE, "Excusés"),
            (Presence.Statut.ABSENT, "Absents"),
        ]
    ]
    return {"reunion": reunion, "groupes": groupes}
