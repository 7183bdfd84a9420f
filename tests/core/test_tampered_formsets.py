"""Every formset of the app, its management form tampered with, answers without a 500.

The pages come from the route list of the browser tests (tests/e2e/routes.py) with their data
(the `world` fixture): each page is fetched as its role, every form holding a formset is posted
back as rendered but with one management count changed. Counts the page did not offer answer
400 with a French message; a line added where the page offers "add a line" is an empty line.
"""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from tests.e2e import conftest as e2e
from tests.e2e.routes import PAGES

world = e2e.world  # the fixture: one of each object a page needs

pytestmark = pytest.mark.django_db


class _Forms(HTMLParser):
    """The POST forms of a page, with the values a browser would send."""

    def __init__(self):
        super().__init__()
        self.forms = []  # [(action, {name: [values]})]
        self._form = None
        self._select = None
        self._textarea = None
        self._template = 0  # the empty line of "add a line" sits in a <template>: never sent

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self._template += 1
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = (a.get("action") or "", {})
            self.forms.append(self._form)
        if self._form is None or self._template or "disabled" in a:
            return
        fields = self._form[1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" not in a:
                    return
                fields.setdefault(name, []).append(a.get("value") or "on")
            else:
                fields.setdefault(name, []).append(a.get("value") or "")
        elif tag == "select" and name:
            self._select = [name, None, "multiple" in a, False]
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select[1] is None:
                self._select[1] = value
            if "selected" in a:
                self._select[3] = True
                fields.setdefault(self._select[0], []).append(value)
        elif tag == "textarea" and name:
            self._textarea = name
            fields.setdefault(name, []).append("")

    def handle_data(self, data):
        if self._textarea and self._form:
            values = self._form[1][self._textarea]
            values[-1] += data.removeprefix("\n") if not values[-1] else data

    def handle_endtag(self, tag):
        if tag == "template":
            self._template -= 1
        elif tag == "form":
            self._form = None
        elif tag == "select" and self._select and self._form:
            name, first, multiple, chosen = self._select
            if not chosen and not multiple and first is not None:
                self._form[1].setdefault(name, []).append(first)
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _formset_forms(html: str):
    parser = _Forms()
    parser.feed(html)
    return [
        (action, fields)
        for action, fields in parser.forms
        if any(name.endswith("-TOTAL_FORMS") for name in fields)
    ]


def _variants(fields, strict_prefixes=()):
    """(prefix, label, data) for each way of tampering with each management form."""
    for name in [n for n in fields if n.endswith("-TOTAL_FORMS")]:
        prefix = name.removesuffix("-TOTAL_FORMS")
        # Beyond its 2,000-form cap, Django still builds 2,000 forms: only where it is refused.
        strict = prefix in strict_prefixes
        total = int(fields[name][0])
        initial = int(fields[f"{prefix}-INITIAL_FORMS"][0])
        # One more line, filled like the first one but without its id: a line the page did not
        # offer, as an attacker would post it.
        first = f"{prefix}-0-"
        copy = {
            key.replace(first, f"{prefix}-{total}-"): value
            for key, value in fields.items()
            if key.startswith(first) and not key.endswith(("-id", "-DELETE"))
        }
        changes = {
            "total+1": {name: [str(total + 1)]},
            "total+1 rempli": {name: [str(total + 1)], **copy} if copy else None,
            "total+100000": {name: ["100000"]} if strict else None,
            "total-1": {name: [str(total - 1)]} if total else None,
            "total=abc": {name: ["abc"]},
            "initial+1": {f"{prefix}-INITIAL_FORMS": [str(initial + 1)]},
            "initial=0": {f"{prefix}-INITIAL_FORMS": ["0"]} if initial else None,
            "sans": {name: None, f"{prefix}-INITIAL_FORMS": None},
        }
        for label, change in changes.items():
            if change is None:
                continue
            data = dict(fields)
            for key, value in change.items():
                if value is None:
                    data.pop(key, None)
                else:
                    data[key] = value
            yield prefix, label, data


FORMSET_PAGES = [
    name
    for name in PAGES
    if name
    in {
        "cvu:action_create",
        "cvu:action_update",
        "cvu:organisation_create",
        "cvu:organisation_update",
        "cvu:aap_create",
        "cvu:aap_update",
        "cvu:dossier_instruction",
        "cvu:dossier_bilan",
        "cvu:dispositif_create",
        "cvu:dispositif_update",
        "cvu:reunion_update",
        "cvu:reunion_presences",
        "cvu:reunion_cloture",
        "cvu:reunion_create",
        "participation:session_detail",
        "participation:steering_attendance",
        "cvu:objectif_indicateurs",
        "cvu:indicateur_valeurs",
        "cvu:proposition_decider",
        "cvu:engagement_revue",
        "cvu:projet_quartier_update",
        "cvu:dispositif_tfpb",
        "cvu:dispositif_postes",
    }
]


def _pages_with_formsets(world):
    for name, (role, kwargs) in PAGES.items():
        if role == "anonymous":
            continue
        yield name, world[role], reverse(name, kwargs={k: world[v] for k, v in kwargs.items()})


def test_every_formset_page_is_covered(world):
    """The list above is every page that renders a formset: a new one must be added."""
    found = []
    for name, user, url in _pages_with_formsets(world):
        client = Client()
        client.force_login(user)
        response = client.get(url)
        if response.status_code == 200 and _formset_forms(response.content.decode()):
            found.append(name)
    assert sorted(found) == sorted(FORMSET_PAGES)


# Lines that cannot be added (one per funder, one per indicator): any change of count is a 400.
STRICT = {"cvu:dossier_instruction": {"prop"}, "cvu:dossier_bilan": {"ind"}}
# Values that make the page's own form valid, so that the formsets are checked to the end.
FILL = {
    "cvu:dossier_instruction": {
        **{f"{key}_note": ["3"] for key in ("objectifs", "qpv", "public", "capacite")},
        "faisabilite_note": ["3"],
        "budget_note": ["3"],
        "avis": ["favorable"],
    },
    "cvu:dossier_bilan": {"rapport": ["Bilan de l'action"]},
}


@pytest.mark.parametrize("name", FORMSET_PAGES)
def test_a_tampered_management_form_never_gives_a_500(world, name):
    role, kwargs = PAGES[name]
    url = reverse(name, kwargs={k: world[v] for k, v in kwargs.items()})
    client = Client(raise_request_exception=False)
    client.force_login(world[role])
    page = client.get(url)
    assert page.status_code == 200
    strict = STRICT.get(name, set())
    failures = []
    for action, fields in _formset_forms(page.content.decode()):
        fields.update(FILL.get(name, {}))
        if strict:
            baseline = client.post(action or url, fields)
            assert baseline.status_code == 302, "the page as rendered must save"
        for prefix, label, data in _variants(fields, strict):
            response = client.post(action or url, data)
            refused = response.status_code == 400 and "Demande refusée" in response.content.decode()
            if response.status_code >= 500 or (prefix in strict and not refused):
                failures.append(f"{prefix}:{label} → {response.status_code}")
    assert not failures, failures


def test_a_document_whose_file_is_lost_answers_404(world, client):
    from cvu.models import Document

    document = Document.objects.get(pk=world["document"])
    document.fichier.storage.delete(document.fichier.name)
    client.force_login(world["cdp"])
    response = client.get(reverse("cvu:document_download", args=[document.pk]))
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
