"""core.widgets.CheckboxFilterList: multi-selects as checkbox lists a click cannot empty."""

import re

import pytest
from django import forms
from django.template import Context, Template
from pytest_django.asserts import assertInHTML

from core.widgets import CheckboxFilterList, summary_text
from cvu.forms_gouvernance import ReunionForm
from tests.cvu.factories import ContactFactory
from tests.cvu.governance_factories import InstanceFactory, ReunionFactory

SHORT = [("a", "Audincourt"), ("b", "Bethoncourt"), ("v", "Valentigney")]
LONG = [(str(n), f"Commune {n}") for n in range(1, 13)]


class PlaceForm(forms.Form):
    short = forms.MultipleChoiceField(label="Lieux", choices=SHORT, widget=CheckboxFilterList)
    long = forms.MultipleChoiceField(
        label="Communes", choices=LONG, required=False, widget=CheckboxFilterList
    )


def _crispy(form) -> str:
    return Template("{% load crispy_forms_tags %}{{ form|crispy }}").render(Context({"form": form}))


def test_choices_are_checkboxes_with_labels_and_the_selection_ticked():
    html = PlaceForm(initial={"short": ["b"]})["short"].as_widget()
    assertInHTML(
        '<div class="form-check" data-checkbox-filter-item>'
        '<input type="checkbox" name="short" value="b" id="id_short_1" class="form-check-input"'
        " checked>"
        '<label class="form-check-label" for="id_short_1">Bethoncourt</label></div>',
        html,
    )
    assert html.count('type="checkbox"') == 3
    assert html.count("checked") == 1
    assert "required" not in html  # one required box would force every box


def test_a_short_list_has_no_filter_box_a_long_one_has_a_labelled_one_and_a_count():
    form = PlaceForm(initial={"long": ["2", "3"]})
    assert "data-checkbox-filter-input" not in form["short"].as_widget()
    html = form["long"].as_widget()
    assertInHTML(
        '<label class="visually-hidden" for="id_long_filtre">Filtrer la liste</label>', html
    )
    assert 'id="id_long_filtre"' in html
    assertInHTML(
        '<span class="text-nowrap" data-checkbox-filter-count aria-live="polite">'
        "2 sélectionnés</span>",
        html,
    )
    assert "js/checkbox-filter.js" in html
    # Hidden until the script shows it: without JavaScript no dead filter box is shown.
    assert "data-checkbox-filter-bar hidden" in html


def test_crispy_names_the_list_with_a_fieldset_legend():
    html = _crispy(PlaceForm())
    assert html.count("<fieldset") == 2
    assertInHTML(
        '<legend class="form-label requiredField fs-6">Lieux<span class="asteriskField">*'
        "</span></legend>",
        html,
    )
    assert "form-select" not in html  # crispy's select class stays off the boxes


def test_the_data_sent_validates_exactly_like_a_select():
    data = {"short": ["a", "v"], "long": ["12"]}
    form = PlaceForm(data)
    assert form.is_valid()
    assert form.cleaned_data == {"short": ["a", "v"], "long": ["12"]}
    refused = PlaceForm({"short": ["x"]})
    assert not refused.is_valid()
    assert "x" in refused.errors["short"][0]
    empty = PlaceForm({})  # nothing ticked: the field is empty, not omitted
    assert not empty.is_valid() and list(empty.errors) == ["short"]


def test_an_invalid_list_is_marked_and_a_disabled_one_disables_each_box():
    form = PlaceForm({})
    form.is_valid()
    html = _crispy(form)
    assert 'class="checkbox-filter is-invalid"' in html
    assert "Ce champ est obligatoire." in html
    form = PlaceForm()
    form.fields["short"].disabled = True
    assert form["short"].as_widget().count("disabled") == 3


@pytest.mark.django_db
def test_ids_above_999_are_not_localised():
    ContactFactory(pk=1500)
    form = ReunionForm(initial={"invites_contacts": [1500]})
    html = form["invites_contacts"].as_widget()
    assert 'value="1500"' in html and "1 500" not in html


@pytest.mark.django_db
def test_a_meeting_created_from_an_instance_has_its_members_ticked(client, manager):
    invited = [ContactFactory() for _ in range(6)]
    other = ContactFactory()
    instance = InstanceFactory(organisateur=manager)
    instance.contacts_membres.set(invited)
    client.force_login(manager)
    page = client.get("/reunions/nouvelle/", {"instance": instance.pk}).content.decode()
    boxes = re.findall(
        r'<input type="checkbox" name="invites_contacts" value="(\d+)"([^>]*)>', page
    )
    assert {int(value) for value, attrs in boxes} == {c.pk for c in [*invited, other]}
    assert {int(value) for value, attrs in boxes if "checked" in attrs} == {c.pk for c in invited}


def test_the_widget_renders_alone():
    html = CheckboxFilterList(choices=SHORT).render("lieux", ["a"], attrs={"id": "id_lieux"})
    assertInHTML(
        '<input type="checkbox" name="lieux" value="a" id="id_lieux_0" class="form-check-input"'
        " checked>",
        html,
    )
    assert 'id="id_lieux" data-checkbox-filter' in html


@pytest.mark.django_db
def test_reunion_form_uses_checkbox_lists():
    ReunionFactory()
    form = ReunionForm()
    for name in ("invites_utilisateurs", "invites_contacts"):
        assert isinstance(form.fields[name].widget, CheckboxFilterList)


def test_a_menu_folds_the_list_under_a_toggle_saying_what_is_chosen():
    class StatutForm(forms.Form):
        statut = forms.MultipleChoiceField(
            label="Statut", choices=LONG, required=False, widget=CheckboxFilterList(menu=True)
        )

    html = StatutForm(initial={"statut": ["1", "2"]})["statut"].as_widget()
    assertInHTML(
        '<summary class="form-select text-truncate" data-checkbox-filter-summary>'
        "Commune 1, Commune 2</summary>",
        html,
    )
    assert html.index("<details") < html.index('type="checkbox"')
    assert summary_text([]) == "Tous"
    assert summary_text(["A", "B", "C"]) == "3 sélectionnés"
