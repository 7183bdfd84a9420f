"""Per-account login throttling: a password spray over many addresses locks the account for
the cool-off only, the owner is told, the administrator can unlock; the per-address limit stays."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.utils import timezone

from tests.comptes.factories import UserFactory

LOGIN = "/comptes/connexion/"
PASSWORD = "motdepasse-solide-42"


@pytest.fixture
def agent(db):
    return UserFactory(email="cdp@pma.test", first_name="Camille")


def _login(client, password, address, email="cdp@pma.test"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def _spray(client, tries_per_address=4, addresses=6):
    for n in range(addresses):
        for _ in range(tries_per_address):
            _login(client, "mauvais", f"10.0.0.{n + 1}")


def test_a_spray_over_six_addresses_locks_the_account_everywhere(client, agent):
    _spray(client)  # 24 failures, never 5 from one address
    response = _login(client, PASSWORD, "192.168.1.20")  # the owner, from their own desk
    assert response.status_code == 429
    assert "Connexion temporairement bloquée" in response.content.decode()


def test_the_per_address_limit_still_locks_one_address_only(client, agent, settings):
    for _ in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        _login(client, "mauvais", "10.0.0.1")
    assert _login(client, PASSWORD, "10.0.0.1").status_code == 429
    assert _login(client, PASSWORD, "192.168.1.20").status_code == 302


def test_fewer_failures_than_the_account_limit_lock_nothing(client, agent, settings):
    _spray(client, tries_per_address=3, addresses=6)  # 18 < 20
    assert _login(client, PASSWORD, "192.168.1.20").status_code == 302


def test_the_owner_is_told_once_by_email(client, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _spray(client)
        _login(client, "mauvais", "10.0.0.9")  # refused during the lock: no second e-mail
    assert [m.to for m in mail.outbox] == [["cdp@pma.test"]]
    assert "bloqué pendant 15 minutes" in mail.outbox[0].body
    assert "Bonjour Camille" in mail.outbox[0].body


def test_an_unknown_address_is_throttled_without_email(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _spray(client)
    assert mail.outbox == []


def test_the_lock_ends_with_the_cool_off_and_failures_during_it_do_not_extend_it(client, agent):
    _spray(client)
    _login(client, "mauvais", "10.0.0.7")  # during the lock
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _login(client, PASSWORD, "192.168.1.20").status_code == 302


def test_the_administrator_unlocks_the_account_from_the_admin(client, agent, db):
    admin = UserFactory(email="admin@pma.test", administrateur=True)
    _spray(client)
    client.force_login(admin)
    response = client.post(
        "/admin/comptes/user/",
        {"action": "unlock_login", "_selected_action": [agent.pk]},
        follow=True,
    )
    assert "Connexion débloquée pour 1 compte(s)." in response.content.decode()
    client.logout()
    assert _login(client, PASSWORD, "192.168.1.20").status_code == 302


def test_the_owner_gets_back_in_at_once_by_choosing_a_new_password(client, agent):
    """An attacker who keeps failing can delay a colleague, never keep them out: the reset
    link, sent to the owner's mailbox only, lifts the lock."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    _spray(client)
    assert _login(client, PASSWORD, "192.168.1.20").status_code == 429
    uid = urlsafe_base64_encode(force_bytes(agent.pk))
    token = default_token_generator.make_token(agent)
    page = client.get(f"/comptes/mot-de-passe/reinitialiser/{uid}/{token}/", follow=True)
    new = "un-tout-nouveau-mot-de-passe-91"
    response = client.post(page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert _login(client, new, "192.168.1.20").status_code == 302
