from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from hypothesis import given
from hypothesis import strategies as st

from core.numbers import parse_decimal
from cvu.models import Action, Financement, NoeudStrategie, Organisation
from cvu.validators import luhn_ok, validate_siret_or_siren
from tests.cvu.factories import ActionFactory, FinancementFactory, NoeudFactory

PMA_SIREN = "200065647"


def test_pma_siren_and_a_siret_pass_the_luhn_key():
    validate_siret_or_siren(PMA_SIREN)
    validate_siret_or_siren("732 829 320 00074")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("20006564", "Un SIREN compte 9 chiffres"),
        ("200065648", "La clé de contrôle de ce numéro SIREN est fausse"),
        ("73282932000075", "La clé de contrôle de ce numéro SIRET est fausse"),
        ("ABCDEFGHI", "Un SIREN compte 9 chiffres"),
    ],
)
def test_bad_siret_gives_a_french_error(value, message):
    with pytest.raises(ValidationError, match=message):
        validate_siret_or_siren(value)


@given(st.text(max_size=20))
def test_siret_validator_never_crashes(value):
    try:
        validate_siret_or_siren(value)
    except ValidationError:
        pass


@given(st.from_regex(r"\d{8}", fullmatch=True))
def test_one_key_digit_makes_any_siren_valid(prefix):
    valid = [d for d in "0123456789" if luhn_ok(prefix + d)]
    assert len(valid) == 1
    validate_siret_or_siren(prefix + valid[0])


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1 200,50 €", Decimal("1200.50")),
        ("1\u202f200,5", Decimal("1200.50")),
        ("1.200,50", Decimal("1200.50")),
        ("1200.5", Decimal("1200.50")),
        (1500, Decimal("1500.00")),
        ("", None),
    ],
)
def test_amounts_typed_the_french_way(text, amount):
    assert parse_decimal(text) == amount


@pytest.mark.parametrize("text", ["abc", "12,345", "1,2,3", "NaN", "1e5", "1E+30", "9" * 40])
def test_bad_amounts_are_refused(text):
    with pytest.raises(ValueError):
        parse_decimal(text)


@pytest.mark.django_db
def test_organisation_siret_is_stored_without_spaces_and_unique():
    Organisation.objects.create(nom="PMA", type="epci", siret="200 065 647")
    assert Organisation.objects.get().siret == PMA_SIREN
    duplicate = Organisation(nom="Doublon", type="epci", siret=PMA_SIREN)
    with pytest.raises(ValidationError, match="déjà ce SIRET"):
        duplicate.full_clean()


@pytest.mark.django_db
def test_only_associations_have_an_rna_number():
    organisation = Organisation(nom="Ville", type="commune", rna="W251002345")
    with pytest.raises(ValidationError, match="Seule une association"):
        organisation.full_clean()


@pytest.mark.django_db
def test_negative_amounts_are_refused_by_the_database(contrat):
    line = FinancementFactory(action=ActionFactory(contrat=contrat))
    Financement.objects.filter(pk=line.pk)
    with pytest.raises(IntegrityError):
        Financement.objects.filter(pk=line.pk).update(montant_demande=Decimal("-1"))


@pytest.mark.django_db
def test_paid_above_voted_is_refused(contrat):
    line = FinancementFactory.build(
        action=ActionFactory(contrat=contrat), montant_vote=100, montant_verse=200
    )
    line.financeur.save()
    line.financeur_id = line.financeur.pk
    with pytest.raises(ValidationError, match="versé dépasse le montant voté"):
        line.full_clean()


@pytest.mark.django_db
def test_dauphin_number_is_unique_per_year_only(contrat):
    ActionFactory(contrat=contrat, numero_dauphin="00001", annee=2025)
    ActionFactory(contrat=contrat, numero_dauphin="00001", annee=2026)
    ActionFactory(contrat=contrat, numero_dauphin="", annee=2026)
    ActionFactory(contrat=contrat, numero_dauphin="", annee=2026)
    duplicate = ActionFactory.build(contrat=contrat, numero_dauphin="00001", annee=2026)
    duplicate.porteur.save()
    duplicate.porteur_id = duplicate.porteur.pk
    with pytest.raises(ValidationError, match="déjà ce numéro Dauphin"):
        duplicate.full_clean()


@pytest.mark.django_db
def test_strategy_tree_levels_are_checked(contrat, axe):
    orientation = NoeudFactory(contrat=contrat, parent=axe, niveau="orientation")
    NoeudStrategie(
        contrat=contrat, parent=orientation, niveau="objectif", libelle="ok"
    ).full_clean()
    NoeudStrategie(contrat=contrat, parent=axe, niveau="objectif", libelle="ok").full_clean()
    with pytest.raises(ValidationError, match="ne peut pas être placé ici"):
        NoeudStrategie(contrat=contrat, parent=None, niveau="objectif", libelle="x").full_clean()
    with pytest.raises(ValidationError, match="ne peut pas être placé ici"):
        NoeudStrategie(contrat=contrat, parent=orientation, niveau="axe", libelle="x").full_clean()


@pytest.mark.django_db
def test_totals_do_not_multiply_with_qpvs(action, qpv, commune):
    from tests.quartiers.factories import QpvFactory

    action.qpvs.add(QpvFactory(communes=[commune]))
    FinancementFactory(action=action, montant_demande=1000, annee=2027)
    annotated = Action.objects.with_totals().get(pk=action.pk)
    assert annotated.total_demande == Decimal("7000.00")
    assert annotated.total_vote == Decimal("5000.00")


@pytest.mark.django_db
def test_funding_balance_warns_both_ways(action):
    assert "dépassent" in action.funding_balance(Decimal("12000"))
    assert "ne couvrent pas" in action.funding_balance(Decimal("6000"))
    assert action.funding_balance(Decimal("10000")) is None
