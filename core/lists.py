"""The one list pattern: a FilterSet (`FilterSet` below) and one pagination.

Pagination: the requested page of the rows, at one page size.

A list shows `PAGE_SIZE` rows; a view passes another size only when its page must differ, with a
comment saying why. Templates render the page with `{% include "_pagination.html" with
page=page_obj only %}`, which keeps the current filters in its links.
"""

from collections.abc import Sequence

import django_filters
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
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
