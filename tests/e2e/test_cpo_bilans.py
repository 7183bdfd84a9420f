"""Issue #16 in the browser: a chef de projet opens a CPO whose earlier exercice's bilan is late,
sees one row per exercice, enters the late bilan with its beneficiaries on its own year's
financing lines, and the dossier is no longer late while it runs on (the renewal prompt stays in
its last year); the chef de service then sees the objective's evaluation page count them."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import chromium_path, require_live
from tests.cvu.aap_factories import AppelFactory
from tests.cvu.factories import (
    ActionFactory,
    ContratFactory,
    FinancementFactory,
    OrganisationFactory,
)
from tests.e2e.conftest import log_in_as
from tests.e2e.test_porteur_journey import _check_page

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


def test_a_chef_de_projet_enters_the_late_yearly_bilan_of_a_cpo(
    page, live_server, editor, manager, qpv
):
    from cvu.models import Action, NoeudStrategie

    today = timezone.localdate()
    first = today.year - 2
    contrat = ContratFactory(annee_debut=first, annee_fin=today.year + 4)
    appel = AppelFactory(contrat=contrat, annee=first, nom=f"Appel à projets {first}")
    etat = OrganisationFactory(nom="Préfecture du Doubs – BOP 147", type="etat")
    cpo = ActionFactory(
        contrat=contrat,
        appel=appel,
        titre="Ateliers sociolinguistiques",
        porteur=OrganisationFactory(nom="ASL du Pays", type="association"),
        annee=first,
        annee_fin=today.year,
        statut=Action.Statut.EN_COURS,
        referent=editor,
        qpvs=[qpv],
        date_limite_bilan=date(today.year + 1, 6, 30),
    )
    axe = NoeudStrategie.objects.create(contrat=contrat, niveau="axe", code="2", libelle="Emploi")
    objectif = NoeudStrategie.objects.create(
        contrat=contrat, parent=axe, niveau="objectif", code="2.1", libelle="Savoirs de base"
    )
    cpo.objectifs.set([objectif])
    lines = {
        year: FinancementFactory(
            action=cpo,
            financeur=etat,
            annee=year,
            montant_demande=Decimal("10000"),
            montant_vote=Decimal("9000"),
        )
        for year in cpo.exercices
    }
    log_in_as(page, live_server, editor)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_text(f"bilan {first} attendu le 30/06/{first + 1}")).to_be_visible()
    page.get_by_role("link", name="Bilan en retard : Ateliers sociolinguistiques").click()
    expect(page.get_by_role("heading", name=f"Bilan {first} de l'action")).to_be_visible()
    page.get_by_role("navigation", name="Fil d'Ariane").get_by_role("link", name=cpo.titre).click()

    table = page.get_by_role("table", name="Convention pluriannuelle")
    expect(table.get_by_role("row")).to_have_count(4)
    first_row = table.get_by_role("row").nth(1)
    expect(first_row).to_contain_text("1/3")
    expect(first_row).to_contain_text("en retard")
    expect(page.get_by_text("Dernière année de la convention pluriannuelle (3/3)")).to_be_visible()
    _check_page(page)

    table.get_by_role("link", name=str(first)).click()
    expect(page.get_by_role("heading", name=f"Bilan {first} de l'action")).to_be_visible()
    expect(page.get_by_role("link", name=f"{first} (1/3) · à recevoir")).to_have_attribute(
        "aria-current", "page"
    )
    budget = page.get_by_role("table", name="Montant voté et montant utilisé")
    expect(budget.get_by_role("row")).to_have_count(2)  # the exercice's line only
    expect(budget).to_contain_text(str(first))
    page.get_by_label("Reçu le").fill(today.isoformat())
    page.get_by_label("Coût total réalisé (€)").fill("9 800")
    page.get_by_label("Bilan qualitatif").fill("Trois groupes d'ateliers ; 42 participants.")
    budget.get_by_label(f"Utilisé – {etat}").fill("9 000")
    page.get_by_label("Bénéficiaires touchés").fill("42")
    page.get_by_label("Dont habitants des QPV").fill("35")
    page.get_by_label("Dont femmes").fill("30")
    page.get_by_label("Dont hommes").fill("12")
    _check_page(page)
    page.get_by_role("button", name="Enregistrer le bilan").click()

    expect(page.get_by_text(f"Bilan {first} enregistré.")).to_be_visible()
    row = page.get_by_role("table", name="Convention pluriannuelle").get_by_role("row").nth(1)
    expect(row).to_contain_text(f"reçu le {today:%d/%m/%Y}")
    cpo.refresh_from_db()
    assert cpo.statut == Action.Statut.EN_COURS
    (bilan,) = cpo.bilans.all()
    assert bilan.exercice == first
    assert bilan.lignes.get().financement == lines[first]
    assert (bilan.beneficiaires, bilan.beneficiaires_qpv, bilan.femmes) == (42, 35, 30)

    # The chef de service reads the objective's evaluation page from the contract's tree.
    log_in_as(page, live_server, manager)
    page.goto(f"{live_server.url}{contrat.get_absolute_url()}")
    page.get_by_role("link", name=f"évaluation de l'objectif {objectif}").click()
    expect(page.get_by_role("heading", name=f"Évaluation : {objectif}")).to_be_visible()
    years = page.get_by_role("table", name="Par année")
    row = years.get_by_role("row").filter(has=page.get_by_role("rowheader", name=str(first)))
    expect(row).to_contain_text("9 000,00 €")
    expect(row).to_contain_text("42")
    expect(row).to_contain_text("35 (83 %)")
    _check_page(page)
