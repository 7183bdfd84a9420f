"""Issue #19, several hosts: with S3_BUCKET set, every stored file goes to S3-compatible object
storage (django-storages), so that the web and the worker share no disk. A local S3 server
(moto's, in this process, over real HTTP) stands in for the collectivité's object storage, and
MEDIA_ROOT points at a directory that does not exist: a file written to disk would fail."""

import importlib
import io

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from moto.server import ThreadedMotoServer

from core import previews

BUCKET = "pilotage-cvu-essai"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, settings, tmp_path, monkeypatch):
    """The settings S3_BUCKET produces (config/settings.py), over the local server."""
    for name, value in {
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "eu-west-3",
        "S3_ACCESS_KEY_ID": "essai",
        "S3_SECRET_ACCESS_KEY": "essai",
    }.items():
        monkeypatch.setenv(name, value)
    import config.settings as production

    built = importlib.reload(production).STORAGES_FILES
    monkeypatch.delenv("S3_BUCKET")
    importlib.reload(production)  # the module as the other tests know it
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="eu-west-3",
        aws_access_key_id="essai",
        aws_secret_access_key="essai",
    )
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    settings.STORAGES = {**built, "staticfiles": settings.STORAGES["staticfiles"]}
    settings.MEDIA_ROOT = tmp_path / "aucun-disque"  # never created
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_settings_choose_s3_for_stored_files(s3):
    assert type(storages["default"]).__name__ == "S3Storage"
    assert type(storages["imports"]).__name__ == "S3Storage"


@pytest.mark.django_db
def test_a_document_goes_to_the_bucket_and_is_streamed_after_the_permission_check(
    s3, client, editor, reader, qpv, tmp_path
):
    from cvu.models import Document
    from tests.cvu.factories import ActionFactory

    action = ActionFactory(qpvs=[qpv], referent=editor)
    client.force_login(editor)
    upload = ContentFile(b"%PDF-1.7\nbudget", name="budget.pdf")
    response = client.post(f"/actions/{action.pk}/documents/", {"fichier": upload})
    assert response.status_code == 302
    document = Document.objects.get()
    assert _keys(s3) == [document.fichier.name]
    assert not (tmp_path / "aucun-disque").exists()

    client.force_login(reader)  # another person, another web process: nothing on their disk
    response = client.get(f"/actions/documents/{document.pk}/")
    assert b"".join(response.streaming_content) == b"%PDF-1.7\nbudget"
    client.logout()
    assert client.get(f"/actions/documents/{document.pk}/").status_code == 302  # to the login


def test_import_previews_wait_in_the_bucket_and_expire(s3, settings):
    ref = previews.ACTIONS.store(owner=7, content=b"a;b", filename="x.csv")
    [name] = previews.ACTIONS.names()
    assert _keys(s3) == [name]
    assert previews.ACTIONS.load(ref, owner=7) == (b"a;b", "apercu.csv")
    settings.IMPORT_APERCU_MINUTES = -1  # everything is now older than the limit
    assert previews.purge_expired() == 1
    assert _keys(s3) == []


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_report_built_by_the_worker_is_downloaded_by_the_web_without_a_shared_disk(
    s3, live_worker, client, manager, tmp_path
):
    from reporting import rapports
    from tests.cvu.factories import ActionFactory, ContratFactory

    contrat = ContratFactory()
    ActionFactory(contrat=contrat, titre="Atelier d'écriture", annee=2026)
    rapport = rapports.rapport_request(
        type="programmation",
        titre="Par le worker, dans le stockage objet",
        parametres={"contrat": contrat.pk, "annee": 2026},
        user=manager,
    )
    assert live_worker.AsyncResult(rapport.task_id).get(timeout=120) == "pret"
    rapport.refresh_from_db()
    assert _keys(s3) == [rapport.fichier.name]
    client.force_login(manager)
    response = client.get(f"/rapports/{rapport.pk}/telecharger/")
    content = io.BytesIO(b"".join(response.streaming_content)).getvalue()
    assert content.startswith(b"%PDF")
    assert not (tmp_path / "aucun-disque").exists()
