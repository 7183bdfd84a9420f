"""Meeting invitations: who may send them, the e-mails and their .ics, the meeting fragment."""

import datetime

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from pytest_django.asserts import assertContains, assertNotContains

from cvu.invitations import reunion_send_invitations
from cvu.models import Reunion
from tests.comptes.factories import UserFactory
from tests.cvu.factories import ContactFactory, OrganisationFactory
from tests.cvu.governance_factories import InstanceFactory, ReunionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def groupe(commune):
    """A communal instance of the editor's sector."""
    return InstanceFactory(nom="GTC Montbéliard", communale=True, communes=[commune])


@pytest.fixture
def reunion(groupe, editor):
    """A meeting with an agent and two partners invited, one of them without an e-mail."""
    reunion = ReunionFactory(
        instance=groupe,
        debut=timezone.make_aware(datetime.datetime(2026, 12, 8, 9, 0)),
        titre="Préparation du COPIL",
        lieu="Mairie de Montbéliard",
    )
    reunion.points.create(texte="Bilan des actions 2026", ordre=1)
    reunion.points.create(texte="Appel à projets 2027", ordre=2)
    centre_social = OrganisationFactory(nom="Centre social des Buis")
    reunion.invites_contacts.set(
        [
            ContactFactory(email="anne@exemple.fr", organisation=centre_social),
            ContactFactory(email="", organisation=centre_social),
        ]
    )
    reunion.invites_utilisateurs.set([editor])
    return reunion


def _inviter(reunion):
    return reverse("cvu:reunion_inviter", args=[reunion.pk])


def _ics(message):
    (attachment,) = message.attachments
    name, content, mimetype = attachment
    assert name == "invitation.ics"
    return Calendar.from_ical(content), mimetype


# ------------------------------------------------------------- who may send


def test_anonymous_is_sent_to_login(client, reunion):
    response = client.post(_inviter(reunion))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("comptes:login"))


def test_direction_reads_but_cannot_invite(client, reader, reunion):
    client.force_login(reader)
    assert client.get(reverse("cvu:reunion_ics", args=[reunion.pk])).status_code == 200
    assert client.post(_inviter(reunion)).status_code == 403
    reunion.refresh_from_db()
    assert reunion.sequence == 0 and reunion.invitations_envoyees_le is None


def test_chef_de_projet_of_another_sector_cannot_invite(client, outsider, reunion):
    client.force_login(outsider)
    assert client.post(_inviter(reunion)).status_code == 403
    assert mail.outbox == []


def test_missing_meeting_gives_404(client, editor):
    client.force_login(editor)
    assert client.post("/reunions/999/inviter/").status_code == 404


def test_invitations_are_sent_by_post_only(client, editor, reunion):
    client.force_login(editor)
    assert client.get(_inviter(reunion)).status_code == 405


def test_organiser_of_an_intercommunal_instance_invites(
    client, reader, django_capture_on_commit_callbacks
):
    organiser = UserFactory(email="organisatrice@pma.test")
    reunion = ReunionFactory(instance=InstanceFactory(organisateur=organiser))
    reunion.invites_utilisateurs.set([reader])
    client.force_login(organiser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_inviter(reunion))
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["direction@pma.test"]]


# ------------------------------------------------------------- sending


def test_sending_queues_the_task_after_commit(
    client, editor, reunion, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(_inviter(reunion))
    assert response["Location"] == reunion.get_absolute_url()
    assert len(callbacks) == 1
    task, args = callbacks[0].args[:2]  # core.queue: published after commit
    assert task.name == "cvu.tasks.send_invitations" and args == [reunion.pk, editor.pk]
    reunion.refresh_from_db()
    assert reunion.sequence == 1
    assert reunion.invitations_envoyees_le is not None
    assert mail.outbox == []


def test_invitations_are_mailed_with_their_ics(
    client, editor, reunion, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_inviter(reunion), follow=True)
    assertContains(response, "Invitations envoyées à 2 personnes.")
    # One message per person: nobody sees the other guests' addresses.
    assert sorted(m.to for m in mail.outbox) == [["anne@exemple.fr"], ["editeur@pma.test"]]
    message = next(m for m in mail.outbox if m.to == ["anne@exemple.fr"])
    assert message.subject == "Invitation : GTC Montbéliard – mardi 8 décembre 2026 à 9h00"
    assert message.reply_to == ["editeur@pma.test"]
    assert "Vous êtes invité(e) à la réunion suivante" in message.body
    assert "Le mardi 8 décembre 2026 à 9h00 (fin : 11h00)" in message.body
    assert "Lieu : Mairie de Montbéliard" in message.body
    assert "1. Bilan des actions 2026" in message.body
    assert f"http://127.0.0.1:8000/reunions/{reunion.pk}/" in message.body
    calendar, mimetype = _ics(message)
    assert mimetype == "text/calendar; method=REQUEST"
    assert str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"reunion-{reunion.pk}@pilotage-cvu"
    assert int(event["sequence"]) == 1
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["organizer"]) == "mailto:editeur@pma.test"
    assert event["organizer"].params["CN"] == "Élise Éditrice"
    assert str(event["attendee"]) == "mailto:anne@exemple.fr"
    assert "Appel à projets 2027" in str(event["description"])


def test_sending_again_raises_the_sequence(editor, reunion, django_capture_on_commit_callbacks):
    from cvu.invitations import reunion_invite

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert reunion_invite(reunion=reunion, user=editor) == 2
    assert reunion.sequence == 2
    calendar, _ = _ics(mail.outbox[-1])
    assert int(calendar.walk("VEVENT")[0]["sequence"]) == 2


def test_cancelled_meeting_sends_a_cancellation(editor, reunion):
    Reunion.objects.filter(pk=reunion.pk).update(statut=Reunion.Statut.ANNULEE, sequence=4)
    assert reunion_send_invitations(reunion_id=reunion.pk, sender_id=editor.pk) == 2
    message = mail.outbox[0]
    assert message.subject == "Annulation : GTC Montbéliard – mardi 8 décembre 2026 à 9h00"
    assert "La réunion suivante est annulée" in message.body
    assert "Ordre du jour" not in message.body
    calendar, mimetype = _ics(message)
    assert mimetype == "text/calendar; method=CANCEL"
    assert str(calendar["method"]) == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"
    assert int(event["sequence"]) == 4


def test_inactive_agents_are_not_mailed(editor, reunion):
    reunion.invites_contacts.clear()
    reunion.invites_utilisateurs.add(UserFactory(email="parti@pma.test", is_active=False))
    assert reunion_send_invitations(reunion_id=reunion.pk, sender_id=editor.pk) == 1
    assert [m.to for m in mail.outbox] == [["editeur@pma.test"]]


def test_a_deleted_meeting_sends_nothing(editor, reunion):
    pk = reunion.pk
    reunion.delete()
    assert reunion_send_invitations(reunion_id=pk, sender_id=editor.pk) == 0
    assert mail.outbox == []


def test_the_task_sends_the_invitations(editor, reunion):
    from cvu.tasks import send_invitations

    assert send_invitations(reunion.pk, editor.pk) == 2


def test_nobody_to_invite_is_an_error(client, editor, groupe, django_capture_on_commit_callbacks):
    reunion = ReunionFactory(instance=groupe)
    reunion.invites_contacts.set([ContactFactory(email="")])
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(_inviter(reunion), follow=True)
    assertContains(response, "Personne n&#x27;est invité avec une adresse e-mail")
    assert callbacks == []
    assert mail.outbox == []
    reunion.refresh_from_db()
    assert reunion.sequence == 0 and reunion.invitations_envoyees_le is None


# ------------------------------------------------------------- meeting page fragment


def _fragment(reunion, user, can_edit):
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string(
        "cvu/includes/_reunion_invitations.html",
        {"reunion": reunion, "can_edit": can_edit},
        request=request,
    )


def test_fragment_lists_the_guests_and_the_send_button_for_editors(editor, reunion):
    Reunion.objects.filter(pk=reunion.pk).update(
        invitations_envoyees_le=timezone.make_aware(datetime.datetime(2026, 11, 20, 10, 5))
    )
    reunion.refresh_from_db()
    html = _fragment(reunion, editor, can_edit=True)
    assert "Élise Éditrice" in html
    assert "Centre social des Buis" in html
    assert "sans e-mail" in html
    assert "Invitations envoyées le 20/11/2026 à 10:05." in html
    assert "Renvoyer les invitations" in html
    assert reverse("cvu:reunion_ics", args=[reunion.pk]) in html


def test_fragment_without_guests_nor_right_to_send(reader, groupe):
    reunion = ReunionFactory(instance=groupe)
    html = _fragment(reunion, reader, can_edit=False)
    assert "Personne n'est encore invité." in html
    assert "Invitations pas encore envoyées." in html
    assert "les invitations</button>" not in html
    assert "Ajouter à mon agenda (.ics)" in html


def test_meeting_page_shows_the_send_button_to_editors_only(client, editor, reader, reunion):
    url = reunion.get_absolute_url()
    client.force_login(editor)
    assertContains(client.get(url), _inviter(reunion))
    client.force_login(reader)
    response = client.get(url)
    assertNotContains(response, _inviter(reunion))
    assertContains(response, "Ajouter à mon agenda (.ics)")
