"""Queue a Celery task once the transaction commits, without ever failing the request.

With the broker down, publishing fails within about a second (see the broker options in
config/settings.py). The request has already committed its work by then: the task's record
(a report, a minutes PDF) is marked failed with a French message so that the person can retry,
or the work runs here and now when it must happen anyway (`run_here`).
"""

import logging
from collections.abc import Callable
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)

BROKER_DOWN = (
    "Le service de tâches en arrière-plan est injoignable : relancez dans quelques minutes."
)


def _publish(task, args, options, on_failure, run_here):
    try:
        task.apply_async(args=args, **options)
    except Exception:
        logger.warning("Tâche %s non transmise : le broker est injoignable.", task.name)
        if run_here:
            task(*args)
        elif on_failure is not None:
            on_failure()


def queue_on_commit(
    task,
    *args,
    on_failure: Callable[[], None] | None = None,
    run_here: bool = False,
    **options,
) -> None:
    """After commit, hands `task(*args)` to the worker; if the broker refuses it, calls
    `on_failure` (record the failure for the person to retry) or runs the task in this process
    (`run_here`, for work that must not be lost)."""
    transaction.on_commit(partial(_publish, task, list(args), options, on_failure, run_here))
