"""Forms in a person's hands: checkbox lists, the error summary, a follow-up done in one click.

Everything is clicked or typed into visible elements, as a person would; nothing is filled
or revealed by script.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cvu.models import Reunion, SuiteADonner
from tests.conftest import chromium_path, require_live
from tests.cvu.factories import ContactFactory, OrganisationFactory
from tests.cvu.governance_factories import InstanceFactory, ReunionFactory, SuiteADonnerFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

MEMBERS = ["Anne Martin", "Bruno Petit", "Chloé Durand", "David Leroy", "Emma Roux", "Farid Naït"]
OTHERS = ["Gilles Faure", "Hélène Blanc", "Inès Garnier", "Jules Mercier", "Karim Benali"]


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


@pytest.fixture(params=[(1366, 768), (375, 667)], ids=["1366", "375"])
def page(request, page):
    width, height = request.param
    page.set_viewport_size({"width": width, "height": height})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == []


def _log_in(page, live_server, email):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill("motdepasse-solide-42")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")


def _contact(full_name, organisation):
    prenom, nom = full_name.split(" ", 1)
    return ContactFactory(prenom=prenom, nom=nom, organisation=organisation)


@pytest.fixture
def instance(manager):
    """A steering group of six partners, among eleven known contacts."""
    caf = OrganisationFactory(nom="CAF du Doubs")
    members = [_contact(name, caf) for name in MEMBERS]
    for name in OTHERS:
        _contact(name, OrganisationFactory(nom=f"Association {name.split()[1]}"))
    instance = InstanceFactory(nom="Groupe de pilotage", organisateur=manager)
    instance.contacts_membres.set(members)
    return instance


def _invitees(page):
    return page.get_by_role("group", name="Partenaires invités")


def test_pre_invited_members_stay_invited_when_one_more_is_ticked(
    page, live_server, manager, instance
):
    _log_in(page, live_server, manager.email)
    page.goto(f"{live_server.url}{instance.get_absolute_url()}")
    page.get_by_role("link", name="Nouvelle réunion").click()
    invitees = _invitees(page)
    for name in MEMBERS:
        expect(invitees.get_by_label(re.compile(name))).to_be_checked()
    expect(invitees.get_by_text("6 sélectionnés")).to_be_visible()
    debut = timezone.localtime() + timedelta(days=10)
    page.get_by_label("Début").fill(debut.strftime("%Y-%m-%dT14:00"))
    page.get_by_label("Fin").fill(debut.strftime("%Y-%m-%dT16:00"))
    invitees.get_by_label(re.compile("Hélène Blanc")).click()
    expect(invitees.get_by_text("7 sélectionnés")).to_be_visible()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Réunion enregistrée.")).to_be_visible()
    reunion = Reunion.objects.get()
    assert sorted(str(c) for c in reunion.invites_contacts.all()) == sorted(
        [*MEMBERS, "Hélène Blanc"]
    )


def test_a_long_checkbox_list_is_filtered_by_typing(page, live_server, manager, instance):
    _log_in(page, live_server, manager.email)
    page.goto(f"{live_server.url}/reunions/nouvelle/?instance={instance.pk}")
    invitees = _invitees(page)
    box = invitees.get_by_label("Filtrer la liste")
    box.press_sequentially("helene")  # accents do not matter
    expect(invitees.get_by_label(re.compile("Hélène Blanc"))).to_be_visible()
    expect(invitees.get_by_label(re.compile("Anne Martin"))).to_be_hidden()
    expect(invitees.get_by_text("6 sélectionnés · 1 sur 11 affichés")).to_be_visible()
    box.press("Enter")  # does not submit the form
    assert "/reunions/nouvelle/" in page.url and not Reunion.objects.exists()
    invitees.get_by_label(re.compile("Hélène Blanc")).check()
    box.fill("")
    expect(invitees.get_by_label(re.compile("Anne Martin"))).to_be_checked()
    expect(invitees.get_by_text("7 sélectionnés")).to_be_visible()
    invitees.get_by_label("sélection seule").check()
    expect(invitees.get_by_label(re.compile("Gilles Faure"))).to_be_hidden()
    expect(invitees.get_by_label(re.compile("Hélène Blanc"))).to_be_visible()


def test_a_refused_observation_lands_on_the_summary_with_the_focus(page, live_server, editor, qpv):
    _log_in(page, live_server, editor.email)
    page.goto(f"{live_server.url}{qpv.get_absolute_url()}")
    page.get_by_text("Ajouter une observation").click()
    page.get_by_label("Observation").fill("Forte affluence des habitants.")
    page.get_by_role("button", name="Enregistrer l'observation").click()
    summary = page.get_by_role("alert").filter(has_text="Le formulaire contient 1 erreur")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    summary.get_by_role("link", name="Titre : Ce champ est obligatoire.").click()
    expect(page.get_by_label("Titre")).to_be_focused()
    page.get_by_label("Titre").fill("Réunion publique")
    page.get_by_role("button", name="Enregistrer l'observation").click()
    expect(page.get_by_text("Observation enregistrée.")).to_be_visible()


def test_a_summary_link_reaches_the_first_box_of_a_checkbox_list(
    page, live_server, manager, commune
):
    from cvu.models import Instance, TypeInstance

    TypeInstance.objects.create(nom="Groupe technique")
    _log_in(page, live_server, manager.email)
    page.goto(f"{live_server.url}/instances/nouvelle/")
    page.get_by_role("textbox", name=re.compile("^Nom")).fill("GTC Montbéliard")
    page.get_by_role("combobox", name=re.compile("^Type")).select_option(label="Groupe technique")
    page.get_by_role("combobox", name=re.compile("^Échelle")).select_option(label="Communale")
    page.get_by_role("button", name="Enregistrer").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name=re.compile("^Communes")).click()
    communes = page.get_by_role("group", name="Communes")
    expect(communes.get_by_label("Montbéliard")).to_be_focused()
    communes.get_by_label("Montbéliard").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", name="GTC Montbéliard")).to_be_visible()
    assert [c.nom for c in Instance.objects.get().communes.all()] == ["Montbéliard"]


def test_the_owner_marks_a_follow_up_done_from_the_home_page(page, live_server, editor, manager):
    reunion = ReunionFactory(
        instance=InstanceFactory(organisateur=manager),
        tenue=True,
        debut=timezone.now() - timedelta(days=3),
    )
    SuiteADonnerFactory(reunion=reunion, quoi="Transmettre les chiffres", responsable=editor)
    _log_in(page, live_server, editor.email)
    page.get_by_role("button", name="Marquer comme fait : Transmettre les chiffres").click()
    done = page.get_by_text(f"Fait le {timezone.localdate():%d/%m/%Y}")
    expect(done).to_be_visible()
    expect(done).to_be_focused()
    assert page.url == f"{live_server.url}/"  # swapped in place, no reload
    suite = SuiteADonner.objects.get()
    assert (suite.statut, suite.fait_le) == ("fait", timezone.localdate())


def test_the_follow_up_list_filters_by_status_through_a_folded_list(
    page, live_server, editor, manager
):
    reunion = ReunionFactory(instance=InstanceFactory(organisateur=manager), tenue=True)
    SuiteADonnerFactory(reunion=reunion, quoi="Relancer le bailleur", responsable=editor)
    SuiteADonnerFactory(reunion=reunion, quoi="Déjà transmis", responsable=editor, statut="fait")
    _log_in(page, live_server, editor.email)
    page.goto(f"{live_server.url}/suivis/")
    expect(page.get_by_role("link", name="Mes suites")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Déjà transmis")).to_have_count(0)
    filters = page.get_by_role("button", name="Filtres")
    if filters.is_visible():  # below 768 px the filters fold above the list
        filters.click()
    statut = page.get_by_role("group", name="Statut")
    toggle = statut.get_by_text("À faire, En cours")
    toggle.click()
    statut.get_by_label("Fait").check()
    expect(statut.get_by_text("3 sélectionnés")).to_be_visible()
    page.keyboard.press("Escape")
    expect(statut.get_by_label("Fait")).to_be_hidden()
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("cell", name="Déjà transmis", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="Relancer le bailleur", exact=True)).to_be_visible()
