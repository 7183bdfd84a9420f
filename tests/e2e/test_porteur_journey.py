"""Issue #18 in the browser: a porteur from the first idea to the last payment.

A chef de projet records a fiche d'intention and an advice meeting with its next step (which the
home page then shows); the chef de service imports the call's Dauphin file, which ties the new
dossier to the fiche; after the committee, the chef de service establishes the convention,
records both signatures with the signed copy (the dossier becomes « Conventionné »), plans an
advance and a balance, records the advance; the bilan shows less spent than paid and a clawback
is asked; the porteur page shows all of it. Every form is filled as a person would."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from openpyxl import Workbook
from playwright.sync_api import expect

from tests.conftest import chromium_path, require_live
from tests.cvu.aap_factories import SIRET_ASSO, AppelFactory, EnveloppeFactory
from tests.cvu.factories import ContratFactory, OrganisationFactory
from tests.e2e.conftest import log_in_as
from tests.e2e.test_form_pages import CHECK_CONTROLS

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


def _dauphin_file(tmp_path, annee: int):
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "N° dossier",
            "Raison sociale",
            "N° SIRET",
            "Intitulé de l'action",
            "Exercice",
            "Montant sollicité PMA",
        ]
    )
    sheet.append(
        [f"DA-{annee}-00042", "Association Les Buis", SIRET_ASSO, "Jardins partagés", annee, 24000]
    )
    path = tmp_path / "export-dauphin.xlsx"
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def _check_page(page):
    """No control clipped or hidden (stack.md §8) and no serious accessibility violation."""
    assert page.evaluate(CHECK_CONTROLS)["problems"] == [], page.url
    violations = [
        (v["id"], v["impact"])
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("critical", "serious")
    ]
    assert violations == [], page.url


def test_a_porteur_from_the_first_idea_to_the_last_payment(
    page, live_server, editor, manager, qpv, tmp_path, settings
):
    from cvu.models import Action, Convention, Echange, FicheIntention, Reversement, Versement

    settings.MEDIA_ROOT = tmp_path / "media"
    today = timezone.localdate()
    annee = today.year
    pma = OrganisationFactory(
        nom="Pays de Montbéliard Agglomération", sigle="PMA", type="epci", siret="20006564700014"
    )
    porteur = OrganisationFactory(nom="Association Les Buis", type="association", siret=SIRET_ASSO)
    contrat = ContratFactory(annee_debut=annee - 2, annee_fin=annee + 4)
    contrat.signataires.set([pma])
    appel = AppelFactory(
        contrat=contrat,
        annee=annee,
        nom=f"Appel à projets {annee}",
        date_ouverture=today - timedelta(days=60),
        date_cloture=today - timedelta(days=10),
    )
    EnveloppeFactory(appel=appel, financeur=pma, montant=Decimal("200000"))
    from cvu.models import ModeleConvention

    ModeleConvention.objects.create(
        nom="Convention annuelle",
        texte="Convention entre $collectivite et $porteur (SIRET $siret_porteur) pour l'action "
        "« $action », exercice $annee_debut : subvention de $montant.",
    )
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # 1. The chef de projet meets the porteur and records the idea, then the advice given.
    log_in_as(page, live_server, editor)
    page.goto(f"{live_server.url}/porteurs/intentions/")
    page.get_by_role("link", name="Nouvelle fiche d'intention").click()
    page.get_by_label("Porteur existant").select_option(label="Association Les Buis")
    page.get_by_label("Appel à projets visé").select_option(label=f"Appel à projets {annee}")
    page.get_by_label("Idée de projet").fill("Jardins partagés au pied des immeubles")
    page.get_by_role("checkbox", name=qpv.nom).check()
    page.get_by_label("Coût estimé (€)").fill("30 000")
    page.get_by_label("Date de la rencontre").fill(str(today - timedelta(days=40)))
    page.get_by_label("Conseils donnés").fill("Déposer sur Dauphin ; demander aussi à l'État.")
    page.get_by_label("Orientation").select_option(label="Encouragée")
    _check_page(page)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", name=re.compile("Jardins partagés"))).to_be_visible()
    page.get_by_role("link", name=re.compile("Nouvel échange")).click()
    page.get_by_label(re.compile(r"^\s*Date\s*\*?\s*$")).fill(str(today - timedelta(days=30)))
    page.get_by_label("Mode").select_option(label="Téléphone")
    page.get_by_label("Interlocuteurs").fill("Présidente de l'association")
    page.get_by_label("Ce qui a été conseillé").fill("Compléter le budget prévisionnel.")
    page.get_by_label(re.compile(r"^\s*Prochaine étape\s*$")).fill("Relire le budget avant dépôt")
    page.get_by_label("Date de la prochaine étape").fill(str(today + timedelta(days=2)))
    _check_page(page)
    page.get_by_role("button", name="Enregistrer").click()
    fiche = FicheIntention.objects.get()
    assert fiche.porteur == porteur and fiche.auteur == editor
    assert Echange.objects.get().intention == fiche
    page.goto(f"{live_server.url}/")
    expect(page.get_by_text("Association Les Buis : Relire le budget avant dépôt")).to_be_visible()

    # 2. The Dauphin export arrives: the dossier is tied to the fiche.
    log_in_as(page, live_server, manager)
    page.goto(f"{live_server.url}{appel.get_absolute_url()}")
    page.get_by_role("link", name="Importer l'export Dauphin").click()
    page.get_by_label("Export Dauphin (.xlsx ou .csv)").set_input_files(
        _dauphin_file(tmp_path, annee)
    )
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("button", name="Voir l'aperçu").click()
    fiche_choice = page.get_by_label(re.compile("Fiche « Jardins partagés au pied des immeubles »"))
    expect(fiche_choice).to_be_checked()
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.get_by_text(re.compile("1 dossier"))).to_be_visible()
    dossier = Action.objects.get(appel=appel)
    fiche.refresh_from_db()
    assert fiche.action == dossier

    # The committee programmes 24 000 € and the porteur is notified (their own journeys).
    line = dossier.financements.get(financeur=pma)
    line.montant_vote = Decimal("24000.00")
    line.save()
    Action.objects.filter(pk=dossier.pk).update(statut=Action.Statut.NOTIFIE)

    # 3. The convention: established from the template, then signed by both parties.
    page.goto(f"{live_server.url}{dossier.get_absolute_url()}")
    expect(page.get_by_text("Issu de la fiche d'intention")).to_be_visible()
    page.get_by_role("link", name="Établir la convention").click()
    page.get_by_label("N° de convention").fill(f"{annee}-CV-007")
    page.get_by_label("Référence de la décision").fill(f"Délibération C {annee}-112")
    page.get_by_label("Date de la décision").fill(str(today - timedelta(days=20)))
    _check_page(page)
    page.get_by_role("button", name="Établir la convention").click()
    convention = Convention.objects.get(action=dossier)
    assert convention.montant == Decimal("24000.00") and "Association Les Buis" in convention.texte
    page.get_by_role("link", name="Enregistrer les signatures").click()
    page.get_by_label("Signée par le porteur le").fill(str(today - timedelta(days=8)))
    page.get_by_label("Signée par la collectivité le").fill(str(today - timedelta(days=6)))
    signed = tmp_path / "convention-signee.pdf"
    signed.write_bytes(b"%PDF-1.4\n% exemplaire signe\n")
    page.get_by_label("Exemplaire signé").set_input_files(signed)
    _check_page(page)
    page.get_by_role("button", name="Enregistrer").click()
    dossier.refresh_from_db()
    assert dossier.statut == Action.Statut.CONVENTIONNE
    expect(page.get_by_text("Conventionné").first).to_be_visible()

    # 4. Payments: an advance and a balance planned, the advance paid.
    page.get_by_role("link", name="Planifier les versements").click()
    expect(page.get_by_label("Avance (€)")).to_have_value(re.compile(r"^12\s?000"))
    _check_page(page)
    page.get_by_role("button", name="Planifier").click()
    assert Versement.objects.filter(financement=line).count() == 2
    page.get_by_role("link", name=re.compile("Enregistrer le versement")).first.click()
    page.get_by_label("Versé le").fill(str(today - timedelta(days=3)))
    page.get_by_label("N° de mandat").fill(f"M-{annee}-0412")
    _check_page(page)
    page.get_by_role("button", name="Enregistrer le versement").click()
    line.refresh_from_db()
    assert line.montant_verse == Decimal("12000.00")

    # 5. The bilan spent 9 000 € of PMA's 12 000 € paid: a clawback of 3 000 € is asked.
    page.get_by_role("link", name="Bilan", exact=True).click()
    page.get_by_label("Reçu le").fill(str(today - timedelta(days=1)))
    page.get_by_label("Coût total réalisé (€)").fill("25 000")
    page.get_by_label(re.compile("Utilisé – Pays de Montbéliard")).fill("9 000")
    page.get_by_label("Bilan qualitatif").fill("Deux jardins ouverts sur trois.")
    page.get_by_role("button", name="Enregistrer le bilan").click()
    page.goto(f"{live_server.url}{dossier.get_absolute_url()}#versements")
    page.get_by_role("link", name="Demander un reversement").click()
    expect(page.get_by_label("Montant à reverser (€)")).to_have_value(re.compile(r"^3\s?000"))
    page.get_by_label("Motif").fill("Bilan : 3 000 € non utilisés.")
    page.get_by_label("Demandé le").fill(str(today))
    _check_page(page)
    page.get_by_role("button", name="Demander le reversement").click()
    reversement = Reversement.objects.get()
    assert reversement.montant == Decimal("3000.00") and reversement.financement == line

    # 6. The porteur page tells the whole story.
    page.goto(f"{live_server.url}{porteur.get_absolute_url()}")
    for text in (
        "Jardins partagés au pied des immeubles",  # the fiche
        "Relire le budget avant dépôt",  # the next step
        "Pays de Montbéliard Agglomération",  # amounts per funder and year
    ):
        expect(page.get_by_text(text).first).to_be_visible()
    amounts = page.locator("#montants-financeurs")
    expect(amounts).to_contain_text(re.compile(r"24\s?000,00\s?€"))
    expect(amounts).to_contain_text(re.compile(r"12\s?000,00\s?€"))
    expect(amounts).to_contain_text(re.compile(r"3\s?000,00\s?€"))
    _check_page(page)
    assert errors == []
