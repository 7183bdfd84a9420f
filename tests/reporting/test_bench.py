"""The benchmark command runs end to end on a tiny dataset (figures are not asserted)."""

import io

import pytest
from django.core.management import CommandError, call_command

from tests.quartiers.factories import CommuneFactory, QpvFactory

pytestmark = pytest.mark.django_db


def test_bench_reporting_at_a_tiny_scale(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.DEBUG = True
    for n in range(3):
        QpvFactory(nom=f"QPV {n}", communes=[CommuneFactory(code_insee=f"2500{n}", nom=f"C{n}")])
    out = io.StringIO()
    call_command("bench_reporting", echelle=0.01, requetes=3, stdout=out)
    text = out.getvalue()
    assert "Tableau de bord : médiane" in text and "Accueil chef de projet" in text
    assert "statut prêt" in text
    # A second run reuses the data.
    call_command("bench_reporting", echelle=0.01, requetes=2, stdout=io.StringIO())


def test_bench_refuses_a_production_database(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("bench_reporting", echelle=0.01)
