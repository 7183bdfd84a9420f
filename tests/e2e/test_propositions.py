"""Issue #16 in the browser: a chef de projet writes a proposition de réorientation with its
evidence and puts it on the next COPIL's agenda; once the COPIL meets, the chef de service records
its decision with a follow-up, which closes the proposal."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import chromium_path, require_live
from tests.cvu.factories import ContratFactory
from tests.cvu.governance_factories import InstanceFactory, ReunionFactory, TypeInstanceFactory
from tests.e2e.conftest import log_in_as
from tests.e2e.test_porteur_journey import _check_page

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


def test_a_proposal_is_put_on_the_copil_agenda_and_closed_by_its_decision(
    page, live_server, editor, manager, qpv
):
    from cvu.models import (
        IndicateurResultat,
        NoeudStrategie,
        PropositionReorientation,
        SuiteADonner,
    )

    today = timezone.localdate()
    contrat = ContratFactory(
        nom="Engagements Quartiers 2030", annee_debut=today.year - 2, annee_fin=today.year + 4
    )
    axe = NoeudStrategie.objects.create(
        contrat=contrat, niveau="axe", code="1", libelle="Réussite éducative"
    )
    objectif = NoeudStrategie.objects.create(
        contrat=contrat, parent=axe, niveau="objectif", code="1.1", libelle="Scolarité"
    )
    IndicateurResultat.objects.create(
        objectif=objectif,
        libelle="Élèves passant en classe supérieure",
        unite="%",
        annee_reference=2023,
        valeur_reference=Decimal(82),
        cible=Decimal(90),
    )
    copil = InstanceFactory(
        nom="Comité de pilotage du CVU",
        type=TypeInstanceFactory(nom="Comité de pilotage", pilotage=True),
        organisateur=manager,
    )
    reunion = ReunionFactory(instance=copil, titre="COPIL de décembre")

    # The chef de projet writes the proposal from the governance menu.
    log_in_as(page, live_server, editor)
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Gouvernance").click()
    page.get_by_role("link", name="Propositions de réorientation").click()
    _check_page(page)
    page.get_by_role("link", name="Nouvelle proposition").click()
    page.get_by_label("Objet").fill("Ouvrir l'accompagnement scolaire aux collégiens")
    page.get_by_label("Exposé des motifs").fill("Le décrochage commence à l'entrée au collège.")
    page.get_by_label("Partie de la stratégie concernée").select_option(
        label="Objectif opérationnel 1.1 Scolarité"
    )
    page.get_by_role("checkbox", name="Chiffogne").check()
    page.get_by_role("checkbox", name="1.1 Élèves passant en classe supérieure").check()
    _check_page(page)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Proposition enregistrée.")).to_be_visible()
    expect(page.get_by_text("En préparation")).to_be_visible()
    expect(page.get_by_text("référence 82 %")).to_be_visible()

    # … and puts it on the COPIL's agenda.
    page.get_by_role("link", name="Inscrire à l'ordre du jour").click()
    _check_page(page)
    page.get_by_label("Réunion").select_option(
        label=f"Comité de pilotage du CVU – {timezone.localtime(reunion.debut):%d/%m/%Y %H:%M}"
    )
    page.get_by_role("button", name="Inscrire").click()
    expect(page.get_by_text("Inscrite à l'ordre du jour").first).to_be_visible()
    # The chef de projet does not organise the COPIL: no decision button for them.
    expect(page.get_by_role("link", name="Enregistrer la décision")).to_have_count(0)
    proposition = PropositionReorientation.objects.get()

    # The COPIL meets.
    reunion.debut = timezone.now() - timedelta(hours=1)
    reunion.fin = timezone.now() + timedelta(hours=1)
    reunion.save()

    # The chef de service records the decision from the meeting's page.
    page.context.clear_cookies()
    log_in_as(page, live_server, manager)
    page.goto(f"{live_server.url}{reunion.get_absolute_url()}")
    agenda = page.get_by_role("heading", name="Ordre du jour").locator(
        "xpath=following-sibling::ol[1]"
    )
    expect(agenda).to_contain_text(
        "Proposition de réorientation : Ouvrir l'accompagnement scolaire aux collégiens"
    )
    page.get_by_role("link", name="Enregistrer la décision").click()
    _check_page(page)
    page.get_by_label("Acceptée avec modifications").check()
    page.get_by_label("Termes de la décision").fill("Ouverture aux élèves de 6e et 5e seulement.")
    page.get_by_label("Suite à donner – ligne 1").fill("Modifier le cahier des charges")
    page.get_by_label("Responsable (agent) – ligne 1").select_option(label=str(manager))
    echeance = today + timedelta(days=45)
    page.get_by_label("Échéance – ligne 1").fill(echeance.isoformat())
    page.get_by_role("button", name="Enregistrer la décision").click()

    expect(page.get_by_text("Décision enregistrée : la proposition est close.")).to_be_visible()
    expect(page.get_by_text("Acceptée avec modifications").first).to_be_visible()
    expect(page.get_by_text("Ouverture aux élèves de 6e et 5e seulement.")).to_be_visible()
    expect(page.get_by_role("link", name="Modifier")).to_have_count(0)
    _check_page(page)
    proposition.refresh_from_db()
    assert proposition.issue == "amendee"
    suite = SuiteADonner.objects.get()
    assert (suite.decision, suite.echeance) == (proposition.decision, echeance)

    # The meeting's decisions list it; the follow-up is chased with the others.
    page.get_by_role("link", name="Comité de pilotage du CVU").first.click()
    expect(page.get_by_text("acceptée avec modifications. Ouverture aux élèves")).to_be_visible()
    page.goto(f"{live_server.url}/suivis/?responsable=&statut=a_faire")
    expect(
        page.get_by_role("cell", name="Modifier le cahier des charges", exact=True)
    ).to_be_visible()
