"""Issue 12, item 8: a member who left is anonymised on time; the access-request export is
complete; pages and exports with identities are never cached."""

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from cvu.models import Instance, Reunion, TypeInstance
from participation.models import (
    CycleQualification,
    Inscription,
    Membre,
    SessionFormation,
)
from participation.services import anonymise_expired
from tests.participation.rgpd import MEMBRE_POST, conseil_in, membre
from tests.participation.test_import import GOOD, _xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def conseil(commune):
    return conseil_in(commune)


# ------------------------------------------------------------- resigned members


def test_a_resignation_needs_its_date(client, editor, conseil):
    client.force_login(editor)
    url = f"/participation/conseils/{conseil.pk}/membres/nouveau/"
    data = {**MEMBRE_POST, "prenom": "Awa", "nom": "Diallo", "statut": "demissionnaire"}
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Indiquez la date de fin du mandat : celle du départ du membre." in (
        response.content.decode()
    )
    assert client.post(url, {**data, "mandat_fin": "2025-06-30"}).status_code == 302


def test_the_database_refuses_a_departure_without_date(conseil):
    with pytest.raises(IntegrityError):
        membre(conseil, statut="demissionnaire")


def test_a_resigned_member_is_anonymised_after_the_retention_period(conseil, settings):
    settings.MEMBRES_CONSERVATION_ANNEES = 3
    left = membre(
        conseil,
        1,
        statut="demissionnaire",
        mandat_debut=date(2018, 1, 1),
        mandat_fin=date(2021, 3, 1),
    )
    recently = membre(conseil, 2, statut="demissionnaire", mandat_fin=timezone.localdate())
    anonymise_expired()
    left.refresh_from_db(), recently.refresh_from_db()
    assert left.anonymise_le and "Nom1" not in str(left)
    assert not recently.anonymise_le


@pytest.mark.django_db(transaction=True)
def test_members_who_left_undated_are_dated_by_the_migration(commune, editor):
    """Rows from before the constraint: the departure is dated by the last recorded change,
    or today; sessions lose the member files a preview used to keep there."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("participation", "0003_accesdonnees_page")]
    executor = MigrationExecutor(connection)
    # Forward to every app's latest migration, so that the tests after this one find today's
    # schema: going back to 0003 also unapplies the other apps' migrations that depend on a later
    # participation migration (reporting's annual report refers to the conseils citoyens).
    after = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Old = apps.get_model("participation", "Membre")
    # The council is made with the models of that time, not today's (newer columns).
    conseil = apps.get_model("participation", "ConseilCitoyen").objects.create(
        nom="Conseil citoyen de la Chiffogne",
        type=apps.get_model("participation", "TypeParticipation").objects.create(
            nom="Conseil citoyen"
        ),
        commune_id=commune.pk,
    )
    fields = {k: v for k, v in MEMBRE_POST.items() if k not in ("resident_qpv", "mandat_debut")}
    fields["mandat_debut"] = date(2025, 1, 1)
    left = Old.objects.create(
        conseil_id=conseil.pk, prenom="A", nom="B", **{**fields, "statut": "demissionnaire"}
    )
    never = Old.objects.create(
        conseil_id=conseil.pk, prenom="C", nom="D", **{**fields, "statut": "remplace"}
    )
    apps.get_model("participation", "AccesDonnees").objects.create(
        membre_id=left.pk,
        utilisateur_id=editor.pk,
        action="modification",
        date=timezone.make_aware(timezone.datetime(2025, 3, 10, 12)),
    )
    store = SessionStore()
    store.update({"participation_import": {"content": "QXdhIERpYWxsbw=="}, "kept": 1})
    store.create()
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        executor.loader.build_graph()
    assert Membre.objects.get(pk=left.pk).mandat_fin == date(2025, 3, 10)
    assert Membre.objects.get(pk=never.pk).mandat_fin == timezone.localdate()
    assert SessionStore(store.session_key).load() == {"kept": 1}


def test_the_import_asks_for_the_departure_date(client, editor, conseil):
    from tests.participation.test_import import HEADER

    rows = [[*GOOD[0]]]
    client.force_login(editor)
    HEADER.append("Statut")
    try:
        rows[0].append("Démissionnaire")
        response = client.post(
            f"/participation/conseils/{conseil.pk}/membres/import/", {"fichier": _xlsx(rows)}
        )
    finally:
        HEADER.pop()
    assert "Fin du mandat : Indiquez la date de fin du mandat" in response.content.decode()


def test_validation_message_names_the_field(conseil):
    with pytest.raises(ValidationError) as error:
        Membre(
            conseil=conseil,
            prenom="A",
            nom="B",
            college="habitants",
            genre="femme",
            tranche_age="40_59",
            designation="volontaire",
            mandat_debut=date(2025, 1, 1),
            base_legale="mission_publique",
            statut="fin_mandat",
        ).full_clean()
    assert list(error.value.message_dict) == ["mandat_fin"]


# ------------------------------------------------------------- access-request export


def test_access_request_export_lists_trainings(client, editor, conseil):
    awa = membre(conseil, prenom="Awa", nom="Diallo")
    cycle = CycleQualification.objects.create(annee=2026, titre="Cycle 2026")
    session = SessionFormation.objects.create(
        cycle=cycle,
        theme="Prendre la parole en public",
        lieu="Maison de quartier",
        date=timezone.make_aware(timezone.datetime(2026, 3, 12, 18)),
    )
    Inscription.objects.create(session=session, membre=awa, presence="present")
    client.force_login(editor)
    data = json.loads(client.get(f"/participation/membres/{awa.pk}/export/").content)
    assert data["formations"] == [
        {
            "cycle": "Cycle 2026",
            "session": "Prendre la parole en public",
            "date": "2026-03-12T18:00:00+01:00",
            "lieu": "Maison de quartier",
            "presence": "Présent",
        }
    ]


# ------------------------------------------------------------- no-store


@pytest.fixture
def pages(conseil):
    awa = membre(conseil, prenom="Awa", nom="Diallo")
    copil = Instance.objects.create(
        nom="COPIL",
        echelle="intercommunale",
        type=TypeInstance.objects.create(nom="COPIL", pilotage=True),
    )
    start = timezone.now() - timedelta(days=3)
    reunion = Reunion.objects.create(
        instance=copil, debut=start, fin=start + timedelta(hours=1), statut="tenue"
    )
    cycle = CycleQualification.objects.create(annee=2026, titre="Cycle 2026")
    session = SessionFormation.objects.create(cycle=cycle, theme="T", date=start)
    return [
        conseil.get_absolute_url(),
        awa.get_absolute_url(),
        f"/participation/membres/{awa.pk}/modifier/",
        f"/participation/membres/{awa.pk}/effacer/",
        f"/participation/membres/{awa.pk}/export/",
        f"/participation/conseils/{conseil.pk}/membres/nouveau/",
        f"/participation/conseils/{conseil.pk}/membres/import/",
        f"/participation/presences/{reunion.pk}/",
        session.get_absolute_url(),
        cycle.get_absolute_url(),
        f"/admin/participation/membre/{awa.pk}/change/",
    ]


def test_pages_and_exports_with_identities_are_not_stored_by_caches(client, manager, pages):
    from tests.comptes.factories import UserFactory

    for path in pages:
        client.force_login(UserFactory(administrateur=True) if "/admin/" in path else manager)
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path


def test_the_import_preview_is_not_stored_by_caches(client, editor, conseil):
    client.force_login(editor)
    response = client.post(
        f"/participation/conseils/{conseil.pk}/membres/import/", {"fichier": _xlsx(GOOD)}
    )
    assert "Témoin" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
