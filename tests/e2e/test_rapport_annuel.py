"""The rapport annuel politique de la ville in the browser, from its start to its download.

The chef de service prepares the 2025 report from the Rapports page with a DSU commune; the chef
de projet of that commune writes its chapter with formatting (and cannot write the service's);
the chef de service submits the draft to a conseil citoyen, records its opinion with
observations, then the conseil communautaire's approval with the follow-up given to them, and
produces the PDF and the editable document; the direction downloads both from the report's page,
and the .docx holds the chapter's text, its bold kept. Every form is filled as a person would.
"""

import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from docx import Document
from playwright.sync_api import expect

from tests.conftest import chromium_path, require_live
from tests.e2e.conftest import log_in_as
from tests.e2e.test_porteur_journey import _check_page
from tests.editable_checks import assert_same_text, docx_parts

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

CHAPITRE = (
    "La commune a **renforcé** le soutien scolaire dans les deux écoles du quartier.\n"
    "\n"
    "- Clubs de lecture le mercredi\n"
    "- Ateliers parents-enfants"
)
CHAPITRE_LU = "La commune a renforcé le soutien scolaire dans les deux écoles du quartier."
AVIS = "Le conseil demande davantage d'actions pour les jeunes filles."
SUITE = "Un appel à projets jeunesse sera ouvert en 2026."


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


@pytest.fixture
def worker(request):
    """A real Celery worker over Redis when a broker is configured (CI); otherwise the build runs
    eagerly in the request, and the journey still goes through every page."""
    if os.environ.get("CELERY_BROKER_URL") or os.environ.get("CI") == "true":
        return request.getfixturevalue("live_worker")
    return None


def _flat(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def _chapter_row(page, titre: str):
    return page.locator("tr").filter(has=page.get_by_role("rowheader", name=titre, exact=True))


def test_the_annual_report_is_written_consulted_approved_and_downloaded(
    page, live_server, editor, manager, reader, commune, qpv, worker, tmp_path, settings
):
    from participation.models import ConseilCitoyen, TypeParticipation
    from reporting.models import Consultation, Rapport, RapportAnnuel
    from tests.cvu.factories import ContratFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    today = timezone.localdate()
    ContratFactory(nom="Engagements Quartiers 2030", annee_debut=2024, annee_fin=2030)
    conseil = ConseilCitoyen.objects.create(
        nom="Conseil citoyen de la Chiffogne",
        type=TypeParticipation.objects.create(nom="Conseil citoyen", sieges=6),
        commune=commune,
    )
    conseil.qpvs.set([qpv])
    # Sent two months ago with the shortest legal deadline: the opinion came back before it,
    # and the conseil communautaire may already have deliberated.
    envoye_le = today - timedelta(days=70)
    echeance = envoye_le + relativedelta(months=1)
    avis_recu_le = envoye_le + timedelta(days=20)
    approuve_le = echeance + timedelta(days=10)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # 1. The chef de service prepares the report from the Rapports page.
    log_in_as(page, live_server, manager)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Rapports", exact=True).click()
    page.get_by_role("link", name="rapports annuels").click()
    expect(
        page.get_by_role("heading", name="Rapports annuels politique de la ville")
    ).to_be_visible()
    page.get_by_role("link", name="Préparer un rapport annuel").click()
    page.get_by_label("Année du rapport").fill("2025")
    page.get_by_role("checkbox", name="Montbéliard").check()
    _check_page(page)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Rapport annuel créé")).to_be_visible()
    expect(page.get_by_role("heading", name="Sections obligatoires")).to_be_visible()
    expect(_chapter_row(page, "Montbéliard")).to_contain_text("à rédiger")
    rapport = RapportAnnuel.objects.get()
    assert (rapport.annee, list(rapport.communes_dsu.all())) == (2025, [commune])
    # The service's chapters are the chef de service's to write.
    expect(
        page.get_by_role("link", name="Rédiger le chapitre Perspectives et améliorations")
    ).to_be_visible()
    report_url = page.url

    # 2. The chef de projet writes their commune's chapter, not the service's.
    page.context.clear_cookies()
    log_in_as(page, live_server, editor)
    page.goto(report_url)
    expect(page.get_by_role("heading", name="Sections obligatoires")).to_be_visible()
    expect(
        page.get_by_role("link", name="Rédiger le chapitre Montbéliard : dotation de solidarité")
    ).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile("Perspectives et améliorations"))
    ).to_have_count(0)
    expect(
        page.get_by_role("link", name=re.compile(r"^Rédiger le chapitre (Mobilisation|Évaluation)"))
    ).to_have_count(0)
    expect(
        page.get_by_role("button", name="Produire le PDF et la version modifiable")
    ).to_have_count(0)
    page.get_by_role("link", name="Rédiger le chapitre Montbéliard", exact=True).click()
    expect(page.get_by_role("heading", name="Montbéliard", exact=True)).to_be_visible()
    page.get_by_label("Texte").fill(CHAPITRE)
    _check_page(page)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Chapitre « Montbéliard » enregistré.")).to_be_visible()
    row = _chapter_row(page, "Montbéliard")
    expect(row.get_by_text("rédigé", exact=True)).to_be_visible()
    expect(row).to_contain_text(str(editor))
    expect(row.get_by_role("link", name="Modifier le chapitre Montbéliard")).to_be_visible()

    # 3. The chef de service submits the draft to the conseil citoyen, records its opinion…
    page.context.clear_cookies()
    log_in_as(page, live_server, manager)
    page.goto(report_url)
    page.get_by_role("link", name="Soumettre à un conseil").click()
    page.get_by_label("Conseil citoyen", exact=True).select_option(
        label="Conseil citoyen de la Chiffogne"
    )
    page.get_by_label("Projet envoyé le").fill(envoye_le.isoformat())
    page.get_by_label("Avis attendu au plus tard le").fill(echeance.isoformat())
    page.get_by_label("Avis rendu").select_option(label="Favorable avec observations")
    page.get_by_label("Avis reçu le").fill(avis_recu_le.isoformat())
    page.get_by_label("Texte de l'avis ou observations").fill(AVIS)
    _check_page(page)
    page.get_by_role("button", name="Enregistrer").click()
    expect(
        page.get_by_text("Consultation de Conseil citoyen de la Chiffogne enregistrée.")
    ).to_be_visible()
    consultations = page.get_by_role("table", name="Conseils consultés et avis")
    expect(consultations).to_contain_text("Favorable avec observations")
    expect(consultations).to_contain_text(f"reçu le {avis_recu_le:%d/%m/%Y}")

    # … then the conseil communautaire's approval and its answer to the observations.
    page.get_by_role("link", name="Enregistrer l'approbation").click()
    page.get_by_label("Date du conseil communautaire").fill(approuve_le.isoformat())
    page.get_by_label("N° de la délibération").fill("C-2026-042")
    page.get_by_label("Suite donnée à l'avis de Conseil citoyen de la Chiffogne").fill(SUITE)
    _check_page(page)
    page.get_by_role("button", name="Enregistrer").click()
    # Refused while chapters are empty and no conseil municipal was consulted.
    expect(page.get_by_text("Aucun conseil municipal consulté.")).to_be_visible()
    expect(page.get_by_text(re.compile("Chapitres du service à rédiger"))).to_be_visible()
    assert not RapportAnnuel.objects.get().approuve
    # Meanwhile the other chapters are written and the conseil municipal stays silent.
    rapport.chapitres.filter(texte="").update(texte="Chapitre rédigé par le service.")
    Consultation.objects.create(
        rapport=rapport, commune=commune, envoye_le=envoye_le, echeance=echeance
    )
    page.get_by_role("button", name="Enregistrer").click()
    expect(
        page.get_by_text("Approbation enregistrée : le texte du rapport est figé.")
    ).to_be_visible()
    expect(
        page.get_by_text(
            f"Approuvé par le conseil communautaire le {approuve_le:%d/%m/%Y}, "
            "délibération n° C-2026-042."
        )
    ).to_be_visible()
    expect(consultations).to_contain_text(SUITE)
    # Approved: the text no longer changes.
    expect(
        page.get_by_role("link", name=re.compile(r"^(Rédiger|Modifier) le chapitre"))
    ).to_have_count(0)
    expect(page.get_by_role("link", name="Soumettre à un conseil")).to_have_count(0)
    _check_page(page)

    # 4. The PDF and the editable document, built by the worker.
    page.get_by_role("button", name="Produire le PDF et la version modifiable").click()
    expect(page.get_by_text("Le PDF et la version modifiable sont en préparation")).to_be_visible()
    expect(page.get_by_text("Prêt", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_role("link", name="Télécharger le PDF")).to_be_visible()
    expect(page.get_by_role("link", name="Version modifiable (.docx, même texte)")).to_be_visible()
    version = Rapport.objects.get(type=Rapport.Type.ANNUEL)
    assert version.statut == Rapport.Statut.PRET, version.erreur
    _check_page(page)

    # 5. The direction finds the report and downloads both files.
    page.context.clear_cookies()
    log_in_as(page, live_server, reader)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Rapports", exact=True).click()
    page.get_by_role("link", name="rapports annuels").click()
    page.get_by_role("link", name="Rapport 2025").click()
    expect(page.get_by_role("heading", name="Sections obligatoires")).to_be_visible()
    expect(
        page.get_by_role("button", name="Produire le PDF et la version modifiable")
    ).to_have_count(0)
    files = {}
    for kind, extension in (("PDF", ".pdf"), (".docx", ".docx")):
        with page.expect_download() as download_info:
            page.get_by_role(
                "link", name=re.compile(rf"^{re.escape(kind)} de la version du")
            ).click()
        download = download_info.value
        assert download.suggested_filename.endswith(extension), download.suggested_filename
        files[extension] = Path(download.path()).read_bytes()
    pdf, docx = files[".pdf"], files[".docx"]
    assert pdf.startswith(b"%PDF")
    assert docx.startswith(b"PK")

    # The chapter, the opinion and its follow-up reached the editable document, as in the PDF.
    body = _flat(docx_parts(docx)[0])
    for words in (CHAPITRE_LU, "Clubs de lecture le mercredi", AVIS, SUITE, "C-2026-042"):
        assert words in body, words
    assert any(
        run.text == "renforcé" and run.bold
        for paragraph in Document(io.BytesIO(docx)).paragraphs
        for run in paragraph.runs
    ), "le gras du chapitre est perdu dans le .docx"
    assert_same_text(pdf, docx)  # the same words in both
    assert errors == []
