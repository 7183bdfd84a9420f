"""With no broker reachable, pages answer at once and the e-mails wait for its return."""

import contextlib
import socket
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from config.celery import app
from core.models import Courriel
from core.tasks import send_pending_emails
from tests.comptes.factories import UserFactory
from tests.conftest import require_live

UNREACHABLE = "redis://127.0.0.1:1/0"
RESET_URL = "/comptes/mot-de-passe/oubli/"


def _forget_connections():
    """Celery keeps its connection pools and result backend: drop them when the URL changes."""
    app._pool = None
    app.amqp._producer_pool = None
    app._local.__dict__.pop("backend", None)


def _port_closed(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
    except OSError:
        return True
    return False


@pytest.fixture
def unreachable_broker():
    require_live(None if _port_closed("127.0.0.1", 1) else "le port 1 répond ici")
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "result_backend")}
    app.conf.update(task_always_eager=False, broker_url=UNREACHABLE, result_backend=UNREACHABLE)
    _forget_connections()
    # A process's first publish imports kombu's Redis transport and the result backend (about
    # 2 s here), whatever the broker's state: pay it before timing pages.
    with contextlib.suppress(Exception):
        send_pending_emails.delay()
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_connections()


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_password_reset_answers_fast_and_alike_then_the_email_leaves_with_the_broker(
    client, unreachable_broker
):
    UserFactory(email="cdp@pma.test")
    assert client.get(RESET_URL).status_code == 200  # the form, as a person opens it first
    answers = {}
    for email in ("cdp@pma.test", "inconnu@pma.test"):
        start = time.perf_counter()
        response = client.post(RESET_URL, {"email": email})
        elapsed = time.perf_counter() - start
        assert elapsed < 2, f"{email}: {elapsed:.1f} s"
        answers[email] = (response.status_code, response["Location"], response.content)
    assert answers["cdp@pma.test"] == answers["inconnu@pma.test"]
    assert answers["cdp@pma.test"][:2] == (302, "/comptes/mot-de-passe/oubli/envoye/")
    assert mail.outbox == []
    courriel = Courriel.objects.get()
    assert courriel.to == ["cdp@pma.test"] and courriel.sent_at is None

    # The broker is back: beat runs the drain.
    app.conf.update(task_always_eager=True)
    Courriel.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    assert send_pending_emails.delay().get() == 1
    assert [m.to for m in mail.outbox] == [["cdp@pma.test"]]
    assert "choisir un nouveau mot de passe" in mail.outbox[0].body
    courriel.refresh_from_db()
    assert courriel.sent_at is not None


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_pages_answer_fast_with_the_broker_down(client, unreachable_broker):
    client.force_login(UserFactory(email="cdp@pma.test"))
    client.get("/comptes/connexion/")  # a process's first request loads every URL module
    for url in ("/", "/comptes/preferences/", "/comptes/connexion/"):
        start = time.perf_counter()
        response = client.get(url)
        assert time.perf_counter() - start < 2
        assert response.status_code in (200, 302)
