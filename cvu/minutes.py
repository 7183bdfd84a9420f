"""The meeting's compte rendu as a PDF, requested from the meeting page and built by a worker."""

from functools import partial

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db.models import F, Prefetch
from django.utils import timezone

from core.pdf import render_pdf
from core.queue import BROKER_DOWN, queue_on_commit

from . import rights
from .models import Presence, Reunion, SuiteADonner

PENDING, RUNNING, READY, FAILED = "en_attente", "en_cours", "pret", "echec"


def reunion_request_pdf(*, reunion: Reunion, user) -> None:
    """Marks the PDF as pending and queues its build once the transaction commits."""
    from .tasks import build_minutes_pdf  # cvu.tasks imports this module.

    rights.require_change(user, reunion)
    _set(reunion, cr_pdf_statut=PENDING, cr_pdf_erreur="")
    queue_on_commit(
        build_minutes_pdf,
        reunion.pk,
        on_failure=partial(
            Reunion.objects.filter(pk=reunion.pk, cr_pdf_statut=PENDING).update,
            cr_pdf_statut=FAILED,
            cr_pdf_erreur=BROKER_DOWN,
        ),
    )


def _set(reunion: Reunion, **fields) -> None:
    for name, value in fields.items():
        setattr(reunion, name, value)
    reunion.save(update_fields=list(fields))


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


def _store(reunion: Reunion, content: bytes) -> str:
    """Writes the PDF to a temporary file, then moves it into storage under a free name.

    The previous file stays in place (and downloadable) until the row points to the new one, and
    no reader ever sees a half-written file under a storage name.
    """
    field, storage = reunion.cr_pdf.field, reunion.cr_pdf.storage
    name = field.generate_filename(reunion, f"compte-rendu-{reunion.pk}.pdf")
    temporary = TemporaryUploadedFile(name, "application/pdf", len(content), None)
    try:
        temporary.write(content)
        temporary.flush()
        temporary.seek(0)
        return storage.save(name, temporary, max_length=field.max_length)
    finally:
        temporary.close()


def reunion_build_pdf(*, reunion_id: int) -> None:
    """Renders the compte rendu and stores it on the meeting; records a failure, then re-raises."""
    reunion = _fetch(reunion_id)
    if reunion is None:
        return
    old_name, new_name = reunion.cr_pdf.name, ""
    _set(reunion, cr_pdf_statut=RUNNING)
    try:
        content = render_pdf("cvu/pdf/compte_rendu.html", _context(reunion))
        new_name = _store(reunion, content)
        _set(
            reunion,
            cr_pdf=new_name,
            cr_pdf_statut=READY,
            cr_pdf_le=timezone.now(),
            cr_pdf_erreur="",
        )
    except Exception as error:
        if new_name:  # Stored, but the row could not point to it.
            reunion.cr_pdf.storage.delete(new_name)
        detail = str(error) or "aucun détail"
        _set(
            reunion,
            cr_pdf=old_name,
            cr_pdf_statut=FAILED,
            cr_pdf_erreur=(
                f"Le compte rendu n'a pas pu être produit : {detail} ({type(error).__name__}). "
                "Réessayez ; si l'erreur persiste, signalez-la à l'administrateur."
            ),
        )
        raise
    if old_name and old_name != new_name:
        reunion.cr_pdf.storage.delete(old_name)
