"""Every page needs login, except the few public ones."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {
    "healthz",
    "favicon",
    "comptes:login",
    "comptes:password_reset",
    "comptes:password_reset_done",
    "comptes:password_reset_confirm",
    "comptes:password_reset_complete",
    "cvu:calendrier_ics",  # the secret token in the URL stands for the login
    "accessibilite",  # the accessibility statement is public (RGAA)
}
SAMPLE_ARGS = {
    "pk": "1",
    "contrat_pk": "1",
    "qpv_pk": "1",
    "code_insee": "25388",
    "uidb64": "MQ",
    "token": "x-y",
}


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or ""
            if ns == "admin":
                continue  # The admin has its own login, checked below.
            yield from _walk(
                pattern.url_patterns,
                prefix + str(pattern.pattern),
                f"{namespace}{ns}:" if ns else namespace,
            )
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            for name, value in SAMPLE_ARGS.items():
                route = route.replace(f"<int:{name}>", value).replace(f"<str:{name}>", value)
                route = route.replace(f"<{name}>", value)
            yield f"{namespace}{pattern.name}", "/" + route


ROUTES = sorted(set(_walk(get_resolver().url_patterns)))


def test_the_walk_finds_the_application_pages():
    names = {name for name, _ in ROUTES}
    assert {"reporting:home", "quartiers:qpv_detail", "quartiers:valeur_delete"} <= names
    unfilled = [url for _, url in ROUTES if "<" in url]
    assert not unfilled, f"add a sample value to SAMPLE_ARGS for {unfilled}"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), [r for r in ROUTES if r[0] not in PUBLIC])
def test_anonymous_is_sent_to_login(client, name, url):
    response = client.get(url)
    assert response.status_code == 302, name
    assert response["Location"].startswith("/comptes/connexion/?next="), name


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), [r for r in ROUTES if r[0] in PUBLIC])
def test_public_pages_answer_without_login(client, name, url):
    response = client.get(url)
    assert response.status_code in (200, 301, 302, 404), name
    assert "/comptes/connexion/?next=" not in response.get("Location", ""), name


@pytest.mark.django_db
def test_admin_needs_an_administrator(client, editor):
    assert client.get("/admin/").status_code == 302
    client.force_login(editor)
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_pages_forbid_inline_scripts(client, editor, qpv):
    import re

    client.force_login(editor)
    for url in ("/", qpv.get_absolute_url(), "/actions/nouvelle/"):
        response = client.get(url)
        assert "script-src 'self'" in response["Content-Security-Policy"]
        scripts = re.findall(
            rb"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", response.content
        )
        assert scripts == [], url
