"""The councils, schemes and training cycles lists: filtered by their FilterSet, paginated at
the one page size, exported whole (the filtered rows, not the page)."""

import io

import pytest
from openpyxl import load_workbook

from core.lists import PAGE_SIZE
from cvu.models import DispositifConnexe
from participation.models import ConseilCitoyen, CycleQualification, TypeParticipation
from tests.quartiers.factories import CommuneFactory, SecteurFactory

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [str(row) for row in response.context["page_obj"]]


def exported(response, column: int = 0) -> list:
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    return [row[column] for row in rows[1:]]


@pytest.fixture
def conseils(commune, outsider):
    type_cc = TypeParticipation.objects.create(nom="Conseil citoyen")
    ailleurs = CommuneFactory(code_insee="25031", nom="Audincourt", secteur=outsider.secteurs.get())
    ConseilCitoyen.objects.create(nom="Conseil d'Audincourt", type=type_cc, commune=ailleurs)
    for n in range(PAGE_SIZE):
        ConseilCitoyen.objects.create(nom=f"Conseil {n:02}", type=type_cc, commune=commune)
    return ailleurs


def test_councils_are_paginated_and_exported_whole(client, manager, conseils):
    client.force_login(manager)
    first = client.get("/participation/")
    assert len(first.context["rows"]) == PAGE_SIZE
    assert first.context["page_obj"].paginator.num_pages == 2
    second = client.get("/participation/", {"page": 2})
    assert [row["conseil"].nom for row in second.context["rows"]] == ["Conseil 49"]
    text = client.get("/participation/", {"export": "csv"}).content.decode()
    assert text.count("\n") == PAGE_SIZE + 2  # header, every council


def test_councils_filter_by_name_commune_and_sector(client, manager, conseils, secteur):
    client.force_login(manager)
    assert names(client.get("/participation/", {"search": "audin"})) == ["Conseil d'Audincourt"]
    assert names(client.get("/participation/", {"commune": conseils.pk})) == [
        "Conseil d'Audincourt"
    ]
    by_sector = client.get("/participation/", {"secteur": secteur.pk, "search": "Conseil 0"})
    assert names(by_sector) == [f"Conseil 0{n}" for n in range(10)]
    export = client.get("/participation/", {"commune": conseils.pk, "export": "xlsx"})
    assert exported(export) == ["Conseil d'Audincourt"]


def test_my_sector_is_offered_to_a_chef_de_projet_only(client, editor, manager, conseils):
    client.force_login(editor)
    mine = client.get("/participation/", {"secteur": "mien"})
    assert mine.context["page_obj"].paginator.count == PAGE_SIZE
    assert "Conseil d'Audincourt" not in names(mine)
    client.force_login(manager)
    choices = dict(client.get("/participation/").context["filter"].form["secteur"].field.choices)
    assert "mien" not in choices


def test_schemes_filter_by_type_and_commune_and_paginate(client, manager, commune):
    autre = CommuneFactory(code_insee="25031", nom="Audincourt", secteur=SecteurFactory())
    for n in range(PAGE_SIZE):
        DispositifConnexe.objects.create(nom=f"PRE {n:02}", type="pre", mode="coherence")
    gusp = DispositifConnexe.objects.create(nom="GUSP des Fougères", type="gusp", mode="coherence")
    gusp.communes.add(autre)
    client.force_login(manager)
    assert client.get("/instances/dispositifs/").context["page_obj"].paginator.num_pages == 2
    assert names(client.get("/instances/dispositifs/", {"type": "gusp"})) == ["GUSP des Fougères"]
    assert names(client.get("/instances/dispositifs/", {"commune": autre.pk})) == [
        "GUSP des Fougères"
    ]
    assert names(client.get("/instances/dispositifs/", {"search": "PRE 4"})) == [
        f"PRE 4{n}" for n in range(10)
    ]
    export = client.get("/instances/dispositifs/", {"type": "pre", "export": "xlsx"})
    assert len(exported(export)) == PAGE_SIZE


def test_cycles_filter_by_year_and_title(client, manager):
    for year in (2024, 2025, 2026):
        CycleQualification.objects.create(annee=year, titre=f"Cycle {year}")
    client.force_login(manager)
    assert names(client.get("/participation/cycles/")) == ["Cycle 2026", "Cycle 2025", "Cycle 2024"]
    assert names(client.get("/participation/cycles/", {"annee": 2025})) == ["Cycle 2025"]
    assert names(client.get("/participation/cycles/", {"search": "2024"})) == ["Cycle 2024"]
    export = client.get("/participation/cycles/", {"annee": 2025, "export": "xlsx"})
    assert exported(export, column=1) == ["Cycle 2025"]


def test_calls_filter_by_name_contract_year_and_status_and_paginate(client, reader):
    from tests.cvu.aap_factories import AppelFactory
    from tests.cvu.factories import ContratFactory

    contrat, autre = ContratFactory(), ContratFactory(nom="Contrat 2015–2023")
    for n in range(PAGE_SIZE):
        AppelFactory(contrat=contrat, annee=2000 + n, nom=f"Appel {2000 + n}", statut="programme")
    AppelFactory(contrat=autre, annee=2019, nom="Appel ancien contrat", statut="ouvert")
    client.force_login(reader)
    first = client.get("/appels-a-projets/")
    assert first.context["page_obj"].paginator.num_pages == 2
    assert names(first)[:2] == ["Appel 2049", "Appel 2048"]  # latest exercice first
    assert names(client.get("/appels-a-projets/", {"search": "ancien"})) == ["Appel ancien contrat"]
    assert names(client.get("/appels-a-projets/", {"contrat": autre.pk})) == [
        "Appel ancien contrat"
    ]
    assert names(client.get("/appels-a-projets/", {"annee": 2019, "contrat": contrat.pk})) == [
        "Appel 2019"
    ]
    assert names(client.get("/appels-a-projets/", {"statut": "ouvert"})) == ["Appel ancien contrat"]
    empty = client.get("/appels-a-projets/", {"search": "introuvable"}).content.decode()
    assert "Aucun appel à projets ne correspond à ces filtres." in empty
    export = client.get("/appels-a-projets/", {"contrat": autre.pk, "export": "xlsx"})
    assert exported(export) == ["Appel ancien contrat"]
