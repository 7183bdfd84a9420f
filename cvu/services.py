"""Contract workflows: saving actions with their financing plan, programmes, documents."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import payments, rights
from .models import Action, Document, ProgrammeActions
from .models.actions import ChangementEcheance

# Allowed uploads: extension -> (content type, leading bytes of such files).
ZIP = b"PK\x03\x04"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Legacy Word and Excel files.
UPLOAD_TYPES = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (ZIP,),
    ),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (ZIP,)),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        (ZIP,),
    ),
    "odt": ("application/vnd.oasis.opendocument.text", (ZIP,)),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", (ZIP,)),
    "doc": ("application/msword", (OLE,)),
    "xls": ("application/vnd.ms-excel", (OLE,)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}


def check_upload(upload, *, max_size: int) -> str:
    """Checks an uploaded file's extension, content and size; returns its content type."""
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if extension not in UPLOAD_TYPES:
        raise ValidationError(
            "Ce type de fichier n'est pas accepté : déposez un PDF, un document Word, Excel ou "
            "OpenDocument, ou une image PNG ou JPEG."
        )
    if upload.size > max_size:
        raise ValidationError(
            f"Le fichier pèse {upload.size / 1_000_000:.1f} Mo : la limite est de "
            f"{max_size / 1_000_000:.0f} Mo."
        )
    content_type, signatures = UPLOAD_TYPES[extension]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(signature) for signature in signatures):
        raise ValidationError(
            f"Le contenu du fichier ne correspond pas à son extension .{extension}."
        )
    return content_type


@dataclass
class StaleEdit(Exception):
    """Someone else saved the action after the form was opened at loaded_at."""

    loaded_at: datetime
    saved_at: datetime


@transaction.atomic
def action_save(
    *, form, financements, indicateurs, user, loaded_at=None, motif_echeance: str = ""
) -> Action:
    """Saves an action, its financing lines and indicators, all or nothing.

    Refuses a form opened before the last save (loaded_at), a change the user has no right to
    (cvu.rights: voted and paid amounts, frozen plan, deadline, programme, referent) and an
    action that would end outside the user's sectors. A moved bilan deadline is recorded with
    its reason, like a derogation.
    """
    action = form.instance
    if action.pk:
        saved_at = (
            Action.objects.select_for_update()
            .values_list("updated_at", flat=True)
            .get(pk=action.pk)
        )
        if loaded_at is not None and loaded_at < saved_at:
            raise StaleEdit(loaded_at=loaded_at, saved_at=saved_at)
    before = rights.action_snapshot(user, action)
    old = before["action"]
    deadline_moved = old is not None and old.date_limite_bilan != action.date_limite_bilan
    if deadline_moved:
        if not motif_echeance.strip():
            raise ValidationError("Indiquez le motif du changement de date limite du bilan.")
        action._change_reason = motif_echeance.strip()[:100]  # Shown in the admin's history.
    action = form.save()
    financements.instance = action
    financements.save()
    # A line saved from a form read before a payment committed carries the old paid amount:
    # the payments say what it is (nothing is written when it did not move).
    payments.refresh_paid_many(action.financements.all(), user=user)
    indicateurs.instance = action
    indicateurs.save()
    rights.check_action_save(user, action, before)
    rights.require(
        rights.action_in_scope(user, action, before=before),
        "Cette action ne relèverait plus de votre secteur : choisissez un programme ou des "
        "QPV de votre secteur.",
    )
    if deadline_moved:
        ChangementEcheance.objects.create(
            action=action,
            ancienne_date=old.date_limite_bilan,
            nouvelle_date=action.date_limite_bilan,
            motif=motif_echeance.strip(),
            par=user,
        )
    return action


def action_delete(*, action: Action) -> None:
    with transaction.atomic():
        for document in action.documents.all():
            document.fichier.delete(save=False)
        action.delete()


def programme_validate(*, programme: ProgrammeActions, user) -> ProgrammeActions:
    rights.require_manager(user)
    programme.statut = ProgrammeActions.Statut.VALIDE
    programme.valide_par = user
    programme.valide_le = timezone.now()
    programme.save(update_fields=["statut", "valide_par", "valide_le"])
    return programme


def programme_reopen(*, programme: ProgrammeActions, user) -> ProgrammeActions:
    rights.require_manager(user)
    programme.statut = ProgrammeActions.Statut.BROUILLON
    programme.save(update_fields=["statut"])
    return programme


def document_add(*, action: Action, upload, user, content_type: str) -> Document:
    document = Document(
        action=action,
        nom=upload.name[:200],
        content_type=content_type,
        taille=upload.size,
        uploaded_by=user,
    )
    document.fichier.save(upload.name, upload, save=False)
    document.save()
    return document


def document_delete(*, document: Document) -> None:
    document.fichier.delete(save=False)
    document.delete()


# ---------------------------------------------------------------- governance


@transaction.atomic
def reunion_save(*, form, points, user):
    """Saves a meeting and its agenda; the author must be able to edit the meeting."""

    if form.instance.pk is None:
        form.instance.created_by = user
    reunion = form.save()
    points.instance = reunion
    points.save()
    rights.require(
        rights.may_change(user, reunion),
        "Vous ne pouvez pas organiser de réunion pour cette instance : elle relève d'un "
        "autre secteur ou d'un autre organisateur.",
    )
    return reunion


@transaction.atomic
def presences_save(*, reunion, statuses: dict, extra_contacts=(), extra_status=None) -> int:
    """Records attendance: statuses maps ('u', pk) or ('c', pk) to a Presence status.

    People not invited may be added (extra_contacts): they are kept, marked as not invited.
    Taking attendance of a meeting that has started marks it as held.
    """
    from .models import Contact, Presence, Reunion

    invited_users = set(reunion.invites_utilisateurs.values_list("pk", flat=True))
    invited_contacts = set(reunion.invites_contacts.values_list("pk", flat=True))
    contacts = {
        c.pk: c
        for c in Contact.objects.filter(
            pk__in=[pk for kind, pk in statuses if kind == "c"] + [c.pk for c in extra_contacts]
        )
    }
    count = 0
    for (kind, pk), statut in statuses.items():
        if kind == "u":
            Presence.objects.update_or_create(
                reunion=reunion,
                utilisateur_id=pk,
                defaults={"statut": statut, "invite": pk in invited_users},
            )
        elif pk in contacts:
            Presence.objects.update_or_create(
                reunion=reunion,
                contact_id=pk,
                defaults={
                    "statut": statut,
                    "invite": pk in invited_contacts,
                    "organisation_id": contacts[pk].organisation_id,
                },
            )
        count += 1
    for contact in extra_contacts:
        Presence.objects.update_or_create(
            reunion=reunion,
            contact=contact,
            defaults={
                "statut": extra_status or Presence.Statut.PRESENT,
                "invite": contact.pk in invited_contacts,
                "organisation_id": contact.organisation_id,
            },
        )
        count += 1
    if reunion.statut == Reunion.Statut.PREVUE and reunion.debut <= timezone.now():
        reunion.statut = Reunion.Statut.TENUE
        reunion.save(update_fields=["statut"])
    return count


@transaction.atomic
def cloture_save(*, form, decisions, suites):
    """Saves minutes, decisions and follow-ups together."""
    reunion = form.save()
    decisions.instance = reunion
    decisions.save()
    suites.instance = reunion
    for suite_form in suites.forms:
        if suite_form.has_changed() and not suite_form.cleaned_data.get("DELETE"):
            suite_form.instance.full_clean()
    suites.save()
    return reunion
