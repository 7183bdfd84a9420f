"""The error summary at the top of a refused form (core/templatetags/error_summary.py)."""

import pytest
from django import forms
from django.template import Context, Template
from pytest_django.asserts import assertContains, assertInHTML, assertNotContains

from core.widgets import CheckboxFilterList


class ObservationForm(forms.Form):
    titre = forms.CharField(label="Titre")
    texte = forms.CharField(label="Observation")
    lieux = forms.MultipleChoiceField(
        label="Lieux", choices=[("a", "Audincourt")], widget=CheckboxFilterList
    )
    jeton = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        raise forms.ValidationError("Ce territoire est archivé.")


class LigneForm(forms.Form):
    montant = forms.IntegerField(label="Montant")


LigneFormSet = forms.formset_factory(LigneForm, extra=0, can_delete=True)


def _render(source: str, **context) -> str:
    return Template("{% load error_summary crispy_forms_tags %}" + source).render(Context(context))


def test_a_valid_or_unbound_form_has_no_summary():
    assert _render("{% error_summary form %}", form=ObservationForm()).strip() == ""
    valid = LigneFormSet({"form-TOTAL_FORMS": "0", "form-INITIAL_FORMS": "0"})
    assert _render("{% error_summary formset %}", formset=valid).strip() == ""


def test_a_refused_form_lists_each_error_with_a_link_to_its_field():
    form = ObservationForm({"obs-texte": "Affluence"}, prefix="obs")
    html = _render("{% error_summary form %}", form=form)
    assertInHTML(
        '<h2 class="h6 alert-heading" id="erreurs-obs-titre">Le formulaire contient 3 erreurs</h2>',
        html,
    )
    assertInHTML("<li>Ce territoire est archivé.</li>", html)
    assertInHTML(
        '<li><a class="alert-link" href="#id_obs-titre">Titre&nbsp;: Ce champ est obligatoire.'
        "</a></li>",
        html,
    )
    # A checkbox list is reached through its container (the script focuses its first box).
    assertInHTML(
        '<li><a class="alert-link" href="#id_obs-lieux">Lieux&nbsp;: Ce champ est obligatoire.'
        "</a></li>",
        html,
    )
    assert 'tabindex="-1"' in html and 'role="alert"' in html and "data-error-summary" in html
    assert "js/error-summary.js" in html


def test_one_error_is_singular():
    form = LigneForm({"montant": "douze"})
    html = _render("{% error_summary form %}", form=form)
    assert "Le formulaire contient 1 erreur</h2>" in html


def test_formset_rows_are_named_and_deleted_rows_ignored():
    formset = LigneFormSet(
        {
            "form-TOTAL_FORMS": "3",
            "form-INITIAL_FORMS": "0",
            "form-0-montant": "10",
            "form-1-montant": "dix",
            "form-2-montant": "",
            "form-2-DELETE": "on",
        }
    )
    html = _render("{% error_summary formset %}", formset=formset)
    assertInHTML(
        '<li><a class="alert-link" href="#id_form-1-montant">Ligne 2 – Montant&nbsp;: '
        "Saisissez un nombre entier.</a></li>",
        html,
    )
    assert "Le formulaire contient 1 erreur<" in html


def test_a_formset_without_its_management_form_is_not_refused_silently():
    formset = LigneFormSet({})
    html = _render("{% error_summary formset %}", formset=formset)
    assert "Le formulaire contient 1 erreur" in html
    assert "ManagementForm" in html


def test_crispy_forms_get_the_summary_once():
    form = ObservationForm({})
    alone = _render("{{ form|crispy }}", form=form)
    assert alone.count("data-error-summary") == 1
    assert "Ce territoire est archivé." in alone
    form = ObservationForm({})
    formset = LigneFormSet(
        {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "0", "form-0-montant": "x"}
    )
    both = _render("{% error_summary form formset %}{{ form|crispy }}", form=form, formset=formset)
    assert both.count("data-error-summary") == 1
    assert "Le formulaire contient 5 erreurs" in both


def test_a_list_of_row_forms_is_summarised_line_by_line():
    rows = [("Premier engagement", LigneForm({})), ("Second", LigneForm({"montant": "3"}))]
    html = _render("{% error_summary rows %}", rows=rows)
    assertInHTML(
        '<li><a class="alert-link" href="#id_montant">Ligne 1 – Montant&nbsp;: '
        "Ce champ est obligatoire.</a></li>",
        html,
    )


# ---------------------------------------------------------------- pages


@pytest.mark.django_db
def test_a_refused_observation_on_a_qpv_page_opens_with_its_summary(client, editor, qpv):
    client.force_login(editor)
    response = client.post(
        qpv.get_absolute_url(), {"form": "observation", "obs-date": "2026-01-05"}
    )
    assert response.status_code == 400
    assertContains(response, "Le formulaire contient 2 erreurs", status_code=400)
    assertContains(response, 'href="#id_obs-titre"', status_code=400)
    # The other form of the page, not submitted, has none.
    assert response.content.decode().count("data-error-summary") == 1


@pytest.mark.django_db
def test_a_refused_meeting_form_summarises_its_agenda_rows(client, manager):
    from tests.cvu.governance_factories import InstanceFactory

    instance = InstanceFactory(organisateur=manager)
    client.force_login(manager)
    response = client.post(
        "/reunions/nouvelle/",
        {
            "instance": instance.pk,
            "statut": "prevue",
            "points-TOTAL_FORMS": "1",
            "points-INITIAL_FORMS": "0",
            "points-0-ordre": "un",
            "points-0-texte": "Bilan",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assertInHTML(
        '<li><a class="alert-link" href="#id_debut">Début&nbsp;: Ce champ est obligatoire.</a></li>',
        html,
    )
    assert 'href="#id_points-0-ordre"' in html
    assertNotContains(response, 'class="alert alert-danger">', status_code=400)
