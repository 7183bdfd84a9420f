"""A real Celery worker over Redis runs the project's tasks (CI sets CELERY_BROKER_URL)."""

import pytest
from celery.result import EagerResult
from django.core import mail

from comptes.tasks import send_email


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_worker_round_trip_over_redis(live_worker):
    result = send_email.delay("Essai", "Corps du message", ["cdp@pma.test"])
    assert not isinstance(result, EagerResult)  # it went through Redis to the worker
    assert result.get(timeout=60) == 1
    assert result.successful()
    assert [m.subject for m in mail.outbox] == ["Essai"]
