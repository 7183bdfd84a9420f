"""A real Celery worker over Redis runs the project's tasks (CI sets CELERY_BROKER_URL)."""

import os

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult
from django.core import mail

from comptes.tasks import send_email
from config.celery import app
from tests.conftest import require_live


@pytest.fixture
def live_worker():
    broker = os.environ.get("CELERY_BROKER_URL")
    require_live(None if broker else "aucun broker configuré (CELERY_BROKER_URL est vide)")
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "result_backend")}
    app.conf.update(task_always_eager=False, broker_url=broker, result_backend=broker)
    try:
        app.control.purge()  # Messages left by an interrupted run would be delivered first.
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield app
    finally:
        app.conf.update(saved)


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_worker_round_trip_over_redis(live_worker):
    result = send_email.delay("Essai", "Corps du message", ["cdp@pma.test"])
    assert not isinstance(result, EagerResult)  # it went through Redis to the worker
    assert result.get(timeout=60) == 1
    assert result.successful()
    assert [m.subject for m in mail.outbox] == ["Essai"]
