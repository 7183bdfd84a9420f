"""An export above EXPORT_ASYNC_THRESHOLD rows is built by the worker as a generated file, with
exactly the rows the immediate export gives; a small one stays immediate."""

import csv
import io

import pytest
from openpyxl import load_workbook

from reporting.models import Rapport
from tests.cvu.factories import ActionFactory, ContratFactory, FinancementFactory

pytestmark = pytest.mark.django_db


def _rows(content: bytes, fmt: str) -> list:
    if fmt == "xlsx":
        return [list(row) for row in load_workbook(io.BytesIO(content)).active.values]
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


@pytest.fixture
def actions(db):
    contrat = ContratFactory()
    made = [ActionFactory(contrat=contrat, titre=f"Action n° {n}") for n in range(6)]
    for action in made[:4]:
        FinancementFactory(action=action)
    ActionFactory(contrat=contrat, titre="Autre exercice", annee=2019)
    return made


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_big_export_is_queued_and_gives_the_immediate_rows(
    client, manager, actions, settings, django_capture_on_commit_callbacks, fmt
):
    client.force_login(manager)
    url = f"/actions/?annee=2026&ordre=-demande&export={fmt}"
    settings.EXPORT_ASYNC_THRESHOLD = 100
    immediate = client.get(url)
    assert immediate["Content-Disposition"].startswith("attachment")

    settings.EXPORT_ASYNC_THRESHOLD = 5
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.get(url)
    rapport = Rapport.objects.get(type=Rapport.Type.EXPORT)
    assert response.status_code == 302 and response["Location"] == rapport.get_absolute_url()
    assert rapport.statut == Rapport.Statut.EN_ATTENTE and rapport.demande_par == manager
    assert rapport.parametres["lignes"] == 6
    page = client.get(rapport.get_absolute_url())
    assert "en attente" in page.content.decode()

    for callback in queued:  # the worker (eager in tests)
        callback()
    rapport.refresh_from_db()
    assert rapport.statut == Rapport.Statut.PRET, rapport.erreur
    assert rapport.progression == 6
    page = client.get(rapport.get_absolute_url()).content.decode()
    assert f"Télécharger le fichier {fmt.upper()}" in page
    download = client.get(f"/rapports/{rapport.pk}/telecharger/")
    assert download["Content-Disposition"].endswith(f'.{fmt}"')
    deferred = b"".join(download.streaming_content)
    assert _rows(deferred, fmt) == _rows(immediate.content, fmt)
    assert len(_rows(deferred, fmt)) == 7  # the header and the year's six actions


def test_a_small_export_stays_immediate(client, manager, actions, settings):
    settings.EXPORT_ASYNC_THRESHOLD = 6
    client.force_login(manager)
    response = client.get("/actions/?annee=2026&export=csv")
    assert response["Content-Disposition"].startswith("attachment")
    assert not Rapport.objects.exists()


def test_a_queued_export_is_only_for_its_requester(
    client, manager, outsider, actions, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_ASYNC_THRESHOLD = 1
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/actions/?export=xlsx")
    rapport = Rapport.objects.get(type=Rapport.Type.EXPORT)
    client.force_login(outsider)
    assert client.get(rapport.get_absolute_url()).status_code == 404
    assert client.get(f"/rapports/{rapport.pk}/telecharger/").status_code == 404
