import logging

from celery import shared_task
from django.core.management import call_command

from . import outbox

logger = logging.getLogger(__name__)


@shared_task
def clear_sessions() -> None:
    """Nightly: deletes expired sessions (`clearsessions`); they may hold personal data."""
    call_command("clearsessions")
    logger.info("Sessions expirées supprimées.")


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_queued_email(courriel_id: int) -> bool:
    """Sends one recorded e-mail (core.Courriel); a no-op if it went already."""
    return outbox.courriel_send(courriel_id)


@shared_task
def send_pending_emails() -> int:
    """Every minute: sends the recorded e-mails the broker could not take when they were made."""
    return outbox.courriel_send_pending()


@shared_task
def purge_emails() -> tuple[int, int]:
    """Nightly: drops the content of e-mails that never went out in time, forgets old sent ones."""
    return outbox.courriel_purge()


@shared_task(ignore_result=True, expires=55)
def heartbeat() -> None:
    """Every minute (beat): the worker records that beat sent it and that it ran (core.health)."""
    from .health import record_heartbeat

    record_heartbeat()
