"""Every list exports its filtered rows to Excel and CSV, through the one export mechanism."""

import io

import pytest
from openpyxl import load_workbook

from cvu.models import Instance, TypeInstance
from participation.models import ConseilCitoyen, Membre, TypeParticipation
from tests.cvu.aap_factories import AppelFactory
from tests.cvu.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/actions/",
    "/actions/programmes/",
    "/organisations/",
    "/instances/",
    "/instances/dispositifs/",
    "/reunions/?vue=liste",
    "/suivis/",
    "/appels-a-projets/",
    "/quartiers/",
    "/quartiers/communes/",
    "/participation/",
    "/participation/demarches/",
    "/participation/cycles/",
]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_every_list_exports(client, manager, url, fmt):
    client.force_login(manager)
    separator = "&" if "?" in url else "?"
    response = client.get(f"{url}{separator}export={fmt}")
    assert response.status_code == 200, url
    assert response["Content-Disposition"].startswith("attachment"), url
    assert response["Content-Disposition"].endswith(f'.{fmt}"'), url


def test_exported_rows_are_the_filtered_ones(client, manager):
    ProgrammeFactory(nom="Programme 2026 Montbéliard", annee_debut=2026)
    ProgrammeFactory(nom="Programme 2025 Audincourt", annee_debut=2025)
    client.force_login(manager)
    response = client.get("/actions/programmes/", {"annee": 2026, "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert [row[0] for row in rows[1:]] == ["Programme 2026 Montbéliard"]


def test_council_export_has_counts_and_no_names(client, manager, commune):
    conseil = ConseilCitoyen.objects.create(
        nom="=Conseil citoyen", type=TypeParticipation.objects.create(nom="CC"), commune=commune
    )
    Membre.objects.create(
        conseil=conseil,
        prenom="Aïcha",
        nom="Benali",
        college="habitants",
        genre="femme",
        tranche_age="40_59",
        designation="volontaire",
        mandat_debut="2025-01-01",
        base_legale="mission_publique",
    )
    client.force_login(manager)
    text = client.get("/participation/", {"export": "csv"}).content.decode()
    assert "Benali" not in text and "Aïcha" not in text
    assert "'=Conseil citoyen" in text  # neutralised against formula injection
    header, row = text.lstrip("\ufeff").splitlines()[:2]
    assert "Membres actifs" in header and row.split(";")[4] == "1"


def test_instance_and_call_exports_carry_their_rows(client, manager):
    Instance.objects.create(
        nom="Comité de pilotage",
        type=TypeInstance.objects.create(nom="COPIL"),
        echelle="intercommunale",
    )
    AppelFactory(nom="+AAP 2026")
    client.force_login(manager)
    instances = client.get("/instances/", {"export": "csv"}).content.decode()
    assert "Comité de pilotage" in instances
    appels = client.get("/appels-a-projets/", {"export": "csv"}).content.decode()
    assert "'+AAP 2026" in appels


def test_my_sector_button_keeps_my_councils_only(client, editor, commune):
    from tests.quartiers.factories import CommuneFactory

    type_cc = TypeParticipation.objects.create(nom="CC")
    ConseilCitoyen.objects.create(nom="Conseil de mon secteur", type=type_cc, commune=commune)
    ailleurs = CommuneFactory(code_insee="25031", nom="Audincourt")
    ConseilCitoyen.objects.create(nom="Conseil d'ailleurs", type=type_cc, commune=ailleurs)
    client.force_login(editor)
    everything = client.get("/participation/", {"export": "csv"}).content.decode()
    mine = client.get("/participation/", {"secteur": "mien", "export": "csv"}).content.decode()
    assert "Conseil d'ailleurs" in everything
    assert "Conseil de mon secteur" in mine and "Conseil d'ailleurs" not in mine
