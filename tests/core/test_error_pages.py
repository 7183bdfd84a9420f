"""One French refusal page (403) and one French 'not found' page (404), whatever the view."""

import pytest

from tests.core.test_access import ROUTES

pytestmark = pytest.mark.django_db


def test_debug_is_off_so_the_error_templates_are_used(settings):
    assert settings.DEBUG is False


def test_refusal_page_is_french_and_gives_the_reason(client, reader, qpv):
    from tests.cvu.factories import ActionFactory

    action = ActionFactory(qpvs=[qpv])
    client.force_login(reader)
    response = client.post(f"/actions/{action.pk}/modifier/", {})
    assert response.status_code == 403
    assert [t.name for t in response.templates][0] == "403.html"
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "<title>Accès refusé — Pilotage CVU</title>" in html
    assert "Vous pouvez consulter cette fiche, pas la modifier." in html
    assert "Rien n'a été enregistré." in html
    assert "Forbidden" not in html


def test_not_found_page_is_french_for_a_record_and_for_an_address(client, reader):
    client.force_login(reader)
    for url in ("/actions/987654/", "/cette-page-n-existe-pas/"):
        response = client.get(url)
        assert response.status_code == 404
        html = response.content.decode()
        assert "<title>Page introuvable — Pilotage CVU</title>" in html
        assert "Not Found" not in html
        assert "No Action matches" not in html  # Django's English reason is not shown


def test_not_found_page_renders_for_anonymous_visitors(client):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


@pytest.mark.parametrize(("name", "url"), ROUTES)
def test_every_refusal_uses_the_french_page(client, reader, name, url):
    """Walks every route as the direction (reads everything, changes nothing) with a POST:
    whatever refuses, it refuses with the one French page."""
    client.force_login(reader)
    response = client.post(url, {})
    if response.status_code == 403:
        assert "Accès refusé" in response.content.decode(), name
    elif response.status_code == 404:
        assert "Page introuvable" in response.content.decode(), name


def test_the_accessibility_statement_gives_the_configured_contact(client, settings):
    page = client.get("/accessibilite/").content.decode()
    assert "Défenseur des droits" in page
    assert "administrateur de l'application" in page  # no contact configured: none invented
    settings.ACCESSIBILITE_CONTACT_EMAIL = "accessibilite@example.org"
    assert "mailto:accessibilite@example.org" in client.get("/accessibilite/").content.decode()


def test_only_the_rights_module_words_a_refusal():
    """Views and services ask `cvu.rights` (require, require_change, require_create,
    require_manager, get_visible); none raises PermissionDenied with its own wording."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for app in ("comptes", "core", "cvu", "participation", "quartiers", "reporting")
        for path in (root / app).rglob("*.py")
        if "raise PermissionDenied" in path.read_text() and path.name != "rights.py"
    ]
    assert offenders == []
