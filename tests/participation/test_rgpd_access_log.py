"""Issue 12, item 6: every display of an inhabitant's identity is logged, in the application
and in the admin; the log is append-only; the admin's member list shows no identity."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cvu.models import Instance, Reunion, TypeInstance
from participation.models import (
    AccesDonnees,
    CycleQualification,
    Inscription,
    PresenceMembre,
    SessionFormation,
)
from tests.comptes.factories import UserFactory
from tests.participation.rgpd import conseil_in, membre

pytestmark = pytest.mark.django_db


@pytest.fixture
def awa(commune):
    return membre(conseil_in(commune), prenom="Awa", nom="Diallo", email="awa@exemple.fr")


@pytest.fixture
def reunion():
    copil = Instance.objects.create(
        nom="COPIL du CVU",
        echelle="intercommunale",
        type=TypeInstance.objects.create(nom="Comité de pilotage", pilotage=True),
    )
    start = timezone.now() - timedelta(days=3)
    return Reunion.objects.create(
        instance=copil, debut=start, fin=start + timedelta(hours=2), statut="tenue"
    )


@pytest.fixture
def session(awa):
    cycle = CycleQualification.objects.create(annee=2026, titre="Cycle 2026")
    session = SessionFormation.objects.create(
        cycle=cycle, theme="Le rôle du conseil", date=timezone.now() - timedelta(days=2)
    )
    Inscription.objects.create(session=session, membre=awa, presence="present")
    return session


def _logged(membre, path):
    return AccesDonnees.objects.filter(membre=membre, action="consultation", page=path)


@pytest.mark.parametrize(
    "page",
    [
        "council",
        "steering_attendance",
        "session",
        "cycle",
        "member",
        "member_edit",
        "member_erase",
    ],
)
def test_each_page_showing_a_name_logs_a_consultation(client, editor, awa, reunion, session, page):
    path = {
        "council": awa.conseil.get_absolute_url(),
        "steering_attendance": f"/participation/presences/{reunion.pk}/",
        "session": session.get_absolute_url(),
        "cycle": session.cycle.get_absolute_url(),
        "member": awa.get_absolute_url(),
        "member_edit": f"/participation/membres/{awa.pk}/modifier/",
        "member_erase": f"/participation/membres/{awa.pk}/effacer/",
    }[page]
    client.force_login(editor)
    response = client.get(path)
    assert response.status_code == 200
    assert "Diallo" in response.content.decode()
    log = _logged(awa, path)
    assert log.count() == 1 and log.get().utilisateur == editor
    client.get(path)
    assert _logged(awa, path).count() == 2


def test_a_page_without_names_logs_nothing(client, reader, awa):
    """The direction sees the council's counts, not its members: nothing to log."""
    client.force_login(reader)
    html = client.get(awa.conseil.get_absolute_url()).content.decode()
    assert "Diallo" not in html
    assert not AccesDonnees.objects.exists()


def test_erased_members_are_not_logged_as_identities(client, editor, awa):
    from participation.services import membre_erase

    membre_erase(membre=awa, user=editor)
    client.force_login(editor)
    client.get(awa.conseil.get_absolute_url())
    assert not AccesDonnees.objects.filter(action="consultation").exists()


# ------------------------------------------------------------- admin


@pytest.fixture
def admin(db):
    return UserFactory(email="admin@pma.test", administrateur=True)


def test_admin_member_page_is_logged(client, admin, awa):
    client.force_login(admin)
    path = f"/admin/participation/membre/{awa.pk}/change/"
    assert "Diallo" in client.get(path).content.decode()
    assert _logged(awa, path).get().utilisateur == admin
    history = f"/admin/participation/membre/{awa.pk}/history/"
    client.get(history)
    assert _logged(awa, history).exists()


def test_admin_member_list_shows_no_identity(client, admin, awa):
    client.force_login(admin)
    response = client.get("/admin/participation/membre/")
    html = response.content.decode()
    assert response.status_code == 200
    # Whole words: the page's random CSRF token once held « …xAwapl… » (a flaky failure).
    assert not re.search(r"\b(Diallo|Awa)\b", html)
    assert not AccesDonnees.objects.exists()


def test_admin_checkbox_labels_name_no_one(rf, admin, awa):
    """If an action is ever added to the list, its checkboxes are labelled by number."""
    from django.contrib.admin.sites import site

    from participation.models import Membre

    checkbox = site._registry[Membre].action_checkbox(awa)
    assert "Diallo" not in checkbox and f"membre n° {awa.pk}" in checkbox


def test_admin_changes_are_recorded_without_the_name(client, admin, awa):
    from django.contrib.admin.models import LogEntry

    client.force_login(admin)
    page = client.get(f"/admin/participation/membre/{awa.pk}/change/")
    data = {k: v for k, v in page.context["adminform"].form.initial.items() if v not in (None, "")}
    data.update(nom="Diallo-Sy", conseil=awa.conseil.pk, resident_qpv="on")
    data["mandat_debut"] = "01/01/2025"
    response = client.post(f"/admin/participation/membre/{awa.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = LogEntry.objects.get()
    assert "Diallo" not in entry.object_repr and "Diallo" not in entry.change_message
    assert AccesDonnees.objects.filter(membre=awa, action="modification").exists()
    index = client.get("/admin/").content.decode()  # "Recent actions" lists object_repr.
    assert "Diallo" not in index


def test_admin_attendance_page_is_logged_and_shows_the_member_by_number(
    client, admin, awa, reunion
):
    presence = PresenceMembre.objects.create(reunion=reunion, membre=awa, statut="present")
    client.force_login(admin)
    path = f"/admin/participation/presencemembre/{presence.pk}/change/"
    assert client.get(path).status_code == 200
    assert _logged(awa, path).exists()
    listing = client.get("/admin/participation/presencemembre/").content.decode()
    assert "Diallo" not in listing


def test_access_log_is_append_only_in_the_admin(client, admin, awa):
    entry = AccesDonnees.objects.create(membre=awa, utilisateur=admin, action="consultation")
    client.force_login(admin)
    base = "/admin/participation/accesdonnees/"
    listing = client.get(base)
    assert listing.status_code == 200
    assert "delete_selected" not in listing.content.decode()
    assert "Diallo" not in listing.content.decode()
    assert client.get(f"{base}{entry.pk}/delete/").status_code == 403
    assert client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(base, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    view = client.get(f"{base}{entry.pk}/change/")
    assert view.status_code == 200 and "Diallo" not in view.content.decode()
    changed = client.post(f"{base}{entry.pk}/change/", {"action": "export", "page": "/"})
    assert changed.status_code == 403
    assert client.get(f"{base}add/").status_code == 403
    entry.refresh_from_db()
    assert entry.action == "consultation"
    assert AccesDonnees.objects.count() == 1


def test_deleting_a_member_cannot_take_its_log_with_it(admin, awa):
    from django.db.models import ProtectedError

    AccesDonnees.objects.create(membre=awa, utilisateur=admin, action="consultation")
    with pytest.raises(ProtectedError):
        awa.delete()


def test_members_are_not_deleted_from_the_admin(client, admin, awa):
    client.force_login(admin)
    assert client.get(f"/admin/participation/membre/{awa.pk}/delete/").status_code == 403
