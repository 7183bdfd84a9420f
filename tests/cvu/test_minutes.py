"""The compte rendu PDF of a meeting: its content, its build by the worker, its pages."""

import os
import shutil
import subprocess
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

import core.pdf
from core.editable import CONTENT_TYPE as DOCX
from cvu.minutes import reunion_request_pdf
from cvu.models import Decision, Instance, Presence, Reunion, SuiteADonner, TypeInstance
from reporting import rapports
from reporting.models import Rapport
from tests.conftest import close_response
from tests.cvu.factories import ContactFactory, OrganisationFactory
from tests.editable_checks import assert_same_text, docx_parts
from tests.pdf_checks import assert_tagged_pdf
from tests.reporting.factories import RapportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def groupe(commune):
    """A communal instance of the editor's sector."""
    type_ = TypeInstance.objects.create(nom="Groupe technique communal")
    instance = Instance.objects.create(
        nom="Groupe technique de Montbéliard", type=type_, echelle="communale"
    )
    instance.communes.set([commune])
    return instance


@pytest.fixture
def held(groupe, editor):
    """A meeting held on Tuesday 6 October 2026, with everything its minutes show."""
    start = timezone.make_aware(timezone.datetime(2026, 10, 6, 14, 0))
    reunion = Reunion.objects.create(
        instance=groupe,
        debut=start,
        fin=start + timedelta(hours=2),
        lieu="Maison de quartier de la Petite-Hollande",
        statut="tenue",
        compte_rendu="Tour de table.\nLe bailleur présente le diagnostic en marchant.",
    )
    reunion.points.create(ordre=1, texte="Bilan de la programmation 2026")
    mairie = OrganisationFactory(nom="Mairie de Montbéliard", type="commune")
    for prenom, nom, statut in [
        ("Anne", "Martin", "present"),
        ("Karim", "Benali", "excuse"),
        ("Sophie", "Lambert", "absent"),
    ]:
        contact = ContactFactory(prenom=prenom, nom=nom, organisation=mairie)
        Presence.objects.create(
            reunion=reunion, contact=contact, organisation=mairie, statut=statut
        )
    Presence.objects.create(reunion=reunion, utilisateur=editor, statut="present")
    decision = Decision.objects.create(reunion=reunion, texte="Le calendrier 2027 est validé.")
    Decision.objects.create(reunion=reunion, texte="Une visite des jardins partagés est prévue.")
    SuiteADonner.objects.create(
        reunion=reunion,
        decision=decision,
        quoi="Diffuser le calendrier aux partenaires",
        responsable=editor,
        echeance=timezone.localdate() - timedelta(days=3),
    )
    return reunion


def _text(path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (paquet poppler-utils) est absent : texte du PDF non vérifiable")
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


# ------------------------------------------------------------- the build


def _build(held, user):
    """A version requested by `user` and built as the worker does."""
    version = reunion_request_pdf(reunion=held, user=user)
    assert rapports.build_report(version.pk) == "pret", version.erreur
    version.refresh_from_db()
    return version


def test_pdf_shows_attendance_decisions_and_follow_ups(held, editor):
    version = _build(held, editor)
    assert (version.type, version.reunion, version.erreur) == ("compte_rendu", held, "")
    assert version.finished_at is not None
    assert_tagged_pdf(version.fichier.path)
    text = " ".join(_text(version.fichier.path).split())
    assert "Compte rendu : Groupe technique de Montbéliard" in text
    assert "mardi 6 octobre 2026, de 14:00 à 16:00" in text
    assert "Bilan de la programmation 2026" in text
    assert "Présents (2) • Élise Éditrice • Anne Martin – Mairie de Montbéliard" in text
    assert "Excusés (1) • Karim Benali – Mairie de Montbéliard" in text
    assert "Absents (1) • Sophie Lambert – Mairie de Montbéliard" in text
    assert "Le bailleur présente le diagnostic en marchant." in text
    assert "Le calendrier 2027 est validé." in text
    assert "Une visite des jardins partagés est prévue." in text
    assert "Diffuser le calendrier aux partenaires Élise Éditrice" in text
    assert "en retard" in text
    assert "page 1 sur 1" in text


def test_the_editable_minutes_hold_the_pdf_text(client, reader, editor, held):
    """Issue #17: built with the PDF from the same HTML, the .docx reads word for word as the
    PDF; whoever may read the meeting downloads both."""
    version = _build(held, editor)
    with version.fichier.open("rb") as pdf, version.modifiable.open("rb") as docx:
        pdf, docx = pdf.read(), docx.read()
    assert_same_text(pdf, docx)
    body, running = docx_parts(docx)
    assert "Présents (2)" in body and "Le calendrier 2027 est validé." in body
    assert "Pays de Montbéliard Agglomération" in running
    client.force_login(reader)
    assert "Version modifiable (.docx" in client.get(_url(held, "status")).text
    response = client.get(f"/reunions/{held.pk}/compte-rendu.docx")
    assert response["Content-Disposition"] == 'attachment; filename="compte-rendu-2026-10-06.docx"'
    assert response["Content-Type"] == DOCX
    close_response(response)


def test_no_editable_minutes_before_the_first_build(client, reader, held):
    client.force_login(reader)
    assert client.get(f"/reunions/{held.pk}/compte-rendu.docx").status_code == 404
    assert "Version modifiable" not in client.get(_url(held, "status")).text


def test_user_content_is_escaped(held, editor):
    held.compte_rendu = "Avant <script>alert(1)</script> après"
    held.save()
    Decision.objects.create(reunion=held, texte='<img src="http://exemple.fr/x.png">')
    with mock.patch(
        "reporting.rapports.html_to_pdf_pages", wraps=core.pdf.html_to_pdf_pages
    ) as spy:
        version = _build(held, editor)
    html = spy.call_args.args[0]
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Avant <script>alert(1)</script> après" in _text(version.fichier.path)


def test_a_new_version_replaces_the_previous_one(held, editor, django_capture_on_commit_callbacks):
    first = _build(held, editor)
    paths = [first.fichier.path, first.modifiable.path]
    with django_capture_on_commit_callbacks(execute=True):
        second = _build(held, editor)
    assert list(held.comptes_rendus.all()) == [second]
    assert not any(os.path.exists(path) for path in paths)
    assert os.path.exists(second.fichier.path) and os.path.exists(second.modifiable.path)


def test_a_failure_is_recorded_and_keeps_the_previous_version(client, reader, held, editor):
    previous = _build(held, editor)
    version = reunion_request_pdf(reunion=held, user=editor)
    with mock.patch(
        "reporting.rapports.html_to_pdf_pages", side_effect=RuntimeError("police absente")
    ):
        assert rapports.build_report(version.pk) == "echec"
    version.refresh_from_db()
    assert "police absente" in version.erreur and not version.modifiable
    assert set(held.comptes_rendus.all()) == {previous, version}
    client.force_login(reader)
    content = client.get(_url(held, "status")).content.decode()
    assert "police absente" in content and "Télécharger la version précédente" in content
    response = client.get(_url(held, "download"))
    with previous.fichier.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()
    close_response(response)


def test_a_deleted_meeting_takes_its_versions_and_files(
    held, editor, django_capture_on_commit_callbacks
):
    version = _build(held, editor)
    paths = [version.fichier.path, version.modifiable.path]
    with django_capture_on_commit_callbacks(execute=True):
        held.delete()
    assert not Rapport.objects.filter(pk=version.pk).exists()
    assert not any(os.path.exists(path) for path in paths)


# ------------------------------------------------------------- the pages


def _url(reunion, action):
    return {
        "build": f"/reunions/{reunion.pk}/compte-rendu/generer/",
        "status": f"/reunions/{reunion.pk}/compte-rendu/etat/",
        "download": f"/reunions/{reunion.pk}/compte-rendu.pdf",
    }[action]


def test_editor_queues_the_build_on_commit_and_the_pdf_becomes_downloadable(
    client, editor, held, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(_url(held, "build"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert len(callbacks) == 1
    version = held.comptes_rendus.get()
    task, args = callbacks[0].args[:2]  # core.queue: build_report(rapport_id)
    assert task.name == "reporting.tasks.build_report" and args == [version.pk]
    assert (version.statut, version.demande_par) == ("en_attente", editor)
    assert f'hx-get="{_url(held, "status")}"' in response.content.decode()

    callbacks[0]()  # Celery is eager in tests.
    response = client.get(_url(held, "status"))
    assert "Télécharger le compte rendu" in response.content.decode()
    assert "hx-trigger" not in response.content.decode()
    response = client.get(_url(held, "download"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="compte-rendu-2026-10-06.pdf"'
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    close_response(response)


def test_plain_post_redirects_to_the_meeting_with_a_message(
    client, editor, held, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(_url(held, "build"), follow=True)
    assert len(callbacks) == 1
    assert response.redirect_chain == [(held.get_absolute_url(), 302)]
    assert "Le compte rendu PDF est en préparation" in response.content.decode()


def test_direction_downloads_but_cannot_build(client, reader, editor, held):
    _build(held, editor)
    client.force_login(reader)
    assert client.post(_url(held, "build")).status_code == 403
    response = client.get(_url(held, "status"))
    assert response.status_code == 200
    assert "<form" not in response.content.decode()
    response = client.get(_url(held, "download"))
    assert response.status_code == 200
    close_response(response)
    assert held.comptes_rendus.count() == 1


def test_chef_de_projet_of_another_sector_cannot_build(
    client, outsider, held, django_capture_on_commit_callbacks
):
    client.force_login(outsider)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client.post(_url(held, "build")).status_code == 403
    assert callbacks == []
    assert not held.comptes_rendus.exists()


@pytest.mark.parametrize("action", ["build", "status", "download"])
def test_anonymous_is_sent_to_login(client, held, action):
    send = client.post if action == "build" else client.get
    response = send(_url(held, action))
    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/connexion/?next=")


def test_download_is_404_before_any_build(client, reader, held):
    client.force_login(reader)
    assert client.get(_url(held, "download")).status_code == 404


def test_build_refuses_get(client, editor, held):
    client.force_login(editor)
    assert client.get(_url(held, "build")).status_code == 405


def _version(held, editor, **fields):
    return RapportFactory(
        type="compte_rendu",
        reunion=held,
        demande_par=editor,
        parametres={"reunion": held.pk},
        **fields,
    )


@pytest.mark.parametrize("statut", ["en_attente", "en_cours"])
def test_status_fragment_polls_while_pending(client, reader, editor, held, statut):
    _version(held, editor, statut=statut, started_at=timezone.now())
    client.force_login(reader)
    response = client.get(_url(held, "status"))
    content = response.content.decode()
    assert f'hx-get="{_url(held, "status")}"' in content
    assert 'hx-trigger="every 2s"' in content and 'hx-swap="outerHTML"' in content
    assert "<script" not in content


def test_failed_status_shows_the_error_and_a_retry_button_to_editors(client, editor, reader, held):
    _version(held, editor, statut="echec", erreur="Le compte rendu n'a pas pu être produit.")
    client.force_login(editor)
    content = client.get(_url(held, "status")).content.decode()
    assert "Le compte rendu n&#x27;a pas pu être produit." in content
    assert "Réessayer" in content and "hx-trigger" not in content
    client.force_login(reader)
    assert "Réessayer" not in client.get(_url(held, "status")).content.decode()


def test_meeting_page_includes_the_polling_fragment(client, editor, held):
    _version(held, editor, statut="en_cours", started_at=timezone.now())
    client.force_login(editor)
    response = client.get(held.get_absolute_url())
    assert response.status_code == 200
    assert 'id="compte-rendu-pdf"' in response.content.decode()
    assert 'hx-trigger="every 2s"' in response.content.decode()


def test_the_migration_makes_each_built_compte_rendu_a_ready_version(groupe, editor):
    """Issue #17 (one generated-file model): a meeting's files from before become its ready
    version, with the same stored files, requested by whoever created the meeting."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("cvu", "0021_reunion_cr_docx"), ("reporting", "0008_compte_rendu")]
    executor = MigrationExecutor(connection)
    after = executor.loader.graph.leaf_nodes()  # every app back to today's schema
    try:
        executor.migrate(before)
        apps = executor.loader.project_state(before).apps
        OldReunion = apps.get_model("cvu", "Reunion")
        start = timezone.make_aware(timezone.datetime(2026, 10, 6, 14, 0))
        built = OldReunion.objects.create(
            instance_id=groupe.pk,
            debut=start,
            fin=start + timedelta(hours=2),
            created_by_id=editor.pk,
            cr_pdf="comptes-rendus/compte-rendu-1.pdf",
            cr_docx="comptes-rendus/compte-rendu-1.docx",
            cr_pdf_statut="pret",
            cr_pdf_le=start + timedelta(days=1),
        )
        never = OldReunion.objects.create(
            instance_id=groupe.pk, debut=start, fin=start + timedelta(hours=1)
        )
    finally:
        # Back to today's schema whatever happened, for the tests that follow.
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        executor.loader.build_graph()
    version = Rapport.objects.get(reunion_id=built.pk)
    assert (version.type, version.statut, version.demande_par_id) == (
        "compte_rendu",
        "pret",
        editor.pk,
    )
    assert version.fichier.name == "comptes-rendus/compte-rendu-1.pdf"
    assert version.modifiable.name == "comptes-rendus/compte-rendu-1.docx"
    assert version.created_at == version.finished_at == start + timedelta(days=1)
    assert not Rapport.objects.filter(reunion_id=never.pk).exists()
