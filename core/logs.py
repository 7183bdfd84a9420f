"""Logs an operator can follow: one line per request and per task, each carrying its request id,
its task id and the user's id, as text or as JSON (LOG_FORMAT=json).

A request takes the id the reverse proxy sent (X-Request-ID) or a new one, and answers with it.
A task queued during the request carries that id in its message headers, so that a report can be
followed from the click to the file: `grep <request id>` finds the request line, the task's start
and end lines and what the task logged in between.

No personal data of inhabitants: the request line has the path without its query string (a
search may hold a name) and the user's numeric id, never an e-mail or a name.
"""

import json
import logging
import time
import uuid
from contextvars import ContextVar

from celery import signals

current_request: ContextVar[str] = ContextVar("current_request", default="-")
current_task: ContextVar[str] = ContextVar("current_task", default="-")
current_user: ContextVar[str] = ContextVar("current_user", default="-")

requests_logger = logging.getLogger("pilotage.requetes")
tasks_logger = logging.getLogger("pilotage.taches")
HEADER = "request_id"


class ContextFilter(logging.Filter):
    """Adds request_id, task_id and user_id to every record (handlers' filter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request.get()
        record.task_id = current_task.get()
        record.user_id = current_user.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Home-made on purpose: ten lines over the standard library
    instead of a dependency for what json.dumps already does."""

    EXTRA = ("method", "path", "status", "duration_ms", "task", "state")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "task_id": getattr(record, "task_id", "-"),
            "user_id": getattr(record, "user_id", "-"),
        }
        line.update({key: getattr(record, key) for key in self.EXTRA if hasattr(record, key)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


def _clean(value: str) -> str:
    """An id from a header: printable, short, no spaces (it goes into log lines)."""
    kept = "".join(ch for ch in value if ch.isalnum() or ch in "-_.")[:64]
    return kept or _new_id()


class RequestLogMiddleware:
    """Gives the request its id, and logs one line when the response leaves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = _clean(request.headers.get("X-Request-ID", "")) or _new_id()
        tokens = [current_request.set(rid), current_user.set("-")]
        started = time.monotonic()
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                current_user.set(str(user.pk))
            response["X-Request-ID"] = rid
            elapsed = round((time.monotonic() - started) * 1000)
            requests_logger.info(
                "%s %s %s %d ms",
                request.method,
                request.path,
                response.status_code,
                elapsed,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": elapsed,
                },
            )
            return response
        finally:
            current_request.reset(tokens[0])
            current_user.reset(tokens[1])


# ---------------------------------------------------------------- Celery

# Per running task: when it started and the context to give back when it ends (an eager task,
# run inside a request, must leave the request's ids as they were).
_running: dict[str, tuple[float, list]] = {}


@signals.before_task_publish.connect
def _carry_request_id(headers=None, **kwargs):
    if headers is not None and current_request.get() != "-":
        headers.setdefault(HEADER, current_request.get())


@signals.task_prerun.connect
def _task_started(task_id=None, task=None, **kwargs):
    name = getattr(task, "name", "?")
    carried = getattr(task.request, HEADER, None) if task is not None else None
    tokens = [current_task.set(task_id or "-")]
    if carried:
        tokens.append(current_request.set(_clean(str(carried))))
    _running[task_id] = (time.monotonic(), tokens)
    tasks_logger.info("début %s", name, extra={"task": name})


@signals.task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **kwargs):
    started, tokens = _running.pop(task_id, (None, []))
    elapsed = round((time.monotonic() - started) * 1000) if started is not None else 0
    name = getattr(task, "name", "?")
    tasks_logger.info(
        "fin %s %s %d ms",
        name,
        state,
        elapsed,
        extra={"task": name, "state": state, "duration_ms": elapsed},
    )
    for token in reversed(tokens):
        token.var.reset(token)
