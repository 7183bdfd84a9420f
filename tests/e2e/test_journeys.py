"""Browser journeys in Debian's Chromium: static files, forms and the chart really work."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import chromium_path, require_live
from tests.quartiers.factories import IndicateurFactory, ValeurIndicateurFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


def _log_in(page, live_server, email):
    page.goto(f"{live_server.url}/")
    assert "/comptes/connexion/" in page.url
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill("motdepasse-solide-42")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")


def test_chef_de_projet_logs_in_opens_a_qpv_and_sees_its_chart(page, live_server, editor, qpv):
    indicateur = IndicateurFactory(libelle="Taux de pauvreté", unite="%")
    for year, value in [(2019, 41), (2020, 42), (2021, 40)]:
        ValeurIndicateurFactory(qpv=qpv, indicateur=indicateur, annee=year, valeur=value)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, live_server, editor.email)
    page.get_by_role("link", name="Chiffogne").first.click()
    page.wait_for_url(f"{live_server.url}{qpv.get_absolute_url()}")
    canvas = page.locator("canvas#graphique-indicateurs")
    canvas.wait_for(state="visible")
    page.wait_for_function("document.querySelector('canvas').dataset.chartReady === 'true'")
    assert page.evaluate("Chart.getChart('graphique-indicateurs').data.datasets[0].data") == [
        41,
        42,
        40,
    ]
    assert canvas.bounding_box()["height"] > 100
    assert errors == []


def test_chef_de_projet_adds_an_observation_in_the_browser(page, live_server, editor, qpv):
    _log_in(page, live_server, editor.email)
    page.goto(f"{live_server.url}{qpv.get_absolute_url()}")
    page.get_by_text("Ajouter une observation").click()
    page.get_by_label("Titre").fill("Réunion publique")
    page.get_by_label("Observation").fill("Forte affluence des habitants.")
    page.get_by_role("button", name="Enregistrer l'observation").click()
    page.get_by_text("Observation enregistrée.").wait_for()
    assert page.get_by_role("heading", name="Réunion publique").is_visible()


def test_wrong_password_shows_a_french_message(page, live_server, editor):
    page.goto(f"{live_server.url}/comptes/connexion/")
    page.get_by_label("Adresse e-mail").fill(editor.email)
    page.get_by_label("Mot de passe").fill("faux")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_text("Adresse e-mail ou mot de passe incorrect").wait_for()


def test_chef_de_projet_filters_opens_an_action_and_adds_a_financing_line(
    page, live_server, editor, qpv
):
    from cvu.models import Financement
    from tests.cvu.factories import (
        ActionFactory,
        ContratFactory,
        FinancementFactory,
        OrganisationFactory,
    )

    contrat = ContratFactory()
    etat = OrganisationFactory(nom="Préfecture du Doubs", type="etat")
    OrganisationFactory(nom="CAF du Doubs", type="caf")
    action = ActionFactory(
        contrat=contrat, titre="Atelier d'aide aux devoirs", qpvs=[qpv], referent=editor
    )
    FinancementFactory(action=action, financeur=etat, montant_demande=6000)
    ActionFactory(contrat=contrat, titre="Fête de quartier")
    _log_in(page, live_server, editor.email)
    page.goto(f"{live_server.url}/actions/")
    page.get_by_label("Recherche").fill("devoirs")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**/actions/?*search=devoirs*")
    assert page.get_by_role("link", name="Fête de quartier").count() == 0
    page.get_by_role("link", name="Atelier d'aide aux devoirs").click()
    page.wait_for_url(f"{live_server.url}{action.get_absolute_url()}")
    assert "6\u202f000,00\u00a0€" in page.locator("#total-demande").inner_text()
    page.get_by_role("link", name="Modifier").click()
    page.get_by_role("button", name="Ajouter un financeur").click()
    row = page.locator("[data-formset='fin'] tbody tr").nth(1)
    row.locator("select[name='fin-1-financeur']").select_option(label="CAF du Doubs")
    row.locator("input[name='fin-1-annee']").fill("2026")
    row.locator("input[name='fin-1-montant_demande']").fill("4 000,00 €")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Action enregistrée.").wait_for()
    assert "10\u202f000,00\u00a0€" in page.locator("#total-demande").inner_text()
    assert Financement.objects.filter(action=action).count() == 2


def test_chef_de_projet_runs_a_meeting_from_agenda_to_follow_up(page, live_server, editor, commune):
    from cvu.models import Instance, SuiteADonner, TypeInstance
    from tests.cvu.factories import ContactFactory

    type_ = TypeInstance.objects.create(nom="Groupe technique communal")
    instance = Instance.objects.create(nom="GTC Montbéliard", type=type_, echelle="communale")
    instance.communes.set([commune])
    contact = ContactFactory(nom="Martin", prenom="Anne")
    instance.contacts_membres.set([contact])
    _log_in(page, live_server, editor.email)
    page.goto(f"{live_server.url}{instance.get_absolute_url()}")
    page.get_by_role("link", name="Nouvelle réunion").click()
    page.get_by_label("Objet").fill("Point d'étape")
    page.get_by_label("Début").fill("2020-01-01T10:00")  # a past meeting, held
    page.get_by_label("Fin").fill("2020-01-01T12:00")
    page.get_by_label("Statut").select_option("tenue")
    page.locator("input[name='points-0-texte']").fill("Tour de table")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Réunion enregistrée.").wait_for()
    page.get_by_role("link", name="Présences").click()
    page.get_by_text("Présent", exact=True).first.click()
    page.get_by_role("button", name="Enregistrer les présences").click()
    page.get_by_text("Présences enregistrées").wait_for()
    page.get_by_role("link", name="Compte rendu").click()
    page.get_by_label("Compte rendu").fill("Échanges sur le bilan.")
    page.locator("textarea[name='decisions-0-texte']").fill("Relancer l'appel à projets.")
    page.locator("input[name='suites-0-quoi']").fill("Rédiger la note de cadrage")
    page.locator("select[name='suites-0-responsable']").select_option(label=str(editor))
    page.locator("input[name='suites-0-echeance']").fill("2020-02-01")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Compte rendu, décisions et suites enregistrés.").wait_for()
    assert SuiteADonner.objects.get().responsable == editor
    page.goto(f"{live_server.url}/")
    assert page.get_by_role("link", name="Rédiger la note de cadrage").is_visible()
    assert page.get_by_text("en retard").first.is_visible()


def test_chef_de_projet_adds_a_member_and_takes_training_attendance(
    page, live_server, editor, commune, qpv
):
    from datetime import date, timedelta

    from django.utils import timezone

    from participation.models import (
        ConseilCitoyen,
        CycleQualification,
        Inscription,
        Membre,
        SessionFormation,
        TypeParticipation,
    )

    type_ = TypeParticipation.objects.create(nom="Conseil citoyen", sieges=2)
    conseil = ConseilCitoyen.objects.create(nom="CC Chiffogne", type=type_, commune=commune)
    conseil.qpvs.set([qpv])
    Membre.objects.create(
        conseil=conseil,
        prenom="Karim",
        nom="Exemple",
        college="habitants",
        genre="homme",
        tranche_age="40_59",
        designation="volontaire",
        mandat_debut=date(2025, 1, 1),
        base_legale="mission_publique",
    )
    cycle = CycleQualification.objects.create(annee=2026, titre="Cycle 2026")
    session = SessionFormation.objects.create(
        cycle=cycle, theme="Animer une réunion", date=timezone.now() + timedelta(days=3)
    )
    _log_in(page, live_server, editor.email)
    page.goto(f"{live_server.url}{conseil.get_absolute_url()}")
    parity = page.locator("#representativite li", has_text="Parité").locator(".badge")
    assert "text-bg-danger" in parity.get_attribute("class")
    page.get_by_role("link", name="Ajouter un membre").click()
    page.locator("#id_prenom").fill("Awa")
    page.locator("#id_nom").fill("Témoin")
    page.locator("#id_college").select_option("habitants")
    page.locator("#id_genre").select_option("femme")
    page.locator("#id_tranche_age").select_option("25_39")
    page.locator("#id_designation").select_option("tirage")
    page.locator("#id_mandat_debut").fill("2026-01-15")
    page.locator("#id_base_legale").select_option("mission_publique")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Membre enregistré.").wait_for()
    parity = page.locator("#representativite li", has_text="Parité").locator(".badge")
    assert "text-bg-success" in parity.get_attribute("class")
    page.goto(f"{live_server.url}{session.get_absolute_url()}")
    awa = Membre.objects.get(prenom="Awa")
    page.locator(f"label[for='m-{awa.pk}-present']").click()
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Inscriptions et présences enregistrées.").wait_for()
    assert Inscription.objects.get(membre=awa).presence == "present"


def test_instruction_then_committee_with_live_envelope(page, live_server, editor, manager, qpv):
    """The chef de projet instructs a dossier; the chef de service sees the envelope shrink as
    they type the voted amount, confirms an overrun and records the decision."""
    from decimal import Decimal

    from cvu.models import Action
    from tests.cvu.aap_factories import AppelFactory, ComiteFactory, EnveloppeFactory
    from tests.cvu.factories import ActionFactory, FinancementFactory, OrganisationFactory

    etat = OrganisationFactory(nom="Préfecture du Doubs", sigle="DDETS", type="etat")
    appel = AppelFactory()
    EnveloppeFactory(appel=appel, financeur=etat, montant=Decimal("10000.00"))
    dossier = ActionFactory(
        contrat=appel.contrat, appel=appel, titre="Jardins partagés", qpvs=[qpv], referent=editor
    )
    FinancementFactory(action=dossier, financeur=etat, montant_demande=Decimal("12000.00"))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    _log_in(page, live_server, editor.email)
    page.goto(f"{live_server.url}{dossier.get_absolute_url()}")
    page.get_by_role("link", name="Instruction").click()
    for label in (
        "Adéquation aux objectifs du contrat",
        "Présence dans les QPV",
        "Public visé",
        "Capacité du porteur",
        "Faisabilité et calendrier",
        "Réalisme du budget",
    ):
        page.get_by_label(label, exact=True).fill("2")
    page.get_by_label("Avis du chef de projet").select_option("favorable")
    page.get_by_role("button", name="Enregistrer et terminer l'instruction").click()
    page.get_by_text("Instruction terminée : le dossier est instruit.").wait_for()

    comite = ComiteFactory(appel=appel)
    comite.dossiers.set([dossier])
    page.get_by_role("button", name=editor.get_full_name()).click()
    page.get_by_role("button", name="Se déconnecter").click()
    _log_in(page, live_server, manager.email)
    page.goto(f"{live_server.url}{comite.get_absolute_url()}")
    reste = page.locator("[data-reste-badge]")
    # An amount typed on a row left undecided changes nothing (as on the server)...
    vote = page.get_by_label("Voté par Préfecture du Doubs (DDETS) – Jardins partagés")
    vote.fill("11 000")
    expect(reste).to_have_text(re.compile(r"^10\s?000,00\s?€"))
    # ... the decision makes it count: the remainder in the grid's header follows (French format).
    page.get_by_label("Décision – Jardins partagés").select_option("programme")
    expect(reste).to_have_text(re.compile(r"[−-]1\s?000,00\s?€ – dépassée"))
    page.get_by_role("button", name="Enregistrer les décisions").click()
    page.get_by_text("Dépassement d'enveloppe.").wait_for()
    page.get_by_label("Je confirme le dépassement d'enveloppe signalé ci-dessus").check()
    page.get_by_role("button", name="Enregistrer les décisions").click()
    page.get_by_text("1 décision enregistrée.").wait_for()
    dossier.refresh_from_db()
    assert dossier.statut == Action.Statut.PROGRAMME
    assert dossier.financements.get().montant_vote == Decimal("11000.00")
    assert errors == []


def test_request_a_report_watch_it_and_download_it(page, live_server, manager, commune):
    """The chef de service asks for the participation report, sees it become ready (the page
    polls while it is built) and downloads the PDF."""
    from reporting.models import Rapport

    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, live_server, manager.email)
    page.get_by_role("link", name="Rapports").click()
    page.get_by_role("button", name="Produire le rapport").first.click()
    page.get_by_text("Rapport demandé").wait_for()
    rapport = Rapport.objects.get()
    if rapport.statut != "pret":  # a real worker: the htmx polling brings the result
        page.get_by_role("link", name="Télécharger le PDF").wait_for(timeout=60_000)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger le PDF").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert errors == []
