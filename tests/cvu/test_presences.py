"""Attendance at a meeting: the grid of invited people, and people who came uninvited."""

from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from cvu.models import Instance, Presence, Reunion, TypeInstance
from tests.comptes.factories import UserFactory
from tests.cvu.factories import ContactFactory, OrganisationFactory
from tests.presences import grid_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def reunion(commune):
    """A meeting of the editor's sector that has just started, not yet marked as held."""
    type_ = TypeInstance.objects.create(nom="Groupe technique communal")
    instance = Instance.objects.create(nom="GTC Montbéliard", type=type_, echelle="communale")
    instance.communes.set([commune])
    debut = timezone.now() - timedelta(minutes=10)
    return Reunion.objects.create(instance=instance, debut=debut, fin=debut + timedelta(hours=2))


@pytest.fixture
def caf():
    return OrganisationFactory(nom="CAF du Doubs", type="caf")


def _url(reunion):
    return f"/reunions/{reunion.pk}/presences/"


def test_the_grid_names_each_person_on_each_button(client, editor, reunion, caf):
    contact = ContactFactory(organisation=caf, prenom="Anne", nom="Martin")
    reunion.invites_contacts.set([contact])
    ContactFactory(organisation=caf, prenom="Louis", nom="Petit")
    client.force_login(editor)
    response = client.get(_url(reunion))
    assert response.status_code == 200
    key = f"c-{contact.pk}"
    html = response.content.decode()
    assert f'<input type="hidden" name="presences-0-personne" value="{key}"' in html
    # The visible word, then the person: voice control and screen readers alike.
    assert (
        f'<input type="radio" name="presences-0-statut" value="present" class="btn-check" '
        f'autocomplete="off" id="{key}-present" aria-label="Présent – Anne Martin">'
    ) in html
    assert (
        f'<label class="btn btn-sm btn-outline-success" for="{key}-present">Présent</label>' in html
    )
    assert '<th scope="col" class="d-none d-md-table-cell">Organisation</th>' in html
    # Walk-ins are ticked in a list: a plain click never drops the ones already ticked.
    assert 'type="checkbox" name="autres"' in html


def test_ids_above_999_are_recorded(client, editor, reunion, caf):
    contact = ContactFactory(pk=1500, organisation=caf)
    agent = UserFactory(pk=2345)
    reunion.invites_contacts.set([contact])
    reunion.invites_utilisateurs.set([agent])
    client.force_login(editor)
    page = client.get(_url(reunion))
    assert 'id="c-1500-present"' in page.content.decode()
    response = client.post(
        _url(reunion), grid_data(page, {"c-1500": "present", "u-2345": "absent"})
    )
    assert response.status_code == 302
    assert Presence.objects.get(contact=contact).statut == "present"
    assert Presence.objects.get(utilisateur=agent).statut == "absent"


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ({"presences-TOTAL_FORMS": "3", "presences-2-personne": "c-1"}, "plus de lignes"),
        ({"presences-TOTAL_FORMS": "1"}, "La liste des personnes a changé"),
        ({"presences-TOTAL_FORMS": ""}, "incomplète ou a été modifiée"),
        ({"presences-1-personne": "c-999999"}, "pas dans la liste"),
    ],
)
def test_a_tampered_grid_is_refused_and_nothing_is_saved(
    client, editor, reunion, caf, tamper, message
):
    contacts = [ContactFactory(organisation=caf), ContactFactory(organisation=caf)]
    reunion.invites_contacts.set(contacts)
    walk_in = ContactFactory(organisation=caf)
    client.force_login(editor)
    page = client.get(_url(reunion))
    data = grid_data(
        page, {f"c-{c.pk}": "present" for c in contacts}, autres=[walk_in.pk], **tamper
    )
    response = client.post(_url(reunion), data)
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "Les présences n'ont pas été enregistrées." in html
    assert message in html
    assert "Rien n'a été enregistré" in html
    assert not Presence.objects.exists()
    reunion.refresh_from_db()
    assert reunion.statut == Reunion.Statut.PREVUE


def test_a_person_not_invited_cannot_be_slipped_into_the_grid(client, editor, reunion, caf):
    invited = ContactFactory(organisation=caf)
    stranger = ContactFactory(organisation=caf)
    reunion.invites_contacts.set([invited])
    client.force_login(editor)
    data = grid_data(client.get(_url(reunion)), {f"c-{invited.pk}": "present"})
    data["presences-0-personne"] = f"c-{stranger.pk}"
    response = client.post(_url(reunion), data)
    assert response.status_code == 400
    assert not Presence.objects.exists()


def test_an_unknown_status_or_walk_in_saves_nothing_at_all(client, editor, reunion, caf):
    """All or nothing: one bad row, or a bad "autres", and the good rows are not saved either."""
    first, second = ContactFactory(organisation=caf), ContactFactory(organisation=caf)
    reunion.invites_contacts.set([first, second])
    client.force_login(editor)
    page = client.get(_url(reunion))
    bad_row = grid_data(page, {f"c-{first.pk}": "present", f"c-{second.pk}": "venu"})
    response = client.post(_url(reunion), bad_row)
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()
    bad_walk_in = grid_data(page, {f"c-{first.pk}": "present"}, autres=["999999"])
    response = client.post(_url(reunion), bad_walk_in)
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not Presence.objects.exists()


def test_a_walk_in_keeps_their_row_and_is_no_longer_offered_as_other(client, editor, reunion, caf):
    walk_in = ContactFactory(organisation=caf, prenom="Louis", nom="Petit")
    client.force_login(editor)
    page = client.get(_url(reunion))
    client.post(_url(reunion), grid_data(page, autres=[walk_in.pk]))
    page = client.get(_url(reunion))
    assert [f.attendee.note for f in page.context["formset"].forms] == ["non invité"]
    assert list(page.context["autres_form"].fields["autres"].queryset) == []
    response = client.post(_url(reunion), grid_data(page, {f"c-{walk_in.pk}": "excuse"}))
    assert response.status_code == 302
    presence = Presence.objects.get()
    assert (presence.statut, presence.invite) == ("excuse", False)


def test_reader_and_outsider_cannot_take_attendance(client, reader, outsider, reunion):
    for user in (reader, outsider):  # both may read the meeting
        client.force_login(user)
        assert client.get(_url(reunion)).status_code == 403
        assert client.post(_url(reunion), {}).status_code == 403
