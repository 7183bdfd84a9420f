"""The dossiers of a year (cvu.figures.of_year) and the year's lines that Chiffres adds up."""

from decimal import Decimal

import pytest

from cvu import figures
from cvu.models import Action, Financement
from tests.cvu.factories import ActionFactory, ContratFactory, FinancementFactory
from tests.quartiers.factories import CommuneFactory, QpvFactory, SecteurFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def year():
    contrat = ContratFactory()
    secteur = SecteurFactory()
    inside = CommuneFactory(secteur=secteur)
    outside = CommuneFactory()
    qpv_in, qpv_out = QpvFactory(communes=[inside]), QpvFactory(communes=[outside])
    actions = {
        "of_the_year": ActionFactory(contrat=contrat, annee=2025, qpvs=[qpv_in]),
        "multi_year": ActionFactory(contrat=contrat, annee=2024, annee_fin=2026, qpvs=[qpv_out]),
        "line_only": ActionFactory(contrat=contrat, annee=2023, qpvs=[qpv_in]),
        "earlier": ActionFactory(contrat=contrat, annee=2024, qpvs=[qpv_in]),
        "ended": ActionFactory(contrat=contrat, annee=2022, annee_fin=2024),
        "other_contract": ActionFactory(annee=2025, qpvs=[qpv_in]),
    }
    for action in actions.values():
        FinancementFactory(action=action, annee=action.annee, montant_demande=Decimal("100.00"))
    # A line in a year outside the action's period makes it a dossier of that year too.
    FinancementFactory(action=actions["line_only"], annee=2025, montant_demande=Decimal("7.00"))
    return contrat, secteur, inside, actions


def test_a_year_holds_its_actions_its_periods_and_its_lines(year):
    contrat, _, _, actions = year
    found = set(figures.dossiers(contrat, 2025))
    expected = {actions[name] for name in ("of_the_year", "multi_year", "line_only")}
    assert found == expected


@pytest.mark.parametrize("where", ["contrat", "secteur", "commune"])
def test_the_years_lines_are_those_of_its_dossiers(year, where):
    contrat, secteur, commune, _ = year
    territory = {"contrat": {}, "secteur": {"secteur": secteur}, "commune": {"commune": commune}}
    territory = territory[where]
    chiffres = figures.Chiffres(contrat, 2025, **territory)
    expected = Financement.objects.filter(annee=2025, action__in=chiffres.dossiers())
    assert set(chiffres.lignes()) == set(expected)
    assert chiffres.lignes().exists()
    assert chiffres.total.demande == sum(line.montant_demande for line in expected)


def test_lines_of_every_action_or_of_some(year):
    contrat, _, _, actions = year
    everything = figures.lines(Action.objects.all(), annee=2025)
    assert set(everything) == set(Financement.objects.filter(annee=2025))
    some = Action.objects.filter(contrat=contrat)
    assert set(figures.lines(some.values("pk"))) == set(
        Financement.objects.filter(action__contrat=contrat)
    )
    assert not figures.lines(Action.objects.none()).exists()
    assert set(figures.lines(Action.objects.order_by("pk")[:1])) == set(
        Financement.objects.filter(action=Action.objects.order_by("pk").first())
    )
