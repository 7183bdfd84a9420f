"""E-mails are recorded, then sent by the worker or, when the broker was down, by the drain."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from core import outbox
from core.models import Courriel
from core.tasks import send_pending_emails, send_queued_email

pytestmark = pytest.mark.django_db


def _queue(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return outbox.courriel_queue(subject="Objet", body="Texte", to=["a@pma.test"], **kwargs)


def test_a_queued_email_is_sent_after_commit_and_its_body_dropped(
    django_capture_on_commit_callbacks,
):
    courriel = _queue(django_capture_on_commit_callbacks)
    assert [m.subject for m in mail.outbox] == ["Objet"]
    courriel.refresh_from_db()
    assert courriel.sent_at is not None
    assert courriel.body == ""
    assert courriel.attempts == 1


def test_with_the_broker_down_the_email_waits_for_the_drain(django_capture_on_commit_callbacks):
    with mock.patch.object(send_queued_email, "delay", side_effect=OSError("connexion refusée")):
        courriel = _queue(django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert send_pending_emails() == 0  # too fresh: its own task may still come
    Courriel.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    assert send_pending_emails() == 1
    assert [m.to for m in mail.outbox] == [["a@pma.test"]]
    courriel.refresh_from_db()
    assert courriel.sent_at is not None


def test_an_email_is_sent_once_even_if_its_task_and_the_drain_both_run(
    django_capture_on_commit_callbacks,
):
    courriel = _queue(django_capture_on_commit_callbacks)
    assert outbox.courriel_send(courriel.pk) is False
    Courriel.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    assert send_pending_emails() == 0
    assert len(mail.outbox) == 1


def test_a_failed_sending_is_kept_with_its_error_and_retried(django_capture_on_commit_callbacks):
    with mock.patch.object(send_queued_email, "delay"):
        courriel = _queue(django_capture_on_commit_callbacks)
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("SMTP")):
        with pytest.raises(OSError):
            outbox.courriel_send(courriel.pk)
    courriel.refresh_from_db()
    assert (courriel.sent_at, courriel.claimed_at, courriel.error) == (None, None, "SMTP")
    assert outbox.courriel_send(courriel.pk) is True
    assert len(mail.outbox) == 1


def test_an_email_that_never_left_loses_its_reset_link_once_the_link_has_expired(
    django_capture_on_commit_callbacks, settings
):
    with mock.patch.object(send_queued_email, "delay", side_effect=OSError("broker")):
        fresh = _queue(django_capture_on_commit_callbacks)
        stale = _queue(django_capture_on_commit_callbacks)
    Courriel.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    )
    from core.tasks import purge_emails

    assert purge_emails() == (1, 0)
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.body, stale.html_body, stale.sent_at) == ("", "", None)
    assert stale.error.startswith("Abandonné")
    assert fresh.body == "Texte"
    Courriel.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert send_pending_emails() == 1  # the fresh one only; the abandoned one is not retried
    assert len(mail.outbox) == 1
    assert purge_emails() == (0, 0)  # nothing left to abandon twice


def test_sent_emails_are_forgotten_after_ninety_days(django_capture_on_commit_callbacks):
    old = _queue(django_capture_on_commit_callbacks)
    recent = _queue(django_capture_on_commit_callbacks)
    Courriel.objects.filter(pk=old.pk).update(sent_at=timezone.now() - outbox.SENT_KEPT)
    assert outbox.courriel_purge() == (0, 1)
    assert list(Courriel.objects.values_list("pk", flat=True)) == [recent.pk]
