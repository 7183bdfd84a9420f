"""Crafted spreadsheets are refused by the three imports within 5 s and 200 MB, in French.

Each bomb is generated here, as an attacker would write it: a zip of XML parts, compressed so
that a small upload unfolds into a huge sheet. Memory is measured with tracemalloc (what Python
allocates, openpyxl's parsing included), time with the wall clock around the whole read.
"""

import io
import os
import time
import tracemalloc
import zipfile

import pytest
from django.core.exceptions import ValidationError

from core import spreadsheets
from cvu import dauphin
from cvu import imports as action_imports
from participation import imports as member_imports

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEADER = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>Nom</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>Prénom</t></is></c></row>'
)
MEMORY_LIMIT = 200_000_000
TIME_LIMIT = 5.0


def _xlsx(sheet, *, dimension=False, strings=None, styles=None, extra=(), head=""):
    """A minimal workbook; `sheet`, `strings` and `styles` are iterables of XML chunks."""
    overrides = f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_TYPE}"/>'
    rels = f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    if strings is not None:
        overrides += f'<Override PartName="/xl/sharedStrings.xml" ContentType="{STRINGS_TYPE}"/>'
        rels += f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    wb_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            f'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="{wb_type}"/>'
            f"{overrides}</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            '<sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{rels}</Relationships>'
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        streams = [
            (
                "xl/worksheets/sheet1.xml",
                [
                    f'<?xml version="1.0"?>{head}<worksheet xmlns="{MAIN}">'
                    + ('<dimension ref="A1:B2"/>' if dimension else "")
                    + "<sheetData>",
                    *sheet,
                    "</sheetData></worksheet>",
                ],
            )
        ]
        if strings is not None:
            streams.append(("xl/sharedStrings.xml", strings))
        if styles is not None:
            streams.append(("xl/styles.xml", styles))
        for name, chunks in [*streams, *extra]:
            with archive.open(name, "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk.encode() if isinstance(chunk, str) else chunk)
    return buffer.getvalue()


def _repeat(item: str, count: int, *, noise_every: int = 0):
    """`item` `count` times in 1 MB chunks; a random comment every `noise_every` items keeps
    the compression ratio under the archive check, so the XML scan itself is exercised."""
    per_chunk = max(1, 1_000_000 // len(item))
    if noise_every:
        per_chunk -= per_chunk % noise_every
    while count > 0:
        n = min(per_chunk, count)
        if noise_every:
            block = "".join(
                f"<!--{os.urandom(24).hex()}-->" + item * noise_every
                for _ in range(n // noise_every)
            )
        else:
            block = item * n
        yield block
        count -= n


def _strings_part(count, *, noise_every=0):
    yield f'<?xml version="1.0"?><sst xmlns="{MAIN}">'
    yield from _repeat("<si><t>x</t></si>", count, noise_every=noise_every)
    yield "</sst>"


def _styles_part(count, *, noise_every=0):
    yield (
        f'<?xml version="1.0"?><styleSheet xmlns="{MAIN}"><fonts count="1"><font/></fonts>'
        '<fills count="1"><fill/></fills><borders count="1"><border/></borders><cellXfs>'
    )
    yield from _repeat(
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>', count, noise_every=noise_every
    )
    yield "</cellXfs></styleSheet>"


BOMBS = {
    # The issue's: 5 million empty rows in a few kilobytes.
    "five_million_empty_rows": lambda: _xlsx([HEADER, *_repeat("<row/>", 5_000_000)]),
    # One row of two million cells, noisy enough to pass the compression check.
    "one_row_of_millions_of_cells": lambda: _xlsx(
        [HEADER, '<row r="2">', *_repeat("<c><v>1</v></c>", 2_000_000, noise_every=20), "</row>"]
    ),
    # 5,000 rows of 300 cells: over the budget of elements.
    "too_many_cells": lambda: _xlsx(
        [HEADER, *_repeat("<row>" + "<c><v>7</v></c>" * 300 + "</row>", 5000, noise_every=1)],
        dimension=True,
    ),
    # A million empty rows behind an honest <dimension>: the reading stops at the line limit.
    "a_million_sized_empty_rows": lambda: _xlsx(
        [HEADER, *_repeat("<row/>", 1_000_000, noise_every=30)], dimension=True
    ),
    # The same without <dimension>, which openpyxl would parse whole on opening.
    "a_million_unsized_empty_rows": lambda: _xlsx(
        [HEADER, *_repeat("<row/>", 1_000_000, noise_every=30)]
    ),
    "millions_of_shared_strings": lambda: _xlsx(
        [HEADER], strings=_strings_part(3_000_000, noise_every=40)
    ),
    "a_huge_style_sheet": lambda: _xlsx([HEADER], styles=_styles_part(400_000, noise_every=40)),
    "a_60_mb_text_cell": lambda: _xlsx(
        [HEADER, '<row><c t="inlineStr"><is><t>', *_repeat("A", 60_000_000), "</t></is></c></row>"]
    ),
    "a_gigabyte_of_zeros": lambda: _xlsx(
        [HEADER], extra=[("docProps/blob.bin", (b"\0" * 10_000_000 for _ in range(100)))]
    ),
    "billion_laughs": lambda: _xlsx(
        [HEADER],
        head='<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
        + "]>",
    ),
}


def _read_actions(data):
    action_imports.read_rows(data)


def _read_dauphin(data):
    dauphin.read_table(data)


def _read_members(data):
    member_imports.check(conseil=None, content=data, filename="membres.xlsx")


READERS = {"actions": _read_actions, "dauphin": _read_dauphin, "membres": _read_members}
REFUSALS = (ValidationError, member_imports.ImportFileError)


@pytest.fixture(scope="module")
def bombs():
    return {name: make() for name, make in BOMBS.items()}


def _measure(read, data) -> tuple[str, float, int]:
    """The refusal message, the seconds and the peak bytes allocated while reading."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        read(data)
    except REFUSALS as error:
        message = " ".join(getattr(error, "messages", [str(error)]))
    else:
        message = ""
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return message, elapsed, peak


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("bomb", BOMBS)
def test_a_bomb_is_refused_quickly_within_memory(bombs, bomb, reader):
    data = bombs[bomb]
    assert len(data) < 5_000_000, "every bomb fits under the upload limit"
    message, elapsed, peak = _measure(READERS[reader], data)
    assert message, f"{bomb} read by the {reader} import without a refusal"
    assert elapsed < TIME_LIMIT, f"{bomb}: {elapsed:.1f} s"
    assert peak < MEMORY_LIMIT, f"{bomb}: {peak / 1e6:.0f} MB"


def test_the_refusals_say_why_in_french(bombs):
    def refusal(name):
        with pytest.raises(ValidationError) as caught:
            spreadsheets.read_xlsx(bombs[name], max_lines=10_001)
        return caught.value.messages[0]

    assert "anormalement volumineux" in refusal("five_million_empty_rows")
    assert "plus de 16384 colonnes" in refusal("one_row_of_millions_of_cells")
    assert "dépasse 10001 lignes, lignes vides comprises" in refusal("a_million_sized_empty_rows")
    assert "n'a pas pu être lu" in refusal("billion_laughs")


def test_rows_reaching_the_last_excel_column_are_cut_to_the_column_cap():
    # The kind of file that took 500 MB: every row 16,384 cells wide.
    rows = [
        f'<row r="{i}"><c r="A{i}"><v>{i}</v></c><c r="XFD{i}"><v>1</v></c></row>'
        for i in range(2, 5002)
    ]
    data = _xlsx([HEADER, *rows], dimension=True)
    _, elapsed, peak = _measure(lambda d: spreadsheets.read_xlsx(d, max_lines=10_001), data)
    lines = spreadsheets.read_xlsx(data, max_lines=10_001)
    assert len(lines) == 5001
    assert lines[1] == (2,)  # the far cell is beyond the 200 columns read
    assert elapsed < TIME_LIMIT
    assert peak < MEMORY_LIMIT


NOT_WORKBOOKS = {
    "random_bytes": os.urandom(50_000) + b"\x81\x00",
    "password_protected": spreadsheets.OLE_SIGNATURE + os.urandom(4000),
    "truncated_zip": spreadsheets.ZIP_SIGNATURE + os.urandom(4000),
    "empty": b"",
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("name", NOT_WORKBOOKS)
def test_a_file_that_is_no_workbook_gets_a_french_message(name, reader):
    message, _, _ = _measure(READERS[reader], NOT_WORKBOOKS[name])
    assert message
    if name == "password_protected":
        assert "protégé par un mot de passe" in message


def test_an_encrypted_zip_member_is_refused_as_protected():
    data = bytearray(_xlsx([HEADER]))
    # Set the "encrypted" flag of every entry of the central directory.
    offset = data.find(b"PK\x01\x02")
    while offset != -1:
        data[offset + 8] |= 0x1
        offset = data.find(b"PK\x01\x02", offset + 4)
    with pytest.raises(ValidationError, match="protégé par un mot de passe"):
        spreadsheets.read_xlsx(bytes(data), max_lines=10)


@pytest.mark.parametrize(
    "read",
    [
        lambda data: dauphin.read_table(data),
        lambda data: member_imports.check(conseil=None, content=data, filename="membres.csv"),
    ],
    ids=["dauphin", "membres"],
)
def test_a_csv_of_millions_of_empty_lines_stops_at_the_line_limit(read):
    message, elapsed, peak = _measure(read, b"Nom;Prenom\n" + b"\n" * 5_000_000)
    assert "lignes vides comprises" in message
    assert elapsed < TIME_LIMIT
    assert peak < MEMORY_LIMIT


def test_a_small_honest_workbook_is_read():
    rows = [HEADER, '<row r="2"><c r="A2" t="inlineStr"><is><t>Martin</t></is></c></row>']
    assert spreadsheets.read_xlsx(_xlsx(rows, dimension=True), max_lines=10) == [
        ("Nom", "Prénom"),
        ("Martin",),
    ]
