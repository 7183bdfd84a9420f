"""Follow-ups marked done in one click where they are shown, and the "mes suites" list."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertInHTML, assertNotContains

from cvu.models import SuiteADonner
from tests.comptes.factories import UserFactory
from tests.cvu.governance_factories import InstanceFactory, ReunionFactory, SuiteADonnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def copil(manager):
    """An intercommunal instance organised by the chef de service."""
    return InstanceFactory(nom="COPIL du CVU", organisateur=manager)


@pytest.fixture
def suite(copil, editor):
    """A follow-up of a held COPIL meeting, owned by the editor (not its organiser)."""
    reunion = ReunionFactory(instance=copil, tenue=True, debut=timezone.now() - timedelta(days=3))
    return SuiteADonnerFactory(reunion=reunion, quoi="Transmettre les chiffres", responsable=editor)


def _done_url(suite) -> str:
    return reverse("cvu:suite_done", args=[suite.pk])


# ---------------------------------------------------------------- marking done


def test_the_owner_marks_a_follow_up_done_with_a_plain_form(client, editor, suite):
    client.force_login(editor)
    response = client.post(_done_url(suite), {"next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    suite.refresh_from_db()
    assert (suite.statut, suite.fait_le) == ("fait", timezone.localdate())
    assertContains(client.get("/"), "Suite « Transmettre les chiffres » marquée comme faite.")


def test_with_htmx_the_answer_is_the_new_status(client, editor, suite):
    client.force_login(editor)
    response = client.post(_done_url(suite), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    assertInHTML(
        '<span class="text-success-emphasis text-nowrap" tabindex="-1" autofocus>'
        '<i class="bi bi-check-circle-fill" aria-hidden="true"></i> Fait le '
        f"{timezone.localdate():%d/%m/%Y}</span>",
        response.content.decode(),
    )
    assertNotContains(response, "<html")
    assert SuiteADonner.objects.get().statut == "fait"


def test_the_meeting_organiser_may_mark_it_too(client, manager, suite):
    client.force_login(manager)
    assert client.post(_done_url(suite)).status_code == 302
    assert SuiteADonner.objects.get().statut == "fait"


def test_others_are_refused_like_on_the_edit_page(client, outsider, reader, suite):
    for user in (outsider, reader):
        client.force_login(user)
        assert client.post(_done_url(suite)).status_code == 403
        assert client.get(reverse("cvu:suite_update", args=[suite.pk])).status_code == 403
    client.force_login(outsider)
    assert client.post(reverse("cvu:suite_done", args=[424242])).status_code == 404
    assert SuiteADonner.objects.get().statut == "a_faire"


def test_anonymous_is_sent_to_login_and_get_is_not_allowed(client, editor, suite):
    response = client.post(_done_url(suite))
    assert response.status_code == 302 and "/comptes/connexion/" in response["Location"]
    client.force_login(editor)
    assert client.get(_done_url(suite)).status_code == 405


def test_the_csrf_token_is_required(editor, suite):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert client.post(_done_url(suite)).status_code == 403


def test_a_foreign_next_is_not_followed(client, editor, suite):
    client.force_login(editor)
    response = client.post(_done_url(suite), {"next": "https://ailleurs.example/"})
    assert response["Location"] == reverse("cvu:suite_list")


def test_a_closed_follow_up_stays_as_it_is(client, editor, suite):
    suite.statut = SuiteADonner.Statut.ABANDONNE
    suite.save()
    client.force_login(editor)
    client.post(_done_url(suite))
    suite.refresh_from_db()
    assert (suite.statut, suite.fait_le) == ("abandonne", None)


# ---------------------------------------------------------------- where they are shown


def _button(suite) -> str:
    return (
        '<button type="submit" class="btn btn-outline-success btn-sm position-relative">'
        '<i class="bi bi-check2" aria-hidden="true"></i> Marquer comme fait'
        f'<span class="visually-hidden"> : {suite.quoi}</span></button>'
    )


def test_the_button_is_on_the_home_page_meeting_page_and_list(client, editor, suite):
    client.force_login(editor)
    for url in ("/", suite.reunion.get_absolute_url(), reverse("cvu:suite_list")):
        html = client.get(url).content.decode()
        assertInHTML(_button(suite), html)
        assert f'hx-post="{_done_url(suite)}"' in html
        assert f'action="{_done_url(suite)}"' in html


def test_no_button_for_whom_may_not_change_it(client, reader, outsider, suite):
    for user in (reader, outsider):
        client.force_login(user)
        html = client.get(suite.reunion.get_absolute_url()).content.decode()
        assert "Marquer comme fait" not in html
        assert "À faire" in html
        assert "Marquer comme fait" not in client.get("/suivis/?responsable=").content.decode()


# ---------------------------------------------------------------- "mes suites"


def test_the_list_shows_my_open_follow_ups_by_default_and_all_on_demand(
    client, editor, manager, suite
):
    SuiteADonnerFactory(reunion=suite.reunion, quoi="Tâche du service", responsable=manager)
    SuiteADonnerFactory(reunion=suite.reunion, quoi="Déjà faite", responsable=editor, statut="fait")
    client.force_login(editor)
    response = client.get(reverse("cvu:suite_list"))
    assert [s.quoi for s in response.context["page_obj"]] == ["Transmettre les chiffres"]
    assertInHTML(
        f'<a class="nav-link active" aria-current="page" href="{response.context["views"]["mine"]}">'
        "Mes suites</a>",
        response.content.decode(),
    )
    everyone = client.get(response.context["views"]["all"])
    assert {s.quoi for s in everyone.context["page_obj"]} == {
        "Transmettre les chiffres",
        "Tâche du service",
    }
    assert not everyone.context["showing_mine"]


def test_mes_suites_works_before_a_first_follow_up(client, suite):
    newcomer = UserFactory()
    client.force_login(newcomer)
    response = client.get(reverse("cvu:suite_list"))
    assert response.context["filter"].is_valid()
    assert list(response.context["page_obj"]) == []
    assertContains(response, "Aucune suite ne correspond à ces filtres.")


def test_the_direction_sees_every_follow_up_by_default(client, reader, suite):
    client.force_login(reader)
    response = client.get(reverse("cvu:suite_list"))
    assert [s.quoi for s in response.context["page_obj"]] == ["Transmettre les chiffres"]


def test_filters_given_in_the_address_are_kept_as_they_are(client, editor, manager, suite):
    SuiteADonnerFactory(reunion=suite.reunion, quoi="Tâche du service", responsable=manager)
    client.force_login(editor)
    response = client.get(reverse("cvu:suite_list"), {"statut": "a_faire"})
    assert len(response.context["page_obj"]) == 2  # e.g. a dashboard link: everyone's
