"""The benchmark command runs end to end on a tiny dataset (figures are not asserted)."""

import io

import pytest
from django.core.management import CommandError, call_command

from cvu.models import Action, AppelAProjets
from reporting.models import Rapport
from tests.quartiers.factories import CommuneFactory, QpvFactory

pytestmark = pytest.mark.django_db


def test_bench_reporting_at_a_tiny_scale(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.DEBUG = True
    settings.EXPORT_ASYNC_THRESHOLD = 5  # the full export is queued: its build is timed apart
    for n in range(3):
        QpvFactory(nom=f"QPV {n}", communes=[CommuneFactory(code_insee=f"2500{n}", nom=f"C{n}")])
    out = io.StringIO()
    table = tmp_path / "listes.json"
    call_command("bench_reporting", echelle=0.01, requetes=3, sortie=str(table), stdout=out)
    text = out.getvalue()
    assert "Tableau de bord après une écriture : médiane" in text and "chiffres en cache" in text
    assert "Accueil chef de projet" in text
    assert "Page du contrat (tous exercices), chiffres en cache : médiane" in text
    assert "recalculés par le worker après une écriture (avec CACHE_URL) : médiane" in text
    assert "statut prêt" in text
    assert "/organisations/?export=xlsx" in text and table.exists()
    export = next(line for line in text.splitlines() if line.startswith("/actions/?export=xlsx"))
    assert export.split()[-1].endswith("s")  # the worker's build, apart from the request
    assert not Rapport.objects.exists()  # the queued exports are removed
    # The detail pages are measured like the lists: a dossier, the contract, the year's call…
    measured = {line.split()[0] for line in text.splitlines() if line.startswith("/")}
    action = Action.objects.filter(annee=2025, financements__isnull=False).order_by("pk").first()
    for page in (action, action.porteur, action.contrat, AppelAProjets.objects.get(annee=2025)):
        assert page.get_absolute_url() in measured
    # A second run reuses the data and compares with the first.
    out = io.StringIO()
    call_command(
        "bench_reporting",
        echelle=0.01,
        requetes=2,
        sortie=str(tmp_path / "bis.json"),
        reference=str(table),
        stdout=out,
    )
    assert "rapport" in out.getvalue()
    # Another scale on the same database would measure this one's data: refused.
    with pytest.raises(CommandError, match="autre échelle"):
        call_command("bench_reporting", echelle=0.05, requetes=2, sortie=str(tmp_path / "x.json"))


def test_bench_refuses_the_demo_database(settings, django_user_model):
    settings.DEBUG = True
    django_user_model.objects.create_user(email="cdp1@demo.local", password="demo")
    with pytest.raises(CommandError, match="démonstration"):
        call_command("bench_reporting", echelle=0.01)


def test_bench_refuses_a_production_database(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("bench_reporting", echelle=0.01)


def test_throughput_bench_needs_the_benchmark_data(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="make bench"):
        call_command("bench_debit", duree=0.1)
