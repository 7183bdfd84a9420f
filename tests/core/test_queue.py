"""With the broker down, queuing after commit never fails the request: the record says so and
can be retried, or the work runs in the request when it must not be lost."""

import pytest
from kombu.exceptions import OperationalError

from core.queue import BROKER_DOWN, queue_on_commit


class _Task:
    name = "essai"

    def __init__(self):
        self.ran = []

    def apply_async(self, args, **options):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    def __call__(self, *args):
        self.ran.append(args)


@pytest.mark.django_db
def test_a_refused_task_calls_on_failure(django_capture_on_commit_callbacks):
    failures = []
    with django_capture_on_commit_callbacks(execute=True):
        queue_on_commit(_Task(), 1, on_failure=lambda: failures.append(True))
    assert failures == [True]


@pytest.mark.django_db
def test_a_task_that_must_happen_runs_here(django_capture_on_commit_callbacks):
    task = _Task()
    with django_capture_on_commit_callbacks(execute=True):
        queue_on_commit(task, 1, 2, run_here=True)
    assert task.ran == [(1, 2)]


@pytest.mark.django_db
def test_a_report_requested_while_the_broker_is_down_fails_with_a_french_message(
    monkeypatch, django_capture_on_commit_callbacks, manager
):
    from reporting import rapports, tasks
    from reporting.models import Rapport

    monkeypatch.setattr(tasks.build_report, "apply_async", _Task().apply_async)
    with django_capture_on_commit_callbacks(execute=True):
        rapport = rapports.rapport_request(
            user=manager, type="participation", titre="Essai", parametres={}
        )
    rapport.refresh_from_db()
    assert rapport.statut == Rapport.Statut.ECHEC
    assert rapport.erreur == BROKER_DOWN
    assert rapport.retryable
