"""A request's statements stop before gunicorn kills it; the worker recycles its children."""

from config.celery import app
from config.settings import database_from_url


def test_web_statements_time_out_before_gunicorn(monkeypatch):
    database = database_from_url("postgres://u:p@db:5432/cvu")
    assert database["OPTIONS"]["options"] == "-c statement_timeout=20000"  # gunicorn: 30 s
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT", "5000")
    assert database_from_url("postgres://u@db/cvu")["OPTIONS"]["options"].endswith("=5000")


def test_worker_children_are_recycled():
    assert app.conf.worker_max_tasks_per_child == 100
    assert app.conf.worker_max_memory_per_child == 500_000  # KiB
