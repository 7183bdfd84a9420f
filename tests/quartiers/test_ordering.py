import pytest
from django.db import connection

from quartiers.models import Commune
from tests.conftest import require_live
from tests.quartiers.factories import CommuneFactory


@pytest.mark.django_db
def test_communes_are_listed_alphabetically():
    for code, nom in [("25547", "Sochaux"), ("25004", "Abbévillers"), ("25388", "Montbéliard")]:
        CommuneFactory(code_insee=code, nom=nom)
    assert [c.nom for c in Commune.objects.alphabetical()] == [
        "Abbévillers",
        "Montbéliard",
        "Sochaux",
    ]


@pytest.mark.live
@pytest.mark.django_db
def test_accented_names_sort_in_french_order_on_postgresql():
    require_live(None if connection.vendor == "postgresql" else "ordre français : PostgreSQL seul")
    for code, nom in [("25614", "Vieux-Charmont"), ("25228", "Étupes"), ("25214", "Écot")]:
        CommuneFactory(code_insee=code, nom=nom)
    assert [c.nom for c in Commune.objects.alphabetical()] == ["Écot", "Étupes", "Vieux-Charmont"]
