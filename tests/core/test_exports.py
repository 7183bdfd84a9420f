import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.exports import export_response

COLUMNS = [
    ("Nom", lambda r: r["nom"]),
    ("Montant", lambda r: r["montant"]),
    ("Date", lambda r: r["date"]),
]
ROWS = [
    {"nom": "Étupes", "montant": Decimal("1234.5"), "date": date(2026, 11, 28)},
    {"nom": '=HYPERLINK("http://x")', "montant": None, "date": None},
]


def test_csv_is_french_excel_friendly():
    response = export_response(ROWS, COLUMNS, filename="essai", fmt="csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffNom;Montant;Date")
    assert "Étupes;1234,50;28/11/2026" in text
    assert 'attachment; filename="essai-' in response["Content-Disposition"]


def test_formulas_are_neutralised_in_csv_and_excel():
    csv_text = export_response(ROWS, COLUMNS, filename="essai", fmt="csv").content.decode()
    assert "'=HYPERLINK" in csv_text
    workbook = load_workbook(
        io.BytesIO(export_response(ROWS, COLUMNS, filename="essai", fmt="xlsx").content)
    )
    assert workbook.active["A3"].value.startswith("'=")


def test_excel_keeps_real_numbers_and_dates():
    response = export_response(ROWS, COLUMNS, filename="essai", fmt="xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[1]] == ["Nom", "Montant", "Date"]
    assert sheet["B2"].value == 1234.5
    assert sheet["C2"].value.date() == date(2026, 11, 28)


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        export_response(ROWS, COLUMNS, filename="essai", fmt="pdf")
