"""What /healthz reports, component by component, for load balancers and supervision.

- `base`: the database answers `SELECT 1`;
- `broker`: Redis accepts a connection within a second;
- `worker`: at least one Celery worker answers a ping within a second;
- `beat`: the heartbeat task, sent every minute by beat and run by a worker, ran less than
  BEAT_LATE ago (unknown while no worker answers: the task may wait in the queue).

Without a broker (CELERY_TASK_ALWAYS_EAGER, development) tasks run in the web process: broker,
worker and beat are then "sans objet" and count as up.
"""

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

BEAT_LATE = timedelta(minutes=3)
COMPONENTS = ("base", "broker", "worker", "beat")


def record_heartbeat() -> None:
    from .models import Battement

    Battement.objects.update_or_create(nom="beat", defaults={"le": timezone.now()})


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return {"ok": False, "detail": "base de données indisponible"}
    return {"ok": True}


def _without_broker() -> dict | None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "detail": "sans objet : tâches exécutées par le serveur web"}
    return None


def check_broker() -> dict:
    if (skip := _without_broker()) is not None:
        return skip
    from config.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL or None) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=1)
    except Exception as error:  # noqa: BLE001 (any transport error means "down")
        return {"ok": False, "detail": f"broker injoignable ({type(error).__name__})"}
    return {"ok": True}


def check_worker() -> dict:
    if (skip := _without_broker()) is not None:
        return skip
    from config.celery import app

    try:
        replies = app.control.ping(timeout=1.0)
    except Exception as error:  # noqa: BLE001
        return {"ok": False, "detail": f"broker injoignable ({type(error).__name__})"}
    if not replies:
        return {"ok": False, "detail": "aucun worker ne répond"}
    return {"ok": True, "workers": len(replies)}


def check_beat(*, worker_ok: bool | None = None) -> dict:
    if (skip := _without_broker()) is not None:
        return skip
    from .models import Battement

    last = Battement.objects.filter(nom="beat").values_list("le", flat=True).first()
    facts = {"dernier_battement": last.isoformat(timespec="seconds") if last else None}
    if last is not None and timezone.now() - last <= BEAT_LATE:
        return {"ok": True, **facts}
    if worker_ok is False:
        return {"ok": None, "detail": "inconnu : aucun worker pour exécuter le battement", **facts}
    return {"ok": False, "detail": "aucun battement depuis plus de 3 minutes", **facts}


def report(components: list[str]) -> dict:
    """The state of each asked component, in COMPONENTS order."""
    result = {}
    for name in COMPONENTS:
        if name not in components:
            continue
        if name == "base":
            result[name] = check_database()
        elif name == "broker":
            result[name] = check_broker()
        elif name == "worker":
            result[name] = check_worker()
        else:
            worker = result.get("worker") or check_worker()
            result[name] = check_beat(worker_ok=worker["ok"])
    return result
