"""The shared import core: cell parsers and header detection (no database)."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from core.imports import (
    ENGLISH,
    FRENCH,
    AmbiguousAmount,
    CellError,
    Field,
    Row,
    amount_style,
    find_header,
    guess_mapping,
    ignored_columns,
    is_total,
    parse_amount,
    parse_date,
    parse_siret,
    parse_text,
    read_table,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 200,50 €", Decimal("1200.50")),
        ("4 500,00", Decimal("4500.00")),
        ("1,200.50", Decimal("1200.50")),
        ("1.200,50", Decimal("1200.50")),
        ("1.200.000", Decimal("1200000.00")),
        ("1200.5", Decimal("1200.50")),
        ("12 000 EUR", Decimal("12000.00")),
        ("", None),
        (1100.0000000000002, Decimal("1100.00")),
    ],
)
def test_amounts_french_and_english(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", ["1.200", "12.000 €", "1,200"])
def test_a_lone_separator_before_three_digits_is_flagged_not_guessed(text):
    with pytest.raises(AmbiguousAmount):
        parse_amount(text)


def test_the_column_or_the_person_settles_an_ambiguous_amount():
    assert amount_style(["1.200", "4 500,00"]) == FRENCH
    assert amount_style(["1.200", "12.50"]) == ENGLISH
    assert amount_style(["1.200", "12.000 €"]) is None
    assert parse_amount("12.000 €", style=FRENCH) == Decimal("12000.00")
    assert parse_amount("1.200", style=ENGLISH) == Decimal("1.20")


@pytest.mark.parametrize("text", ["-500", "abc", "1,2,3.4.5", "1.2345", "12,", "1e5"])
def test_bad_amounts_are_refused_in_french(text):
    with pytest.raises(CellError):
        parse_amount(text)


def test_negatives_only_where_allowed():
    assert parse_amount("-500", negative=True) == Decimal("-500.00")


@given(st.decimals(min_value=0, max_value=Decimal("999999999.99"), places=2))
def test_amounts_round_trip_in_french_and_english(amount):
    whole, cents = f"{amount:.2f}".split(".")
    groups = f"{int(whole):,}"
    french = groups.replace(",", "\u202f") + "," + cents + " €"
    english = groups + "." + cents
    assert parse_amount(french) == amount
    assert parse_amount(english) == amount
    assert parse_amount(float(amount)) == amount


@given(st.text(max_size=30) | st.floats() | st.integers())
def test_amount_parser_never_crashes(value):
    try:
        parse_amount(value)
    except CellError:
        pass


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("31/12/2026", date(2026, 12, 31)),
        ("2026-12-31", date(2026, 12, 31)),
        ("2026-12-31T10:00:00", date(2026, 12, 31)),
        (46022, date(2025, 12, 31)),
        ("01.02.26", date(2026, 2, 1)),
    ],
)
def test_dates(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["32/13/2024", "29/02/2025", "2024-13-01", "demain", 0, 1.5])
def test_impossible_dates_are_refused(value):
    with pytest.raises(CellError):
        parse_date(value)


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 12, 31)))
def test_dates_round_trip(day):
    assert parse_date(day.strftime("%d/%m/%Y")) == day
    assert parse_date(day.isoformat()) == day
    assert parse_date((day - date(1899, 12, 30)).days) == day
    assert parse_date(day + timedelta(0)) == day


@given(st.text(max_size=20))
def test_date_parser_never_crashes(value):
    try:
        parse_date(value)
    except CellError:
        pass


def test_siret_with_spaces():
    assert parse_siret("732 829 320 00074") == "73282932000074"
    assert parse_siret(73282932000074.0) == "73282932000074"
    assert parse_siret(" ") == ""
    with pytest.raises(CellError, match="9 chiffres"):
        parse_siret("1234")


@given(st.text(alphabet="0123456789 ", max_size=20))
def test_siret_parser_keeps_digits_or_refuses(value):
    try:
        digits = parse_siret(value)
    except CellError:
        return
    assert digits == "" or (digits.isdigit() and len(digits) in (9, 14))


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+33", "-cmd", "@SUM(A1)"])
def test_names_starting_like_a_formula_are_refused(text):
    with pytest.raises(CellError, match="formule"):
        parse_text(text, name=True)
    assert parse_text(f"  {text} ") == text


def test_row_collects_every_error_with_its_column():
    row = Row(line=4, cells={"a": "abc", "d": "32/13/2024", "s": "12"})
    row.read("a", "Montant", parse_amount)
    row.read("d", "Date", parse_date)
    row.read("s", "SIRET", parse_siret)
    assert [error.split(" :")[0] for error in row.errors] == ["Montant", "Date", "SIRET"]


def test_totals():
    assert is_total(["TOTAL", None, 1200])
    assert is_total([None, "Total général", 5])
    assert is_total(["Sous-total Etat", 5])
    assert not is_total(["Totem association", 5])
    assert not is_total([3, "Total"])


KNOWN = {"intitule": "titre", "porteur": "porteur", "montant": "montant"}


def recognise(title):
    return KNOWN.get(title.casefold().replace("é", "e"))


def test_header_below_a_title_and_a_blank_line():
    lines = [
        ("Programmation 2026", None, None),
        (),
        ("Intitulé", "Porteur", "Montant"),
        ("a", "b", 1),
    ]
    assert find_header(lines, recognise) == 2


@given(
    titles=st.integers(min_value=0, max_value=10),
    blanks=st.integers(min_value=0, max_value=8),
)
def test_header_is_found_whatever_sits_above_it(titles, blanks):
    lines = [(f"Titre {i}",) for i in range(titles)] + [()] * blanks
    lines += [("Intitulé", "Porteur", "Montant", "Autre"), ("x", "y", 3, None)]
    assert find_header(lines, recognise) == titles + blanks


def test_no_header_is_a_french_error():
    with pytest.raises(ValidationError, match="Aucune ligne d'en-têtes"):
        find_header([(1, 2), (3, 4)], recognise)


def workbook(*lines) -> bytes:
    book = Workbook()
    for cells in lines:
        book.active.append(cells)
    book.active.merge_cells("A1:C1")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_read_table_reports_header_line_blank_and_total_lines():
    data = workbook(
        ["Programmation 2026"],
        [],
        ["Intitulé", "Porteur", "Montant", "Commentaire"],
        ["A", "B", "1 200,50"],
        [],
        ["C", "D", 300],
        ["TOTAL", None, "=SUM(C4:C6)"],
    )
    table = read_table(data, recognise=recognise, max_rows=10)
    assert table.header_line == 3
    assert [line for line, _ in table.rows] == [4, 6]
    assert table.total_lines == [7] and table.blank_lines == [5]
    assert table.report[0].startswith("En-têtes lus ligne 3")
    fields = [Field("titre", "Intitulé"), Field("porteur", "Porteur", synonyms=("structure",))]
    mapping = guess_mapping(table.headers, fields)
    assert mapping == {"titre": 0, "porteur": 1}
    assert ignored_columns(table.headers, mapping) == ["Montant", "Commentaire"]
