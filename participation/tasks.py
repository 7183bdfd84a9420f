import logging

from celery import shared_task

from . import previews
from .services import anonymise_expired

logger = logging.getLogger(__name__)


@shared_task
def anonymise_members() -> list[str]:
    """Nightly: anonymises members whose mandate ended beyond the retention period."""
    done = anonymise_expired()
    logger.info("Anonymisation des membres : %s", ", ".join(done) or "aucun membre concerné")
    return done


@shared_task
def purge_import_previews() -> int:
    """Hourly: deletes member files uploaded for a preview and never confirmed."""
    count = previews.purge()
    logger.info("Aperçus d'import supprimés : %s", count)
    return count
