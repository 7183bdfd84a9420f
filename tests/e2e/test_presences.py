"""Taking attendance at a meeting in Chromium, by clicking the buttons a person sees."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cvu.models import Instance, Presence, Reunion, TypeInstance
from tests.conftest import chromium_path, require_live
from tests.cvu.factories import ContactFactory, OrganisationFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


def test_chef_de_projet_marks_attendance_by_clicking(page, live_server, editor, commune):
    type_ = TypeInstance.objects.create(nom="Groupe technique communal")
    instance = Instance.objects.create(nom="GTC Montbéliard", type=type_, echelle="communale")
    instance.communes.set([commune])
    debut = timezone.now() - timedelta(minutes=10)
    reunion = Reunion.objects.create(instance=instance, debut=debut, fin=debut + timedelta(hours=2))
    caf = OrganisationFactory(nom="CAF du Doubs", type="caf")
    # An id above 999: once localised as "1 500" in the field names.
    anne = ContactFactory(pk=1500, organisation=caf, prenom="Anne", nom="Martin")
    paul = ContactFactory(organisation=caf, prenom="Paul", nom="Durand")
    reunion.invites_contacts.set([anne, paul])
    reunion.invites_utilisateurs.set([editor])

    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/")
    page.get_by_label("Adresse e-mail").fill(editor.email)
    page.get_by_label("Mot de passe").fill("motdepasse-solide-42")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}{reunion.get_absolute_url()}")
    page.get_by_role("link", name="Présences", exact=True).click()
    page.get_by_role("heading", name="Présences").wait_for()

    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(4)  # header + three people
    row = table.get_by_role("row", name="Anne Martin")
    expect(row.get_by_role("cell", name="CAF du Doubs")).to_be_visible()
    row.get_by_text("Présent").click()
    table.get_by_role("row", name="Paul Durand").get_by_text("Absent").click()
    table.get_by_role("row", name=str(editor)).get_by_text("Excusé").click()
    # Each button is named after its person, and the click ticked it.
    expect(page.get_by_role("radio", name="Présent – Anne Martin")).to_be_checked()
    expect(page.get_by_role("radio", name="Absent – Paul Durand")).to_be_checked()
    expect(page.get_by_role("radio", name="Présent – Paul Durand")).not_to_be_checked()
    page.get_by_role("button", name="Enregistrer les présences").click()

    page.get_by_text("Présences enregistrées (3).").wait_for()
    assert page.url.startswith(f"{live_server.url}{reunion.get_absolute_url()}")
    expect(page.locator("#presences")).to_contain_text("Présents (1) : Anne Martin (CAF du Doubs)")
    assert dict(Presence.objects.values_list("contact_id", "statut")) == {
        1500: "present",
        paul.pk: "absent",
        None: "excuse",
    }

    # Back on the grid, the recorded statuses are shown as pressed buttons.
    page.goto(f"{live_server.url}/reunions/{reunion.pk}/presences/")
    expect(page.get_by_role("radio", name="Présent – Anne Martin")).to_be_checked()
    expect(page.get_by_role("radio", name=f"Excusé – {editor}")).to_be_checked()
