"""E-mails that must go out even when the broker is down: recorded first, sent after.

`courriel_queue` writes a Courriel in the caller's transaction and, after commit, hands its id
to the worker; if the broker cannot take it within a second, the row simply waits for
`courriel_send_pending`, run every minute by beat. The caller's answer never depends on it.
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Courriel

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 20
CLAIM_TIMEOUT = timedelta(minutes=10)  # a worker that died while sending frees its claim
DRAIN_DELAY = timedelta(seconds=30)  # leave fresh rows to the task queued for them
SENT_KEPT = timedelta(days=90)  # what was sent to whom stays visible this long in the admin


def courriel_queue(*, subject: str, body: str, to: list[str], html_body: str = "") -> Courriel:
    """Records an e-mail and asks the worker to send it once the transaction commits."""
    courriel = Courriel.objects.create(subject=subject, body=body, html_body=html_body, to=to)
    transaction.on_commit(partial(_dispatch, courriel.pk))
    return courriel


def _dispatch(courriel_id: int) -> None:
    from .tasks import send_queued_email

    try:
        send_queued_email.delay(courriel_id)
    except Exception:  # Broker unreachable: the drain will send it.
        logger.warning("Courriel %s gardé en attente : le broker est injoignable.", courriel_id)


def courriel_send(courriel_id: int) -> bool:
    """Sends one recorded e-mail unless it is sent or being sent; True if this call sent it."""
    now = timezone.now()
    claimed = (
        Courriel.objects.pending()
        .filter(pk=courriel_id)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    courriel = Courriel.objects.get(pk=courriel_id)
    message = EmailMultiAlternatives(subject=courriel.subject, body=courriel.body, to=courriel.to)
    if courriel.html_body:
        message.attach_alternative(courriel.html_body, "text/html")
    try:
        message.send()
    except Exception as error:
        Courriel.objects.filter(pk=courriel_id).update(claimed_at=None, error=str(error)[:1000])
        raise
    # A sent body is dropped: a password reset link must not outlive its e-mail in the database.
    Courriel.objects.filter(pk=courriel_id).update(
        sent_at=timezone.now(), error="", body="", html_body=""
    )
    return True


def courriel_send_pending() -> int:
    """Sends every e-mail still waiting (broker was down, or sending failed); returns how many."""
    waiting = (
        Courriel.objects.pending()
        .filter(created_at__lte=timezone.now() - DRAIN_DELAY, attempts__lt=MAX_ATTEMPTS)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    sent = 0
    for courriel_id in list(waiting):
        try:
            sent += courriel_send(courriel_id)
        except Exception:
            logger.exception(
                "Échec de l'envoi du courriel %s ; nouvel essai plus tard.", courriel_id
            )
    return sent


def courriel_purge() -> tuple[int, int]:
    """Nightly: gives up on e-mails that could not go out before their content went stale, and
    forgets sent ones after SENT_KEPT; returns (abandoned, deleted).

    A waiting e-mail may carry a password reset link: once the link has expired (or the attempts
    are spent) the body is dropped so that it does not wait in the database forever; the row
    stays, with its subject, recipients and error, for the administrator to see.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    abandoned = (
        Courriel.objects.pending()
        .filter(Q(created_at__lt=stale) | Q(attempts__gte=MAX_ATTEMPTS))
        .exclude(body="", html_body="", attempts__gte=MAX_ATTEMPTS)
        .update(
            body="",
            html_body="",
            attempts=MAX_ATTEMPTS,
            claimed_at=None,
            error="Abandonné : le courriel n'a pas pu partir avant l'expiration de son contenu.",
        )
    )
    deleted, _ = Courriel.objects.filter(sent_at__lt=now - SENT_KEPT).delete()
    if abandoned:
        logger.warning("%s courriel(s) abandonné(s) après échec d'envoi.", abandoned)
    return abandoned, deleted
