"""The one list pattern: a FilterSet (`FilterSet` below) and one pagination.

Pagination: the requested page of the rows, at one page size.

A list shows `PAGE_SIZE` rows; a view passes another size only when its page must differ, with a
comment saying why. Templates render the page with `{% include "_pagination.html" with
page=page_obj only %}`, which keeps the current filters in its links.

Filter bars: templates loop over `filter.rendered_fields` (`field.name`, `field.html`), the
fields as crispy-forms draws them, kept in the process under what each is drawn from.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import django_filters
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.forms import BoundField
from django.http import HttpRequest

from .widgets import fast_selects

PAGE_SIZE = 50


def paginate(
    request: HttpRequest,
    rows: QuerySet | Sequence,
    per_page: int = PAGE_SIZE,
    *,
    count: int | None = None,
) -> Page:
    """The page asked for by `?page=`; the last one past the end, the first one when mistyped.
    `count` is the number of rows when the view already knows it (the figures of a year count
    its dossiers): the rows are then not counted a second time."""
    paginator = Paginator(rows, per_page)
    if count is not None:
        paginator.count = count  # Paginator.count is a cached property: this is its value
    return paginator.get_page(request.GET.get("page"))


class FilterSet(django_filters.FilterSet):
    """Every list's FilterSet: its drop-down lists are rendered by core.widgets.FastSelect."""

    @property
    def form(self):
        if not hasattr(self, "_form"):
            fast_selects(super().form)
        return self._form

    @cached_property
    def rendered_fields(self) -> list["RenderedField"]:
        """The filter bar: each field as crispy-forms renders it (`{{ field.html }}`, with
        `field.name` for the layout). Rendering is half of a list page (the action list's 15
        fields: ~25 ms); a field's HTML is kept in this process under what it is drawn from —
        its definition, its value, its errors and its options, read afresh on each request — so
        it cannot be stale, whatever changed in the data or the user's rights."""
        rendered = []
        for bound in self.form:
            key = _field_key(type(self), bound)
            with _LOCK:  # threaded servers (runserver) share the keep
                html = _RENDERED.get(key) if key is not None else None
                if html is not None:
                    _RENDERED.move_to_end(key)
            if html is None:
                html = as_crispy_field(bound)
                if key is not None:
                    with _LOCK:
                        _RENDERED[key] = html
                        while len(_RENDERED) > RENDERED_KEPT:
                            _RENDERED.popitem(last=False)
            rendered.append(RenderedField(bound.name, html))
        return rendered


@dataclass(frozen=True)
class RenderedField:
    name: str
    html: str


# Fields' HTML by what it is drawn from, in this process (a new process after a deployment
# starts empty, so a changed template shows at once); the oldest are dropped first.
_RENDERED: OrderedDict[str, str] = OrderedDict()
_LOCK = threading.Lock()
RENDERED_KEPT = 500
_PLAIN = (str, int, float, bool, type(None))
# What a field keeps but does not draw from: its options are described apart, read once.
_NOT_DRAWN = {"choices", "_choices", "queryset", "_queryset", "validators", "error_messages"}


def _plain(value) -> bool:
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return isinstance(value, _PLAIN)


def _field_key(filterset: type, bound: BoundField) -> str | None:
    """What a filter field's HTML depends on, hashed; None when something in its field or
    widget is not plain data (its HTML is then rendered every time). A model choice field's
    options are read here, once: the field renders from the same list."""
    field, widget = bound.field, bound.field.widget
    described = {}
    parts = [("field", field), ("widget", widget)]
    # A widget made of another (django-filter's CSV widgets keep a text input) describes both.
    parts += [(f"widget.{n}", v) for n, v in vars(widget).items() if isinstance(v, forms.Widget)]
    for owner, part in parts:
        for name, value in vars(part).items():
            if name in _NOT_DRAWN or isinstance(value, forms.Widget):
                continue
            if not _plain(value):
                return None
            described[f"{owner}.{name}"] = (type(part).__qualname__, value)
    value = bound.value()
    if not _plain(value):
        return None
    if isinstance(field, forms.ChoiceField):
        # A model field's query runs here, and only here: the widget draws from this list.
        # (Not list(): its length hint would COUNT the model's rows first.)
        choices = widget.choices = [choice for choice in widget.choices]
        described["choices"] = [(str(value), str(label)) for value, label in choices]
    described.update(
        filterset=filterset.__qualname__,
        field_type=type(field).__qualname__,
        widget_type=type(widget).__qualname__,
        label=str(field.label),
        help_text=str(field.help_text),
        html_name=bound.html_name,
        auto_id=bound.auto_id,
        value=value,
        errors=[str(error) for error in bound.errors],
    )
    try:
        text = repr(sorted(described.items()))
    except TypeError:
        return None
    return hashlib.sha256(text.encode()).hexdigest()
