"""The dossiers of a year (cvu.figures.of_year) and the year's lines that Chiffres adds up."""

from decimal import Decimal

import pytest

from cvu import figures
from cvu.models import Action, Financement
from tests.cvu.factories import (
    ActionFactory,
    ContratFactory,
    FinancementFactory,
    NoeudFactory,
)
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


@pytest.mark.parametrize("annee", [None, 2025])
def test_contract_figures_by_objective_add_up_line_by_line(annee):
    """figures.par_objectif against the lines read one by one: an action serving two objectives
    counts under each and once in the totals, a refused one votes nothing, an action without an
    objective goes apart, and only the actions with a line (that year) are counted."""
    contrat = ContratFactory()
    axe = NoeudFactory(contrat=contrat, code="1")
    first = NoeudFactory(contrat=contrat, parent=axe, niveau="objectif", code="1.1")
    second = NoeudFactory(contrat=contrat, parent=axe, niveau="objectif", code="1.2")
    idle = NoeudFactory(contrat=contrat, parent=axe, niveau="objectif", code="1.3")
    both = ActionFactory(contrat=contrat)
    both.objectifs.set([first, second])
    refused = ActionFactory(contrat=contrat, statut="refuse")
    refused.objectifs.set([first])
    loose = ActionFactory(contrat=contrat)
    earlier = ActionFactory(contrat=contrat)
    earlier.objectifs.set([second, idle])
    ActionFactory(contrat=contrat).objectifs.set([idle])  # no line at all
    ActionFactory().objectifs.set([NoeudFactory(code="9")])  # another contract
    for action, year, amount in [
        (both, 2025, 100),
        (both, 2026, 1_000),
        (refused, 2025, 30),
        (loose, 2025, 5),
        (earlier, 2024, 70_000),
    ]:
        FinancementFactory(
            action=action, annee=year, montant_demande=amount + 1, montant_vote=amount
        )
    FinancementFactory(annee=2025, montant_demande=9, montant_vote=9)  # another contract

    totals, amounts, sans_objectif = figures.par_objectif(contrat, annee=annee)

    lines = Financement.objects.filter(action__contrat=contrat).select_related("action")
    lines = [line for line in lines if annee is None or line.annee == annee]

    def counted(line):
        return Decimal(0) if line.action.statut in figures.NOT_FUNDED else line.montant_vote

    def expected(selected):
        return {
            "demande": sum((line.montant_demande for line in selected), Decimal(0)),
            "vote": sum((counted(line) for line in selected), Decimal(0)),
            "nb": len({line.action_id for line in selected}),
        }

    by_objective = {
        node.pk: expected([line for line in lines if node in line.action.objectifs.all()])
        for node in (first, second, idle)
    }
    assert amounts == {pk: row for pk, row in by_objective.items() if row["nb"]}
    loose_lines = [line for line in lines if not line.action.objectifs.exists()]
    assert sans_objectif == {key: expected(loose_lines)[key] for key in ("demande", "vote")}
    assert totals["demande"] == expected(lines)["demande"]
    assert totals["vote"] == expected(lines)["vote"]
    assert amounts[first.pk]["nb"] == 2  # the refused action has a line: it is counted
    assert (idle.pk in amounts) is (annee is None)
