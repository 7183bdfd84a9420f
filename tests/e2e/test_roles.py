"""One browser journey per role, at 1366×768, acting only as a person can: clicks and typing
into visible elements (Playwright's actionability checks on), nothing filled or revealed by
script. The page is only read by script: the geometry of the controls a person fills, to prove
they are not clipped away.

- The chef de projet creates an action with a two-funder financing plan.
- The chef de projet prepares, holds and closes a meeting; the colleague given a follow-up marks
  it done from their home page.
- The chef de service finds the same voted total per funder on the dashboard, the call page and
  the exported programming table.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.conftest import chromium_path, require_live
from tests.e2e.test_journeys import _log_in

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1366, 768

# Read only: the control's box, and whether a scrolling or hidden ancestor cuts into it.
CLIPPING = """
el => {
  const box = el.getBoundingClientRect();
  const problems = [];
  if (box.width < 1 || box.height < 1) problems.push(`taille nulle ${box.width}×${box.height}`);
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    const style = getComputedStyle(a);
    if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
    const clip = a.getBoundingClientRect();
    if (box.left < clip.left - 1 || box.right > clip.right + 1
        || box.top < clip.top - 1 || box.bottom > clip.bottom + 1) {
      problems.push(`rogné par ${a.tagName.toLowerCase()}.${a.className} `
        + `(${Math.round(clip.width)}×${Math.round(clip.height)} px)`);
    }
  }
  if (box.right > window.innerWidth + 1) problems.push(`dépasse à droite (${box.right} px)`);
  return problems;
}
"""


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


@pytest.fixture
def errors(page):
    """The page's JavaScript errors; the journey ends asserting there were none."""
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    found = []
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


def _not_clipped(locator):
    """Asserts a control a person just filled has a size and is entirely in view of its
    scrolling ancestors and of the window (Playwright has scrolled it into view to fill it)."""
    locator.scroll_into_view_if_needed()
    problems = locator.evaluate(CLIPPING)
    assert problems == [], f"{locator} : {problems}"


def _fill(locator, value):
    locator.fill(value)
    _not_clipped(locator)


def _select(locator, **option):
    locator.select_option(**option)
    _not_clipped(locator)


def _check(locator):
    locator.check()
    _not_clipped(locator)


def _menu(page, menu, item):
    """Opens a menu of the main navigation and follows one of its links."""
    nav = page.get_by_role("navigation", name="Navigation principale")
    nav.get_by_role("button", name=menu).click()
    nav.get_by_role("link", name=item, exact=True).click()


def _log_out(page, user):
    page.get_by_role("button", name=user.get_full_name()).click()
    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_label("Adresse e-mail").wait_for()


def test_chef_de_projet_creates_an_action_with_a_two_funder_plan(
    page, errors, live_server, editor, commune, qpv
):
    from cvu.models import Action
    from tests.cvu.factories import ContratFactory, OrganisationFactory
    from tests.quartiers.factories import QpvFactory

    ContratFactory(nom="Engagements Quartiers 2030")
    QpvFactory(nom="Petite-Hollande", communes=[commune])
    QpvFactory(nom="Champs-Montants", communes=[commune])
    OrganisationFactory(nom="Association Les Buis")
    OrganisationFactory(nom="Préfecture du Doubs – BOP 147", sigle="DDETS", type="etat")
    OrganisationFactory(nom="Caisse d'allocations familiales du Doubs", sigle="CAF", type="caf")

    _log_in(page, live_server, editor.email)
    _menu(page, "Contrat", "Actions")
    page.get_by_role("link", name="Nouvelle action").click()
    expect(page.get_by_role("heading", name="Nouvelle action")).to_be_visible()
    _fill(page.get_by_label("Intitulé"), "Ateliers numériques")
    _select(page.get_by_label("Contrat"), label="Engagements Quartiers 2030 (2024–2030)")
    _select(page.get_by_label("Porteur"), label="Association Les Buis")
    _fill(page.get_by_label("Exercice"), "2026")
    _fill(page.get_by_label("Coût total (€)"), "12 345,67")
    qpvs = page.get_by_role("group", name=re.compile("^QPV ciblés"))
    _check(qpvs.get_by_label(re.compile("^Chiffogne")))
    _check(qpvs.get_by_label(re.compile("^Petite-Hollande")))
    _select(page.get_by_label("Financeur – ligne 1"), label="Préfecture du Doubs – BOP 147 (DDETS)")
    _fill(page.get_by_label("Année – ligne 1"), "2026")
    _fill(page.get_by_label("Demandé (€) – ligne 1"), "8 000,50")
    page.get_by_role("button", name="Ajouter un financeur").click()
    _select(
        page.get_by_label("Financeur – ligne 2"),
        label="Caisse d'allocations familiales du Doubs (CAF)",
    )
    _fill(page.get_by_label("Année – ligne 2"), "2026")
    _fill(page.get_by_label("Demandé (€) – ligne 2"), "4 345,17")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Action enregistrée.")).to_be_visible()

    action = Action.objects.get(titre="Ateliers numériques")
    assert page.url == f"{live_server.url}{action.get_absolute_url()}"
    assert sorted(q.nom for q in action.qpvs.all()) == ["Chiffogne", "Petite-Hollande"]
    plan = page.locator("#total-demande").locator("xpath=ancestor::table")
    expect(plan.get_by_role("row", name=re.compile("Préfecture du Doubs"))).to_contain_text(
        "8\u202f000,50\u00a0€"
    )
    expect(plan.get_by_role("row", name=re.compile("Caisse d'allocations"))).to_contain_text(
        "4\u202f345,17\u00a0€"
    )
    expect(page.locator("#total-demande")).to_have_text("12\u202f345,67\u00a0€")
    assert sorted(action.financements.values_list("montant_demande", flat=True)) == [
        Decimal("4345.17"),
        Decimal("8000.50"),
    ]
    assert errors == []


def test_chef_de_projet_runs_a_meeting_and_the_colleague_marks_the_follow_up_done(
    page, errors, live_server, editor, commune
):
    from cvu.models import Presence, Reunion, SuiteADonner
    from tests.comptes.factories import UserFactory
    from tests.cvu.factories import ContactFactory, OrganisationFactory
    from tests.cvu.governance_factories import InstanceFactory, TypeInstanceFactory

    colleague = UserFactory(email="collegue@pma.test", first_name="Camille", last_name="Collègue")
    caf = OrganisationFactory(nom="CAF du Doubs")
    members = [
        ContactFactory(organisation=caf, prenom=prenom, nom=nom)
        for prenom, nom in [("Anne", "Martin"), ("Bruno", "Petit"), ("Chloé", "Durand")]
    ]
    ContactFactory(
        organisation=OrganisationFactory(nom="Association Blanc"), prenom="Hélène", nom="Blanc"
    )
    instance = InstanceFactory(
        nom="GTC Montbéliard",
        type=TypeInstanceFactory(nom="Groupe technique communal"),
        communale=True,
        communes=[commune],
    )
    instance.contacts_membres.set(members)

    # Prepare: a meeting of the instance, its members invited, one more person, the agenda.
    _log_in(page, live_server, editor.email)
    _menu(page, "Gouvernance", "Instances")
    page.get_by_role("link", name="GTC Montbéliard").click()
    page.get_by_role("link", name="Nouvelle réunion").click()
    invitees = page.get_by_role("group", name="Partenaires invités")
    for member in members:
        expect(invitees.get_by_label(re.compile(str(member)))).to_be_checked()
    _fill(page.get_by_label("Objet"), "Bilan de mi-parcours")
    debut = timezone.localtime() - timedelta(hours=1)  # held this morning
    _fill(page.get_by_label("Début"), debut.strftime("%Y-%m-%dT%H:%M"))
    _fill(page.get_by_label("Fin"), (debut + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    _check(invitees.get_by_label(re.compile("Hélène Blanc")))
    for member in members:  # a plain click kept the pre-invited people
        expect(invitees.get_by_label(re.compile(str(member)))).to_be_checked()
    agenda = ["Tour de table", "Point sur les actions engagées", "Questions diverses"]
    _fill(page.get_by_label("Point – ligne 1"), agenda[0])  # the order left at 0: as typed
    _fill(page.get_by_label("Point – ligne 2"), agenda[1])
    page.get_by_role("button", name="Ajouter un point").click()
    _fill(page.get_by_label("Point – ligne 3"), agenda[2])
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Réunion enregistrée.")).to_be_visible()
    reunion = Reunion.objects.get()
    assert reunion.invites_contacts.count() == 4
    assert list(reunion.points.values_list("texte", flat=True)) == agenda
    expect(
        page.get_by_role("heading", name="Ordre du jour")
        .locator("xpath=following-sibling::ol[1]")
        .get_by_role("listitem")
    ).to_have_text(agenda)

    # Hold: the attendance, person by person.
    page.get_by_role("link", name="Présences", exact=True).click()
    grid = page.get_by_role("table")
    for name, statut in [*((str(m), "Présent") for m in members), ("Hélène Blanc", "Absent")]:
        button = grid.get_by_role("row", name=name).get_by_text(statut, exact=True)
        button.click()  # the radio is drawn as a button: its label is what a person clicks
        _not_clipped(button)
        expect(page.get_by_role("radio", name=f"{statut} – {name}")).to_be_checked()
    page.get_by_role("button", name="Enregistrer les présences").click()
    expect(page.get_by_text(re.compile("Présences enregistrées"))).to_be_visible()
    assert Presence.objects.filter(reunion=reunion, statut="present").count() == 3

    # Close: minutes, a decision, a follow-up for a colleague.
    page.get_by_role("link", name="Compte rendu", exact=True).click()
    _select(page.get_by_role("combobox", name=re.compile(r"^Statut\W*$")), label="Tenue")
    _fill(page.get_by_label("Compte rendu"), "Les partenaires valident le bilan.")
    _fill(page.get_by_label("Décision – ligne 1"), "Reconduire l'atelier en 2027.")
    _fill(page.get_by_label("Suite à donner – ligne 1"), "Envoyer le bilan aux partenaires")
    _select(page.get_by_label("Responsable (agent) – ligne 1"), label=str(colleague))
    echeance = timezone.localdate() + timedelta(days=14)
    _fill(page.get_by_label("Échéance – ligne 1"), echeance.isoformat())
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Compte rendu, décisions et suites enregistrés.")).to_be_visible()
    reunion.refresh_from_db()
    assert reunion.statut == Reunion.Statut.TENUE
    suite = SuiteADonner.objects.get()
    assert (suite.responsable, suite.statut) == (colleague, "a_faire")

    # The colleague finds it on their home page and marks it done in one click.
    _log_out(page, editor)
    _log_in(page, live_server, colleague.email)
    mark = page.get_by_role("button", name="Marquer comme fait : Envoyer le bilan aux partenaires")
    _not_clipped(mark)
    mark.click()
    expect(page.get_by_text(f"Fait le {timezone.localdate():%d/%m/%Y}")).to_be_visible()
    suite.refresh_from_db()
    assert (suite.statut, suite.fait_le) == ("fait", timezone.localdate())
    # No longer pending: neither on the home page nor in their list of follow-ups.
    page.reload()
    expect(page.get_by_text("Aucune suite en attente.")).to_be_visible()
    _menu(page, "Gouvernance", "Suites à donner")
    expect(page.get_by_role("link", name="Mes suites")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Envoyer le bilan aux partenaires")).to_have_count(0)
    assert errors == []


def _amount(text: str) -> Decimal:
    """'14 735,21 €' as a person reads it."""
    digits = re.sub(r"[\s\u202f\u00a0€]", "", text).replace(",", ".")
    return Decimal(digits)


def _cell(table, row_name, column):
    """The cell of a table at a row (named by its header cell) and a column (by its header)."""
    headers = [h.strip() for h in table.get_by_role("columnheader").all_inner_texts()]
    row = table.get_by_role("row", name=row_name)
    return row.locator("th, td").nth(headers.index(column))


def test_chef_de_service_finds_the_same_voted_totals_on_every_screen(
    page, errors, live_server, manager, tmp_path
):
    from cvu.models import Action
    from tests.cvu.aap_factories import AppelFactory, EnveloppeFactory
    from tests.cvu.factories import (
        ActionFactory,
        ContratFactory,
        FinancementFactory,
        OrganisationFactory,
    )

    S = Action.Statut
    contrat = ContratFactory(nom="Engagements Quartiers 2030")
    ContratFactory(nom="Contrat de ville 2015-2023", annee_debut=2015, annee_fin=2023)
    etat = OrganisationFactory(nom="Préfecture du Doubs – BOP 147", sigle="DDETS", type="etat")
    caf = OrganisationFactory(nom="Caisse d'allocations familiales du Doubs", sigle="CAF")
    appel = AppelFactory(contrat=contrat, annee=2025, nom="Appel à projets 2025")
    EnveloppeFactory(appel=appel, financeur=etat, montant=Decimal("20000.00"))
    EnveloppeFactory(appel=appel, financeur=caf, montant=Decimal("5000.00"))
    later = AppelFactory(contrat=contrat, annee=2026, nom="Appel à projets 2026")

    def dossier(titre, statut, votes, *, call=appel, annee=2025):
        action = ActionFactory(contrat=call.contrat if call else contrat, appel=call, titre=titre)
        action.statut, action.annee = statut, annee
        action.save()
        for funder, vote in votes.items():
            FinancementFactory(
                action=action,
                financeur=funder,
                annee=annee,
                montant_demande=Decimal(vote) + 1000,
                montant_vote=Decimal(vote),
            )

    dossier("Ateliers couture", S.PROGRAMME, {etat: "4500.25", caf: "2000.10"})
    dossier("Boxe éducative", S.NOTIFIE, {etat: "6000.40", caf: "3500.35"})
    dossier("Cinéma plein air", S.CONVENTIONNE, {etat: "3000.00"})
    dossier("Fête des voisins", S.REFUSE, {etat: "2500.00", caf: "1000.00"})  # leftover votes
    dossier("Jardin partagé", S.RETIRE, {caf: "800.00"})
    dossier("Soutien scolaire", S.PROGRAMME, {etat: "1234.56"}, call=None)  # outside the call
    dossier("Année suivante", S.PROGRAMME, {etat: "9999.99"}, call=later, annee=2026)
    voted = {etat: Decimal("14735.21"), caf: Decimal("5500.45")}  # programmed, notified, signed

    _log_in(page, live_server, manager.email)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Tableau de bord"
    ).click()
    scope = page.get_by_role("form", name="Périmètre du tableau de bord")
    _select(scope.get_by_label("Contrat"), label=str(contrat))
    _select(scope.get_by_label("Exercice"), label="2025")
    scope.get_by_role("button", name="Afficher").click()
    expect(page.get_by_text("Engagements Quartiers 2030 · exercice 2025")).to_be_visible()
    funders = page.locator("#tableau-financeurs")
    dashboard = {
        funder: _amount(
            _cell(funders, re.compile(f"^{re.escape(funder.nom)}"), "Voté").inner_text()
        )
        for funder in voted
    }
    # Refused, withdrawn and next year's dossiers are not "financed"; the CAF's overrun is said.
    financed = page.locator(".card", has=page.get_by_text("Actions financées", exact=True))
    expect(financed.locator(".fs-4")).to_have_text("4")
    expect(funders.get_by_role("row", name=re.compile("^Caisse d'allocations"))).to_contain_text(
        "Enveloppe dépassée de 500,45"
    )
    # The État's row opens the list of its dossiers, totalling the État's amounts only.
    funders.get_by_role("link", name=etat.nom).click()
    total = page.get_by_text("Total voté", exact=True).locator("xpath=..").locator("strong")
    expect(total).to_have_text(re.compile(r"\d"))
    assert _amount(total.inner_text()) == dashboard[etat]

    _menu(page, "Contrat", "Appels à projets")  # from the list of the État's dossiers
    page.get_by_role("link", name="Appel à projets 2025").click()
    envelopes = page.locator("[data-enveloppes] table")
    call_page = {
        funder: _amount(_cell(envelopes, str(funder), "Voté").inner_text()) for funder in voted
    }

    export_link = page.get_by_role("group", name="Exporter la liste filtrée").get_by_role(
        "link", name="Excel"
    )
    _not_clipped(export_link)
    with page.expect_download() as download:
        export_link.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    rows = list(load_workbook(saved).active.values)
    header, rows = rows[0], rows[1:]
    export = {}
    for funder in voted:
        column = header.index(f"{funder.sigle} voté")
        export[funder] = sum(
            (Decimal(str(row[column])) for row in rows if row[column] not in (None, "")),
            Decimal("0"),
        ).quantize(Decimal("0.01"))

    assert dashboard == call_page == export == voted
    assert errors == []
