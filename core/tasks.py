import logging

from celery import shared_task
from django.core.management import call_command

logger = logging.getLogger(__name__)


@shared_task
def clear_sessions() -> None:
    """Nightly: deletes expired sessions (`clearsessions`); they may hold personal data."""
    call_command("clearsessions")
    logger.info("Sessions expirées supprimées.")
