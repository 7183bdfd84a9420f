"""PDF reports: contents, statuses, failures and retries, permissions, scheduled jobs."""

import os
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.template import TemplateSyntaxError
from django.utils import timezone
from openpyxl import load_workbook

from participation.models import ConseilCitoyen, Demarche, Membre, PointEtape, TypeParticipation
from quartiers.models import Indicateur, ValeurIndicateur
from reporting import rapports
from reporting.forms import ProgrammationReportForm
from reporting.models import Rapport
from tests.comptes.factories import UserFactory
from tests.conftest import close_response
from tests.pdf_checks import assert_tagged_pdf
from tests.reporting.factories import RapportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def pdf_text(path) -> str:
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def pdf_pages(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(
        next(line.split()[1] for line in info.stdout.splitlines() if line.startswith("Pages:"))
    )


def build(type, parametres, user) -> Rapport:
    rapport = Rapport.objects.create(type=type, titre=type, parametres=parametres, demande_par=user)
    rapports.build_report(rapport.pk)
    rapport.refresh_from_db()
    return rapport


# ---------------------------------------------------------------- contents


def test_programming_report_holds_the_hand_computed_figures(data, manager):
    rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    assert rapport.statut == "pret", rapport.erreur
    assert_tagged_pdf(rapport.fichier.path)
    text = pdf_text(rapport.fichier.path)
    assert "Bilan de programmation" in text and "Pays de Montbéliard Agglomération" in text
    assert "1 700,30 €" in text and "1 100,25 €" in text  # totals requested / voted
    assert "1 500,10 €" in text  # the second axe and the second QPV
    assert "5 000,00 €" in text  # État's envelope
    assert "Sommaire" in text and f"page 1 sur {rapport.pages}" in text
    assert f"page {rapport.pages} sur {rapport.pages}" in text
    assert rapport.pages >= 3  # cover, contents, figures
    assert pdf_pages(rapport.fichier.path) == rapport.pages
    assert "Manquants (0)" in text and "Reçus (0)" in text


def test_programming_report_lists_received_and_missing_bilans(data, manager):
    x, y, _ = data["actions"]
    x.statut, y.statut = "solde", "bilan_attendu"
    x.save(update_fields=["statut"])
    y.save(update_fields=["statut"])
    rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    text = pdf_text(rapport.fichier.path)
    assert "Reçus (1) X – " in text and "Manquants (1) Y – " in text


def test_a_big_programming_report_sums_up_and_puts_its_lists_in_an_excel_annex(
    client, data, manager, reader, outsider, settings
):
    """Above PROGRAMMATION_LISTE_MAX dossiers the PDF keeps the totals and groups the missing
    bilans by referent; the annex lists every dossier with the PDF's amounts, to the cent."""
    x, y, _ = data["actions"]
    x.statut, y.statut = "solde", "bilan_attendu"
    x.save(update_fields=["statut"])
    y.save(update_fields=["statut"])
    settings.PROGRAMMATION_LISTE_MAX = 1
    rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    assert rapport.statut == "pret", rapport.erreur
    text = pdf_text(rapport.fichier.path)
    assert "1 700,30 €" in text and "1 100,25 €" in text  # the totals stay
    assert "L'exercice compte 2 dossiers : au-delà de 1" in text and "annexe Excel" in text
    assert f"rapports/{rapport.pk}/" in text  # where to download it
    assert "Reçus (1) 1 bilan reçu" in text and "Y – " not in text  # no list
    assert "Sans référent 1 0" in text  # missing bilans grouped by referent

    workbook = load_workbook(rapport.annexe.path)
    assert workbook.sheetnames == ["Dossiers de l'exercice", "Bilans reçus", "Bilans manquants"]
    dossiers = list(workbook["Dossiers de l'exercice"].values)
    assert dossiers[0][:3] == ("Action", "Porteur", "Statut")
    by_title = {row[0]: row for row in dossiers[1:]}
    assert set(by_title) == {"X", "Y"}
    assert sum(Decimal(str(row[5])) for row in dossiers[1:]) == Decimal("1700.30")
    assert sum(Decimal(str(row[6])) for row in dossiers[1:]) == Decimal("1100.25")
    assert by_title["X"][4] and "," in by_title["X"][4]  # its two QPV
    assert [row[0] for row in list(workbook["Bilans manquants"].values)[1:]] == ["Y"]
    assert [row[0] for row in list(workbook["Bilans reçus"].values)[1:]] == ["X"]

    for user in (manager, reader):
        client.force_login(user)
        assert "Télécharger l'annexe Excel" in client.get(rapport.get_absolute_url()).text
        response = client.get(f"/rapports/{rapport.pk}/annexe/")
        assert response["Content-Disposition"].endswith('-annexe.xlsx"')
        close_response(response)
    client.force_login(outsider)
    assert client.get(f"/rapports/{rapport.pk}/annexe/").status_code == 404

    path = rapport.annexe.path
    rapports.purge(days=-1)
    assert not os.path.exists(path)


def test_a_failed_big_report_leaves_no_annex_behind(data, manager, settings, media):
    settings.PROGRAMMATION_LISTE_MAX = 1
    with mock.patch("reporting.rapports.html_to_pdf_pages", side_effect=OSError("disque plein")):
        rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    assert rapport.statut == "echec" and not rapport.annexe
    assert not [path for path in media.rglob("*.xlsx")]


def test_a_programming_report_under_the_limit_has_no_annex(client, data, manager):
    rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    assert not rapport.annexe
    client.force_login(manager)
    assert "annexe" not in client.get(rapport.get_absolute_url()).text
    assert client.get(f"/rapports/{rapport.pk}/annexe/").status_code == 404


def test_empty_year_gives_a_nothing_to_report_page(data, manager):
    rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2029}, manager)
    assert rapport.statut == "pret"
    assert "Rien à signaler pour cette période" in pdf_text(rapport.fichier.path)


def test_participation_report_counts_without_names(manager, commune):
    conseil = ConseilCitoyen.objects.create(
        nom="Conseil citoyen Petite-Hollande",
        type=TypeParticipation.objects.create(nom="CC"),
        commune=commune,
    )
    Membre.objects.create(
        conseil=conseil,
        prenom="Aïcha",
        nom="Benali",
        college="habitants",
        genre="femme",
        tranche_age="40_59",
        designation="volontaire",
        mandat_debut="2025-01-01",
        base_legale="mission_publique",
    )
    demarche = Demarche.objects.create(
        titre="Diagnostic en marchant",
        initiateur="pma",
        type="concertation",
        date_debut=timezone.localdate(),
    )
    demarche.communes.set([commune])
    PointEtape.objects.create(demarche=demarche, date=timezone.localdate(), texte="Deux balades")
    rapport = build("participation", {}, manager)
    assert_tagged_pdf(rapport.fichier.path)
    text = pdf_text(rapport.fichier.path)
    assert "Petite-" in text and "Hollande" in text and "Diagnostic en marchant" in text
    assert "Deux balades" in text and "Montbéliard" in text
    assert "Benali" not in text and "Aïcha" not in text


def test_territory_sheet_draws_svg_charts(manager, qpv):
    indicateur = Indicateur.objects.create(
        code="taux_pauvrete", libelle="Taux de pauvreté", unite="%"
    )
    for year, value in [(2021, "40.5"), (2022, "41.25")]:
        ValeurIndicateur.objects.create(
            indicateur=indicateur, qpv=qpv, annee=year, valeur=Decimal(value)
        )
    with mock.patch("reporting.rapports.render_to_string", wraps=rapports.render_to_string) as spy:
        rapport = build("fiche", {"qpv": qpv.pk}, manager)
    html_context = spy.call_args.args[1]
    assert "<svg" in str(html_context["series"][0]["svg"])
    assert_tagged_pdf(rapport.fichier.path)
    text = pdf_text(rapport.fichier.path)
    assert "Taux de pauvreté" in text and "41,25" in text and "Chiffogne" in text
    assert pdf_pages(rapport.fichier.path) == rapport.pages


def test_territory_sheet_without_data_says_so(manager, commune):
    rapport = build("fiche", {"commune": commune.pk}, manager)
    assert rapport.statut == "pret", rapport.erreur
    assert "Rien à signaler" in pdf_text(rapport.fichier.path)


def test_svg_labels_are_escaped():
    from reporting.svg import line_chart

    svg = str(line_chart([(2020, Decimal(1)), (2021, Decimal(2))], unit="<script>"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


# ---------------------------------------------------------------- statuses


def test_request_queues_then_the_worker_builds(
    client, manager, data, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/rapports/",
            {
                "type": "programmation",
                "programmation-contrat": data["contrat"].pk,
                "programmation-annee": 2026,
            },
        )
    rapport = Rapport.objects.get()
    assert response.status_code == 302 and response["Location"] == rapport.get_absolute_url()
    assert rapport.statut == "en_attente" and rapport.demande_par == manager
    assert rapport.parametres == {"contrat": data["contrat"].pk, "annee": 2026}
    [queued] = callbacks  # the task is queued under the id recorded on the report
    task, args, options = queued.args[:3]  # core.queue: published after commit
    assert task.name == "reporting.tasks.build_report" and args == [rapport.pk]
    assert options == {"task_id": rapport.task_id}
    page = client.get(rapport.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 2s"' in page  # the page polls while waiting
    for callback in callbacks:
        callback()  # the worker (eager in tests) builds it
    rapport.refresh_from_db()
    assert rapport.statut == "pret" and rapport.started_at and rapport.finished_at
    fragment = client.get(rapport.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert "Télécharger le PDF" in fragment and "every 2s" not in fragment
    assert "HX-Request" in client.get(rapport.get_absolute_url())["Vary"]


def test_template_error_gives_a_readable_failure_then_retry(
    client, manager, data, django_capture_on_commit_callbacks
):
    with mock.patch(
        "reporting.rapports.render_to_string",
        side_effect=TemplateSyntaxError("Invalid block tag 'endfor'"),
    ):
        rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    assert rapport.statut == "echec"
    assert "Erreur dans le modèle du rapport" in rapport.erreur
    client.force_login(manager)
    page = client.get(rapport.get_absolute_url()).content.decode()
    assert "Relancer" in page and "Erreur dans le modèle" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/rapports/{rapport.pk}/relancer/")  # queued, built again by the worker
    rapport.refresh_from_db()
    assert rapport.statut == "pret" and rapport.tentatives == 2 and rapport.erreur == ""


def test_a_broken_template_fails_with_a_readable_message(manager, data, settings, tmp_path):
    broken = tmp_path / "gabarits" / "pdf"
    broken.mkdir(parents=True)
    (broken / "rapport_programmation.html").write_text("{% for x in y %}jamais fermé")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [broken.parent, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    assert rapport.statut == "echec" and rapport.finished_at and not rapport.fichier
    assert rapport.erreur.startswith("Erreur dans le modèle du rapport")
    assert "endfor" in rapport.erreur


def test_a_file_that_cannot_be_written_fails_cleanly(manager, data):
    with mock.patch(
        "django.core.files.storage.FileSystemStorage._save", side_effect=OSError("disque plein")
    ):
        rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    assert rapport.statut == "echec" and "disque plein" in rapport.erreur


def test_missing_object_fails_cleanly(manager):
    rapport = build("fiche", {"qpv": 999999}, manager)
    assert rapport.statut == "echec" and "ne correspondent plus aux données" in rapport.erreur


def test_an_interrupted_build_can_be_retried(
    client, manager, data, django_capture_on_commit_callbacks
):
    rapport = RapportFactory(
        interrompu=True,
        type="programmation",
        parametres={"contrat": data["contrat"].pk, "annee": 2026},
        demande_par=manager,
    )
    assert rapport.retryable and not rapport.in_progress
    client.force_login(manager)
    page = client.get(rapport.get_absolute_url()).content.decode()
    assert "interrompu" in page and "every 2s" not in page  # polling stops
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/rapports/{rapport.pk}/relancer/")
    rapport.refresh_from_db()
    assert rapport.statut == "pret"


def test_interrupted_or_lost_builds_are_queued_again_by_the_periodic_task(
    manager, data, settings, django_capture_on_commit_callbacks
):
    from reporting.tasks import requeue_interrupted_reports

    settings.CELERY_TASK_TIME_LIMIT = 600  # a build is interrupted after 15 minutes
    params = {"contrat": data["contrat"].pk, "annee": 2026}
    now = timezone.now()
    interrupted = RapportFactory(
        type="programmation",
        parametres=params,
        demande_par=manager,
        statut="en_cours",
        started_at=now - timedelta(minutes=16),
        tentatives=1,
    )
    running = RapportFactory(
        type="programmation",
        parametres=params,
        demande_par=manager,
        statut="en_cours",
        started_at=now - timedelta(minutes=14),
        tentatives=1,
    )
    lost = RapportFactory(type="programmation", parametres=params, demande_par=manager)
    Rapport.objects.filter(pk=lost.pk).update(created_at=now - timedelta(minutes=16))
    worn = RapportFactory(
        type="programmation",
        parametres=params,
        demande_par=manager,
        statut="en_cours",
        started_at=now - timedelta(hours=1),
        tentatives=3,
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_interrupted_reports.delay().get() == 2

    statuses = dict(Rapport.objects.values_list("pk", "statut"))
    assert statuses[interrupted.pk] == statuses[lost.pk] == "pret"  # built again (eager worker)
    assert statuses[running.pk] == "en_cours"  # may still be building: left alone
    worn.refresh_from_db()
    assert worn.statut == "echec" and "interrompue 3 fois" in worn.erreur


def test_a_redelivered_message_does_not_rebuild_a_ready_report(manager, data):
    rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    finished = rapport.finished_at
    assert rapports.build_report(rapport.pk) == "pret"
    rapport.refresh_from_db()
    assert rapport.finished_at == finished


# ---------------------------------------------------------------- permissions and bad input


def test_downloads_are_permission_checked(client, editor, outsider, manager, reader, data):
    """The requester and the chef de service; the direction too (figures, no personal data);
    another chef de projet gets a 404."""
    rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, editor)
    url = f"/rapports/{rapport.pk}/telecharger/"
    for user, status in ((editor, 200), (manager, 200), (reader, 200), (outsider, 404)):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, user
        if status == 200:
            assert response["Content-Type"] == "application/pdf"
            close_response(response)
        assert client.get(rapport.get_absolute_url()).status_code == status
    client.logout()
    assert client.get(url).status_code == 302


def test_retry_is_post_only_and_refused_to_others(client, editor, outsider, reader):
    rapport = RapportFactory(echec=True, demande_par=editor)
    url = f"/rapports/{rapport.pk}/relancer/"
    client.force_login(outsider)
    assert client.post(url).status_code == 404
    client.force_login(reader)  # reads it, but does not relaunch someone else's report
    assert "Relancer" not in client.get(rapport.get_absolute_url()).content.decode()
    assert client.post(url).status_code == 403
    client.force_login(editor)
    assert client.get(url).status_code == 405
    rapport.refresh_from_db()
    assert rapport.statut == "echec"


def test_a_ready_report_is_not_retried(client, manager, data, django_capture_on_commit_callbacks):
    rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(f"/rapports/{rapport.pk}/relancer/")
    assert callbacks == []


@pytest.mark.parametrize(
    ("type_", "fields"),
    [("participation", {}), ("fiche", {"fiche-qpv": None}), ("programmation", None)],
)
def test_direction_may_request_every_report(client, reader, data, qpv, type_, fields):
    client.force_login(reader)
    if fields is None:
        fields = {"programmation-contrat": data["contrat"].pk, "programmation-annee": 2026}
    elif "fiche-qpv" in fields:
        fields = {"fiche-qpv": qpv.pk}
    response = client.post("/rapports/", {"type": type_, **fields})
    assert response.status_code == 302
    assert Rapport.objects.get().demande_par == reader


def test_direction_lists_only_its_own_reports(client, reader, editor):
    RapportFactory(titre="Le sien", demande_par=editor)
    RapportFactory(titre="Le mien", demande_par=reader)
    client.force_login(reader)
    page = client.get("/rapports/").content.decode()
    assert "Le mien" in page and "Le sien" not in page


def test_parameters_offer_only_objects_visible_to_the_user(data):
    from django.contrib.auth.models import AnonymousUser

    form = ProgrammationReportForm(
        {"contrat": data["contrat"].pk, "annee": 2026}, user=AnonymousUser()
    )
    assert not form.is_valid()
    assert "Sélectionnez un choix valide" in str(form.errors["contrat"])


@pytest.mark.parametrize(
    ("data_", "message"),
    [
        (
            {"type": "programmation", "programmation-annee": "2050"},
            "couvre les exercices 2024 à 2030",
        ),
        ({"type": "fiche"}, "Choisissez un QPV ou une commune"),
        (
            {"type": "programmation", "programmation-annee": "deux mille"},
            "Saisissez un nombre entier",
        ),
    ],
)
def test_bad_parameters_get_french_errors(client, manager, data, data_, message):
    if "programmation-annee" in data_:
        data_["programmation-contrat"] = data["contrat"].pk
    client.force_login(manager)
    response = client.post("/rapports/", data_)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Rapport.objects.exists()


def test_unknown_report_type_is_404(client, manager):
    client.force_login(manager)
    assert client.post("/rapports/", {"type": "inconnu"}).status_code == 404


@pytest.mark.parametrize("rows", [2, 10])
@pytest.mark.parametrize("persona", ["manager", "reader"])
def test_list_query_count_is_constant(client, request, django_assert_num_queries, persona, rows):
    user = request.getfixturevalue(persona)
    RapportFactory.create_batch(rows // 2, demande_par=user)
    RapportFactory.create_batch(rows // 2, echec=True)  # each by another user
    client.force_login(user)
    # session, user; current contract (2: this year's, then any); paginator count; the forms'
    # choices: communes with a council, contracts (2: the select and its initial value), QPV,
    # communes; the page of reports with their requesters.
    with django_assert_num_queries(11):
        assert client.get("/rapports/").status_code == 200


def test_chef_de_projet_sees_only_their_reports(client, editor, outsider):
    Rapport.objects.create(type="participation", titre="Le mien", demande_par=editor)
    Rapport.objects.create(type="participation", titre="Le sien", demande_par=outsider)
    client.force_login(editor)
    page = client.get("/rapports/").content.decode()
    assert "Le mien" in page and "Le sien" not in page


# ---------------------------------------------------------------- scheduled jobs


def test_monthly_pack_for_the_direction_with_links(reader, editor, data, settings):
    settings.SITE_URL = "https://cvu.example.org"
    with mock.patch("django.utils.timezone.localdate", return_value=date(2026, 12, 1)):
        count = rapports.monthly_pack()
    assert count == 2
    built = list(Rapport.objects.filter(demande_par=reader))
    assert {r.type for r in built} == {"participation", "programmation"}
    assert not Rapport.objects.filter(demande_par=editor).exists()
    for rapport in built:
        rapports.build_report(rapport.pk)
    assert len(mail.outbox) == 2
    assert all("https://cvu.example.org/rapports/" in m.body for m in mail.outbox)
    assert mail.outbox[0].to == [reader.email]


def test_monthly_pack_of_january_covers_the_year_just_closed(reader, data):
    UserFactory(direction=True, is_active=False)  # a former member gets nothing
    with mock.patch("django.utils.timezone.localdate", return_value=date(2031, 1, 1)):
        assert rapports.monthly_pack() == 2
    programmation = Rapport.objects.get(type="programmation")
    assert programmation.demande_par == reader and programmation.envoyer_lien
    assert programmation.parametres == {"contrat": data["contrat"].pk, "annee": 2030}


def test_scheduled_jobs_are_wired(settings):
    from config.celery import app

    beat = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    pack = beat["reporting.tasks.build_monthly_pack"]
    assert pack.day_of_month == {1} and pack.hour == {6} and pack.minute == {0}
    assert "reporting.tasks.purge_reports" in beat
    task = app.tasks["reporting.tasks.build_report"]
    assert task.acks_late and task.reject_on_worker_lost


def test_purge_deletes_old_reports_and_their_files(manager, data, settings):
    settings.RAPPORTS_CONSERVATION_JOURS = 30
    old = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    path = old.fichier.path
    Rapport.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    recent = Rapport.objects.create(type="participation", titre="Récent", demande_par=manager)
    call_command("purge_rapports")
    assert list(Rapport.objects.all()) == [recent]
    assert not os.path.exists(path)
    assert rapports.purge() == 0  # nothing left to purge


# ---------------------------------------------------------------- a real worker


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_a_report_over_redis(live_worker, manager, data):
    """The request path of the page: recorded, queued on commit under its task id, built by a
    worker through Redis."""
    rapport = rapports.rapport_request(
        type="programmation",
        titre="Par le worker",
        parametres={"contrat": data["contrat"].pk, "annee": 2026},
        user=manager,
    )
    assert live_worker.AsyncResult(rapport.task_id).get(timeout=120) == "pret"
    rapport.refresh_from_db()
    assert rapport.statut == "pret" and rapport.tentatives == 1
    assert rapport.pages >= 3 and "1 700,30 €" in pdf_text(rapport.fichier.path)
