"""Engagements des signataires: the chef de service records each signatory's commitments, the
COPIL's table shows where they stand, and a steering meeting's yearly review updates them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from cvu.models import EngagementSignataire, IndicateurResultat
from tests.cvu.factories import ContratFactory, NoeudFactory, OrganisationFactory
from tests.cvu.governance_factories import InstanceFactory, ReunionFactory, TypeInstanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contrat():
    contrat = ContratFactory(nom="Engagements Quartiers 2030", annee_debut=2024, annee_fin=2030)
    contrat.signataires.set(
        [
            OrganisationFactory(nom="Préfecture du Doubs", type="etat"),
            OrganisationFactory(nom="CAF du Doubs", type="caf"),
        ]
    )
    return contrat


@pytest.fixture
def etat(contrat):
    return contrat.signataires.get(nom="Préfecture du Doubs")


@pytest.fixture
def caf(contrat):
    return contrat.signataires.get(nom="CAF du Doubs")


def _engagement(contrat, signataire, texte, **extra):
    return EngagementSignataire.objects.create(
        contrat=contrat,
        signataire=signataire,
        texte=texte,
        date_revue=extra.pop("date_revue", timezone.localdate() + timedelta(days=90)),
        **extra,
    )


@pytest.fixture
def copil_tenu(manager):
    copil = InstanceFactory(
        nom="COPIL du CVU",
        type=TypeInstanceFactory(nom="Comité de pilotage", pilotage=True),
        organisateur=manager,
    )
    return ReunionFactory(instance=copil, tenue=True, debut=timezone.now() - timedelta(days=2))


# ---------------------------------------------------------------- recording


def test_the_chef_de_service_records_a_commitment(client, manager, contrat, etat):
    objectif = NoeudFactory(contrat=contrat, niveau="objectif", code="1.1")
    indicateur = IndicateurResultat.objects.create(objectif=objectif, libelle="Taux d'emploi")
    client.force_login(manager)
    page = client.get(reverse("cvu:engagement_create", args=[contrat.pk]))
    next_year = timezone.localdate() + timedelta(days=365)
    assertContains(page, f'value="{next_year.isoformat()}"')
    response = client.post(
        reverse("cvu:engagement_create", args=[contrat.pk]),
        {
            "signataire": etat.pk,
            "texte": "Dédoubler les classes de CP en REP.",
            "objectif": objectif.pk,
            "indicateur": indicateur.pk,
            "statut": "en_cours",
            "date_revue": next_year.isoformat(),
        },
    )
    assert response.status_code == 302
    engagement = EngagementSignataire.objects.get()
    assert (engagement.contrat, engagement.signataire, engagement.indicateur) == (
        contrat,
        etat,
        indicateur,
    )


def test_only_the_contract_signatories_commit(client, manager, contrat):
    outsider = OrganisationFactory(nom="Association X", type="association")
    client.force_login(manager)
    response = client.post(
        reverse("cvu:engagement_create", args=[contrat.pk]),
        {"signataire": outsider.pk, "texte": "X", "statut": "en_cours", "date_revue": "2027-01-01"},
    )
    assert response.status_code == 400
    assert not EngagementSignataire.objects.exists()
    # The model says it too, whatever form is used.
    engagement = EngagementSignataire(
        contrat=contrat,
        signataire=outsider,
        texte="X",
        date_revue=timezone.localdate(),
        objectif=NoeudFactory(contrat=ContratFactory(), niveau="objectif"),
    )
    with pytest.raises(ValidationError) as error:
        engagement.full_clean()
    assert error.value.message_dict == {
        "signataire": ["Cette organisation n'a pas signé ce contrat."],
        "objectif": ["Cette partie de la stratégie appartient à un autre contrat."],
    }


@pytest.mark.parametrize("role", ["editor", "reader"])
def test_chefs_de_projet_and_direction_read_the_table_without_changing_it(
    client, request, role, contrat, etat, copil_tenu
):
    engagement = _engagement(contrat, etat, "Dédoubler les classes")
    client.force_login(request.getfixturevalue(role))
    page = client.get(reverse("cvu:engagement_list", args=[contrat.pk]))
    assertContains(page, "Dédoubler les classes")
    assertNotContains(page, "Nouvel engagement")
    assertNotContains(page, "Revue en instance de pilotage")
    for url in (
        reverse("cvu:engagement_create", args=[contrat.pk]),
        reverse("cvu:engagement_revue", args=[contrat.pk]),
        reverse("cvu:engagement_update", args=[engagement.pk]),
        reverse("cvu:engagement_delete", args=[engagement.pk]),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {}).status_code == 403, url
    assert EngagementSignataire.objects.count() == 1


# ---------------------------------------------------------------- the COPIL's table


def test_the_table_groups_by_signatory_filters_and_exports(client, reader, contrat, etat, caf):
    _engagement(contrat, etat, "Dédoubler les classes", statut="tenu")
    _engagement(
        contrat, caf, "Places de crèche", date_revue=timezone.localdate() - timedelta(days=1)
    )
    client.force_login(reader)
    url = reverse("cvu:engagement_list", args=[contrat.pk])
    page = client.get(url)
    body = page.content.decode()
    body = body[body.index("<table") :]
    assert (
        body.index("CAF du Doubs")
        < body.index("Places de crèche")
        < body.index("Préfecture du Doubs")
    )
    assertContains(page, "2 engagements · pas encore engagé : 1 · tenu : 1")
    assertContains(page, "à revoir", count=1)
    due = client.get(url, {"a_revoir": "on"})
    assertContains(due, "Places de crèche")
    assertNotContains(due, "Dédoubler les classes")
    export = client.get(url, {"signataire": etat.pk, "export": "csv"}).content.decode("utf-8-sig")
    assert "Dédoubler les classes" in export and "Places de crèche" not in export
    assert export.splitlines()[0].startswith("Signataire;Engagement;")


def test_the_table_costs_the_same_queries_for_two_or_twenty_commitments(
    client, reader, contrat, etat, caf, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(reader)
    url = reverse("cvu:engagement_list", args=[contrat.pk])
    counts = []
    for n in (2, 20):
        EngagementSignataire.objects.all().delete()
        for i in range(n):
            _engagement(contrat, etat if i % 2 else caf, f"Engagement {i}")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# ---------------------------------------------------------------- the yearly review


def _review_data(engagements, reunion, **rows):
    data = {
        "reunion": reunion.pk if reunion else "",
        "revue-TOTAL_FORMS": str(len(engagements)),
        "revue-INITIAL_FORMS": str(len(engagements)),
        "revue-MIN_NUM_FORMS": "0",
        "revue-MAX_NUM_FORMS": "1000",
    }
    for i, engagement in enumerate(engagements):
        data[f"revue-{i}-id"] = engagement.pk
        data[f"revue-{i}-statut"] = engagement.statut
        data[f"revue-{i}-commentaire"] = ""
        data[f"revue-{i}-date_revue"] = engagement.date_revue.isoformat()
    data.update(rows)
    return data


def test_the_review_records_each_commitment_in_the_meeting(
    client, manager, contrat, etat, caf, copil_tenu
):
    first = _engagement(contrat, caf, "Places de crèche")
    second = _engagement(contrat, etat, "Dédoubler les classes")
    client.force_login(manager)
    url = reverse("cvu:engagement_revue", args=[contrat.pk])
    assertContains(client.get(url), "COPIL du CVU")
    next_review = timezone.localdate() + timedelta(days=400)
    response = client.post(
        url,
        _review_data(
            [first, second],
            copil_tenu,
            **{
                "revue-0-statut": "partiel",
                "revue-0-commentaire": "120 places sur 200.",
                "revue-0-date_revue": next_review.isoformat(),
            },
        ),
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.statut, first.commentaire, first.date_revue, first.revue_en) == (
        "partiel",
        "120 places sur 200.",
        next_review,
        copil_tenu,
    )
    assert second.revue_en == copil_tenu and second.statut == "non_engage"
    assert first.history.count() == 2


def test_a_review_filtered_to_one_signatory_touches_only_its_commitments(
    client, manager, contrat, etat, caf, copil_tenu
):
    theirs = _engagement(contrat, etat, "Dédoubler les classes")
    other = _engagement(contrat, caf, "Places de crèche")
    client.force_login(manager)
    url = reverse("cvu:engagement_revue", args=[contrat.pk]) + f"?signataire={etat.pk}"
    page = client.get(url)
    assertNotContains(page, "Places de crèche")
    client.post(url, _review_data([theirs], copil_tenu))
    theirs.refresh_from_db()
    other.refresh_from_db()
    assert theirs.revue_en == copil_tenu and other.revue_en is None


@pytest.mark.parametrize("meeting", ["none", "future", "not_steering", "cancelled"])
def test_a_review_needs_a_steering_meeting_already_held(
    client, manager, contrat, etat, copil_tenu, meeting
):
    engagement = _engagement(contrat, etat, "Dédoubler les classes")
    reunion = {
        "none": None,
        "future": ReunionFactory(instance=copil_tenu.instance),
        "not_steering": ReunionFactory(
            instance=InstanceFactory(), tenue=True, debut=timezone.now() - timedelta(days=1)
        ),
        "cancelled": ReunionFactory(
            instance=copil_tenu.instance, annulee=True, debut=timezone.now() - timedelta(days=1)
        ),
    }[meeting]
    client.force_login(manager)
    response = client.post(
        reverse("cvu:engagement_revue", args=[contrat.pk]),
        _review_data([engagement], reunion, **{"revue-0-statut": "tenu"}),
    )
    assert response.status_code == 400
    assertContains(response, "Choisissez", status_code=400)
    engagement.refresh_from_db()
    assert engagement.statut == "non_engage" and engagement.revue_en is None


def test_a_row_error_saves_no_row(client, manager, contrat, etat, caf, copil_tenu):
    first = _engagement(contrat, caf, "Places de crèche")
    second = _engagement(contrat, etat, "Dédoubler les classes")
    client.force_login(manager)
    response = client.post(
        reverse("cvu:engagement_revue", args=[contrat.pk]),
        _review_data(
            [first, second],
            copil_tenu,
            **{"revue-0-statut": "tenu", "revue-1-date_revue": ""},
        ),
    )
    assert response.status_code == 400
    assertContains(response, "Indiquez la date de la prochaine revue.", status_code=400)
    first.refresh_from_db()
    assert first.statut == "non_engage" and first.revue_en is None
