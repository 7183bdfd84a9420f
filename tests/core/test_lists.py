"""The one pagination helper: one page size, forgiving page numbers."""

from django.test import RequestFactory

from core.lists import PAGE_SIZE, paginate


def page_of(query: dict, rows, **kwargs):
    return paginate(RequestFactory().get("/", query), rows, **kwargs)


def test_a_page_holds_page_size_rows():
    page = page_of({}, list(range(PAGE_SIZE + 1)))
    assert PAGE_SIZE == 50
    assert list(page) == list(range(PAGE_SIZE))
    assert page.paginator.num_pages == 2


def test_the_requested_page_is_served():
    assert list(page_of({"page": "2"}, list(range(PAGE_SIZE + 1)))) == [PAGE_SIZE]


def test_a_mistyped_page_gives_the_first_and_one_past_the_end_the_last():
    rows = list(range(30))
    assert page_of({"page": "deux"}, rows, per_page=20).number == 1
    assert page_of({"page": "9"}, rows, per_page=20).number == 2
