"""core.lists.FilterSet.rendered_fields: the filter bars' fields kept in the process under what
their HTML is drawn from, so that they are never stale and the same as crispy-forms draws."""

from unittest import mock

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django.test import RequestFactory

from core import lists
from cvu.filters import ActionFilterSet
from cvu.models import Action
from tests.cvu.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty():
    lists._RENDERED.clear()


def _bar(user, query: str = "") -> dict[str, str]:
    request = RequestFactory().get(f"/actions/{query}")
    request.user = user
    filterset = ActionFilterSet(request.GET, queryset=Action.objects.all(), request=request)
    return {field.name: field.html for field in filterset.rendered_fields}


def _crispy(user, query: str = "") -> dict[str, str]:
    request = RequestFactory().get(f"/actions/{query}")
    request.user = user
    form = ActionFilterSet(request.GET, queryset=Action.objects.all(), request=request).form
    return {bound.name: as_crispy_field(bound) for bound in form}


def test_kept_fields_are_what_crispy_draws_with_values_and_errors(reader):
    porteur = OrganisationFactory(nom="Association Pari")
    query = f"?porteur={porteur.pk}&statut=depose&statut=vote&annee=deux-mille&search=sport"
    first = _bar(reader, query)
    assert first == _crispy(reader, query)
    with mock.patch.object(lists, "as_crispy_field", side_effect=AssertionError("redessiné")):
        assert _bar(reader, query) == first  # every field from the process's keep
    assert f'<option value="{porteur.pk}" selected>Association Pari</option>' in first["porteur"]
    assert "is-invalid" in first["annee"]  # the error is drawn, and kept with its value


def test_a_new_renamed_or_chosen_option_is_drawn_at_once(reader):
    ancienne = OrganisationFactory(nom="Centre social Escapade")
    before = _bar(reader)["porteur"]
    assert "Centre social Escapade" in before

    nouvelle = OrganisationFactory(nom="Régie de quartier")
    assert "Régie de quartier" in _bar(reader)["porteur"]

    ancienne.nom = "Centre social Escapade Montbéliard"
    ancienne.save()
    assert "Centre social Escapade Montbéliard" in _bar(reader)["porteur"]

    chosen = _bar(reader, f"?porteur={nouvelle.pk}")["porteur"]
    assert f'<option value="{nouvelle.pk}" selected>' in chosen
    assert chosen == _crispy(reader, f"?porteur={nouvelle.pk}")["porteur"]


def test_every_field_of_the_action_bar_is_kept_and_the_keep_is_bounded(reader, monkeypatch):
    fields = _bar(reader)
    assert len(lists._RENDERED) == len(fields) == 15
    monkeypatch.setattr(lists, "RENDERED_KEPT", 16)
    for n in range(5):  # one more search field each time
        _bar(reader, f"?search=recherche{n}")
    assert len(lists._RENDERED) == 16
