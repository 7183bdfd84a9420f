"""Calendar views, the personal ICS feed and invitations (the minutes PDF: test_minutes)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from cvu.models import Instance, Reunion, TypeInstance
from tests.cvu.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def groupe(commune):
    type_ = TypeInstance.objects.create(nom="Groupe technique communal")
    instance = Instance.objects.create(nom="GTC Montbéliard", type=type_, echelle="communale")
    instance.communes.set([commune])
    return instance


def _reunion(instance, start, **fields):
    return Reunion.objects.create(
        instance=instance, debut=start, fin=start + timedelta(hours=2), **fields
    )


def _at(year, month, day, hour=14):
    return timezone.make_aware(timezone.datetime(year, month, day, hour, 0))


# ------------------------------------------------------------- calendar


def test_month_view_places_meetings_on_their_day(client, reader, groupe):
    _reunion(groupe, _at(2026, 11, 12), titre="Séance de novembre")
    _reunion(groupe, _at(2026, 12, 3), titre="Séance de décembre")
    client.force_login(reader)
    response = client.get("/reunions/", {"mois": "2026-11"})
    assert response.context["titre"] == "Novembre 2026"
    cells = {c["day"].isoformat(): c for week in response.context["weeks"] for c in week}
    assert [r.titre for r in cells["2026-11-12"]["reunions"]] == ["Séance de novembre"]
    # The grid runs Monday to Sunday and shows the first days of December greyed.
    assert response.context["weeks"][0][0]["day"].isoweekday() == 1
    assert cells["2026-12-03"]["in_month"] is False


def test_list_view_and_export_follow_the_filters(client, reader, groupe, copil_type):
    other = Instance.objects.create(nom="COPIL", type=copil_type, echelle="intercommunale")
    _reunion(groupe, timezone.now() + timedelta(days=3), titre="Groupe")
    _reunion(other, timezone.now() + timedelta(days=4), titre="Copil")
    client.force_login(reader)
    response = client.get("/reunions/", {"vue": "liste", "type": copil_type.pk})
    assert [r.titre for r in response.context["upcoming"]] == ["Copil"]
    csv = client.get("/reunions/", {"type": copil_type.pk, "export": "csv"}).content
    lines = csv.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and "COPIL" in lines[1]


@pytest.fixture
def copil_type():
    return TypeInstance.objects.create(nom="Comité de pilotage", pilotage=True)


@pytest.mark.parametrize("size", [2, 20])
def test_calendar_queries(client, reader, groupe, size, django_assert_num_queries):
    for n in range(size):
        _reunion(groupe, _at(2026, 11, 1 + n % 28), titre=f"R{n}")
    client.force_login(reader)
    # session, user, meetings of the month, and the type, commune and instance filter choices
    with django_assert_num_queries(6):
        client.get("/reunions/", {"mois": "2026-11"})
    # session, user, upcoming, past count and page, three filter choices
    with django_assert_num_queries(8):
        client.get("/reunions/", {"vue": "liste"})


# ------------------------------------------------------------- ICS feed


def test_personal_feed_lists_my_meetings_in_paris_time(client, editor, groupe, copil_type):
    mine = _reunion(groupe, timezone.now() + timedelta(days=2), titre="Mon groupe", sequence=3)
    mine.points.create(texte="Bilan", ordre=1)
    cancelled = _reunion(groupe, timezone.now() + timedelta(days=5), statut="annulee")
    other = Instance.objects.create(nom="COPIL", type=copil_type, echelle="intercommunale")
    _reunion(other, timezone.now() + timedelta(days=3), titre="Pas pour moi")
    client.force_login(editor)
    client.post("/reunions/abonnement/", {"action": "creer"})
    editor.refresh_from_db()
    client.logout()
    response = client.get(f"/reunions/calendrier/{editor.ics_token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {
        f"reunion-{mine.pk}@pilotage-cvu",
        f"reunion-{cancelled.pk}@pilotage-cvu",
    }
    event = events[f"reunion-{mine.pk}@pilotage-cvu"]
    assert str(event["summary"]) == "Mon groupe"
    assert int(event["sequence"]) == 3
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert "Bilan" in str(event["description"])
    assert str(events[f"reunion-{cancelled.pk}@pilotage-cvu"]["status"]) == "CANCELLED"
    assert calendar.walk("VTIMEZONE")


def test_revoked_or_unknown_token_gives_404(client, editor):
    client.force_login(editor)
    client.post("/reunions/abonnement/", {"action": "creer"})
    editor.refresh_from_db()
    token = editor.ics_token
    client.post("/reunions/abonnement/", {"action": "revoquer"})
    client.logout()
    assert client.get(f"/reunions/calendrier/{token}.ics").status_code == 404
    assert client.get("/reunions/calendrier/inconnu.ics").status_code == 404


# ------------------------------------------------------------- invitations


def test_invitations_are_mailed_with_their_ics(
    client, editor, groupe, django_capture_on_commit_callbacks
):
    reunion = _reunion(groupe, _at(2026, 12, 8, 9), titre="Préparation", lieu="Mairie")
    contact = ContactFactory(email="anne@exemple.fr")
    reunion.invites_contacts.set([contact, ContactFactory(email="")])
    reunion.invites_utilisateurs.set([editor])
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/reunions/{reunion.pk}/inviter/", follow=True)
    assert "Invitations envoyées à 2 personnes." in response.content.decode()
    assert sorted(m.to[0] for m in mail.outbox) == ["anne@exemple.fr", editor.email]
    message = mail.outbox[0]
    assert message.subject == "Invitation : GTC Montbéliard – mardi 8 décembre 2026 à 9h00"
    assert "Lieu : Mairie" in message.body
    name, content, mimetype = message.attachments[0]
    assert name == "invitation.ics" and "method=REQUEST" in mimetype
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert int(event["sequence"]) == 1


def test_nobody_to_invite_is_an_error(client, editor, groupe):
    reunion = _reunion(groupe, timezone.now() + timedelta(days=2))
    client.force_login(editor)
    response = client.post(f"/reunions/{reunion.pk}/inviter/", follow=True)
    assert "Personne n&#x27;est invité" in response.content.decode()
    assert mail.outbox == []


def test_only_organisers_invite(client, reader, outsider, groupe):
    reunion = _reunion(groupe, timezone.now() + timedelta(days=2))
    for user in (reader, outsider):
        client.force_login(user)
        assert client.post(f"/reunions/{reunion.pk}/inviter/").status_code == 403
