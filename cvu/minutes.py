"""The meeting's compte rendu as a PDF, requested from the meeting page and built by a worker,
with the same text as an editable document (.docx) that agents correct in their word processor."""

from functools import partial

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db.models import F, Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from core.editable import CONTENT_TYPE as DOCX
from core.editable import html_to_docx
from core.pdf import html_to_pdf
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


def _store(reunion: Reunion, content: bytes, extension: str) -> str:
    """Writes the file to a temporary file, then moves it into storage under a free name.

    The previous file stays in place (and downloadable) until the row points to the new one, and
    no reader ever sees a half-written file under a storage name.
    """
    field, storage = reunion.cr_pdf.field, reunion.cr_pdf.storage
    name = field.generate_filename(reunion, f"compte-rendu-{reunion.pk}.{extension}")
    kind = "application/pdf" if extension == "pdf" else DOCX
    temporary = TemporaryUploadedFile(name, kind, len(content), None)
    try:
        temporary.write(content)
        temporary.flush()
        temporary.seek(0)
        return storage.save(name, temporary, max_length=field.max_length)
    finally:
        temporary.close()


def reunion_build_pdf(*, reunion_id: int) -> None:
    """Renders the compte rendu once as HTML, then as a PDF and as an editable .docx, and stores
    both on the meeting; records a failure, then re-raises."""
    reunion = _fetch(reunion_id)
    if reunion is None:
        return
    old_names, new_names = [reunion.cr_pdf.name, reunion.cr_docx.name], []
    _set(reunion, cr_pdf_statut=RUNNING)
    try:
        html = render_to_string(
            "cvu/pdf/compte_rendu.html", {"produit_le": timezone.localtime(), **_context(reunion)}
        )
        new_names.append(_store(reunion, html_to_pdf(html), "pdf"))
        new_names.append(_store(reunion, html_to_docx(html), "docx"))
        _set(
            reunion,
            cr_pdf=new_names[0],
            cr_docx=new_names[1],
            cr_pdf_statut=READY,
            cr_pdf_le=timezone.now(),
            cr_pdf_erreur="",
        )
    except Exception as error:
        for name in new_names:  # Stored, but the row could not point to them.
            reunion.cr_pdf.storage.delete(name)
        detail = str(error) or "aucun détail"
        _set(
            reunion,
            cr_pdf=old_names[0],
            cr_docx=old_names[1],
            cr_pdf_statut=FAILED,
            cr_pdf_erreur=(
                f"Le compte rendu n'a pas pu être produit : {detail} ({type(error).__name__}). "
                "Réessayez ; si l'erreur persiste, signalez-la à l'administrateur."
            ),
        )
        raise
    for old_name in old_names:
        if old_name and old_name not in new_names:
            reunion.cr_pdf.storage.delete(old_name)
