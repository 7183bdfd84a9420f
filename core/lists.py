"""The one pagination of every list: the requested page of the rows, at one page size.

A list shows `PAGE_SIZE` rows; a view passes another size only when its page must differ, with a
comment saying why. Templates render the page with `{% include "_pagination.html" with
page=page_obj only %}`, which keeps the current filters in its links.
"""

from collections.abc import Sequence

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

PAGE_SIZE = 50


def paginate(request: HttpRequest, rows: QuerySet | Sequence, per_page: int = PAGE_SIZE) -> Page:
    """The page asked for by `?page=`; the last one past the end, the first one when mistyped."""
    return Paginator(rows, per_page).get_page(request.GET.get("page"))
