"""Council members' attendance grids: steering meetings and training sessions."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from cvu.models import Instance, Reunion, TypeInstance
from participation.models import (
    ConseilCitoyen,
    CycleQualification,
    Inscription,
    Membre,
    PresenceMembre,
    SessionFormation,
    TypeParticipation,
)
from tests.presences import grid_data
from tests.quartiers.factories import CommuneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conseil(commune):
    type_ = TypeParticipation.objects.create(nom="Conseil citoyen")
    return ConseilCitoyen.objects.create(nom="CC Chiffogne", type=type_, commune=commune)


def _membre(conseil, n=0, **fields):
    return Membre.objects.create(
        conseil=conseil,
        prenom=f"Prénom{n}",
        nom=f"Nom{n}",
        college="habitants",
        genre="femme",
        tranche_age="40_59",
        designation="volontaire",
        mandat_debut=date(2025, 1, 1),
        base_legale="mission_publique",
        **fields,
    )


@pytest.fixture
def copil_meeting():
    instance = Instance.objects.create(
        nom="COPIL du CVU",
        echelle="intercommunale",
        type=TypeInstance.objects.create(nom="Comité de pilotage", pilotage=True),
    )
    start = timezone.now() - timedelta(days=3)
    return Reunion.objects.create(
        instance=instance, debut=start, fin=start + timedelta(hours=2), statut="tenue"
    )


@pytest.fixture
def session():
    cycle = CycleQualification.objects.create(annee=2026, titre="Cycle 2026")
    return SessionFormation.objects.create(
        cycle=cycle, theme="Animer une réunion", date=timezone.now() + timedelta(days=3)
    )


def _steering(reunion):
    return f"/participation/presences/{reunion.pk}/"


# ------------------------------------------------------------- steering meetings


def test_steering_grid_records_only_changed_rows(client, editor, conseil, copil_meeting):
    first = _membre(conseil, 1)
    _membre(conseil, pk=1500)
    PresenceMembre.objects.create(reunion=copil_meeting, membre=first, statut="excuse")
    client.force_login(editor)
    page = client.get(_steering(copil_meeting))
    assert 'id="m-1500-present"' in page.content.decode()
    response = client.post(_steering(copil_meeting), grid_data(page, {"m-1500": "present"}))
    assert response.status_code == 302
    assert dict(PresenceMembre.objects.values_list("membre_id", "statut")) == {
        first.pk: "excuse",
        1500: "present",
    }


def test_a_member_of_a_council_one_does_not_follow_is_refused(
    client, editor, conseil, copil_meeting
):
    mine = _membre(conseil)
    other_commune_council = ConseilCitoyen.objects.create(
        nom="CC ailleurs", type=conseil.type, commune=CommuneFactory(code_insee="25031")
    )
    hidden = _membre(other_commune_council, 9)
    client.force_login(editor)
    page = client.get(_steering(copil_meeting))
    assert [f.attendee.key for f in page.context["formset"].forms] == [f"m-{mine.pk}"]
    data = grid_data(page, {f"m-{mine.pk}": "present"})
    data["presences-0-personne"] = f"m-{hidden.pk}"
    response = client.post(_steering(copil_meeting), data)
    assert response.status_code == 400
    assert "n&#x27;est pas dans la liste" in response.content.decode()
    assert not PresenceMembre.objects.exists()


def test_a_tampered_steering_grid_saves_nothing(client, editor, conseil, copil_meeting):
    membres = [_membre(conseil, n) for n in range(3)]
    client.force_login(editor)
    page = client.get(_steering(copil_meeting))
    data = grid_data(
        page, {f"m-{m.pk}": "present" for m in membres}, **{"presences-TOTAL_FORMS": "2"}
    )
    response = client.post(_steering(copil_meeting), data)
    assert response.status_code == 400
    assert "La liste des personnes a changé" in response.content.decode()
    assert not PresenceMembre.objects.exists()


def test_steering_attendance_stays_closed_to_outsiders(client, outsider, conseil, copil_meeting):
    membre = _membre(conseil)
    client.force_login(outsider)
    assert client.get(_steering(copil_meeting)).status_code == 403
    response = client.post(
        _steering(copil_meeting),
        {
            "presences-TOTAL_FORMS": "1",
            "presences-INITIAL_FORMS": "1",
            "presences-0-personne": f"m-{membre.pk}",
            "presences-0-statut": "present",
        },
    )
    assert response.status_code == 403
    assert not PresenceMembre.objects.exists()


# ------------------------------------------------------------- training sessions


def test_session_grid_invites_marks_and_takes_members_off(client, editor, conseil, session):
    staying, leaving, new = _membre(conseil, 1), _membre(conseil, 2), _membre(conseil, pk=2001)
    Inscription.objects.create(session=session, membre=staying, presence="invite")
    Inscription.objects.create(session=session, membre=leaving, presence="invite")
    client.force_login(editor)
    page = client.get(session.get_absolute_url())
    html = page.content.decode()
    assert 'id="m-2001-non_inscrit"' in html
    assert "Non inscrit" in html
    statuses = {f"m-{staying.pk}": "present", f"m-{leaving.pk}": "non_inscrit", "m-2001": "invite"}
    response = client.post(session.get_absolute_url(), grid_data(page, statuses))
    assert response.status_code == 302
    assert dict(Inscription.objects.values_list("membre_id", "presence")) == {
        staying.pk: "present",
        new.pk: "invite",
    }


def test_a_session_row_without_status_is_refused_not_read_as_removal(
    client, editor, conseil, session
):
    membre = _membre(conseil)
    Inscription.objects.create(session=session, membre=membre, presence="present")
    client.force_login(editor)
    data = grid_data(client.get(session.get_absolute_url()))
    del data["presences-0-statut"]
    response = client.post(session.get_absolute_url(), data)
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in response.content.decode()
    assert Inscription.objects.get().presence == "present"


def test_a_tampered_session_grid_saves_nothing(client, editor, conseil, session):
    first, second = _membre(conseil, 1), _membre(conseil, 2)
    client.force_login(editor)
    page = client.get(session.get_absolute_url())
    data = grid_data(page, {f"m-{first.pk}": "present", f"m-{second.pk}": "venu"})
    response = client.post(session.get_absolute_url(), data)
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()
    data = grid_data(page, {f"m-{first.pk}": "present"}, **{"presences-TOTAL_FORMS": "9"})
    response = client.post(session.get_absolute_url(), data)
    assert response.status_code == 400
    assert "plus de lignes que de personnes" in response.content.decode()
    assert not Inscription.objects.exists()


def test_an_evaluation_is_still_added_beside_the_grid(client, editor, conseil, session):
    _membre(conseil)
    client.force_login(editor)
    response = client.post(
        session.get_absolute_url(), {"form": "evaluation", "note": "5", "commentaire": "Utile"}
    )
    assert response.status_code == 302
    assert session.evaluations.get().note == 5
    assert not Inscription.objects.exists()
