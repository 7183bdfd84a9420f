from celery import shared_task

from . import rapports


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
