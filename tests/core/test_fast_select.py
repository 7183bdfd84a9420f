"""core.widgets.FastSelect writes the HTML forms.Select writes, without a template per option."""

import pytest
from django import forms
from django.test.html import parse_html

from core.lists import FilterSet
from core.widgets import FastSelect, fast_selects
from cvu.filters import ActionFilterSet
from cvu.models import Action

CHOICES = [
    ("", "Tous"),
    ("a", "Réseau <d'entraide> & co"),
    ("Groupe", [("b", "Bé"), ("c", "Cé")]),
]


@pytest.mark.parametrize("value", ["", "a", "c", None])
def test_same_html_as_django_select(value):
    attrs = {"id": "id_x", "class": "form-select", "aria-describedby": "aide"}
    expected = forms.Select(choices=CHOICES).render("x", value, attrs)
    assert parse_html(FastSelect(choices=CHOICES).render("x", value, attrs)) == parse_html(expected)


@pytest.mark.django_db
def test_a_list_filter_bar_uses_it_with_the_same_options(rf, manager):
    filterset = ActionFilterSet(
        {"statut": ["programme"]}, queryset=Action.objects.all(), request=rf.get("/")
    )
    assert isinstance(filterset, FilterSet)
    form = filterset.form
    plain = [name for name, field in form.fields.items() if type(field.widget) is forms.Select]
    assert not plain  # every plain drop-down list is a FastSelect
    assert isinstance(form.fields["porteur"].widget, FastSelect)
    assert fast_selects(form) is form  # twice is harmless
    html = str(form["porteur"])
    assert html.startswith('<select name="porteur"') and '<option value="" selected>' in html
