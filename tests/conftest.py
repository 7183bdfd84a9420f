import os
import shutil

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop.

import pytest  # noqa: E402

from tests.comptes.factories import UserFactory  # noqa: E402
from tests.quartiers.factories import CommuneFactory, QpvFactory, SecteurFactory  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def require_live(reason_missing: str | None) -> None:
    """Skips a live test when its service is absent; in CI (CI=true) a missing service fails."""
    if reason_missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI sans service requis : {reason_missing}")
    pytest.skip(reason_missing)


def chromium_path() -> str | None:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    return path if shutil.which(path) else None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path() or "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "fr-FR", "viewport": {"width": 1200, "height": 800}}


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: figures cached by an earlier test (core.versions)
    must not meet a version number that the test database's flush started again. The watched
    tables are read again too (a migration test may have removed and restored the triggers)."""
    from django.core.cache import cache

    from core import versions

    cache.clear()
    versions._watched = None


@pytest.fixture
def editor(db):
    """The chef de projet of the sector that holds `commune`."""
    return UserFactory(email="editeur@pma.test", first_name="Élise", last_name="Éditrice")


@pytest.fixture
def outsider(db):
    """A chef de projet of another sector."""
    user = UserFactory(email="autre@pma.test", first_name="Omar", last_name="Autre")
    SecteurFactory(nom="Autre secteur", chef_projet=user)
    return user


@pytest.fixture
def reader(db):
    """The direction de projet: reads everything, edits nothing."""
    return UserFactory(email="direction@pma.test", direction=True)


@pytest.fixture
def manager(db):
    return UserFactory(email="service@pma.test", chef_service=True)


@pytest.fixture
def secteur(editor):
    return SecteurFactory(nom="Secteur Montbéliard", chef_projet=editor)


@pytest.fixture
def commune(secteur):
    return CommuneFactory(code_insee="25388", nom="Montbéliard", secteur=secteur)


@pytest.fixture
def qpv(commune):
    return QpvFactory(nom="Chiffogne", communes=[commune])


def close_response(response) -> None:
    """Closes a streamed response (its file) without ending the test's database transaction:
    response.close() fires request_finished, which would close the connection, so the signal
    is muted as Django's test client does during a request."""
    from django.core.signals import request_finished
    from django.db import close_old_connections

    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


@pytest.fixture
def live_worker():
    """A real Celery worker over the configured broker (Redis in CI), in this process."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

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
