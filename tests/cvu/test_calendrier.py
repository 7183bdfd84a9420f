"""The meeting calendar (month and list), its filters and export, and the ICS feeds.

Invitations are in test_invitations.py, the minutes PDF in test_minutes.py.
"""

import datetime
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from icalendar import Calendar
from openpyxl import load_workbook
from pytest_django.asserts import assertContains

from cvu.filters_reunions import CalendrierFilterSet
from cvu.models import Reunion
from tests.comptes.factories import UserFactory
from tests.cvu.governance_factories import (
    InstanceFactory,
    ReunionFactory,
    TypeInstanceFactory,
)
from tests.quartiers.factories import CommuneFactory

pytestmark = pytest.mark.django_db

CALENDRIER = "/reunions/"


def _at(year, month, day, hour=14, minute=0):
    """An aware datetime, Paris time."""
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute))


def _feed_url(user):
    return reverse("cvu:calendrier_ics", args=[user.ics_token])


def _events(content: bytes) -> dict:
    return {str(e["uid"]): e for e in Calendar.from_ical(content).walk("VEVENT")}


def _uid(reunion):
    return f"reunion-{reunion.pk}@pilotage-cvu"


@pytest.fixture
def groupe(commune):
    """A communal instance of the editor's sector."""
    return InstanceFactory(
        nom="GTC Montbéliard",
        type=TypeInstanceFactory(nom="Groupe technique communal"),
        communale=True,
        communes=[commune],
    )


@pytest.fixture
def copil(db):
    """An intercommunal instance with no organiser."""
    return InstanceFactory(
        nom="COPIL", type=TypeInstanceFactory(nom="Comité de pilotage", pilotage=True)
    )


# ------------------------------------------------------------- access


@pytest.mark.parametrize(
    "name, args",
    [
        ("cvu:calendrier", []),
        ("cvu:calendrier_abonnement", []),
        ("cvu:reunion_ics", [1]),
    ],
)
def test_anonymous_is_sent_to_login(client, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("comptes:login"))


def test_direction_reads_the_calendar_but_cannot_create(client, reader, groupe):
    ReunionFactory(instance=groupe, debut=_at(2026, 11, 12))
    client.force_login(reader)
    for params in ({"mois": "2026-11"}, {"vue": "liste"}):
        response = client.get(CALENDRIER, params)
        assert response.status_code == 200
        assert "Nouvelle réunion" not in response.content.decode()


def test_writers_get_the_new_meeting_button(client, editor):
    client.force_login(editor)
    response = client.get(CALENDRIER)
    assert response.context["can_create"] is True
    assert reverse("cvu:reunion_create") in response.content.decode()


# ------------------------------------------------------------- month view


def test_month_view_places_meetings_on_their_day(client, reader, groupe):
    reunion = ReunionFactory(instance=groupe, debut=_at(2026, 11, 12), titre="Séance")
    ReunionFactory(instance=groupe, debut=_at(2026, 12, 3), titre="Début décembre")
    ReunionFactory(instance=groupe, debut=_at(2026, 12, 20), titre="Hors grille")
    client.force_login(reader)
    response = client.get(CALENDRIER, {"mois": "2026-11"})
    assert response.context["titre"] == "Novembre 2026"
    weeks = response.context["weeks"]
    cells = {c["day"].isoformat(): c for week in weeks for c in week}
    assert [r.titre for r in cells["2026-11-12"]["reunions"]] == ["Séance"]
    # Monday 26 October to Sunday 6 December; December's first days are greyed but filled.
    assert weeks[0][0]["day"] == datetime.date(2026, 10, 26)
    assert weeks[-1][-1]["day"] == datetime.date(2026, 12, 6)
    assert all(len(week) == 7 and week[0]["day"].isoweekday() == 1 for week in weeks)
    assert cells["2026-12-03"]["in_month"] is False
    assert [r.titre for r in cells["2026-12-03"]["reunions"]] == ["Début décembre"]
    assert "Hors grille" not in response.content.decode()
    html = (
        f'<a class="d-block small text-truncate" href="/reunions/{reunion.pk}/"'
        ' title="GTC Montbéliard – Séance">14:00 GTC Montbéliard</a>'
    )
    assertContains(response, html, html=True)


def test_cancelled_meetings_are_struck_through(client, reader, groupe):
    reunion = ReunionFactory(instance=groupe, debut=_at(2026, 11, 12, 9, 30), annulee=True)
    client.force_login(reader)
    response = client.get(CALENDRIER, {"mois": "2026-11"})
    assertContains(
        response,
        '<a class="d-block small text-truncate text-decoration-line-through text-body-secondary"'
        f' href="/reunions/{reunion.pk}/" title="GTC Montbéliard (annulée)">'
        '09:30 GTC Montbéliard<span class="visually-hidden"> (annulée)</span></a>',
        html=True,
    )


def test_month_view_defaults_to_this_month_and_highlights_today(client, reader):
    today = timezone.localdate()
    client.force_login(reader)
    response = client.get(CALENDRIER)
    assert response.context["titre"] == date_format(today, "F Y").capitalize()
    (cell,) = [c for week in response.context["weeks"] for c in week if c["day"] == today]
    assert cell["in_month"]
    assert 'aria-current="date"' in response.content.decode()


def test_month_navigation_links(client, reader):
    client.force_login(reader)
    response = client.get(CALENDRIER, {"mois": "2026-01", "type": ""})
    assert response.context["titre"] == "Janvier 2026"
    assert (response.context["previous"], response.context["following"]) == (
        "2025-12",
        "2026-02",
    )
    content = response.content.decode()
    assert 'href="?mois=2025-12&amp;type="' in content
    assert 'href="?mois=2026-02&amp;type="' in content


@pytest.mark.parametrize("mois", ["2026-13", "novembre", "9999-12", "0001-01"])
def test_a_mistyped_month_shows_an_error_and_this_month(client, reader, groupe, mois):
    ReunionFactory(instance=groupe, debut=_at(2020, 5, 5))
    client.force_login(reader)
    response = client.get(CALENDRIER, {"mois": mois})
    assert response.status_code == 200
    assert "Indiquez un mois sous la forme AAAA-MM." in response.content.decode()
    today = timezone.localdate()
    assert any(c["day"] == today for week in response.context["weeks"] for c in week)
    assert not any(c["reunions"] for week in response.context["weeks"] for c in week)


# ------------------------------------------------------------- list view


def test_list_view_shows_upcoming_then_past(client, reader, groupe):
    now = timezone.now()
    soon = ReunionFactory(instance=groupe, debut=now + timedelta(days=2), titre="Bientôt")
    later = ReunionFactory(instance=groupe, debut=now + timedelta(days=9), titre="Plus tard")
    recent = ReunionFactory(instance=groupe, debut=now - timedelta(days=2), titre="Récente")
    old = ReunionFactory(instance=groupe, debut=now - timedelta(days=90), titre="Ancienne")
    client.force_login(reader)
    response = client.get(CALENDRIER, {"vue": "liste"})
    assert response.context["upcoming"] == [soon, later]
    assert list(response.context["page_obj"]) == [recent, old]
    content = response.content.decode()
    assert content.index("Bientôt") < content.index("Plus tard") < content.index("Récente")
    # The filter form keeps the list view.
    assert '<input type="hidden" name="vue" value="liste">' in content


def test_list_view_paginates_past_meetings(client, reader, groupe):
    start = timezone.now() - timedelta(days=400)
    for n in range(51):
        ReunionFactory(instance=groupe, debut=start + timedelta(days=n))
    client.force_login(reader)
    response = client.get(CALENDRIER, {"vue": "liste", "page": 2})
    assert response.context["page_obj"].number == 2
    assert len(response.context["page_obj"]) == 1


def test_list_view_shows_the_next_page_of_upcoming_meetings(client, reader, groupe):
    from core.lists import PAGE_SIZE

    now = timezone.now()
    for n in range(PAGE_SIZE + 3):
        ReunionFactory(instance=groupe, debut=now + timedelta(days=n + 1), titre=f"À venir {n:02}")
    client.force_login(reader)
    response = client.get(CALENDRIER, {"vue": "liste", "instance": groupe.pk})
    upcoming = response.context["upcoming"]
    assert [r.titre for r in upcoming] == [f"À venir {n:02}" for n in range(PAGE_SIZE)]
    content = response.content.decode()
    assert f"Les {PAGE_SIZE} prochaines réunions sur {PAGE_SIZE + 3} à venir" in content
    assert f'href="?instance={groupe.pk}">vue mensuelle</a>' in content


# ------------------------------------------------------------- filters


def _filtered(params, user):
    queryset = Reunion.objects.visible_to(user).select_related("instance__type")
    return set(CalendrierFilterSet(params, queryset=queryset).qs)


def test_filters_by_type_commune_instance_and_status(reader, groupe, copil):
    ailleurs = InstanceFactory(
        nom="GTC Audincourt", type=groupe.type, communale=True, communes=[CommuneFactory()]
    )
    in_groupe = ReunionFactory(instance=groupe)
    in_copil = ReunionFactory(instance=copil, annulee=True)
    in_ailleurs = ReunionFactory(instance=ailleurs)
    commune = groupe.communes.get()
    assert _filtered({"type": groupe.type.pk}, reader) == {in_groupe, in_ailleurs}
    assert _filtered({"commune": commune.pk}, reader) == {in_groupe}
    assert _filtered({"instance": copil.pk}, reader) == {in_copil}
    assert _filtered({"statut": "annulee"}, reader) == {in_copil}
    assert _filtered({}, reader) == {in_groupe, in_copil, in_ailleurs}


def test_month_filter_covers_the_weeks_shown(reader, groupe):
    # November 2026 is drawn from Monday 26 October to Sunday 6 December.
    shown = [
        ReunionFactory(instance=groupe, debut=_at(2026, 10, 26, 0, 0)),
        ReunionFactory(instance=groupe, debut=_at(2026, 12, 6, 23, 30)),
    ]
    ReunionFactory(instance=groupe, debut=_at(2026, 10, 25, 23, 30))
    ReunionFactory(instance=groupe, debut=_at(2026, 12, 7, 0, 0))
    assert _filtered({"mois": "2026-11"}, reader) == set(shown)


def test_anonymous_filters_nothing(groupe):
    from django.contrib.auth.models import AnonymousUser

    ReunionFactory(instance=groupe)
    assert _filtered({}, AnonymousUser()) == set()


# ------------------------------------------------------------- export


def test_list_export_follows_the_filters(client, reader, groupe, copil):
    ReunionFactory(instance=groupe, debut=timezone.now() + timedelta(days=3))
    ReunionFactory(
        instance=copil, debut=_at(2026, 11, 12, 9, 30), titre="Bilan", lieu="Hôtel de ville"
    )
    client.force_login(reader)
    response = client.get(CALENDRIER, {"vue": "liste", "type": copil.type.pk, "export": "csv"})
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "Date;Heure;Fin;Instance;Type;Objet;Lieu;Statut",
        "12/11/2026;09:30;11:30;COPIL;Comité de pilotage;Bilan;Hôtel de ville;Prévue",
    ]


def test_month_export_holds_the_month_shown_in_excel(client, reader, groupe):
    ReunionFactory(instance=groupe, debut=_at(2026, 11, 12))
    ReunionFactory(instance=groupe, debut=_at(2027, 3, 4))
    client.force_login(reader)
    response = client.get(CALENDRIER, {"mois": "2026-11", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Date", "Heure", "Fin", "Instance", "Type", "Objet", "Lieu", "Statut")
    assert len(rows) == 2
    assert rows[1][0] == datetime.datetime(2026, 11, 12)
    assert rows[1][1:4] == ("14:00", "16:00", "GTC Montbéliard")


# ------------------------------------------------------------- query counts


@pytest.mark.parametrize("size", [2, 20])
def test_calendar_queries(client, reader, groupe, copil, size, django_assert_num_queries):
    now = timezone.now()
    for n in range(size):
        instance = groupe if n % 2 else copil
        ReunionFactory(instance=instance, debut=_at(2026, 11, 1 + n % 28), titre=f"R{n}")
        ReunionFactory(instance=instance, debut=now + timedelta(days=n + 1))
        ReunionFactory(instance=instance, debut=now - timedelta(days=n + 1))
    client.force_login(reader)
    # session, user, the meetings of the month (with instance and type),
    # and the type, commune and instance choices of the filter form
    with django_assert_num_queries(6):
        client.get(CALENDRIER, {"mois": "2026-11"})
    # session, user, upcoming meetings and their count, past count and page, three filter
    # choices
    with django_assert_num_queries(9):
        client.get(CALENDRIER, {"vue": "liste"})


# ------------------------------------------------------------- subscription page


def test_subscription_page_without_address_offers_to_create_one(client, editor):
    client.force_login(editor)
    response = client.get(reverse("cvu:calendrier_abonnement"))
    assert response.context["url"] == ""
    assert "Créer mon adresse d'abonnement" in response.content.decode()


def test_creating_an_address_shows_the_absolute_feed_url(client, editor):
    client.force_login(editor)
    response = client.post(reverse("cvu:calendrier_abonnement"), {"action": "creer"}, follow=True)
    editor.refresh_from_db()
    assert len(editor.ics_token) >= 40
    url = f"http://testserver/reunions/calendrier/{editor.ics_token}.ics"
    assert response.context["url"] == url
    content = response.content.decode()
    assert f'value="{url}"' in content
    assert "Adresse d&#x27;abonnement créée." in content
    assert "Outlook" in content and "Thunderbird" in content


def test_regenerating_the_address_kills_the_old_one(client, editor):
    client.force_login(editor)
    client.post(reverse("cvu:calendrier_abonnement"), {"action": "creer"})
    editor.refresh_from_db()
    old = _feed_url(editor)
    response = client.post(reverse("cvu:calendrier_abonnement"), {"action": "creer"}, follow=True)
    assert "l&#x27;ancienne ne fonctionne plus" in response.content.decode()
    editor.refresh_from_db()
    client.logout()
    assert client.get(old).status_code == 404
    assert client.get(_feed_url(editor)).status_code == 200


def test_unknown_subscription_action_is_refused(client, editor):
    client.force_login(editor)
    response = client.post(reverse("cvu:calendrier_abonnement"), {"action": "autre"})
    assert response.status_code == 400
    editor.refresh_from_db()
    assert editor.ics_token is None


# ------------------------------------------------------------- personal feed


@pytest.fixture
def subscribed(editor):
    editor.ics_token = "jeton-secret-de-test"
    editor.save(update_fields=["ics_token"])
    return editor


def test_feed_needs_no_login_and_is_text_calendar(client, subscribed):
    response = client.get(_feed_url(subscribed))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["version"]) == "2.0"


def test_feed_lists_my_meetings_in_paris_time(client, subscribed, groupe, copil):
    mine = ReunionFactory(
        instance=groupe,
        debut=_at(2030, 7, 1, 9),
        titre="Mon groupe",
        lieu="Mairie de Montbéliard",
        sequence=3,
    )
    mine.points.create(texte="Bilan de l'été", ordre=1)
    untitled = ReunionFactory(instance=groupe, debut=_at(2030, 7, 8, 9))
    cancelled = ReunionFactory(instance=groupe, debut=_at(2030, 7, 15), annulee=True)
    ReunionFactory(instance=copil, titre="Pas pour moi")
    response = client.get(_feed_url(subscribed))
    calendar = Calendar.from_ical(response.content)
    events = _events(response.content)
    assert set(events) == {_uid(mine), _uid(untitled), _uid(cancelled)}
    event = events[_uid(mine)]
    assert str(event["summary"]) == "Mon groupe"
    assert str(events[_uid(untitled)]["summary"]) == "GTC Montbéliard"
    assert int(event["sequence"]) == 3
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert event["dtstart"].dt == _at(2030, 7, 1, 9)
    assert event["dtstart"].dt.utcoffset() == timedelta(hours=2)
    assert event["dtend"].dt == _at(2030, 7, 1, 11)
    assert str(event["location"]) == "Mairie de Montbéliard"
    assert "1. Bilan de l'été" in str(event["description"])
    assert str(event["url"]) == f"http://testserver/reunions/{mine.pk}/"
    assert str(event["status"]) == "CONFIRMED"
    assert str(events[_uid(cancelled)]["status"]) == "CANCELLED"
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert str(vtimezone["tzid"]) == "Europe/Paris"


def test_feed_holds_invitations_and_organised_instances(client, reader, copil):
    reader.ics_token = "jeton-direction"
    reader.save(update_fields=["ics_token"])
    invited = ReunionFactory(instance=copil)
    invited.invites_utilisateurs.add(reader)
    organised = ReunionFactory(instance=InstanceFactory(organisateur=reader))
    ReunionFactory(instance=copil)
    assert set(_events(client.get(_feed_url(reader)).content)) == {
        _uid(invited),
        _uid(organised),
    }


def test_feed_starts_six_months_ago(client, subscribed, groupe):
    recent = ReunionFactory(instance=groupe, debut=timezone.now() - timedelta(days=150))
    ReunionFactory(instance=groupe, debut=timezone.now() - timedelta(days=200))
    assert set(_events(client.get(_feed_url(subscribed)).content)) == {_uid(recent)}


def test_feed_lists_a_meeting_once(client, subscribed, groupe):
    reunion = ReunionFactory(instance=groupe)
    reunion.invites_utilisateurs.add(subscribed)
    calendar = Calendar.from_ical(client.get(_feed_url(subscribed)).content)
    assert len(calendar.walk("VEVENT")) == 1


def test_revoked_or_unknown_token_gives_404(client, editor):
    client.force_login(editor)
    client.post(reverse("cvu:calendrier_abonnement"), {"action": "creer"})
    editor.refresh_from_db()
    url = _feed_url(editor)
    response = client.post(
        reverse("cvu:calendrier_abonnement"), {"action": "revoquer"}, follow=True
    )
    assert "Abonnement coupé" in response.content.decode()
    editor.refresh_from_db()
    assert editor.ics_token is None
    client.logout()
    assert client.get(url).status_code == 404
    assert client.get("/reunions/calendrier/inconnu.ics").status_code == 404


def test_feed_of_a_deactivated_user_gives_404(client):
    user = UserFactory(ics_token="jeton-parti", is_active=False)
    assert client.get(_feed_url(user)).status_code == 404


def test_feed_is_read_only(client, subscribed):
    assert client.post(_feed_url(subscribed)).status_code == 405


# ------------------------------------------------------------- one meeting


def test_single_meeting_download(client, reader, groupe):
    reunion = ReunionFactory(instance=groupe, titre="Préparation")
    client.force_login(reader)
    response = client.get(reverse("cvu:reunion_ics", args=[reunion.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert f'filename="reunion-{reunion.pk}.ics"' in response["Content-Disposition"]
    (event,) = _events(response.content).values()
    assert str(event["summary"]) == "Préparation"


def test_single_meeting_download_of_a_missing_meeting_gives_404(client, reader):
    client.force_login(reader)
    assert client.get(reverse("cvu:reunion_ics", args=[999])).status_code == 404
