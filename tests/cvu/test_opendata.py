"""The open-data export of the collectivité's grants, validated against the SCDL "subventions"
Table Schema kept in tests/cvu/data (fields, order, required, types, patterns, enums, bounds)."""

import csv
import io
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from cvu import opendata
from cvu.models import Action, Convention, DecisionComite, Organisation, Versement
from tests.cvu.aap_factories import ComiteFactory, siret
from tests.cvu.factories import (
    ActionFactory,
    ContratFactory,
    FinancementFactory,
    OrganisationFactory,
)

SCHEMA = json.loads((Path(__file__).parent / "data" / "scdl_subventions_schema.json").read_text())
S = Action.Statut
URL = "/donnees-essentielles/"
SIRET_PMA = siret("2002500000000")


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _check_value(spec: dict, raw: str, typed=None):
    """One cell against its field: raw is its text, typed its JSON value (None for a CSV)."""
    constraints = spec.get("constraints", {})
    name = spec["name"]
    if raw == "":  # the schema's missing value
        assert not constraints.get("required"), f"{name} est obligatoire"
        return
    kind = spec["type"]
    if kind == "string":
        assert typed is None or isinstance(typed, str), name
    elif kind == "date":
        assert date.fromisoformat(raw).isoformat() == raw, name
    elif kind == "number":
        assert re.fullmatch(r"-?\d+(\.\d+)?", raw), f"{name} : {raw!r} n'est pas un nombre à point"
        if typed is not None:
            assert isinstance(typed, int | float) and not isinstance(typed, bool), name
            assert Decimal(str(typed)) == Decimal(raw), name
        if "minimum" in constraints:
            assert Decimal(raw) >= Decimal(str(constraints["minimum"])), name
        if "maximum" in constraints:
            assert Decimal(raw) <= Decimal(str(constraints["maximum"])), name
    elif kind == "boolean":
        assert raw in spec["trueValues"] + spec["falseValues"], name
    else:
        raise AssertionError(f"type {kind} non prévu par ce test")
    if "pattern" in constraints:
        assert re.fullmatch(constraints["pattern"], raw), f"{name} : {raw!r}"
    if "enum" in constraints:
        assert raw in constraints["enum"], f"{name} : {raw!r}"
    if "maxLength" in constraints:
        assert len(raw) <= constraints["maxLength"], name
    if name == "conditionsVersement":
        # Its choices are given in its description only: 'unique', 'échelonné' ou 'autre'.
        choices = re.findall(r"'([^']+)'", spec["description"])
        assert raw in choices, raw
    checked = {check["params"]["column"] for check in SCHEMA["custom_checks"]}
    if name in checked:  # french-siret-value
        assert _luhn(raw), f"{name} : SIRET {raw} invalide"


def _validate(header: list[str], rows: list[tuple[dict, dict]]):
    """header: the file's field names; rows: (texts, JSON values or None) by name."""
    assert header == [spec["name"] for spec in SCHEMA["fields"]]
    for raw, typed in rows:
        for spec in SCHEMA["fields"]:
            _check_value(spec, raw[spec["name"]], typed[spec["name"]] if typed else None)


def _csv_rows(content: str):
    reader = csv.reader(io.StringIO(content), delimiter=";")
    header, *lines = list(reader)
    rows = [dict(zip(header, line, strict=True)) for line in lines]
    return header, rows


def _json_raw(value) -> str:
    if isinstance(value, float):
        return format(Decimal(str(value)), "f")
    return value


@pytest.fixture
def world(db, editor):
    """PMA signs the 2024-2030 contract; its 2025 grants: one under a signed convention paid in
    two instalments, one programmed by a committee paid once; and what must not go out."""
    pma = OrganisationFactory(
        nom="Pays de Montbéliard Agglomération", sigle="PMA", type="epci", siret=SIRET_PMA
    )
    etat = OrganisationFactory(nom="Préfecture du Doubs", type="etat", siret=siret("1102500000000"))
    contrat = ContratFactory(annee_debut=2024, annee_fin=2030)
    contrat.signataires.set([pma, etat])
    buis = OrganisationFactory(nom="Centre social des Buis", siret=siret("4242424242424"))
    jardins = OrganisationFactory(nom="Les Jardins partagés", siret=siret("5151515151515"))
    siren_only = OrganisationFactory(nom="Compagnie Sans-SIRET", siret="732829320")

    def grant(porteur, titre, vote, *, statut=S.CONVENTIONNE, annee=2025, financeur=pma):
        action = ActionFactory(
            contrat=contrat, porteur=porteur, titre=titre, statut=statut, annee=annee
        )
        line = FinancementFactory(
            action=action,
            financeur=financeur,
            annee=annee,
            montant_demande=vote,
            montant_vote=vote,
        )
        return action, line

    signed, signed_line = grant(buis, "Atelier d'aide aux devoirs", Decimal("24500.55"))
    Convention.objects.create(
        action=signed,
        numero="C-2025-01",
        annee_debut=2025,
        annee_fin=2025,
        montant=Decimal("24500.55"),
        texte="…",
        reference_decision="DEL-2025-042",
        date_decision=date(2025, 3, 20),
        date_signature_porteur=date(2025, 4, 2),
        date_signature_collectivite=date(2025, 4, 9),
        auteur=editor,
    )
    Versement.objects.create(
        financement=signed_line,
        nature="avance",
        montant=Decimal("12250.27"),
        date_prevue=date(2025, 4, 15),
        date_versement=date(2025, 4, 18),
        numero_mandat="M-1",
    )
    Versement.objects.create(
        financement=signed_line,
        nature="solde",
        montant=Decimal("12250.28"),
        date_prevue=date(2026, 2, 28),
    )
    programmed, programmed_line = grant(
        jardins, "Jardin des habitants", Decimal("3000.10"), statut=S.NOTIFIE
    )
    comite = ComiteFactory(date=date(2025, 3, 14))
    DecisionComite.objects.create(comite=comite, action=programmed, sens="programme")
    Versement.objects.create(
        financement=programmed_line,
        nature="solde",
        montant=Decimal("3000.10"),
        date_prevue=date(2025, 6, 30),
    )
    # Not published: refused, withdrawn, another funder, another year, no vote.
    grant(buis, "Refusé", Decimal("1000"), statut=S.REFUSE)
    grant(buis, "Retiré", Decimal("1000"), statut=S.RETIRE)
    grant(buis, "Financé par l'État", Decimal("1000"), financeur=etat)
    grant(buis, "Exercice suivant", Decimal("1000"), annee=2026)
    _, zero = grant(jardins, "Sans vote", Decimal("1000"))
    zero.montant_vote = None
    zero.save()
    # Published nowhere but reported: a porteur with a SIREN only.
    siren_action, _ = grant(siren_only, "Spectacle de rue", Decimal("800"))
    DecisionComite.objects.create(comite=comite, action=siren_action, sens="programme")
    return {"pma": pma, "signed": signed, "programmed": programmed}


def test_rows_are_the_collectivites_voted_grants_of_the_year(world, reader):
    export = opendata.build(reader, 2025)
    assert export.attribuant == world["pma"]
    by_objet = {row["objet"]: row for row in export.rows}
    assert set(by_objet) == {"Atelier d'aide aux devoirs", "Jardin des habitants"}
    signed = by_objet["Atelier d'aide aux devoirs"]
    assert signed["montant"] == Decimal("24500.55")
    assert signed["dateConvention"] == "2025-04-09"  # the later signature
    assert signed["referenceDecision"] == "DEL-2025-042"
    assert signed["conditionsVersement"] == "échelonné"
    assert signed["datesPeriodeVersement"] == "2025-04-18/2026-02-28"
    programmed = by_objet["Jardin des habitants"]
    assert programmed["dateConvention"] == "2025-03-14"  # no convention: the committee
    assert programmed["referenceDecision"] == ""
    assert programmed["conditionsVersement"] == "unique"
    assert programmed["datesPeriodeVersement"] == "2025-06-30"
    assert export.total == Decimal("27500.65")
    assert len(export.warnings) == 1
    assert "Compagnie Sans-SIRET" in export.warnings[0] and "SIREN" in export.warnings[0]


def test_csv_follows_the_schema(client, reader, world):
    client.force_login(reader)
    response = client.get(URL, {"annee": 2025, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"subventions-2025-{SIRET_PMA}.csv" in response["Content-Disposition"]
    content = response.content.decode("utf-8")
    header, rows = _csv_rows(content)
    assert len(rows) == 2
    _validate(header, [(row, None) for row in rows])
    amounts = sorted(Decimal(row["montant"]) for row in rows)
    assert amounts == [Decimal("3000.10"), Decimal("24500.55")]
    assert {row["montant"] for row in rows} == {"3000.10", "24500.55"}
    assert {row["pourcentageSubvention"] for row in rows} == {"1.00"}


def test_json_follows_the_schema(client, reader, world):
    client.force_login(reader)
    response = client.get(URL, {"annee": 2025, "format": "json"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content, parse_float=float)
    assert isinstance(data, list) and len(data) == 2
    header = list(data[0])
    _validate(header, [({k: _json_raw(v) for k, v in row.items()}, row) for row in data])
    exact = json.loads(response.content, parse_float=Decimal)
    assert sorted(row["montant"] for row in exact) == [Decimal("3000.10"), Decimal("24500.55")]


def test_a_wrong_value_fails_the_schema_check():
    """The check itself bites: a SIREN, a comma decimal, an unknown nature are refused."""
    fields = {spec["name"]: spec for spec in SCHEMA["fields"]}
    for name, raw, typed in [
        ("idBeneficiaire", "732829320", "732829320"),
        ("montant", "1000,50", 1000.5),
        ("nature", "aide", "aide"),
        ("conditionsVersement", "mensuel", "mensuel"),
        ("datesPeriodeVersement", "30/06/2025", "30/06/2025"),
        ("notificationUE", "false", "false"),
        ("nomBeneficiaire", "", ""),
    ]:
        with pytest.raises(AssertionError):
            _check_value(fields[name], raw, typed)


def test_page_previews_rows_and_warnings(client, reader, world):
    client.force_login(reader)
    response = client.get(URL, {"annee": 2025})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Jardin des habitants" in content
    assert "Compagnie Sans-SIRET" in content  # in the warnings
    assert "?annee=2025&amp;format=csv" in content


def test_no_collectivite_gives_a_clear_message(client, reader, db):
    client.force_login(reader)
    response = client.get(URL, {"annee": 2025, "format": "csv"})
    assert response.status_code == 409
    assert "Aucune organisation de type EPCI" in response.content.decode()


def test_collectivite_without_siret_gives_a_clear_message(client, reader, db):
    OrganisationFactory(nom="Agglo sans SIRET", type=Organisation.Type.EPCI)
    client.force_login(reader)
    response = client.get(URL, {"annee": 2025})
    assert "n&#x27;a pas de SIRET à 14 chiffres" in response.content.decode()


def test_the_only_epci_stands_in_for_a_missing_signatory(reader, db):
    pma = OrganisationFactory(nom="PMA", type="epci", siret=SIRET_PMA)
    assert opendata.collectivite(2025) == pma


def test_page_needs_a_login_and_is_linked_from_the_calls(client, reader, db):
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("comptes:login"))
    client.force_login(reader)
    assert client.get(URL).status_code == 200
    assert f'href="{URL}"' in client.get(reverse("cvu:aap_list")).content.decode()
