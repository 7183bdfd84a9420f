"""A request's statements stop before gunicorn kills it; the worker recycles its children."""

import pytest
from django.db import connection

from config.celery import app
from config.settings import database_from_url


def test_web_statements_time_out_before_gunicorn(monkeypatch):
    database = database_from_url("postgres://u:p@db:5432/cvu")
    # gunicorn: 30 s. No JIT compilation: it cost web queries more than it saved (settings).
    assert database["OPTIONS"]["options"] == "-c statement_timeout=20000 -c jit=off"
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT", "5000")
    options = database_from_url("postgres://u@db/cvu")["OPTIONS"]["options"]
    assert options == "-c statement_timeout=5000 -c jit=off"


def test_worker_children_are_recycled():
    assert app.conf.worker_max_tasks_per_child == 100
    assert app.conf.worker_max_memory_per_child == 500_000  # KiB


@pytest.mark.django_db
def test_connections_run_without_jit():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
