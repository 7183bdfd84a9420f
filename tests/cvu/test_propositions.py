"""Propositions de réorientation: written by a chef de projet, put on an instance's agenda, closed
by the meeting's decision (accepted, amended, refused) with its follow-ups."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from cvu import rights
from cvu.models import (
    Decision,
    PointOrdreDuJour,
    PropositionReorientation,
    Reunion,
    SuiteADonner,
)
from tests.cvu.factories import ContratFactory, NoeudFactory
from tests.cvu.governance_factories import InstanceFactory, ReunionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contrat():
    return ContratFactory(nom="Engagements Quartiers 2030", annee_debut=2024, annee_fin=2030)


@pytest.fixture
def copil(manager):
    return InstanceFactory(nom="COPIL du CVU", organisateur=manager)


@pytest.fixture
def prochain(copil):
    """The COPIL's next meeting, a week from now."""
    return ReunionFactory(instance=copil)


@pytest.fixture
def proposition(contrat, editor):
    return PropositionReorientation.objects.create(
        contrat=contrat,
        objet="Ouvrir l'accompagnement scolaire aux collégiens",
        motifs="Le décrochage commence au collège.",
        auteur=editor,
    )


def _inscrite(proposition, reunion):
    proposition.point = PointOrdreDuJour.objects.create(
        reunion=reunion, ordre=1, texte="Proposition"
    )
    proposition.save()
    return proposition


def _commencee(reunion):
    reunion.debut = timezone.now() - timedelta(hours=1)
    reunion.fin = timezone.now() + timedelta(hours=1)
    reunion.save()
    return reunion


# ---------------------------------------------------------------- writing


def test_a_chef_de_projet_writes_a_proposal_with_its_evidence(client, editor, contrat):
    objectif = NoeudFactory(contrat=contrat, niveau="objectif", code="1.1.1", libelle="Scolarité")
    autre = NoeudFactory(contrat=ContratFactory(), niveau="objectif", code="9.9")
    client.force_login(editor)
    page = client.get(reverse("cvu:proposition_create"))
    assertContains(page, "Scolarité")
    assertNotContains(page, f'value="{autre.pk}"')
    response = client.post(
        reverse("cvu:proposition_create"),
        {"objet": "Ouvrir aux collégiens", "motifs": "Constats.", "objectif": objectif.pk},
    )
    proposition = PropositionReorientation.objects.get()
    assert response.status_code == 302 and response["Location"] == proposition.get_absolute_url()
    assert (proposition.auteur, proposition.contrat, proposition.objectif) == (
        editor,
        contrat,
        objectif,
    )
    assert proposition.etat == "En préparation"


def test_a_proposal_without_object_or_motives_is_refused_with_french_messages(
    client, editor, contrat
):
    client.force_login(editor)
    response = client.post(reverse("cvu:proposition_create"), {"objet": "", "motifs": ""})
    assert response.status_code == 400
    assertContains(response, "Ce champ est obligatoire.", status_code=400)
    assert not PropositionReorientation.objects.exists()


def test_an_objective_of_another_contract_is_refused(client, editor, contrat):
    autre = NoeudFactory(contrat=ContratFactory(), niveau="objectif")
    client.force_login(editor)
    response = client.post(
        reverse("cvu:proposition_create"),
        {"objet": "X", "motifs": "Y", "objectif": autre.pk},
    )
    assert response.status_code == 400
    assert not PropositionReorientation.objects.exists()


# ---------------------------------------------------------------- the agenda


def test_putting_a_proposal_on_the_agenda_adds_an_item_last(client, editor, proposition, prochain):
    PointOrdreDuJour.objects.create(reunion=prochain, ordre=4, texte="Programmation")
    client.force_login(editor)
    page = client.get(reverse("cvu:proposition_inscrire", args=[proposition.pk]))
    assertContains(page, "COPIL du CVU")
    response = client.post(
        reverse("cvu:proposition_inscrire", args=[proposition.pk]), {"reunion": prochain.pk}
    )
    assert response.status_code == 302
    proposition.refresh_from_db()
    assert proposition.point.reunion == prochain
    assert proposition.point.ordre == 5
    assert proposition.point.texte == (
        "Proposition de réorientation : Ouvrir l'accompagnement scolaire aux collégiens"
    )
    assert proposition.etat == "Inscrite à l'ordre du jour"
    assertContains(
        client.get(prochain.get_absolute_url()), "accompagnement scolaire aux collégiens"
    )


def test_moving_to_another_meeting_leaves_one_item(editor, proposition, prochain, copil):
    from cvu import propositions

    suivant = ReunionFactory(instance=copil, debut=prochain.debut + timedelta(days=30))
    propositions.inscrire(proposition, prochain, user=editor)
    propositions.inscrire(proposition, suivant, user=editor)
    assert list(PointOrdreDuJour.objects.values_list("reunion", flat=True)) == [suivant.pk]


@pytest.mark.parametrize(
    "kind", ["passee", "annulee", "inactive"], ids=["past", "cancelled", "inactive instance"]
)
def test_only_upcoming_meetings_of_active_instances_are_offered(
    client, editor, proposition, copil, prochain, kind
):
    if kind == "passee":
        reunion = ReunionFactory(instance=copil, debut=timezone.now() - timedelta(days=2))
    elif kind == "annulee":
        reunion = ReunionFactory(instance=copil, annulee=True)
    else:
        reunion = ReunionFactory(instance=InstanceFactory(active=False))
    client.force_login(editor)
    response = client.post(
        reverse("cvu:proposition_inscrire", args=[proposition.pk]), {"reunion": reunion.pk}
    )
    assert response.status_code == 400
    assertContains(response, "Choisissez une réunion à venir dans la liste.", status_code=400)
    assert not PointOrdreDuJour.objects.exists()


def test_with_no_meeting_to_come_the_page_says_what_to_do(client, editor, proposition):
    client.force_login(editor)
    page = client.get(reverse("cvu:proposition_inscrire", args=[proposition.pk]))
    assertContains(page, "Aucune réunion à venir n'est prévue.")


def test_a_proposal_postponed_by_a_held_meeting_moves_to_the_next(
    client, editor, proposition, prochain, copil
):
    _commencee(_inscrite(proposition, prochain).point.reunion)
    suivant = ReunionFactory(instance=copil, debut=timezone.now() + timedelta(days=40))
    client.force_login(editor)
    client.post(reverse("cvu:proposition_inscrire", args=[proposition.pk]), {"reunion": suivant.pk})
    proposition.refresh_from_db()
    assert proposition.point.reunion == suivant
    # The held meeting's agenda keeps the item it discussed.
    assert set(PointOrdreDuJour.objects.values_list("reunion", flat=True)) == {
        prochain.pk,
        suivant.pk,
    }


def test_taking_the_item_off_the_agenda_before_the_meeting(client, editor, proposition, prochain):
    _inscrite(proposition, prochain)
    client.force_login(editor)
    client.post(reverse("cvu:proposition_retirer", args=[proposition.pk]))
    proposition.refresh_from_db()
    assert proposition.point is None and not PointOrdreDuJour.objects.exists()


def test_once_the_meeting_is_held_the_item_stays(client, editor, proposition, prochain):
    _inscrite(proposition, prochain)
    prochain.statut = Reunion.Statut.TENUE
    prochain.save()
    client.force_login(editor)
    response = client.post(reverse("cvu:proposition_retirer", args=[proposition.pk]))
    assert response.status_code == 403
    response = client.post(reverse("cvu:proposition_delete", args=[proposition.pk]))
    assert response.status_code == 403
    assert PointOrdreDuJour.objects.count() == 1 and PropositionReorientation.objects.exists()


def test_the_organiser_deleting_the_item_puts_the_proposal_back_in_preparation(
    proposition, prochain
):
    _inscrite(proposition, prochain)
    PointOrdreDuJour.objects.all().delete()
    proposition.refresh_from_db()
    assert proposition.etat == "En préparation"


def test_deleting_a_proposal_takes_its_item_off_a_coming_agenda(
    client, editor, proposition, prochain
):
    _inscrite(proposition, prochain)
    client.force_login(editor)
    assertContains(
        client.get(reverse("cvu:proposition_delete", args=[proposition.pk])),
        "sera supprimée définitivement",
    )
    client.post(reverse("cvu:proposition_delete", args=[proposition.pk]))
    assert not PropositionReorientation.objects.exists() and not PointOrdreDuJour.objects.exists()


# ---------------------------------------------------------------- the decision


def _decide(client, proposition, **extra):
    data = {
        "issue": "amendee",
        "texte": "Ouverture aux 6e et 5e seulement.",
        "suites-TOTAL_FORMS": "1",
        "suites-INITIAL_FORMS": "0",
        "suites-MIN_NUM_FORMS": "0",
        "suites-MAX_NUM_FORMS": "1000",
        "suites-0-statut": "a_faire",  # the select's default, sent by the browser
        **extra,
    }
    return client.post(reverse("cvu:proposition_decider", args=[proposition.pk]), data)


def test_the_meeting_decision_closes_the_proposal_with_its_follow_ups(
    client, manager, editor, proposition, prochain
):
    _commencee(_inscrite(proposition, prochain).point.reunion)
    client.force_login(manager)
    assertContains(client.get(prochain.get_absolute_url()), "Enregistrer la décision")
    echeance = timezone.localdate() + timedelta(days=30)
    response = _decide(
        client,
        proposition,
        **{
            "suites-0-quoi": "Modifier le cahier des charges",
            "suites-0-responsable": manager.pk,
            "suites-0-echeance": echeance.isoformat(),
            "suites-0-statut": "a_faire",
        },
    )
    assert response.status_code == 302
    proposition.refresh_from_db()
    assert (proposition.issue, proposition.decidee_par) == ("amendee", manager)
    decision = proposition.decision
    assert decision.reunion == prochain
    assert decision.texte == (
        "Proposition de réorientation « Ouvrir l'accompagnement scolaire aux collégiens » : "
        "acceptée avec modifications. Ouverture aux 6e et 5e seulement."
    )
    suite = SuiteADonner.objects.get()
    assert (suite.reunion, suite.decision, suite.echeance) == (prochain, decision, echeance)
    page = client.get(proposition.get_absolute_url())
    assertContains(page, "Acceptée avec modifications")
    assertContains(page, "Modifier le cahier des charges")
    assertContains(client.get(prochain.get_absolute_url()), "Ouverture aux 6e et 5e seulement.")
    # Closed: nobody rewrites it, nor decides it again.
    client.force_login(editor)
    assert client.get(reverse("cvu:proposition_update", args=[proposition.pk])).status_code == 403
    client.force_login(manager)
    assert _decide(client, proposition).status_code == 403
    assert Decision.objects.count() == 1


def test_a_decision_needs_an_outcome_and_its_terms(client, manager, proposition, prochain):
    _commencee(_inscrite(proposition, prochain).point.reunion)
    client.force_login(manager)
    response = _decide(client, proposition, issue="", texte="")
    assert response.status_code == 400
    assertContains(response, "Indiquez ce que l&#x27;instance a décidé.", status_code=400)
    assertContains(response, "Rédigez la décision", status_code=400)
    assert not Decision.objects.exists()


def test_a_bad_follow_up_saves_nothing(client, manager, proposition, prochain):
    _commencee(_inscrite(proposition, prochain).point.reunion)
    client.force_login(manager)
    response = _decide(client, proposition, **{"suites-0-quoi": "Sans responsable"})
    assert response.status_code == 400
    proposition.refresh_from_db()
    assert proposition.issue == "" and not Decision.objects.exists()


def test_the_minutes_page_does_not_rewrite_a_proposal_decision(
    client, manager, proposition, prochain
):
    _commencee(_inscrite(proposition, prochain).point.reunion)
    client.force_login(manager)
    _decide(client, proposition)
    page = client.get(reverse("cvu:reunion_cloture", args=[prochain.pk]))
    assertContains(page, "Décisions sur les propositions de réorientation")
    assertContains(page, 'name="decisions-TOTAL_FORMS" value="1"')  # the empty row only
    response = client.post(
        reverse("cvu:reunion_cloture", args=[prochain.pk]),
        {
            "statut": "tenue",
            "compte_rendu": "CR",
            "decisions-TOTAL_FORMS": "0",
            "decisions-INITIAL_FORMS": "0",
            "suites-TOTAL_FORMS": "0",
            "suites-INITIAL_FORMS": "1",
        },
    )
    assert response.status_code == 302
    proposition.refresh_from_db()
    assert proposition.decision is not None


def test_a_decided_proposal_carries_its_decision(proposition, prochain):
    proposition.issue = "acceptee"
    with pytest.raises(IntegrityError), transaction.atomic():
        proposition.save()


# ---------------------------------------------------------------- rights

ROLES = ["author", "other_cdp", "manager", "reader"]
STATES = ["preparation", "on_coming_agenda", "meeting_begun", "decided"]

# Who may do what, per state: edit (and delete), put on the agenda, decide.
EXPECTED = {
    ("author", "preparation"): {"edit", "agenda"},
    ("author", "on_coming_agenda"): {"edit", "agenda"},
    ("author", "meeting_begun"): {"edit", "agenda"},  # postponed to a later meeting
    ("author", "decided"): set(),
    ("other_cdp", "preparation"): set(),
    ("other_cdp", "on_coming_agenda"): set(),
    ("other_cdp", "meeting_begun"): set(),
    ("other_cdp", "decided"): set(),
    ("manager", "preparation"): {"edit", "agenda"},
    ("manager", "on_coming_agenda"): {"edit", "agenda"},
    ("manager", "meeting_begun"): {"edit", "agenda", "decide"},
    ("manager", "decided"): set(),
    ("reader", "preparation"): set(),
    ("reader", "on_coming_agenda"): set(),
    ("reader", "meeting_begun"): set(),
    ("reader", "decided"): set(),
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_rights_matrix(
    client, role, state, editor, outsider, manager, reader, proposition, prochain, copil
):
    user = {"author": editor, "other_cdp": outsider, "manager": manager, "reader": reader}[role]
    ReunionFactory(instance=copil, debut=prochain.debut + timedelta(days=30))  # always offered
    if state != "preparation":
        _inscrite(proposition, prochain)
    if state in ("meeting_begun", "decided"):
        _commencee(prochain)
    if state == "decided":
        proposition.decision = Decision.objects.create(reunion=prochain, texte="Acceptée.")
        proposition.issue = "acceptee"
        proposition.save()
    expected = EXPECTED[(role, state)]
    assert rights.may_change(user, proposition) == ("edit" in expected)
    assert rights.agenda_open_to(user, proposition).exists() == ("agenda" in expected)
    assert rights.may_decide_proposition(user, proposition) == ("decide" in expected)
    # The views answer as the helper does.
    client.force_login(user)
    pages = {
        "edit": reverse("cvu:proposition_update", args=[proposition.pk]),
        "decide": reverse("cvu:proposition_decider", args=[proposition.pk]),
    }
    for step, url in pages.items():
        assert client.get(url).status_code == (200 if step in expected else 403), (step, url)
    detail = client.get(proposition.get_absolute_url())
    assert detail.status_code == 200
    assert ("Enregistrer la décision" in detail.content.decode()) == ("decide" in expected)


def test_only_writers_create_proposals(client, reader, editor):
    assert rights.may_create(editor, PropositionReorientation)
    assert not rights.may_create(reader, PropositionReorientation)
    client.force_login(reader)
    assert client.get(reverse("cvu:proposition_create")).status_code == 403


def test_the_service_refuses_a_decision_from_someone_else(editor, outsider, proposition, prochain):
    from django.core.exceptions import PermissionDenied

    from cvu import propositions
    from cvu.forms_gouvernance import SuiteFormSet

    _commencee(_inscrite(proposition, prochain).point.reunion)
    suites = SuiteFormSet(instance=prochain, prefix="suites")
    for user in (editor, outsider):
        with pytest.raises(PermissionDenied):
            propositions.decider(
                proposition, issue="refusee", texte="Non.", suites=suites, user=user
            )
    assert not Decision.objects.exists()


# ---------------------------------------------------------------- the list


def test_the_list_filters_by_state_and_exports(client, reader, proposition, contrat, editor):
    PropositionReorientation.objects.create(
        contrat=contrat, objet="Autre idée", motifs="…", auteur=editor
    )
    decided = PropositionReorientation.objects.create(
        contrat=contrat, objet="Décidée", motifs="…", auteur=editor
    )
    decided.decision = Decision.objects.create(
        reunion=ReunionFactory(tenue=True), texte="Refusée, faute de crédits."
    )
    decided.issue = "refusee"
    decided.save()
    client.force_login(reader)
    page = client.get(reverse("cvu:proposition_list"), {"etat": "refusee"})
    assertContains(page, "Décidée")
    assertNotContains(page, "Autre idée")
    assertNotContains(page, "Nouvelle proposition")
    export = client.get(reverse("cvu:proposition_list"), {"etat": "preparation", "export": "csv"})
    body = export.content.decode("utf-8-sig")
    assert "Autre idée" in body and "Décidée" not in body
    assert body.splitlines()[0].startswith("Objet;Auteur")
