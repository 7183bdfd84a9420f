"""Programmes, organisations and contracts: pages, rights and query counts."""

from decimal import Decimal

import pytest

from cvu.models import Contact, Organisation, ProgrammeActions
from tests.cvu.factories import (
    ActionFactory,
    ContactFactory,
    FinancementFactory,
    IndicateurActionFactory,
    NoeudFactory,
    OrganisationFactory,
    ProgrammeFactory,
)
from tests.quartiers.factories import QpvFactory

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------- programmes


@pytest.fixture
def programme(contrat, secteur, commune):
    programme = ProgrammeFactory(contrat=contrat, nom="Programme 2026 Montbéliard", secteur=secteur)
    programme.communes.set([commune])
    return programme


def test_programme_rights_per_role(programme, editor, outsider, reader, manager):
    assert list(ProgrammeActions.objects.editable_by(editor)) == [programme]
    assert list(ProgrammeActions.objects.editable_by(manager)) == [programme]
    assert not ProgrammeActions.objects.editable_by(outsider).exists()
    assert not ProgrammeActions.objects.editable_by(reader).exists()


def test_actions_of_a_sector_programme_are_editable_by_its_chef(programme, editor, contrat):
    action = ActionFactory(contrat=contrat, programme=programme)
    assert list(type(action).objects.editable_by(editor)) == [action]


def test_programme_page_totals_by_axe_qpv_and_funder(client, reader, programme, qpv, axe, objectif):
    action = ActionFactory(contrat=programme.contrat, programme=programme, qpvs=[qpv])
    action.objectifs.set([objectif])
    caf = OrganisationFactory(nom="CAF du Doubs", type="caf")
    FinancementFactory(action=action, financeur=caf, montant_demande=1000, montant_vote=900)
    FinancementFactory(action=action, montant_demande=500, montant_vote=None)
    client.force_login(reader)
    response = client.get(programme.get_absolute_url())
    assert response.status_code == 200
    assert dict(response.context["par_axe"])[axe] == {
        "demande": Decimal("1500.00"),
        "vote": Decimal("900.00"),
    }
    assert dict(response.context["par_qpv"])[qpv]["demande"] == Decimal("1500.00")
    assert dict(response.context["par_financeur"])[caf]["vote"] == Decimal("900.00")
    assert "Valider le programme" not in response.content.decode()


def test_only_the_chef_de_service_validates(client, editor, manager, programme):
    client.force_login(editor)
    assert client.post(f"/actions/programmes/{programme.pk}/valider/").status_code == 403
    client.force_login(manager)
    assert client.post(f"/actions/programmes/{programme.pk}/valider/").status_code == 302
    programme.refresh_from_db()
    assert (programme.statut, programme.valide_par) == ("valide", manager)
    # Once validated, its chef de projet no longer edits the frame; the service may reopen.
    client.force_login(editor)
    assert client.get(f"/actions/programmes/{programme.pk}/modifier/").status_code == 403
    client.force_login(manager)
    client.post(f"/actions/programmes/{programme.pk}/valider/", {"reopen": "1"})
    programme.refresh_from_db()
    assert programme.statut == "brouillon"


def test_chef_de_projet_creates_a_programme_for_their_sector(client, editor, contrat, secteur):
    client.force_login(editor)
    data = {
        "contrat": contrat.pk,
        "nom": "Programme 2027",
        "type": "annuel",
        "annee_debut": "2027",
        "secteur": secteur.pk,
    }
    assert client.post("/actions/programmes/nouveau/", data).status_code == 302
    assert ProgrammeActions.objects.get().nom == "Programme 2027"


def test_programme_outside_the_sector_is_refused(client, outsider, contrat, secteur):
    client.force_login(outsider)
    data = {
        "contrat": contrat.pk,
        "nom": "X",
        "type": "annuel",
        "annee_debut": "2027",
        "secteur": secteur.pk,
    }
    response = client.post("/actions/programmes/nouveau/", data)
    assert response.status_code == 400
    assert "ne relèverait plus de votre secteur" in response.content.decode()
    assert not ProgrammeActions.objects.exists()


def test_multi_year_programme_needs_an_end_after_its_start(client, manager, contrat):
    client.force_login(manager)
    data = {
        "contrat": contrat.pk,
        "nom": "CPO",
        "type": "pluriannuel",
        "annee_debut": "2026",
        "annee_fin": "2025",
    }
    response = client.post("/actions/programmes/nouveau/", data)
    assert response.status_code == 400
    assert "programme pluriannuel finit après son année de début" in response.content.decode()


def test_programme_list_filters(client, reader, programme, contrat):
    ProgrammeFactory(contrat=contrat, nom="Autre", annee_debut=2025)
    client.force_login(reader)
    response = client.get("/actions/programmes/", {"annee": "2026"})
    assert [p.nom for p in response.context["page_obj"]] == ["Programme 2026 Montbéliard"]


# ------------------------------------------------------------- organisations


def test_organisation_page_shows_amounts_received_and_granted(client, reader, action, etat):
    client.force_login(reader)
    response = client.get(action.porteur.get_absolute_url())
    assert response.status_code == 200
    assert list(response.context["received"]) == [
        {
            "annee": 2026,
            "demande": Decimal("6000.00"),
            "vote": Decimal("5000.00"),
            "verse": Decimal("0.00"),
        }
    ]
    response = client.get(etat.get_absolute_url())
    assert response.context["funded"][0]["nb"] == 1


def test_chef_de_projet_creates_an_organisation_with_contacts(client, editor):
    client.force_login(editor)
    data = {
        "nom": "Association des locataires",
        "type": "association",
        "siret": "732 829 320 00074",
        "rna": "w251002345",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-0-prenom": "Inès",
        "contacts-0-nom": "Durand",
        "contacts-0-email": "ines.durand@exemple.fr",
    }
    response = client.post("/organisations/nouvelle/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    organisation = Organisation.objects.get()
    assert (organisation.siret, organisation.rna) == ("73282932000074", "W251002345")
    assert Contact.objects.get().organisation == organisation


def test_bad_siret_is_refused_in_french(client, editor):
    client.force_login(editor)
    data = {
        "nom": "X",
        "type": "association",
        "siret": "73282932000075",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
    }
    response = client.post("/organisations/nouvelle/", data)
    assert response.status_code == 400
    assert "La clé de contrôle de ce numéro SIRET est fausse" in response.content.decode()
    assert not Organisation.objects.exists()


def test_direction_cannot_edit_organisations(client, reader, etat):
    client.force_login(reader)
    assert client.get("/organisations/nouvelle/").status_code == 403
    assert client.get(f"/organisations/{etat.pk}/modifier/").status_code == 403


def test_organisation_list_filters_by_role(client, reader, action, etat):
    OrganisationFactory(nom="Sans rôle")
    client.force_login(reader)
    response = client.get("/organisations/", {"role": "financeur"})
    assert [o.nom for o in response.context["page_obj"]] == [etat.nom]
    response = client.get("/organisations/", {"role": "porteur"})
    assert [o.nom for o in response.context["page_obj"]] == ["Centre social des Buis"]


# ------------------------------------------------------------- contracts


def test_contract_tree_rolls_amounts_up_to_the_axe(client, reader, action, axe, objectif, contrat):
    orientation = NoeudFactory(contrat=contrat, parent=axe, niveau="orientation", code="1.2")
    deep = NoeudFactory(contrat=contrat, parent=orientation, niveau="objectif", code="1.2.1")
    other = ActionFactory(contrat=contrat)
    other.objectifs.set([deep])
    FinancementFactory(action=other, montant_demande=100, montant_vote=100)
    client.force_login(reader)
    response = client.get(contrat.get_absolute_url())
    root = response.context["tree"][0]
    assert root["node"] == axe
    assert root["vote"] == Decimal("5100.00")
    assert [c["node"] for c in root["children"]] == [objectif, orientation]
    response = client.get(contrat.get_absolute_url(), {"annee": "2025"})
    assert response.context["tree"][0]["vote"] == 0


def test_contract_page_counts_votes_as_the_dashboard(client, reader, action, objectif, contrat):
    """A refused dossier's vote left on its line counts for nothing, as in cvu.figures."""
    refused = ActionFactory(contrat=contrat, statut="refuse")
    refused.objectifs.set([objectif])
    FinancementFactory(action=refused, montant_demande=700, montant_vote=700)
    loose = ActionFactory(contrat=contrat, statut="refuse")
    FinancementFactory(action=loose, montant_demande=300, montant_vote=300)
    client.force_login(reader)
    response = client.get(contrat.get_absolute_url())
    assert response.context["tree"][0]["vote"] == Decimal("5000.00")
    assert response.context["tree"][0]["demande"] == Decimal("6700.00")
    assert response.context["totals"]["vote"] == Decimal("5000.00")
    assert response.context["sans_objectif"]["vote"] == 0
    assert response.context["sans_objectif"]["demande"] == Decimal("300.00")


# ------------------------------------------------------------- query counts


def _actions(size, contrat, qpv, etat, objectif):
    for _ in range(size):
        action = ActionFactory(contrat=contrat, qpvs=[qpv, QpvFactory()])
        action.objectifs.set([objectif])
        for year in range(2026, 2028):
            FinancementFactory(action=action, financeur=etat, annee=year)
        IndicateurActionFactory(action=action)
        ContactFactory(organisation=action.porteur)


@pytest.mark.parametrize("size", [2, 50])
def test_action_list_queries(
    client, reader, contrat, qpv, etat, objectif, size, django_assert_num_queries
):
    _actions(size, contrat, qpv, etat, objectif)
    client.force_login(reader)
    # session, user, count, rows with totals, QPVs, the data's version and the totals (kept
    # for that version: core.versions), and the choices of 10 filters
    with django_assert_num_queries(17):
        assert client.get("/actions/").status_code == 200


@pytest.mark.parametrize("size", [2, 50])
def test_action_export_queries(
    client, reader, contrat, qpv, etat, objectif, size, django_assert_num_queries
):
    _actions(size, contrat, qpv, etat, objectif)
    client.force_login(reader)
    # session, user, row count (queued above the export threshold), rows with totals, QPVs
    with django_assert_num_queries(5):
        assert client.get("/actions/", {"export": "xlsx"}).status_code == 200


@pytest.mark.parametrize("lines", [1, 10])
def test_action_detail_queries(client, editor, action, lines, django_assert_num_queries):
    for year in range(2030, 2030 + lines):
        FinancementFactory(action=action, annee=year)
        IndicateurActionFactory(action=action)
    client.force_login(editor)
    # session, user, action, QPVs, tags, indicators, objectives, lines, documents, edit right,
    # action history, lines history, names of porteur/contract/referent/funders in history,
    # the porteur's missing or expired pieces (cvu.pieces), the collectivité and the convention
    # (cvu.conventions), lines, payments and clawbacks (cvu.payments)
    with django_assert_num_queries(22):
        assert client.get(action.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("size", [2, 20])
def test_organisation_pages_queries(
    client, reader, contrat, qpv, etat, objectif, size, django_assert_num_queries
):
    _actions(size, contrat, qpv, etat, objectif)
    client.force_login(reader)
    with django_assert_num_queries(4):  # session, user, count, rows with their totals
        assert client.get("/organisations/").status_code == 200
    # constant: session, user, organisation and contacts, carried actions, amounts, edit right,
    # intentions and échanges (cvu.intentions), administrative pieces (cvu.pieces), amounts per
    # funder and year (cvu.payments), late bilans, derogations, instruction opinions
    with django_assert_num_queries(14):
        assert client.get(etat.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("size", [2, 20])
def test_programme_and_contract_pages_queries(
    client, reader, programme, qpv, etat, objectif, size, django_assert_num_queries
):
    for _ in range(size):
        action = ActionFactory(contrat=programme.contrat, programme=programme, qpvs=[qpv])
        action.objectifs.set([objectif])
        FinancementFactory(action=action, financeur=etat)
    client.force_login(reader)
    # session, user, count, rows, communes, contract and sector filter choices
    with django_assert_num_queries(7):
        assert client.get("/actions/programmes/").status_code == 200
    with django_assert_num_queries(9):
        assert client.get(programme.get_absolute_url()).status_code == 200
    # ... with the data's version before the amounts per objective (core.versions)
    with django_assert_num_queries(10):
        assert client.get(programme.contrat.get_absolute_url()).status_code == 200
