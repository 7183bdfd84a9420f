"""Issue #18, the porteur page: late bilans and derogations, instruction opinions, and the
dependence figure (share of the EPCI's and the State's money in the declared budget)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cvu import figures
from cvu.models import Action, Instruction
from cvu.models.actions import ChangementEcheance
from tests.cvu.factories import ActionFactory, FinancementFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

S = Action.Statut


@pytest.fixture
def porteur():
    return OrganisationFactory(
        nom="Association Les Buis",
        type="association",
        budget_annuel=Decimal("200000.00"),
        budget_annee=2025,
    )


def test_dependence_counts_the_epci_and_the_state_voted_that_year(porteur):
    pma = OrganisationFactory(nom="Pays de Montbéliard Agglomération", type="epci")
    etat = OrganisationFactory(financeur_etat=True)
    caf = OrganisationFactory(nom="CAF du Doubs", type="caf")
    action = ActionFactory(porteur=porteur, annee=2025, statut=S.NOTIFIE)
    FinancementFactory(action=action, financeur=pma, annee=2025, montant_vote=Decimal("30000.00"))
    FinancementFactory(action=action, financeur=etat, annee=2025, montant_vote=Decimal("10000.00"))
    FinancementFactory(action=action, financeur=caf, annee=2025, montant_vote=Decimal("50000.00"))
    # Another year, and a refused dossier, do not count.
    FinancementFactory(action=action, financeur=pma, annee=2026, montant_vote=Decimal("99000.00"))
    refused = ActionFactory(porteur=porteur, annee=2025, statut=S.REFUSE)
    FinancementFactory(action=refused, financeur=etat, annee=2025, montant_vote=Decimal("5000.00"))

    figure = figures.dependance(porteur)

    assert figure["epci"] == Decimal("30000.00")
    assert figure["etat"] == Decimal("10000.00")
    assert figure["part_epci"] == Decimal("15.0")
    assert figure["part_etat"] == Decimal("5.0")
    assert figure["part"] == Decimal("20.0")


def test_no_dependence_without_a_declared_budget_and_its_year():
    assert figures.dependance(OrganisationFactory(budget_annuel=Decimal("1000.00"))) is None
    assert figures.dependance(OrganisationFactory(budget_annee=2025)) is None


def test_porteur_page_shows_late_bilans_derogations_opinions_and_dependence(
    client, reader, manager, porteur
):
    today = timezone.localdate()
    late = ActionFactory(
        porteur=porteur,
        titre="Atelier couture",
        statut=S.NOTIFIE,
        date_limite_bilan=today - timedelta(days=10),
    )
    on_time = ActionFactory(
        porteur=porteur, titre="Fête de quartier", statut=S.NOTIFIE, date_limite_bilan=today
    )
    ChangementEcheance.objects.create(
        action=on_time,
        ancienne_date=date(2025, 6, 30),
        nouvelle_date=today,
        motif="Comptes certifiés en retard",
        par=manager,
    )
    Instruction.objects.create(action=on_time, avis="reserve", synthese="Budget à préciser")
    pma = OrganisationFactory(nom="PMA", type="epci")
    FinancementFactory(action=on_time, financeur=pma, annee=2025, montant_vote=Decimal("20000.00"))
    client.force_login(reader)

    page = client.get(porteur.get_absolute_url()).content.decode()

    bilans = page.split('id="bilans"')[1].split("</section>")[0]
    assert "Atelier couture" in bilans and "En retard" in bilans
    assert "Fête de quartier" in bilans  # in the derogations table, not as late
    assert bilans.count("En retard") == 1
    assert "Comptes certifiés en retard" in bilans
    avis = page.split('id="avis"')[1].split("</section>")[0]
    assert "Réservé" in avis and "Budget à préciser" in avis
    assert "10 %" in page.split('id="dependance"')[1].split("</dd>")[0]
    assert late.titre in page


def test_a_refused_dossier_votes_nothing_on_the_porteur_page(client, reader, porteur):
    from cvu import payments

    etat = OrganisationFactory(financeur_etat=True)
    kept = ActionFactory(porteur=porteur, annee=2025, statut=S.NOTIFIE)
    refused = ActionFactory(porteur=porteur, annee=2025, statut=S.REFUSE)
    FinancementFactory(action=kept, financeur=etat, annee=2025, montant_vote=Decimal("1000.00"))
    FinancementFactory(action=refused, financeur=etat, annee=2025, montant_vote=Decimal("500.00"))
    client.force_login(reader)

    [row] = payments.organisation_section(reader, porteur)["montants_financeurs"]
    assert row.vote == Decimal("1000.00")
    page = client.get(porteur.get_absolute_url())
    [year] = page.context["received"]
    assert year["vote"] == Decimal("1000.00")  # the same figure in both tables
