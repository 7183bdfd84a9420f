"""Issue 13, in the browser: the chef de service imports the programming workbook as it is kept
(a title row, one row per action, one amount column per funder), tells the application what two
columns hold, creates two unknown porteurs from the preview, confirms, and finds the actions with
their amounts."""

import io
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from openpyxl import Workbook
from playwright.sync_api import expect

from tests.conftest import chromium_path, require_live
from tests.cvu.factories import ContratFactory, OrganisationFactory
from tests.e2e.conftest import log_in_as
from tests.e2e.test_form_pages import CHECK_CONTROLS

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


def _workbook(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Programmation politique de la ville 2026"])
    sheet.append([])
    sheet.append(["Action", "Structure", "QPV", "Part ville", "BOP 147 (État)"])
    sheet.append(["Atelier numérique", "Association Clic Clac", "Chiffogne", "2 000", "3 500,00 €"])
    sheet.append(["Café des parents", "Maison pour tous", "Chiffogne", None, "1 250"])
    sheet.append(["TOTAL", None, None, 2000, 4750])
    path = tmp_path / "programmation 2026.xlsx"
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def test_chef_de_service_imports_a_wide_workbook_and_creates_its_porteurs(
    page, live_server, manager, qpv, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    contrat = ContratFactory()
    ville = OrganisationFactory(nom="Ville de Montbéliard", type="commune")
    etat = OrganisationFactory(nom="Préfecture du Doubs", sigle="BOP 147", type="etat")
    log_in_as(page, live_server, manager)
    page.goto(f"{live_server.url}/actions/import/")
    page.get_by_label("Fichier Excel (.xlsx) ou CSV").set_input_files(_workbook(tmp_path))
    page.get_by_role("button", name="Déposer").click()

    expect(page.get_by_text("En-têtes lus ligne 3")).to_be_visible()
    expect(page.get_by_text("« Contrat », « Exercice »")).to_be_visible()
    # "Part ville" names no funder the application can be sure of: the person says which.
    ville_column = page.get_by_label("Contenu de la colonne « Part ville »")
    expect(ville_column).to_have_value("")
    ville_column.select_option(label=str(ville))
    page.get_by_label("Contenu de la colonne « BOP 147 (État) »").select_option(label=str(etat))
    page.get_by_label("Contrat de toutes les lignes").select_option(label=str(contrat))
    page.get_by_label("Exercice de toutes les lignes").fill("2026")
    for width in (1366, 375):
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate(CHECK_CONTROLS)["problems"] == [], width
    page.set_viewport_size({"width": 1366, "height": 800})
    page.get_by_role("button", name="Voir l'aperçu").click()

    preview = page.locator("#apercu-titre")
    expect(preview).to_be_visible()
    expect(page.get_by_text("Porteurs à créer (2)")).to_be_visible()
    expect(page.get_by_label(re.compile("Créer « Association Clic Clac »"))).to_be_checked()
    expect(page.get_by_label(re.compile("Créer « Maison pour tous »"))).to_be_checked()
    expect(page.get_by_text(re.compile(r"Actions : 2 à créer"))).to_be_visible()
    violations = [
        (v["id"], v["impact"])
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("critical", "serious")
    ]
    assert violations == []
    page.screenshot(path=str(tmp_path / "apercu.png"), full_page=True)

    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.get_by_text(re.compile("2 porteur\\(s\\) créé\\(s\\)"))).to_be_visible()
    page.get_by_role("link", name="Atelier numérique").first.click()
    expect(page.get_by_text("Association Clic Clac").first).to_be_visible()
    plan = page.locator("body")
    expect(plan).to_contain_text("2 000,00")
    expect(plan).to_contain_text("3 500,00")
