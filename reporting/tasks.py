from celery import shared_task
from django.conf import settings

from . import rapports, warming


# acks_late + reject_on_worker_lost: a worker killed mid-build leaves the message in the queue,
# so another worker builds the report; a report left "en cours" too long can also be retried.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_report(rapport_id: int) -> str:
    """Builds a PDF report (WeasyPrint) and stores it on its record; never raises."""
    return rapports.build_report(rapport_id)


@shared_task
def build_monthly_pack() -> int:
    """1st of the month: the direction de projet's reports, e-mailed as links when ready."""
    return rapports.monthly_pack()


@shared_task
def purge_reports() -> int:
    """Nightly: deletes reports older than RAPPORTS_CONSERVATION_JOURS."""
    return rapports.purge()


@shared_task
def requeue_interrupted_reports() -> int:
    """Every five minutes: reports interrupted by a lost worker, or lost by the broker, are
    queued again (reporting.rapports.requeue_interrupted)."""
    return rapports.requeue_interrupted()


# Many writes in a row queue many of these: each finds the version warmed, or the warming under
# way, in one query and returns; one left in the queue for a minute is of no use any more.
@shared_task(ignore_result=True, expires=60)
def warm_figures() -> int | None:
    """After a write and every minute: the pages' default figures for the data's new version
    (reporting.warming), so that nobody waits for them. Only where the web processes share the
    cache (settings.FIGURES_WARM): a worker's own memory serves nobody."""
    if not settings.FIGURES_WARM:
        return None
    return warming.warm()
