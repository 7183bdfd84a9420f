"""Issue #19, outages: when PostgreSQL drops the application's connection (a restart, a
failover, pg_terminate_backend), the next request reconnects instead of failing
(CONN_HEALTH_CHECKS with persistent connections, config/settings.py).

The requests go through Django's WSGI handler in this thread, as in a gunicorn worker: the
persistent connection is reused from one request to the next (the test client would mute the
signals that manage it, and the live server opens one connection per request thread)."""

import io

import psycopg2
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from tests.conftest import require_live

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _get(path: str) -> int:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
    }
    statuses = []
    response = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
    response.close()  # request_finished: what a WSGI server does after each response
    return int(statuses[0].split()[0])


def _terminate(pid: int) -> None:
    """Ends one backend from another session, as a server restart or a failover would."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    killer = psycopg2.connect(**params)
    killer.autocommit = True
    with killer.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)
    killer.close()


def test_the_request_after_the_server_dropped_the_connection_succeeds(settings):
    require_live(None if connection.vendor == "postgresql" else "PostgreSQL requis (DATABASE_URL)")
    assert connection.settings_dict["CONN_MAX_AGE"] > 0  # persistent, as in production
    settings.ALLOWED_HOSTS = ["localhost"]
    assert _get("/healthz") == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    _terminate(pid)

    assert [_get("/healthz") for _ in range(3)] == [200, 200, 200]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid  # a new connection replaced the dropped one
