"""Issue 12, item 7: erasure scrubs every copy of a name; import previews keep no personal
data in the session; previews and expired sessions are purged by scheduled tasks."""

import base64
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.utils import timezone

from core.previews import storage
from participation import previews
from participation.models import Membre
from participation.tasks import purge_import_previews
from tests.participation.rgpd import conseil_in, membre
from tests.participation.test_import import GOOD, _csv, _xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def conseil(commune):
    return conseil_in(commune)


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _session_text() -> str:
    """Every session row, decoded, as one string."""
    return " ".join(str(s.get_decoded()) + s.session_data for s in Session.objects.all())


# ------------------------------------------------------------- erasure


def test_erasure_scrubs_the_admin_history(client, editor, conseil):
    awa = membre(conseil, prenom="Awa", nom="Diallo")
    other = membre(conseil, 1)
    membre_type = ContentType.objects.get_for_model(Membre)
    for object_id, repr_, message in [
        (awa.pk, "Awa Diallo", '[{"changed": {"fields": ["Nom"]}}]'),
        (other.pk, "Prénom1 Nom1", "Remplace Awa Diallo au collège habitants"),
    ]:
        LogEntry.objects.create(
            user=editor,
            content_type=membre_type,
            object_id=str(object_id),
            object_repr=repr_,
            action_flag=CHANGE,
            change_message=message,
        )
    client.force_login(editor)
    assert client.post(f"/participation/membres/{awa.pk}/effacer/").status_code == 302
    texts = [(e.object_repr, e.change_message) for e in LogEntry.objects.all()]
    assert "Diallo" not in str(texts)
    assert (f"Membre anonymisé n° {awa.pk}", '[{"changed": {"fields": ["Nom"]}}]') in texts
    assert ("Prénom1 Nom1", f"Remplace Membre anonymisé n° {awa.pk} au collège habitants") in (
        texts
    )


def test_erasure_scrubs_the_name_from_the_agents_free_texts(client, editor, conseil):
    from participation.models import CycleQualification, Evaluation, SessionFormation

    awa = membre(conseil, prenom="Awa", nom="Diallo")
    conseil.notes = "Contact : awa  DIALLO, disponible le soir. Diallo Awa relaie."
    conseil.save()
    cycle = CycleQualification.objects.create(annee=2026, titre="Cycle 2026")
    session = SessionFormation.objects.create(
        cycle=cycle, theme="Prise de parole", date=timezone.now()
    )
    evaluation = Evaluation.objects.create(
        session=session, note=4, commentaire="Merci à Awa Diallo pour son témoignage."
    )
    untouched = Evaluation.objects.create(session=session, note=5, commentaire="Très clair.")
    client.force_login(editor)
    assert client.post(f"/participation/membres/{awa.pk}/effacer/").status_code == 302
    conseil.refresh_from_db()
    evaluation.refresh_from_db()
    untouched.refresh_from_db()
    replacement = f"Membre anonymisé n° {awa.pk}"
    assert conseil.notes == f"Contact : {replacement}, disponible le soir. {replacement} relaie."
    assert evaluation.commentaire == f"Merci à {replacement} pour son témoignage."
    assert untouched.commentaire == "Très clair."


def test_members_have_no_history_table_that_would_keep_a_copy():
    assert not hasattr(Membre, "history")


def test_erasure_deletes_the_council_pending_previews(
    client, editor, conseil, django_capture_on_commit_callbacks
):
    awa = membre(conseil, prenom="Awa", nom="Diallo")
    client.force_login(editor)
    client.post(f"/participation/conseils/{conseil.pk}/membres/import/", {"fichier": _xlsx(GOOD)})
    assert len(previews.names()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/participation/membres/{awa.pk}/effacer/")
    assert previews.names() == []


# ------------------------------------------------------------- import previews


def test_preview_keeps_no_personal_data_in_the_session(client, editor, conseil):
    client.force_login(editor)
    url = f"/participation/conseils/{conseil.pk}/membres/import/"
    response = client.post(url, {"fichier": _csv(GOOD)})
    assert response.status_code == 200
    assert "Témoin" in response.content.decode()  # The preview is shown...
    stored = _session_text()
    for secret in ("Témoin", "Awa", "membres.csv"):
        assert secret not in stored  # ...but the session keeps none of it,
    assert base64.b64encode("Témoin".encode()).decode()[:6] not in stored  # not even encoded.
    (name,) = previews.names()  # The file waits in private storage,
    path = Path(storage().path(name))
    assert oct(path.stat().st_mode & 0o777) == "0o600"  # readable by the server only,
    assert path.name.split("-", 1)[1].split(".")[0] in stored  # named by the session's token.
    assert not str(path).startswith(str(settings.STATIC_ROOT))


def test_confirmation_imports_from_the_stored_file_then_deletes_it(client, editor, conseil):
    client.force_login(editor)
    url = f"/participation/conseils/{conseil.pk}/membres/import/"
    client.post(url, {"fichier": _xlsx(GOOD)})
    assert client.post(url, {"confirmer": "1"}).status_code == 302
    assert Membre.objects.filter(conseil=conseil).count() == 2
    assert previews.names() == []
    assert "participation_import" not in _session_text()


def test_a_file_with_errors_is_not_kept(client, editor, conseil):
    rows = [list(GOOD[0]), [*GOOD[1][:3], "Licorne", *GOOD[1][4:]]]
    client.force_login(editor)
    url = f"/participation/conseils/{conseil.pk}/membres/import/"
    assert client.post(url, {"fichier": _xlsx(rows)}).status_code == 400
    assert previews.names() == []


def test_an_expired_preview_cannot_be_confirmed(client, editor, conseil, settings):
    client.force_login(editor)
    url = f"/participation/conseils/{conseil.pk}/membres/import/"
    client.post(url, {"fichier": _xlsx(GOOD)})
    (name,) = previews.names()
    path = Path(storage().path(name))
    old = time.time() - settings.IMPORT_APERCU_MINUTES * 60 - 1
    os.utime(path, (old, old))
    response = client.post(url, {"confirmer": "1"}, follow=True)
    assert "Aucun fichier vérifié à importer" in response.content.decode()
    assert not Membre.objects.exists() and not path.exists()


def test_a_token_from_another_council_is_refused(client, editor, conseil, commune):
    other = conseil_in(commune, nom="Autre conseil")
    client.force_login(editor)
    client.post(f"/participation/conseils/{conseil.pk}/membres/import/", {"fichier": _xlsx(GOOD)})
    response = client.post(
        f"/participation/conseils/{other.pk}/membres/import/", {"confirmer": "1"}
    )
    assert response.status_code == 302
    assert not Membre.objects.exists()


def test_purge_task_deletes_expired_previews_only(conseil, settings):
    fresh = previews.store(conseil_pk=conseil.pk, content=b"a;b", filename="x.csv")
    stale = previews.store(conseil_pk=conseil.pk, content=b"a;b", filename="x.xlsx")
    stale_path = Path(storage().path(f"imports-apercus/{conseil.pk}-{stale['token']}.xlsx"))
    old = time.time() - settings.IMPORT_APERCU_MINUTES * 60 - 1
    os.utime(stale_path, (old, old))
    assert purge_import_previews.delay().get() == 1
    assert not stale_path.exists()
    assert previews.load(fresh, conseil_pk=conseil.pk) == (b"a;b", "apercu.csv")


def test_a_forged_reference_reads_nothing(conseil):
    secret = Path(storage().path("imports-apercus/x")).parent.parent / "secret.csv"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("x")
    for ref in [
        {"conseil": conseil.pk, "token": "../secret", "ext": ".csv"},
        {"conseil": conseil.pk, "token": "a" * 43, "ext": "/../../secret.csv"},
        {"conseil": conseil.pk + 1, "token": "a" * 43, "ext": ".csv"},
        None,
    ]:
        assert previews.load(ref, conseil_pk=conseil.pk) is None


# ------------------------------------------------------------- scheduled purges


@pytest.mark.parametrize(
    ("task", "nightly"),
    [
        ("core.tasks.clear_sessions", True),
        ("core.tasks.purge_emails", True),
        ("participation.tasks.purge_import_previews", False),
        ("participation.tasks.anonymise_members", True),
    ],
)
def test_purges_are_scheduled(task, nightly):
    from config.celery import app

    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == task]
    app.loader.import_default_modules()  # What a worker does on start: autodiscovery.
    assert task in app.tasks
    schedule = entry["schedule"]
    assert len(schedule.minute) == 1
    assert len(schedule.hour) == (1 if nightly else 24)  # Nightly, or hourly.


def test_clear_sessions_task_deletes_expired_sessions(client, editor):
    from core.tasks import clear_sessions

    client.force_login(editor)
    Session.objects.create(
        session_key="x" * 32, session_data="e30:expired", expire_date=timezone.now() - timedelta(1)
    )
    clear_sessions.delay().get()
    assert list(Session.objects.values_list("session_key", flat=True)) == [
        client.session.session_key
    ]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_purges(live_worker, settings, tmp_path):
    """CI: both purges go through the broker to a worker and do their work."""
    from celery.result import EagerResult

    from core.tasks import clear_sessions

    Session.objects.create(
        session_key="y" * 32, session_data="e30:expired", expire_date=timezone.now() - timedelta(1)
    )
    ref = previews.store(conseil_pk=1, content=b"a;b", filename="x.csv")
    path = Path(storage().path(f"imports-apercus/1-{ref['token']}.csv"))
    old = time.time() - settings.IMPORT_APERCU_MINUTES * 60 - 1
    os.utime(path, (old, old))
    for task in (clear_sessions, purge_import_previews):
        result = task.delay()
        assert not isinstance(result, EagerResult)
        result.get(timeout=60)
    assert not Session.objects.filter(session_key="y" * 32).exists()
    assert not path.exists()
