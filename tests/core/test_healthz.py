"""/healthz: the database for the load balancer; broker, worker and beat for the supervision."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone

from core import health
from core.models import Battement


def test_healthz_answers_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"statut": "ok", "composants": {"base": {"ok": True}}}


def test_healthz_answers_503_when_the_database_is_down(client, db):
    with mock.patch("core.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["composants"]["base"] == {
        "ok": False,
        "detail": "base de données indisponible",
    }


def test_healthz_refuses_post(client, db):
    assert client.post("/healthz").status_code == 405


def test_healthz_names_an_unknown_component(client, db):
    response = client.get("/healthz?composants=base,redis")
    assert response.status_code == 400
    assert "Composant inconnu : redis" in response.json()["erreur"]


def test_without_a_broker_the_task_components_are_not_applicable(client, db):
    response = client.get("/healthz?composants=tous")
    assert response.status_code == 200
    states = response.json()["composants"]
    assert list(states) == ["base", "broker", "worker", "beat"]
    assert states["worker"]["detail"].startswith("sans objet")


@pytest.fixture
def with_broker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False


def test_a_silent_worker_is_reported_and_beat_is_then_unknown(client, db, with_broker):
    with (
        mock.patch("config.celery.app.control.ping", return_value=[]),
        mock.patch.object(health, "check_broker", return_value={"ok": True}),
    ):
        response = client.get("/healthz?composants=tous")
    assert response.status_code == 503
    states = response.json()["composants"]
    assert states["worker"] == {"ok": False, "detail": "aucun worker ne répond"}
    assert states["beat"]["ok"] is None


@pytest.mark.parametrize(("minutes_ago", "ok"), [(None, False), (1, True), (2, True), (4, False)])
def test_beat_is_up_while_its_heartbeat_is_recent(client, db, with_broker, minutes_ago, ok):
    if minutes_ago is not None:
        Battement.objects.create(nom="beat", le=timezone.now() - timedelta(minutes=minutes_ago))
    with mock.patch("config.celery.app.control.ping", return_value=[{"w1": {"ok": "pong"}}]):
        response = client.get("/healthz?composants=worker,beat")
    assert response.json()["composants"]["beat"]["ok"] is ok
    assert response.status_code == (200 if ok else 503)


def test_the_heartbeat_task_records_the_time(db):
    from core.tasks import heartbeat

    heartbeat()
    heartbeat()
    assert Battement.objects.get(nom="beat").le > timezone.now() - timedelta(seconds=5)


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_healthz_over_a_real_broker_and_worker(client, live_worker, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from core.tasks import heartbeat

    heartbeat.delay()  # as beat does every minute: through Redis to the worker
    for _ in range(100):
        if Battement.objects.filter(nom="beat").exists():
            break
        time.sleep(0.1)
    response = client.get("/healthz?composants=tous")
    states = response.json()["composants"]
    assert states["broker"] == {"ok": True}
    assert states["worker"]["ok"] is True
    assert states["beat"]["ok"] is True
    assert response.status_code == 200


@pytest.mark.live
def test_healthz_reports_an_absent_broker_within_seconds(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    started = time.monotonic()
    response = client.get("/healthz?composants=broker")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["composants"]["broker"]["ok"] is False
    assert elapsed < 5
