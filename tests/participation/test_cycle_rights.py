"""The qualification cycle follows the one rule of cvu.rights (issue 12, item 4): cycles and
sessions are the managers', a council's training need is recorded by whoever follows the council."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cvu import rights
from participation.models import (
    BesoinFormation,
    ConseilCitoyen,
    CycleQualification,
    SessionFormation,
    TypeParticipation,
)
from tests.comptes.factories import UserFactory
from tests.quartiers.factories import CommuneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(db):
    return CycleQualification.objects.create(annee=2026, titre="Cycle de qualification 2026")


@pytest.fixture
def conseils(commune, outsider):
    type_ = TypeParticipation.objects.create(nom="Conseil citoyen")
    other_commune = CommuneFactory(
        code_insee="25031", nom="Audincourt", secteur=outsider.secteurs.get()
    )
    return {
        "own": ConseilCitoyen.objects.create(nom="CC Chiffogne", type=type_, commune=commune),
        "other": ConseilCitoyen.objects.create(
            nom="Conseil citoyen Champvallon", type=type_, commune=other_commune
        ),
    }


SESSION = {"theme": "Prendre la parole", "date": "2026-05-12T18:00", "capacite": "12"}


def test_the_rule_matches_editable_by(editor, manager, reader, cycle):
    admin = UserFactory(email="admin@pma.test", administrateur=True)
    for user in (editor, manager, reader, admin):
        editable = CycleQualification.objects.editable_by(user).exists()
        assert rights.may_create(user, CycleQualification) is editable
        assert rights.may_create(user, SessionFormation, parent=cycle) is editable
    assert rights.may_create(manager, CycleQualification)
    assert not rights.may_create(editor, CycleQualification)


@pytest.mark.parametrize("persona", ["editor", "reader"])
def test_a_chef_de_projet_creates_neither_cycle_nor_session(client, request, persona, cycle):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/participation/cycles/nouveau/").status_code == 403
    response = client.post("/participation/cycles/nouveau/", {"annee": "2027", "titre": "C"})
    assert response.status_code == 403
    url = f"/participation/cycles/{cycle.pk}/sessions/nouvelle/"
    assert client.get(url).status_code == 403
    assert client.post(url, SESSION).status_code == 403
    assert list(CycleQualification.objects.all()) == [cycle]
    assert not SessionFormation.objects.exists()
    page = client.get(cycle.get_absolute_url()).content.decode()
    assert "Nouvelle session" not in page
    assert "Nouveau cycle" not in client.get("/participation/cycles/").content.decode()


def test_the_chef_de_service_creates_a_session(client, manager, cycle):
    client.force_login(manager)
    response = client.post(f"/participation/cycles/{cycle.pk}/sessions/nouvelle/", SESSION)
    assert response.status_code == 302
    assert cycle.sessions.get().theme == "Prendre la parole"


def test_a_need_is_recorded_for_ones_own_council_only(client, editor, cycle, conseils):
    client.force_login(editor)
    form = client.get(cycle.get_absolute_url()).context["besoin_form"]
    assert list(form.fields["conseil"].queryset) == [conseils["own"]]
    response = client.post(
        cycle.get_absolute_url(), {"conseil": conseils["other"].pk, "besoin": "Budget"}
    )
    assert response.status_code == 400
    assert not BesoinFormation.objects.exists()
    response = client.post(
        cycle.get_absolute_url(), {"conseil": conseils["own"].pk, "besoin": "Budget"}
    )
    assert response.status_code == 302
    assert BesoinFormation.objects.get().conseil == conseils["own"]


def test_direction_records_no_need(client, reader, cycle, conseils):
    client.force_login(reader)
    response = client.post(
        cycle.get_absolute_url(), {"conseil": conseils["own"].pk, "besoin": "Budget"}
    )
    assert response.status_code == 403
    assert "Ajouter le besoin" not in client.get(cycle.get_absolute_url()).content.decode()


def test_the_session_page_of_a_cycle_still_takes_attendance(client, editor, cycle):
    session = SessionFormation.objects.create(
        cycle=cycle, theme="Budget", date=timezone.now() + timedelta(days=3)
    )
    client.force_login(editor)
    assert client.get(session.get_absolute_url()).status_code == 200
