"""Browser journeys in Debian's Chromium: static files, forms and the chart really work."""

import pytest

from tests.conftest import chromium_path, require_live
from tests.quartiers.factories import IndicateurFactory, ValeurIndicateurFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


def _log_in(page, live_server, email):
    page.goto(f"{live_server.url}/")
    assert "/comptes/connexion/" in page.url
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill("motdepasse-solide-42")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")


def test_chef_de_projet_logs_in_opens_a_qpv_and_sees_its_chart(page, live_server, editor, qpv):
    indicateur = IndicateurFactory(libelle="Taux de pauvreté", unite="%")
    for year, value in [(2019, 41), (2020, 42), (2021, 40)]:
        ValeurIndicateurFactory(qpv=qpv, indicateur=indicateur, annee=year, valeur=value)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, live_server, editor.email)
    page.get_by_role("link", name="Chiffogne").first.click()
    page.wait_for_url(f"{live_server.url}{qpv.get_absolute_url()}")
    canvas = page.locator("canvas#graphique-indicateurs")
    canvas.wait_for(state="visible")
    page.wait_for_function("document.querySelector('canvas').dataset.chartReady === 'true'")
    assert page.evaluate("Chart.getChart('graphique-indicateurs').data.datasets[0].data") == [
        41,
        42,
        40,
    ]
    assert canvas.bounding_box()["height"] > 100
    assert errors == []


def test_chef_de_projet_adds_an_observation_in_the_browser(page, live_server, editor, qpv):
    _log_in(page, live_server, editor.email)
    page.goto(f"{live_server.url}{qpv.get_absolute_url()}")
    page.get_by_text("Ajouter une observation").click()
    page.get_by_label("Titre").fill("Réunion publique")
    page.get_by_label("Observation").fill("Forte affluence des habitants.")
    page.get_by_role("button", name="Enregistrer l'observation").click()
    page.get_by_text("Observation enregistrée.").wait_for()
    assert page.get_by_role("heading", name="Réunion publique").is_visible()


def test_wrong_password_shows_a_french_message(page, live_server, editor):
    page.goto(f"{live_server.url}/comptes/connexion/")
    page.get_by_label("Adresse e-mail").fill(editor.email)
    page.get_by_label("Mot de passe").fill("faux")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_text("Adresse e-mail ou mot de passe incorrect").wait_for()
