"""The bilan form saves as rendered, with or without indicators."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from cvu.models import Action, Bilan
from tests.cvu.aap_factories import AppelFactory
from tests.cvu.factories import ActionFactory, FinancementFactory, IndicateurActionFactory

pytestmark = pytest.mark.django_db


class _FormFields(HTMLParser):
    """The values a browser would send for the page's POST form, as rendered."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self._in_post_form = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_post_form = attrs.get("method") == "post"
        elif self._in_post_form and tag == "input" and attrs.get("name"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            if attrs.get("type") not in ("file", "submit"):
                self.data[attrs["name"]] = attrs.get("value") or ""
        elif self._in_post_form and tag == "textarea":
            self._textarea = attrs["name"]
            self.data[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_post_form = False
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def _rendered_form(client, url) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(client.get(url).content.decode())
    return parser.data


@pytest.fixture
def dossier(contrat, editor, qpv, etat):
    appel = AppelFactory(contrat=contrat)
    action = ActionFactory(
        contrat=contrat, appel=appel, referent=editor, qpvs=[qpv], statut="bilan_attendu"
    )
    FinancementFactory(action=action, financeur=etat, montant_demande=8000, montant_vote=6000)
    return action


def _fill(data, line, **extra):
    data.update(
        {
            "recu_le": "2027-05-02",
            "rapport": "80 enfants accompagnés",
            "cout_realise": "9 000",
            f"realise_{line.pk}": "6 000",
            **extra,
        }
    )
    return data


def test_a_bilan_without_indicators_saves_as_rendered(client, editor, dossier):
    client.force_login(editor)
    url = reverse("cvu:dossier_bilan", args=[dossier.pk])
    data = _rendered_form(client, url)
    assert data["ind-TOTAL_FORMS"] == "0"  # the formset's management form is on the page
    line = dossier.financements.get()
    response = client.post(url, _fill(data, line))
    assert response.status_code == 302
    bilan = Bilan.objects.get(action=dossier)
    assert bilan.lignes.get().montant_realise == Decimal("6000.00")
    dossier.refresh_from_db()
    assert dossier.statut == Action.Statut.BILAN_RECU


def test_a_bilan_with_indicators_saves_their_results(client, editor, dossier):
    indicateur = IndicateurActionFactory(action=dossier, libelle="Enfants suivis", cible=100)
    client.force_login(editor)
    url = reverse("cvu:dossier_bilan", args=[dossier.pk])
    data = _rendered_form(client, url)
    response = client.post(url, _fill(data, dossier.financements.get(), **{"ind-0-realise": "92"}))
    assert response.status_code == 302
    indicateur.refresh_from_db()
    assert indicateur.realise == 92


def test_a_refused_bilan_says_why_with_a_400(client, editor, dossier):
    client.force_login(editor)
    url = reverse("cvu:dossier_bilan", args=[dossier.pk])
    data = _rendered_form(client, url)
    response = client.post(url, _fill(data, dossier.financements.get(), cout_realise="-5"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Le formulaire contient 1 erreur" in html
    assert 'href="#id_cout_realise"' in html
    assert not Bilan.objects.exists()
