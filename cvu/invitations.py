"""Meeting invitations: an e-mail with the .ics to every invited person, sent by the worker."""

from email.utils import parseaddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from core.queue import queue_on_commit

from .ics import calendar_for
from .models import Reunion


def recipients(reunion: Reunion) -> list[str]:
    """The distinct e-mails of the invited agents (active ones) and partners."""
    emails = [u.email for u in reunion.invites_utilisateurs.all() if u.email and u.is_active]
    emails += [c.email for c in reunion.invites_contacts.all() if c.email]
    return sorted(set(emails))


def reunion_invite(*, reunion: Reunion, user) -> int:
    """Marks the invitations as sent (a new iCalendar sequence) and queues the e-mails.

    Returns how many people will be written to; 0 (and nothing changes) if nobody has an e-mail.
    """
    from .tasks import send_invitations  # cvu.tasks imports this module.

    count = len(recipients(reunion))
    if count == 0:
        return 0
    # A higher SEQUENCE tells calendar programs that this version replaces the one they hold.
    Reunion.objects.filter(pk=reunion.pk).update(
        sequence=F("sequence") + 1, invitations_envoyees_le=timezone.now()
    )
    reunion.refresh_from_db(fields=["sequence", "invitations_envoyees_le"])
    # Invitations must go out: with the broker down, they are sent from this process.
    queue_on_commit(send_invitations, reunion.pk, user.pk, run_here=True)
    return count


def _organizer(sender) -> tuple[str, str]:
    if sender is not None and sender.email:
        return sender.get_full_name() or sender.email, sender.email
    return parseaddr(settings.DEFAULT_FROM_EMAIL)


def reunion_send_invitations(*, reunion_id: int, sender_id: int) -> int:
    """Sends one e-mail per invited person; returns how many were sent (0 if the meeting is gone)."""
    reunion = (
        Reunion.objects.select_related("instance")
        .prefetch_related("points", "invites_utilisateurs", "invites_contacts")
        .filter(pk=reunion_id)
        .first()
    )
    if reunion is None:
        return 0
    emails = recipients(reunion)
    if not emails:
        return 0
    sender = get_user_model().objects.filter(pk=sender_id).first()
    cancelled = reunion.statut == Reunion.Statut.ANNULEE
    method = "CANCEL" if cancelled else "REQUEST"
    url = settings.SITE_URL.rstrip("/") + reverse("cvu:reunion_detail", args=[reunion.pk])
    with translation.override("fr"):
        start, end = timezone.localtime(reunion.debut), timezone.localtime(reunion.fin)
        when = date_format(start, r"l j F Y à G\hi")
        until = date_format(end, r"G\hi" if end.date() == start.date() else r"l j F Y à G\hi")
        subject = f"{'Annulation' if cancelled else 'Invitation'} : {reunion.instance.nom} – {when}"
        body = render_to_string(
            "cvu/email/invitation.txt",
            {
                "reunion": reunion,
                "when": when,
                "until": until,
                "url": url,
                "sender": sender,
                "cancelled": cancelled,
            },
        )
    organizer = _organizer(sender)
    reply_to = [sender.email] if sender is not None and sender.email else []
    messages = []
    for email in emails:
        # One message and one .ics per person: nobody learns the other guests' addresses.
        message = EmailMultiAlternatives(subject=subject, body=body, to=[email], reply_to=reply_to)
        ics = calendar_for(
            [reunion], lambda r: url, method=method, organizer=organizer, attendees=[email]
        )
        message.attach("invitation.ics", ics, f"text/calendar; method={method}")
        messages.append(message)
    with get_connection() as connection:
        return connection.send_messages(messages) or 0
