"""The committee as a chef de service uses it: decide the dossiers still open, see what was
recorded, never disturb the dossiers that moved on."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.conftest import chromium_path, require_live
from tests.e2e.test_journeys import _log_in

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


def test_chef_de_service_decides_four_dossiers_beside_notified_ones(page, live_server, manager):
    from cvu.models import Action, DecisionComite, TransitionStatut
    from tests.cvu.aap_factories import AppelFactory, ComiteFactory, EnveloppeFactory
    from tests.cvu.factories import ActionFactory, FinancementFactory, OrganisationFactory

    S = Action.Statut
    caf = OrganisationFactory(nom="Caisse d'allocations familiales du Doubs", sigle="CAF")
    ville = OrganisationFactory(nom="Ville d'Audincourt", type="commune")
    appel = AppelFactory()
    EnveloppeFactory(appel=appel, financeur=caf, montant=Decimal("20000.00"))
    EnveloppeFactory(appel=appel, financeur=ville, montant=Decimal("9000.00"))
    moved_on = []
    for n, statut in enumerate([S.NOTIFIE, S.CONVENTIONNE] * 3):
        action = ActionFactory(
            contrat=appel.contrat, appel=appel, statut=statut, titre=f"Dossier déjà {n}"
        )
        FinancementFactory(
            action=action,
            financeur=caf,
            annee=appel.annee,
            montant_demande=2000,
            montant_propose=1500,
            montant_vote=1500,
        )
        moved_on.append(action)
    todo = []
    for name in ["Ateliers couture", "Boxe éducative", "Cinéma plein air", "Fête des voisins"]:
        action = ActionFactory(contrat=appel.contrat, appel=appel, statut=S.INSTRUIT, titre=name)
        FinancementFactory(
            action=action,
            financeur=caf,
            annee=appel.annee,
            montant_demande=3000,
            montant_propose=2000,
        )
        FinancementFactory(
            action=action,
            financeur=ville,
            annee=appel.annee,
            montant_demande=1000,
            montant_propose=1000,
        )
        todo.append(action)
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set(moved_on + todo)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1366, "height": 768})

    _log_in(page, live_server, manager.email)
    page.goto(f"{live_server.url}{comite.get_absolute_url()}")
    # Only the dossiers still to decide are listed, the filter says how many of each.
    expect(page.get_by_role("link", name=re.compile("À décider 4"))).to_be_visible()
    expect(page.locator("tr[data-dossier]")).to_have_count(4)
    # The envelopes' remainders are in view above the grid (20 000 − 9 000 already voted).
    expect(page.locator("[data-reste-badge]").first).to_have_text(re.compile(r"11\s000,00\s€"))
    for name in ["Ateliers couture", "Boxe éducative", "Cinéma plein air"]:
        page.get_by_label(f"Décision – {name}").select_option("programme")
    page.get_by_label("Décision – Fête des voisins").select_option("ajourne")
    page.get_by_label("Commentaire – Cinéma plein air").fill("Sous réserve d'un lieu")
    # The remainder follows: three programmed dossiers at 2 000 € of CAF.
    expect(page.locator("[data-reste-badge]").first).to_have_text(re.compile(r"5\s000,00\s€"))
    expect(page.get_by_text("4 lignes modifiées seront enregistrées.")).to_be_visible()
    page.get_by_role("button", name="Enregistrer les décisions").click()
    page.get_by_text("4 décisions enregistrées.").wait_for()
    expect(page.locator("tr[data-dossier]")).to_have_count(10)  # nothing left: all shown
    page.get_by_role("link", name=re.compile("Décidés")).click()
    expect(page.locator("tr[data-dossier]")).to_have_count(10)
    page.get_by_label("Rechercher (intitulé, porteur, n° Dauphin)").fill("boxe")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("tr[data-dossier]")).to_have_count(1)

    assert DecisionComite.objects.count() == 4
    assert TransitionStatut.objects.count() == 4
    assert set(
        Action.objects.filter(pk__in=[a.pk for a in moved_on]).values_list("statut", flat=True)
    ) == {S.NOTIFIE, S.CONVENTIONNE}
    assert Action.objects.get(titre="Cinéma plein air").statut == S.PROGRAMME
    assert Action.objects.get(titre="Fête des voisins").statut == S.AJOURNE
    assert errors == []


def test_committee_grid_keeps_its_header_and_first_column_in_view(page, live_server, manager):
    from cvu.models import Action
    from tests.cvu.aap_factories import AppelFactory, ComiteFactory, EnveloppeFactory
    from tests.cvu.factories import ActionFactory, FinancementFactory, OrganisationFactory

    appel = AppelFactory()
    funders = [OrganisationFactory(nom=f"Financeur numéro {n}", sigle=f"F{n}") for n in range(8)]
    for funder in funders:
        EnveloppeFactory(appel=appel, financeur=funder, montant=Decimal("50000.00"))
    dossiers = []
    for n in range(30):
        action = ActionFactory(
            contrat=appel.contrat,
            appel=appel,
            statut=Action.Statut.INSTRUIT,
            titre=f"Dossier {n:02}",
        )
        FinancementFactory(action=action, financeur=funders[n % 8], annee=appel.annee)
        dossiers.append(action)
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set(dossiers)
    page.set_viewport_size({"width": 1366, "height": 768})
    _log_in(page, live_server, manager.email)
    page.goto(f"{live_server.url}{comite.get_absolute_url()}")
    last = page.get_by_label("Décision – Dossier 29")
    last.scroll_into_view_if_needed()
    last.select_option("refuse")
    # The header row, with the envelopes' remainders, stays on screen above the edited row.
    expect(page.get_by_role("columnheader", name="Décision")).to_be_in_viewport(ratio=1)
    header = page.get_by_role("columnheader", name="Décision").bounding_box()
    restes = page.get_by_role("rowheader", name=re.compile("Reste des enveloppes")).bounding_box()
    row = last.bounding_box()
    assert 0 <= header["y"] < restes["y"] < row["y"] < 768
    # The decision column sits next to the dossier, never off-screen to the right.
    assert row["x"] + row["width"] < 1366
    save = page.get_by_role("button", name="Enregistrer les décisions").bounding_box()
    assert save["y"] + save["height"] <= 768
