import re

import pytest
from django.core import mail
from django.urls import reverse

from comptes.models import User
from tests.comptes.factories import UserFactory

LOGIN = "/comptes/connexion/"
PASSWORD = "motdepasse-solide-42"


@pytest.fixture
def agent(db):
    return UserFactory(email="cdp@pma.test")


def _login(client, email, password):
    return client.post(LOGIN, {"username": email, "password": password})


def test_login_with_email_opens_the_home_page(client, agent):
    response = _login(client, "CDP@pma.test", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:home")
    assert client.get("/").status_code == 200


def test_wrong_password_gives_a_french_message(client, agent):
    response = _login(client, "cdp@pma.test", "mauvais")
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_account_even_with_the_right_password(client, agent, settings):
    for _ in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        _login(client, "cdp@pma.test", "mauvais")
    response = _login(client, "cdp@pma.test", PASSWORD)
    assert response.status_code == 429
    assert "Connexion temporairement bloquée" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_success_before_the_limit_resets_the_failures(client, agent, settings):
    for _ in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1):
        _login(client, "cdp@pma.test", "mauvais")
    assert _login(client, "cdp@pma.test", PASSWORD).status_code == 302
    client.post("/comptes/deconnexion/")
    _login(client, "cdp@pma.test", "mauvais")
    assert _login(client, "cdp@pma.test", PASSWORD).status_code == 302


def test_inactive_account_cannot_log_in(client, agent):
    agent.is_active = False
    agent.save()
    response = _login(client, "cdp@pma.test", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(client, agent):
    client.force_login(agent)
    assert client.get("/comptes/deconnexion/").status_code == 405
    response = client.post("/comptes/deconnexion/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_mail_is_sent_after_commit(
    client, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/comptes/mot-de-passe/oubli/", {"email": "cdp@pma.test"})
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "choisir un nouveau mot de passe" in body
    link = re.search(r"https?://[^/]+(/comptes/mot-de-passe/reinitialiser/\S+)", body).group(1)
    form_url = client.get(link)["Location"]
    response = client.post(
        form_url, {"new_password1": "Un-nouveau-mot-2026", "new_password2": "Un-nouveau-mot-2026"}
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password("Un-nouveau-mot-2026")


def test_password_reset_reveals_nothing_for_an_unknown_address(client, db):
    response = client.post("/comptes/mot-de-passe/oubli/", {"email": "inconnu@pma.test"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_short_password_is_refused_in_french(client, agent):
    client.force_login(agent)
    response = client.post(
        "/comptes/mot-de-passe/",
        {"old_password": PASSWORD, "new_password1": "court", "new_password2": "court"},
    )
    assert response.status_code == 200
    assert "Ce mot de passe est trop court" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "staff"),
    [
        (User.Role.ADMINISTRATEUR, True),
        (User.Role.CHEF_SERVICE, False),
        (User.Role.CHEF_PROJET, False),
        (User.Role.DIRECTION, False),
    ],
)
def test_only_administrators_reach_the_admin(client, db, role, staff):
    user = UserFactory(role=role)
    assert user.is_staff is staff
    client.force_login(user)
    assert client.get("/admin/").status_code == (200 if staff else 302)


def test_administrator_creates_an_account_in_the_admin(client, db):
    client.force_login(UserFactory(administrateur=True))
    response = client.post(
        "/admin/comptes/user/add/",
        {
            "email": "Nouvelle@PMA.test",
            "first_name": "Nina",
            "last_name": "Nouvelle",
            "role": User.Role.DIRECTION,
            "usable_password": "true",
            "password1": "Un-mot-de-passe-2026",
            "password2": "Un-mot-de-passe-2026",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(email="nouvelle@pma.test")
    assert created.role == User.Role.DIRECTION
    assert created.is_staff is False


def test_create_superuser_is_an_administrator(db):
    user = User.objects.create_superuser("Chef@PMA.test", "Un-mot-de-passe-2026")
    assert (user.email, user.role, user.is_staff) == ("chef@pma.test", "administrateur", True)
