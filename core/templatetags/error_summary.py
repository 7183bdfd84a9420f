"""The error summary at the top of a refused form: one line per error, linking to its field."""

from dataclasses import dataclass

from django import template

register = template.Library()


@dataclass(frozen=True)
class SummaryError:
    message: str
    label: str = ""
    href: str = ""  # the id of the control to reach, without '#'


def _target(bound_field) -> str:
    if bound_field.is_hidden:
        return ""
    # A checkbox list has no single control: its id is the list's (error-summary.js focuses
    # the first box).
    return bound_field.id_for_label or bound_field.auto_id or ""


def _first_target(form) -> str:
    for bound_field in form.visible_fields():
        return _target(bound_field)
    return ""


def _form_errors(form, prefix: str = "") -> list[SummaryError]:
    errors = [
        SummaryError(str(message), prefix, _first_target(form) if prefix else "")
        for message in form.non_field_errors()
    ]
    for bound_field in form:
        label = " – ".join(part for part in (prefix, str(bound_field.label or "")) if part)
        errors += [SummaryError(str(m), label, _target(bound_field)) for m in bound_field.errors]
    return errors


def _is_formset(obj) -> bool:
    return hasattr(obj, "forms") and hasattr(obj, "management_form")


def _formset_errors(formset) -> list[SummaryError]:
    first = _first_target(formset.forms[0]) if formset.forms else ""
    errors = [SummaryError(str(m), href=first) for m in formset.non_form_errors()]
    model = getattr(formset, "model", None)
    noun = str(model._meta.verbose_name).capitalize() if model is not None else "Ligne"
    for number, form in enumerate(formset.forms, start=1):
        # A row ticked for deletion is not validated by the formset: its errors do not count.
        if formset.can_delete and getattr(form, "cleaned_data", {}).get("DELETE"):
            continue
        errors += _form_errors(form, prefix=f"{noun} {number}")
    return errors


def _forms(objects, prefix: str = ""):
    """(form or formset, label prefix) pairs; a list gives "Ligne n" to each of its forms."""
    for obj in objects:
        if obj is None:
            continue
        if hasattr(obj, "is_bound"):
            yield obj, prefix
        elif isinstance(obj, list | tuple):
            nested = [item for item in obj if hasattr(item, "is_bound")]
            if nested and len(nested) == len(obj):  # a list of forms
                for number, form in enumerate(nested, start=1):
                    yield form, f"Ligne {number}"
            else:  # e.g. a list of (label, form) rows
                for number, row in enumerate(obj, start=1):
                    yield from _forms(
                        row if isinstance(row, list | tuple) else [row], f"Ligne {number}"
                    )


@register.inclusion_tag("_error_summary.html")
def error_summary(*forms):
    """`{% error_summary form formset… %}` at the top of a <form>; nothing for a valid form.

    Takes forms, formsets and lists of forms (or of rows holding a form). Each form is
    summarised once per page: crispy's errors template (templates/bootstrap5/errors.html) calls
    this tag too, so `{{ form|crispy }}` placed below an explicit summary adds no second one.
    """
    errors, summary_id = [], ""
    for obj, prefix in _forms(forms):
        if not obj.is_bound or getattr(obj, "error_summary_shown", False):
            continue
        obj.error_summary_shown = True
        summary_id = summary_id or "erreurs" + (f"-{obj.prefix}" if obj.prefix else "")
        errors += _formset_errors(obj) if _is_formset(obj) else _form_errors(obj, prefix)
    return {"errors": errors, "summary_id": summary_id}
