from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


class CheckboxFilterList(forms.SelectMultiple):
    """A multiple choice as a list of checkboxes, with a filter box when the list is long.

    With a <select multiple>, one plain click drops every other selected item (Ctrl+click
    is needed): a checkbox keeps the others whatever is clicked. The list scrolls when long,
    shows "n sélectionnés" and a filter box (static/js/checkbox-filter.js; without JavaScript
    the box stays hidden and the list still works).

    It subclasses SelectMultiple, not CheckboxSelectMultiple, on purpose: crispy-forms draws a
    CheckboxSelectMultiple with its own template and would ignore this one. The data sent is
    the same (one value per ticked box), so forms validate exactly as with a select.
    """

    template_name = "core/widgets/checkbox_filter_list.html"
    input_type = "checkbox"
    checked_attribute = {"checked": True}
    option_inherits_attrs = True
    add_id_index = True  # Select turns it off: each box needs its own id for its label.
    # The group is named by a <legend> (crispy) rather than by a <label for=…>.
    use_fieldset = True

    def __init__(self, attrs=None, choices=(), *, filter_from: int = 9, menu: bool = False):
        """`menu=True` folds the list under a select-like toggle, for the filter bars of lists
        where it must take one line."""
        super().__init__(attrs, choices)
        self.filter_from = filter_from
        self.menu = menu

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)
        copy.filter_from, copy.menu = self.filter_from, self.menu
        return copy

    def use_required_attribute(self, initial):
        # A required attribute on each box would force every box to be ticked.
        return False

    def value_omitted_from_data(self, data, files, name):
        # No box ticked sends nothing: that is an empty choice, not an omitted field.
        return False

    def id_for_label(self, id_, index=None):
        if index is None:
            return ""
        return super().id_for_label(id_, index)

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        # Only what concerns one box: crispy's "form-select" class is for the list as a whole.
        kept = {k: v for k, v in option["attrs"].items() if k in ("id", "checked", "disabled")}
        option["attrs"] = {**kept, "class": "form-check-input"}
        return option

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        classes = str(widget["attrs"].get("class", "")).split()
        options = [option for _, group, _ in widget["optgroups"] for option in group]
        widget["invalid"] = "is-invalid" in classes
        widget["filterable"] = len(options) >= self.filter_from
        widget["selected_count"] = sum(1 for option in options if option["selected"])
        widget["option_count"] = len(options)
        widget["menu"] = self.menu
        selected = [str(option["label"]) for option in options if option["selected"]]
        widget["summary"] = summary_text(selected)
        return context


def summary_text(selected: list[str]) -> str:
    """What a folded list shows (static/js/checkbox-filter.js says the same)."""
    if not selected:
        return "Tous"
    if len(selected) <= 2:
        return ", ".join(selected)
    return f"{len(selected)} sélectionnés"


class FastSelect(forms.Select):
    """A drop-down list whose options are written in Python rather than through Django's
    template per option (about 0.3 ms each): the action list's filter bar, with some 300
    organisations, referents and objectives, spent 80 ms of its 230 ms rendering them. Same
    HTML as forms.Select: attributes, selected option, option groups."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _ in widget["optgroups"]:
            rendered = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (option["value"], flatatt(option["attrs"]), option["label"])
                    for option in options
                ),
            )
            groups.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, rendered)
                if group_name
                else rendered
            )
        return format_html(
            '<select name="{}"{}>{}</select>',
            widget["name"],
            flatatt(widget["attrs"]),
            mark_safe("".join(groups)),
        )


def fast_selects(form: forms.Form) -> forms.Form:
    """The form's plain drop-down lists, rendered by FastSelect (the filter bars, core.lists)."""
    for field in form.fields.values():
        old = field.widget
        if type(old) is forms.Select:
            new = FastSelect(attrs=old.attrs)
            new.choices = old.choices
            new.is_required, new.is_localized = old.is_required, old.is_localized
            field.widget = new
    return form
