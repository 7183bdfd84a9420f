"""Controls of an inline formset rendered as a table (templates/_formset_table.html)."""

from django import template

register = template.Library()


def column_label(field) -> str:
    return "Supprimer" if field.name == "DELETE" else str(field.label)


@register.simple_tag
def formset_column(field) -> str:
    """The column header of a field."""
    return column_label(field)


@register.simple_tag
def formset_control(field, row, row_errors_id=""):
    """A field's widget named '<column> – ligne <row>' (column headers do not label controls),
    marked invalid and described by its errors and by its row's errors.

    The empty form's row is '__num__', replaced by static/js/formset.js when a line is added.
    """
    widget = field.field.widget
    css = widget.attrs.get("class", "")
    if field.name == "DELETE" and not css:
        css = "form-check-input"
    if field.errors:
        css = f"{css} is-invalid"
    attrs = {"aria-label": f"{column_label(field)} – ligne {row}"}
    if css.strip():
        attrs["class"] = css.strip()
    described = [f"{field.auto_id}_error"] if field.errors else []
    if row_errors_id:
        described.append(row_errors_id)
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


@register.simple_tag
def formset_row_errors(form) -> list:
    """A row's own errors: its non-field errors and those of its hidden fields (the line's id)."""
    errors = list(form.non_field_errors())
    for hidden in form.hidden_fields():
        errors += [f"{hidden.label} : {error}" for error in hidden.errors]
    return errors


@register.simple_tag
def formset_field_errors(form) -> list:
    """The errors of a row's visible fields as 'column : message', repeated at the start of the
    row for a narrow screen, where the control may be scrolled out of view."""
    return [
        f"{column_label(field)} : {error}"
        for field in form.visible_fields()
        for error in field.errors
    ]
