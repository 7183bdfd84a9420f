from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .numbers import parse_decimal


class FrenchDecimalField(forms.DecimalField):
    """A number typed the French way: '1 234,5' (any kind of space), '1234.5'; no exponent."""

    def __init__(self, **kwargs):
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_decimal(value, places=self.decimal_places)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid") from None


class MontantField(FrenchDecimalField):
    """An amount in euros: '1 200,50 €', never negative."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", 0)
        super().__init__(**kwargs)
        self.error_messages["min_value"] = "Un montant ne peut pas être négatif."


def model_choices(queryset, label=str) -> list[tuple]:
    """Options of a select computed once, to share between the rows of a formset."""
    return [("", "---------")] + [(obj.pk, label(obj)) for obj in queryset]


class CompactRowForm:
    """Bootstrap classes on every widget, for forms rendered as table rows in a formset.

    `choices={"field": model_choices(...)}` gives selects their options without one query per
    row (the field still validates against its queryset).
    """

    def __init__(self, *args, choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, options in (choices or {}).items():
            self.fields[name].widget.choices = options
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            widget.attrs["class"] = css
            widget.attrs.setdefault("aria-label", str(field.label))


def save_if_editable(form, user, *, message: str, field: str | None = None):
    """Saves a valid ModelForm only if the user may still edit the saved row.

    A chef de projet could otherwise move a record out of their own sector; the save is rolled
    back and `message` is added to the form. Returns the saved object, or None.
    """
    model = form._meta.model
    with transaction.atomic():
        saved = form.save()
        if model.objects.editable_by(user).filter(pk=saved.pk).exists():
            return saved
        transaction.set_rollback(True)
    form.add_error(field, message)
    return None


class QuickField:
    """A text input or select rendered without the template engine.

    Rendering a widget goes through Django's form renderer (a template per widget, about 1 ms
    each): a grid of several hundred fields (the committee page) spends most of its time there.
    This renders the same attributes, value and options directly; everything else (errors,
    label, id) is read from the bound field it wraps."""

    def __init__(self, bound):
        self.bound = bound

    def __getattr__(self, name):
        return getattr(self.bound, name)

    def __str__(self):
        bound, widget = self.bound, self.bound.field.widget
        attrs = bound.build_widget_attrs(dict(widget.attrs))
        attrs["id"] = bound.auto_id
        if bound.errors:
            attrs["aria-invalid"] = "true"
        value = bound.value()
        if isinstance(widget, forms.Select):
            chosen = "" if value is None else str(value)
            options = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (key, mark_safe(" selected") if str(key) == chosen else "", label)
                    for key, label in bound.field.choices
                ),
            )
            return format_html(
                '<select name="{}"{}>{}</select>', bound.html_name, flatatt(attrs), options
            )
        shown = widget.format_value(value)
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget.input_type,
            bound.html_name,
            format_html(' value="{}"', shown) if shown not in (None, "") else "",
            flatatt(attrs),
        )

    def __html__(self):
        return str(self)
