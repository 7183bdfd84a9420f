"""Formsets whose management counts were changed by hand are refused with a 400.

A formset trusts its hidden TOTAL_FORMS and INITIAL_FORMS: raised, they make forms the page never
offered (a new financing line, an indicator without its action); lowered or garbled, they make
Django look up rows by position and fail. `check_counts` compares them with what the page can
have rendered, before anything is validated or saved.
"""

from django.core.exceptions import SuspiciousOperation
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT


class TamperedFormSet(SuspiciousOperation):
    """Answered 400 by Django (templates/400.html) and logged to django.security."""


def check_counts(formset, *, can_add: bool = False) -> None:
    """Raises TamperedFormSet if a bound formset's counts are not those of its page.

    `can_add`: the page offers "add a line", so more lines than rendered are expected.
    """
    if not formset.is_bound:
        return
    management = formset.management_form
    if not management.is_valid():
        raise TamperedFormSet(f"{formset.prefix} : formulaire de gestion absent ou illisible")
    total = management.cleaned_data[TOTAL_FORM_COUNT]
    initial = management.cleaned_data[INITIAL_FORM_COUNT]
    if hasattr(formset, "get_queryset"):
        existing = len(formset.get_queryset())
    else:
        existing = len(formset.initial or [])
    rendered = max(existing + formset.extra, formset.min_num)
    if (
        initial != existing
        or total < existing
        or total > formset.absolute_max
        or (not can_add and total > rendered)
    ):
        raise TamperedFormSet(
            f"{formset.prefix} : {total} formulaires dont {initial} existants, {existing} attendus"
        )
