"""The meeting's compte rendu as a PDF, built by a Celery worker."""

from functools import partial

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from core.pdf import render_pdf

from .models import Presence, Reunion, SuiteADonner

PENDING, RUNNING, READY, FAILED = "en_attente", "en_cours", "pret", "echec"


def reunion_request_pdf(*, reunion: Reunion) -> None:
    from .tasks import build_minutes_pdf

    reunion.cr_pdf_statut = PENDING
    reunion.cr_pdf_erreur = ""
    reunion.save(update_fields=["cr_pdf_statut", "cr_pdf_erreur"])
    transaction.on_commit(partial(build_minutes_pdf.delay, reunion.pk))


def _set(reunion: Reunion, **fields) -> None:
    for name, value in fields.items():
        setattr(reunion, name, value)
    reunion.save(update_fields=list(fields))


def reunion_build_pdf(*, reunion_id: int) -> None:
    reunion = (
        Reunion.objects.select_related("instance__type")
        .prefetch_related(
            "points",
            Prefetch(
                "presences",
                queryset=Presence.objects.select_related("contact", "utilisateur", "organisation"),
            ),
            "decisions",
            Prefetch(
                "suites",
                queryset=SuiteADonner.objects.select_related("responsable", "responsable_contact"),
            ),
        )
        .filter(pk=reunion_id)
        .first()
    )
    if reunion is None:
        return
    _set(reunion, cr_pdf_statut=RUNNING)
    try:
        presences = list(reunion.presences.all())
        content = render_pdf(
            "cvu/pdf/compte_rendu.html",
            {
                "reunion": reunion,
                "presents": [p for p in presences if p.statut == Presence.Statut.PRESENT],
                "excuses": [p for p in presences if p.statut == Presence.Statut.EXCUSE],
                "absents": [p for p in presences if p.statut == Presence.Statut.ABSENT],
                "produit_le": timezone.localtime(),
            },
        )
        old_name = reunion.cr_pdf.name
        reunion.cr_pdf.save(f"compte-rendu-{reunion.pk}.pdf", ContentFile(content), save=False)
        if old_name and old_name != reunion.cr_pdf.name:
            reunion.cr_pdf.storage.delete(old_name)
        _set(
            reunion,
            cr_pdf=reunion.cr_pdf.name,
            cr_pdf_statut=READY,
            cr_pdf_le=timezone.now(),
            cr_pdf_erreur="",
        )
    except Exception as error:
        _set(
            reunion,
            cr_pdf_statut=FAILED,
            cr_pdf_erreur=f"La production du PDF a échoué ({type(error).__name__} : {error}).",
        )
        raise
