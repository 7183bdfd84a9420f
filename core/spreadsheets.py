"""Reading uploaded spreadsheets (.xlsx, .csv) without letting a crafted file exhaust the server.

An .xlsx is a zip of XML parts: a 200 KB upload can unfold into gigabytes, a million empty rows
or a row of millions of cells. Before openpyxl sees a workbook, its table of contents is checked
(sizes and compression ratio, which zip gives without decompressing) and every XML part is
scanned once with expat, streaming, against Excel's own limits (16 384 columns, 1 048 576 rows,
32 767 characters per cell) and a budget of elements. Only then is the sheet read, streamed in
read-only mode, up to a number of lines that counts empty ones, at most `max_columns` wide.
"""

import csv
import io
import warnings
import xml.etree.ElementTree as ET
import zipfile
from pyexpat import ExpatError, ParserCreate

from django.core.exceptions import ValidationError
from openpyxl import load_workbook

MAX_MEMBERS = 500
MAX_UNCOMPRESSED = 50_000_000  # bytes, all parts together
MAX_RATIO = 100  # for parts over RATIO_FLOOR; real sheets compress 5 to 20 times
RATIO_FLOOR = 1_000_000
# XML elements scanned in the whole workbook: some 250,000 filled cells. openpyxl spends a few
# microseconds on a cell, and ten times more on a shared string, hence their own cap.
MAX_ELEMENTS = 600_000
MAX_ELEMENTS_STRINGS = 200_000
MAX_ELEMENTS_LOADED = 100_000  # in a part openpyxl loads whole (styles, workbook, properties)
MAX_ROWS_UNSIZED = 100_000  # a sheet without <dimension> is parsed whole when the file opens
MAX_COLUMNS = 200

EXCEL_MAX_ROW = 1_048_576
EXCEL_MAX_COLUMN = 16_384
EXCEL_MAX_TEXT = 32_767

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
CONTENT_TYPES = "[Content_Types].xml"
# Parts openpyxl streams, with their cap; every other XML part is loaded whole: kept small.
STREAMED_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml": None,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml": (
        MAX_ELEMENTS_STRINGS
    ),
}
ALWAYS_LOADED = {CONTENT_TYPES, "xl/workbook.xml", "xl/styles.xml", "xl/theme/theme1.xml"}

UNREADABLE = (
    "Ce fichier n'a pas pu être lu comme un classeur Excel (.xlsx) : vérifiez qu'il n'est pas "
    "endommagé, ouvrez-le dans votre tableur et enregistrez-le à nouveau au format .xlsx."
)
ENCRYPTED = (
    "Ce classeur est protégé par un mot de passe, ou enregistré à l'ancien format Excel 97-2003 "
    "(.xls) : enregistrez-en une copie sans mot de passe au format .xlsx, puis déposez-la."
)
OVERSIZED = (
    "Ce classeur est anormalement volumineux une fois décompressé ({detail}) : il n'a pas été "
    "lu. Copiez les seules cellules utiles dans un nouveau classeur et déposez celui-ci."
)
TOO_MANY_LINES = (
    "Le fichier dépasse {limit} lignes, lignes vides comprises : supprimez les lignes vides "
    "en fin de feuille ou découpez-le en plusieurs fichiers."
)


class _Refused(Exception):
    """Raised from inside the XML scan to stop it at the first broken limit."""


class _Done(Exception):
    """Raised from inside the XML scan when the rest of the part will never be read."""


def is_xlsx(data: bytes) -> bool:
    return data.startswith(ZIP_SIGNATURE)


def sheet_names(data: bytes) -> list[str]:
    """The worksheets of a workbook already read through read_xlsx (so already guarded)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = load_workbook(io.BytesIO(data), read_only=True, keep_links=False)
    try:
        return [sheet.title for sheet in workbook.worksheets]
    finally:
        workbook.close()


def read_xlsx(
    data: bytes,
    *,
    max_lines: int,
    sheet_name: str | None = None,
    active: bool = False,
    max_columns: int = MAX_COLUMNS,
) -> list[tuple]:
    """The lines of one sheet, header first, as tuples of values (trailing empty cells cut).

    The sheet is `sheet_name` when the workbook has it, else the active sheet if `active`, else
    the first. Raises ValidationError, in French, for anything unreadable or over a limit.
    """
    check_xlsx(data, max_lines=max_lines)
    try:
        with warnings.catch_warnings():
            # Real Excel files carry extensions openpyxl warns about and then ignores.
            warnings.simplefilter("ignore")
            workbook = load_workbook(
                io.BytesIO(data), read_only=True, data_only=True, keep_links=False
            )
    except Exception:
        raise ValidationError(UNREADABLE) from None
    try:
        if sheet_name and sheet_name in workbook.sheetnames:
            sheet = workbook[sheet_name]
        elif active and workbook.active is not None:
            sheet = workbook.active
        elif workbook.worksheets:
            sheet = workbook.worksheets[0]
        else:
            raise ValidationError(UNREADABLE)
        if not hasattr(sheet, "reset_dimensions"):  # a chart sheet
            raise ValidationError(UNREADABLE)
        sheet.reset_dimensions()  # Some programs write a wrong size; read up to the last cell.
        lines = []
        for cells in sheet.iter_rows(max_col=max_columns, values_only=True):
            if len(lines) == max_lines:
                raise ValidationError(TOO_MANY_LINES.format(limit=max_lines))
            lines.append(_trim(cells))
        return lines
    except ValidationError:
        raise
    except Exception:
        raise ValidationError(UNREADABLE) from None
    finally:
        workbook.close()


def read_csv(
    data: bytes,
    *,
    max_lines: int,
    encodings: tuple[str, ...] = ("utf-8-sig", "cp1252"),
    delimiter: str | None = None,
    max_columns: int = MAX_COLUMNS,
    unreadable: str = "",
) -> list[list[str]]:
    """The lines of a CSV file; the delimiter, if not given, is ; or , (whichever the header
    uses more). `unreadable` replaces the message for a file that is not text."""
    if data.startswith(OLE_SIGNATURE):
        raise ValidationError(ENCRYPTED)
    text = None
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text:
        names = " ou ".join("UTF-8" if e.startswith("utf") else "Windows-1252" for e in encodings)
        raise ValidationError(
            unreadable
            or f"Ce fichier n'est pas un fichier CSV lisible : enregistrez-le au format CSV ({names})."
        )
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = ";" if first.count(";") >= first.count(",") else ","
    lines = []
    try:
        for cells in csv.reader(io.StringIO(text), delimiter=delimiter):
            if len(lines) == max_lines:
                raise ValidationError(TOO_MANY_LINES.format(limit=max_lines))
            lines.append(cells[:max_columns])
    except csv.Error:
        raise ValidationError(
            "Ce fichier CSV est mal formé (guillemet non fermé ou cellule de plus de 100 000 "
            "caractères)."
        ) from None
    return lines


def _trim(cells: tuple) -> tuple:
    end = len(cells)
    while end and cells[end - 1] is None:
        end -= 1
    return cells[:end]


# ---------------------------------------------------------------- checks before parsing


def check_xlsx(data: bytes, *, max_lines: int) -> None:
    """Refuses a file that is not a zip, or whose parts break a limit; parses nothing."""
    if data.startswith(OLE_SIGNATURE):
        raise ValidationError(ENCRYPTED)
    if not is_xlsx(data):
        raise ValidationError(UNREADABLE)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ValidationError(UNREADABLE) from None
    with archive:
        _check_table_of_contents(members, len(data))
        names = {member.filename for member in members}
        if CONTENT_TYPES not in names:
            raise ValidationError(UNREADABLE)
        budget = _Budget()
        scans = {CONTENT_TYPES: _scan(archive, CONTENT_TYPES, budget, MAX_ELEMENTS_LOADED, 0)}
        streamed = _streamed_parts(archive.read(CONTENT_TYPES))
        for member in members:
            name = member.filename
            if name in scans or not name.endswith((".xml", ".rels", ".vml")):
                continue
            scans[name] = _scan(
                archive,
                name,
                budget,
                streamed.get(name, MAX_ELEMENTS_LOADED),
                max_lines,
            )


def _check_table_of_contents(members: list[zipfile.ZipInfo], size: int) -> None:
    if len(members) > MAX_MEMBERS:
        raise ValidationError(OVERSIZED.format(detail=f"{len(members)} parties"))
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED:
        raise ValidationError(
            OVERSIZED.format(
                detail=f"{total / 1_000_000:.0f} Mo pour {size / 1_000_000:.1f} Mo déposés"
            )
        )
    for member in members:
        if member.flag_bits & 0x1:
            raise ValidationError(ENCRYPTED)
        if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            ratio = member.file_size // max(member.compress_size, 1)
            raise ValidationError(OVERSIZED.format(detail=f"compression de 1 à {ratio}"))


def _streamed_parts(content_types: bytes) -> dict[str, int | None]:
    """The parts openpyxl streams, with their cap (None: the whole workbook's)."""
    try:
        root = ET.fromstring(content_types)
    except ET.ParseError:
        raise ValidationError(UNREADABLE) from None
    return {
        element.get("PartName", "").lstrip("/"): STREAMED_TYPES[element.get("ContentType")]
        for element in root
        if element.tag.endswith("}Override")
        and element.get("ContentType") in STREAMED_TYPES
        and element.get("PartName", "").lstrip("/") not in ALWAYS_LOADED
    }


class _Budget:
    elements = 0


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ROW, CELL, DIMENSION, SHEET_DATA = (MAIN + tag for tag in ("row", "c", "dimension", "sheetData"))


class _Scan:
    """Expat handlers that count and check one part as it streams by; kept lean, as they run
    once per element."""

    def __init__(self, budget: _Budget, max_elements: int | None, max_lines: int):
        self.budget = budget
        self.max_lines = max_lines
        self.limit = min(max_elements or MAX_ELEMENTS, MAX_ELEMENTS - budget.elements)
        self.elements = 0
        self.rows = 0
        self.row_cells = 0
        self.column = 0
        self.text = 0
        self.sized = False
        self.in_data = False

    def start(self, name: str, attrs: dict) -> None:
        self.elements += 1
        self.text = 0
        if self.elements > self.limit:
            if self.budget.elements + self.elements > MAX_ELEMENTS:
                raise _Refused(OVERSIZED.format(detail="des centaines de milliers de cellules"))
            raise _Refused(OVERSIZED.format(detail="trop de textes ou de mises en forme"))
        if name == CELL:
            self._cell(attrs.get("r"))
        elif name == ROW:
            self._row(attrs.get("r"))
        elif name == DIMENSION:
            self.sized = not self.in_data
        elif name == SHEET_DATA:
            self.in_data = True

    def _row(self, reference: str | None) -> None:
        self.rows += 1
        self.row_cells = self.column = 0
        if reference:
            try:
                number = int(reference)
            except ValueError:
                raise _Refused(UNREADABLE) from None
            if not 0 < number <= EXCEL_MAX_ROW:
                raise _Refused(UNREADABLE)
        if self.sized:
            # openpyxl streams a sized sheet, and the reading stops after `max_lines`.
            if self.rows > self.max_lines:
                raise _Done
        elif self.rows > MAX_ROWS_UNSIZED:
            raise _Refused(TOO_MANY_LINES.format(limit=MAX_ROWS_UNSIZED))

    def _cell(self, reference: str | None) -> None:
        self.row_cells += 1
        if reference:
            column = 0
            for letter in reference.rstrip("0123456789")[:4].upper():
                column = column * 26 + ord(letter) - 64
            self.column = column
        else:
            self.column += 1
        if self.row_cells > EXCEL_MAX_COLUMN or not 0 < self.column <= EXCEL_MAX_COLUMN:
            raise _Refused(OVERSIZED.format(detail=f"plus de {EXCEL_MAX_COLUMN} colonnes"))

    def characters(self, text: str) -> None:
        self.text += len(text)
        if self.text > EXCEL_MAX_TEXT:
            raise _Refused(OVERSIZED.format(detail=f"texte de plus de {EXCEL_MAX_TEXT} caractères"))


def _refuse_declarations(*args) -> None:
    raise _Refused(UNREADABLE)


def _scan(archive, name: str, budget: _Budget, max_elements, max_lines: int) -> _Scan:
    scan = _Scan(budget, max_elements, max_lines)
    parser = ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartElementHandler = scan.start
    parser.CharacterDataHandler = scan.characters
    # No document type, no entities: a billion laughs never reaches openpyxl.
    parser.StartDoctypeDeclHandler = _refuse_declarations
    parser.EntityDeclHandler = _refuse_declarations
    try:
        with archive.open(name) as source:
            parser.ParseFile(source)
    except _Done:
        pass
    except _Refused as refusal:
        raise ValidationError(str(refusal)) from None
    except (ExpatError, zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        raise ValidationError(UNREADABLE) from None
    budget.elements += scan.elements
    return scan
