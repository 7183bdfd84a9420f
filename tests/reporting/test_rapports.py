"""PDF reports: contents, statuses, failures and retries, permissions, scheduled jobs."""

import subprocess
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.template import TemplateSyntaxError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from participation.models import ConseilCitoyen, Demarche, Membre, PointEtape, TypeParticipation
from quartiers.models import Indicateur, ValeurIndicateur
from reporting import rapports
from reporting.models import Rapport
from tests.comptes.factories import UserFactory
from tests.conftest import close_response

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


def build(type, parametres, user) -> Rapport:
    rapport = Rapport.objects.create(type=type, titre=type, parametres=parametres, demande_par=user)
    rapports.build_report(rapport.pk)
    rapport.refresh_from_db()
    return rapport


# ---------------------------------------------------------------- contents


def test_programming_report_holds_the_hand_computed_figures(data, manager):
    rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    assert rapport.statut == "pret", rapport.erreur
    text = pdf_text(rapport.fichier.path)
    assert "Bilan de programmation" in text and "Pays de Montbéliard Agglomération" in text
    assert "1 700,30 €" in text and "1 100,25 €" in text  # totals requested / voted
    assert "1 500,10 €" in text  # the second axe and the second QPV
    assert "5 000,00 €" in text  # État's envelope
    assert "Sommaire" in text and f"page 1 sur {rapport.pages}" in text
    assert rapport.pages >= 3  # cover, contents, figures


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
    with mock.patch("reporting.rapports.render_pdf_pages", wraps=rapports.render_pdf_pages) as spy:
        rapport = build("fiche", {"qpv": qpv.pk}, manager)
    html_context = spy.call_args.args[1]
    assert "<svg" in str(html_context["series"][0]["svg"])
    text = pdf_text(rapport.fichier.path)
    assert "Taux de pauvreté" in text and "41,25" in text and "Chiffogne" in text


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
    page = client.get(rapport.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 2s"' in page  # the page polls while waiting
    for callback in callbacks:
        callback()  # the worker (eager in tests) builds it
    rapport.refresh_from_db()
    assert rapport.statut == "pret" and rapport.started_at and rapport.finished_at
    fragment = client.get(rapport.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert "Télécharger le PDF" in fragment and "every 2s" not in fragment


def test_template_error_gives_a_readable_failure_then_retry(
    client, manager, data, django_capture_on_commit_callbacks
):
    with mock.patch(
        "reporting.rapports.render_pdf_pages",
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


def test_missing_object_fails_cleanly(manager):
    rapport = build("fiche", {"qpv": 999999}, manager)
    assert rapport.statut == "echec" and "ne correspondent plus aux données" in rapport.erreur


def test_an_interrupted_build_can_be_retried(
    client, manager, data, django_capture_on_commit_callbacks
):
    rapport = Rapport.objects.create(
        type="programmation",
        titre="Interrompu",
        parametres={"contrat": data["contrat"].pk, "annee": 2026},
        demande_par=manager,
        statut="en_cours",
        started_at=timezone.now() - timedelta(hours=2),
    )
    client.force_login(manager)
    assert "interrompu" in client.get(rapport.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/rapports/{rapport.pk}/relancer/")
    rapport.refresh_from_db()
    assert rapport.statut == "pret"


def test_a_redelivered_message_does_not_rebuild_a_ready_report(manager, data):
    rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    finished = rapport.finished_at
    assert rapports.build_report(rapport.pk) == "pret"
    rapport.refresh_from_db()
    assert rapport.finished_at == finished


# ---------------------------------------------------------------- permissions and bad input


def test_downloads_are_permission_checked(client, editor, outsider, manager, reader, data):
    rapport = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, editor)
    url = f"/rapports/{rapport.pk}/telecharger/"
    for user, status in ((editor, 200), (manager, 200), (outsider, 404), (reader, 404)):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, user
        if status == 200:
            assert response["Content-Type"] == "application/pdf"
            close_response(response)
        assert client.get(rapport.get_absolute_url()).status_code == status
    client.logout()
    assert client.get(url).status_code == 302


def test_direction_may_request_reports(client, reader, data):
    client.force_login(reader)
    response = client.post("/rapports/", {"type": "participation"})
    assert response.status_code == 302
    assert Rapport.objects.get().demande_par == reader


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


def test_list_query_count_does_not_grow(client, manager, editor):
    client.force_login(manager)

    def count():
        with CaptureQueriesContext(connection) as context:
            assert client.get("/rapports/").status_code == 200
        return len(context.captured_queries)

    Rapport.objects.create(type="participation", titre="Un", demande_par=editor)
    small = count()
    for n in range(25):
        Rapport.objects.create(type="participation", titre=f"R{n}", demande_par=UserFactory())
    assert count() == small


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


def test_purge_deletes_old_reports_and_their_files(manager, data, settings):
    settings.RAPPORTS_CONSERVATION_JOURS = 30
    old = build("programmation", {"contrat": data["contrat"].pk, "annee": 2026}, manager)
    path = old.fichier.path
    Rapport.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    recent = Rapport.objects.create(type="participation", titre="Récent", demande_par=manager)
    call_command("purge_rapports")
    assert list(Rapport.objects.all()) == [recent]
    import os

    assert not os.path.exists(path)


# ---------------------------------------------------------------- a real worker


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_a_report_over_redis(live_worker, manager, data):
    rapport = Rapport.objects.create(
        type="programmation",
        titre="Par le worker",
        parametres={"contrat": data["contrat"].pk, "annee": 2026},
        demande_par=manager,
    )
    from reporting.tasks import build_report

    result = build_report.delay(rapport.pk)
    assert result.get(timeout=120) == "pret"
    rapport.refresh_from_db()
    assert rapport.pages >= 3 and "1 700,30 €" in pdf_text(rapport.fichier.path)
