"""Meeting invitations: an e-mail with the .ics to every invited person, sent by the worker."""

from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from .ics import calendar_for
from .models import Reunion


def recipients(reunion: Reunion) -> list[str]:
    emails = [u.email for u in reunion.invites_utilisateurs.all() if u.email and u.is_active]
    emails += [c.email for c in reunion.invites_contacts.all() if c.email]
    return sorted(set(emails))


def reunion_invite(*, reunion: Reunion, user) -> int:
    """Marks the invitations as sent (a new iCalendar sequence) and queues the e-mails."""
    from .tasks import send_invitations

    count = len(recipients(reunion))
    if count == 0:
        return 0
    reunion.sequence += 1
    reunion.invitations_envoyees_le = timezone.now()
    reunion.save(update_fields=["sequence", "invitations_envoyees_le"])
    transaction.on_commit(partial(send_invitations.delay, reunion.pk, user.pk))
    return count


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def reunion_send_invitations(*, reunion_id: int, sender_id: int) -> int:
    reunion = (
        Reunion.objects.select_related("instance")
        .prefetch_related("points", "invites_utilisateurs", "invites_contacts")
        .filter(pk=reunion_id)
        .first()
    )
    if reunion is None:
        return 0
    sender = get_user_model().objects.filter(pk=sender_id).first()
    cancelled = reunion.statut == Reunion.Statut.ANNULEE
    url = _absolute(reverse("cvu:reunion_detail", args=[reunion.pk]))
    ics = calendar_for([reunion], lambda r: url, method="CANCEL" if cancelled else "REQUEST")
    when = date_format(timezone.localtime(reunion.debut), "l j F Y à G\\hi")
    subject = f"{'Annulation' if cancelled else 'Invitation'} : {reunion.instance.nom} – {when}"
    body = render_to_string(
        "cvu/email/invitation.txt",
        {"reunion": reunion, "when": when, "url": url, "sender": sender, "cancelled": cancelled},
    )
    sent = 0
    for email in recipients(reunion):
        message = EmailMultiAlternatives(subject=subject, body=body, to=[email])
        message.attach(
            "invitation.ics",
            ics,
            f"text/calendar; charset=utf-8; method={'CANCEL' if cancelled else 'REQUEST'}",
        )
        sent += message.send()
    return sent
