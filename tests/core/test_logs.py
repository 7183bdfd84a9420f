"""Issue #19, logs: one line per request and per task with the request id, the task id and the
user id, as text or JSON, and never a query string (a search may hold an inhabitant's name)."""

import json
import logging

import pytest
from celery import shared_task

from core import logs


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.addFilter(logs.ContextFilter())
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def collected():
    handler = Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield handler.records
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_request_logs_one_line_with_its_id_and_the_user_id(client, editor, collected):
    client.force_login(editor)
    response = client.get("/actions/?q=Dupont", HTTP_X_REQUEST_ID="abc-123 ;rm")
    assert response["X-Request-ID"] == "abc-123rm"  # the proxy's id, cleaned
    [line] = [r for r in collected if r.name == "pilotage.requetes"]
    assert line.request_id == "abc-123rm"
    assert line.user_id == str(editor.pk)
    assert (line.method, line.path, line.status) == ("GET", "/actions/", 200)
    assert "Dupont" not in line.getMessage()


def test_a_request_without_id_gets_one(client, db, collected):
    response = client.get("/healthz")
    [line] = [r for r in collected if r.name == "pilotage.requetes"]
    assert line.request_id == response["X-Request-ID"] and len(line.request_id) == 16
    assert line.user_id == "-"


@shared_task
def _noisy():
    logging.getLogger("pilotage.essai").info("pendant la tâche")


def test_a_task_run_in_a_request_logs_with_the_request_id_and_gives_it_back(collected):
    token = logs.current_request.set("req-1")
    try:
        _noisy.apply()  # eager, as in development and in these tests
        during = [r for r in collected if r.name == "pilotage.essai"]
        assert [r.request_id for r in during] == ["req-1"]
        assert during[0].task_id not in ("-", "")
        task_lines = [r.getMessage() for r in collected if r.name == "pilotage.taches"]
        assert task_lines[0].startswith("début ") and task_lines[1].startswith("fin ")
        assert logs.current_request.get() == "req-1"  # the request's context is intact
        assert logs.current_task.get() == "-"
    finally:
        logs.current_request.reset(token)


def test_a_published_task_carries_the_request_id_in_its_headers():
    token = logs.current_request.set("req-2")
    try:
        headers = {}
        logs._carry_request_id(headers=headers)
    finally:
        logs.current_request.reset(token)
    assert headers == {"request_id": "req-2"}


def test_json_lines_hold_the_ids_and_the_request_facts():
    record = logging.LogRecord("pilotage.requetes", logging.INFO, "", 0, "GET /x 200", (), None)
    record.method, record.path, record.status, record.duration_ms = "GET", "/x", 200, 12
    logs.ContextFilter().filter(record)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "GET /x 200"
    assert line["status"] == 200 and line["path"] == "/x"
    assert {"request_id", "task_id", "user_id", "time", "level"} <= set(line)
