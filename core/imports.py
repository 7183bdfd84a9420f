"""What the three spreadsheet imports share: finding the header, typed cells, every error of a row.

The actions, Dauphin and members imports read their file through `core.spreadsheets` (the guard
against crafted files), then through `read_table` here: the header row is looked for among the
first lines (title rows, merged title cells and blank lines skipped), blank and total lines are
set aside and reported, and every cell is parsed by one of the `parse_*` functions, which return
a typed value or raise `CellError` with a French message. A `Row` gathers every error of a line,
each prefixed by its column's name, so a person fixes a file in one round.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from core import spreadsheets

HEADER_SEARCH_LINES = 20
FRENCH, ENGLISH = "fr", "en"  # amount styles: "1.200,50" and "1,200.50"
MAX_AMOUNT = Decimal("9999999999.99")  # DecimalField(max_digits=12, decimal_places=2)
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_MAX_SERIAL = 2_958_465  # 31/12/9999
DATE_YEARS = (1900, 2100)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TOTAL_WORDS = ("total", "sous-total", "sous total", "totaux", "somme")


class CellError(ValueError):
    """A cell that cannot be read as its column requires; the message is French."""


class NoTable(ValidationError):
    """The file (or sheet) was read but holds no table: empty, no header line, or no line under
    it. Unlike a refusal of the file itself, another sheet of the workbook may hold one."""


class AmbiguousAmount(CellError):
    """'1.200': twelve hundred or one point two? Only the person can say."""


def normalise(text) -> str:
    """Case-, accent-, punctuation- and spacing-insensitive form: 'N° Dauphin ' -> 'n dauphin'."""
    text = unicodedata.normalize("NFKD", str(text or ""))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = re.sub(r"[^\w]+", " ", text.casefold().replace("°", " "))
    return " ".join(text.split())


def text_of(value) -> str:
    """A cell as trimmed text; a whole number typed in Excel loses its '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return " ".join(str(value).split())


# ---------------------------------------------------------------- cells


def parse_text(value, *, name: bool = False, max_length: int | None = None) -> str:
    """Trimmed text; in a name, a leading = + - @ (a spreadsheet formula once exported) is
    refused."""
    text = text_of(value)
    if name and text.startswith(FORMULA_PREFIXES):
        raise CellError(
            f"« {text[:40]} » commence par « {text[0]} » : un nom ne peut pas commencer par "
            "= + - ou @ (formule de tableur refusée)"
        )
    if max_length is not None and len(text) > max_length:
        raise CellError(f"{len(text)} caractères pour {max_length} au plus")
    return text


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_CURRENCY = re.compile(r"(€|eur|euros?)$", re.IGNORECASE)
_AMBIGUOUS = re.compile(r"[1-9]\d{0,2}[.,]\d{3}")


def _clean_amount_text(value) -> str:
    text = _SPACES.sub("", str(value))
    return _CURRENCY.sub("", text)


def amount_style(values: Iterable) -> str | None:
    """The style a column's own cells reveal ('4 500,00' is French, '1200.5' English), or None
    when they say nothing or contradict each other."""
    styles = set()
    for value in values:
        if not isinstance(value, str):
            continue
        text = _clean_amount_text(value).lstrip("+-")
        commas, dots = text.count(","), text.count(".")
        if commas and dots:
            styles.add(FRENCH if text.rfind(",") > text.rfind(".") else ENGLISH)
        elif commas + dots == 1 and not _AMBIGUOUS.fullmatch(text):
            if re.fullmatch(r"\d+[.,]\d{1,2}", text):
                styles.add(FRENCH if commas else ENGLISH)
        elif dots > 1:
            styles.add(FRENCH)
        elif commas > 1:
            styles.add(ENGLISH)
    return styles.pop() if len(styles) == 1 else None


def parse_amount(value, *, style: str | None = None, negative: bool = False) -> Decimal | None:
    """An amount in euros, two decimals at most; None for an empty cell.

    '1 200,50 €', '4 500,00', '1.200,50' and '1,200.50' read alike. '1.200' or '12.000 €' (one
    separator, three digits after it) raise AmbiguousAmount unless `style` says how the file
    writes its amounts.
    """
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise CellError(f"« {value} » n'est pas un montant")
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise CellError(f"« {value} » n'est pas un montant")
            value = round(value, 6)  # Excel's binary floats: 1100.0000000000002 is 1100.
        number = Decimal(str(value))
        shown = text_of(value)
    else:
        shown = " ".join(str(value).split())
        text = _clean_amount_text(value)
        if text == "":
            return None
        sign = ""
        if text[0] in "+-":
            sign, text = text[0], text[1:]
        if not re.fullmatch(r"\d[\d.,]*", text) or text[-1] in ".,":
            raise CellError(f"« {shown} » n'est pas un montant (exemple : 1 200,50)")
        number = Decimal(sign + _plain_number(text, style, shown))
    if not number.is_finite():
        raise CellError(f"« {shown} » n'est pas un montant")
    try:
        rounded = number.quantize(Decimal("0.01"))
    except InvalidOperation:
        raise CellError(f"« {shown} » est trop grand") from None
    if rounded != number:
        raise CellError(f"« {shown} » a plus de deux décimales")
    if rounded < 0 and not negative:
        raise CellError(f"un montant ne peut pas être négatif (« {shown} »)")
    if abs(rounded) > MAX_AMOUNT:
        raise CellError(f"« {shown} » est trop grand")
    return rounded


def _plain_number(text: str, style: str | None, shown: str) -> str:
    """'1.200,50' -> '1200.50', given the separators found or the style of the file."""
    commas, dots = text.count(","), text.count(".")
    invalid = CellError(f"« {shown} » n'est pas un montant (exemple : 1 200,50)")
    if commas and dots:
        decimal, thousands = (",", ".") if text.rfind(",") > text.rfind(".") else (".", ",")
        if text.count(decimal) > 1:
            raise invalid
        whole, _, fraction = text.partition(decimal)
        if not re.fullmatch(rf"\d{{1,3}}(\{thousands}\d{{3}})*", whole):
            raise invalid
        return whole.replace(thousands, "") + "." + fraction
    if commas + dots == 0:
        return text
    separator = "," if commas else "."
    if commas + dots > 1:  # '1.200.000': only thousands separate that way.
        if not re.fullmatch(rf"\d{{1,3}}(\{separator}\d{{3}})+", text):
            raise invalid
        return text.replace(separator, "")
    if _AMBIGUOUS.fullmatch(text):
        if style is None:
            raise AmbiguousAmount(
                f"« {shown} » : mille ou un virgule ? Précisez comment le fichier écrit "
                "ses montants"
            )
        thousands = "." if style == FRENCH else ","
        if separator == thousands:
            return text.replace(separator, "")
    return text.replace(",", ".")


def parse_date(value) -> date | None:
    """dd/mm/yyyy (or - .), ISO yyyy-mm-dd, a date cell or an Excel serial; impossible dates
    (31/02, 32/13) are refused."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _in_range(value.date(), value)
    if isinstance(value, date):
        return _in_range(value, value)
    if isinstance(value, bool):
        raise CellError(f"« {value} » n'est pas une date")
    if isinstance(value, int | float):
        return _serial(value, value)
    text = text_of(value)
    if not text:
        return None
    if re.fullmatch(r"\d{5}(\.0)?", text):
        return _serial(float(text), text)
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})", text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        if len(match[3]) == 2:
            year += 2000 if year < 70 else 1900
    else:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(:\d{2})?)?", text)
        if not match:
            raise CellError(f"« {text} » n'est pas une date (exemple : 31/12/2026)")
        year, month, day = (int(part) for part in match.groups()[:3])
    try:
        found = date(year, month, day)
    except ValueError:
        raise CellError(f"« {text} » n'est pas une date qui existe") from None
    return _in_range(found, text)


def _serial(number: float, shown) -> date:
    if number != int(number) or not 1 <= number <= EXCEL_MAX_SERIAL:
        raise CellError(f"« {shown} » n'est pas une date (exemple : 31/12/2026)")
    return _in_range(EXCEL_EPOCH + timedelta(days=int(number)), shown)


def _in_range(found: date, shown) -> date:
    if not DATE_YEARS[0] <= found.year <= DATE_YEARS[1]:
        raise CellError(
            f"« {text_of(shown)} » : date hors de la période {DATE_YEARS[0]}–{DATE_YEARS[1]}"
        )
    return found


def parse_siret(value, *, validate: Callable[[str], None] | None = None) -> str:
    """The digits of a SIRET (14) or SIREN (9), spaces, dots and dashes removed; '' if empty.
    `validate` (the key check) raises ValidationError."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = text_of(value)
    digits = re.sub(r"[\s.\-\u00a0\u202f]", "", text)
    if not digits:
        return ""
    if not digits.isdigit() or len(digits) not in (9, 14):
        raise CellError(f"« {text} » : un SIREN compte 9 chiffres et un SIRET 14")
    if validate is not None:
        try:
            validate(digits)
        except ValidationError as error:
            raise CellError(" ".join(error.messages)) from None
    return digits


def parse_year(value, *, low: int = 2000, high: int = 2100) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = text_of(value)
    if not text:
        return None
    if not re.fullmatch(r"\d{4}", text):
        raise CellError(f"« {text} » n'est pas une année (exemple : 2026)")
    year = int(text)
    if not low <= year <= high:
        raise CellError(f"l'année doit être comprise entre {low} et {high}")
    return year


# ---------------------------------------------------------------- rows


@dataclass
class Row:
    """One line of the file: its cells by column key, and everything wrong with it."""

    line: int
    cells: dict
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ambiguous: bool = False

    def read(self, key: str, label: str, parser: Callable, **options):
        """The parsed cell, or None with the error recorded against its column."""
        try:
            return parser(self.cells.get(key), **options)
        except AmbiguousAmount as error:
            self.ambiguous = True
            self.errors.append(f"{label} : {error}")
        except CellError as error:
            self.errors.append(f"{label} : {error}")
        return None

    def error(self, message: str) -> None:
        self.errors.append(message)


# ---------------------------------------------------------------- tables


@dataclass
class Table:
    """A sheet once its header is found: what the preview reports about its shape."""

    headers: list[str]
    rows: list[tuple[int, list]]  # (line number in the file, cells padded to the header)
    header_line: int = 1
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    sheet_names: list[str] = field(default_factory=list)  # a workbook's worksheets
    sheet: str = ""  # the one read

    @property
    def blank_lines(self) -> list[int]:
        return [line for line, why in self.skipped if why == "vide"]

    @property
    def total_lines(self) -> list[int]:
        return [line for line, why in self.skipped if why == "total"]

    @property
    def report(self) -> list[str]:
        """What the reading did, in French, for the preview."""
        notes = [f"En-têtes lus ligne {self.header_line}."]
        if self.header_line > 1:
            notes[0] = (
                f"En-têtes lus ligne {self.header_line} (les {self.header_line - 1} ligne(s) "
                "au-dessus sont ignorées : titre, lignes vides)."
            )
        if self.total_lines:
            notes.append(
                "Ligne(s) de total ignorée(s) : " + ", ".join(map(str, self.total_lines)) + "."
            )
        if self.blank_lines:
            notes.append(f"{len(self.blank_lines)} ligne(s) vide(s) ignorée(s).")
        return notes

    def column(self, index: int | None) -> list:
        if index is None:
            return []
        return [cells[index] for _, cells in self.rows if index < len(cells)]


def is_total(cells) -> bool:
    """A line whose first text says 'Total', 'Total général', 'Sous-total'."""
    for cell in cells:
        if isinstance(cell, str) and cell.strip():
            first = normalise(cell)
            return any(first == word or first.startswith(word + " ") for word in TOTAL_WORDS)
        if cell not in (None, ""):
            return False
    return False


def find_header(lines: list, recognise: Callable[[str], object | None]) -> int:
    """Index of the header among the first lines: the one naming the most known columns; failing
    that, the first line of two text cells or more. Title rows (one filled cell, as a merged
    title reads) and blank lines are passed over."""
    best, best_score = None, 0
    for index, cells in enumerate(lines[:HEADER_SEARCH_LINES]):
        texts = [text_of(cell) for cell in cells if text_of(cell)]
        if len(texts) < 2:
            continue
        score = len({recognise(text) for text in texts} - {None})
        if score > best_score:
            best, best_score = index, score
    if best is not None:
        return best
    for index, cells in enumerate(lines[:HEADER_SEARCH_LINES]):
        texts = [cell for cell in cells if isinstance(cell, str) and cell.strip()]
        if len(texts) >= 2:
            return index
    raise NoTable(
        f"Aucune ligne d'en-têtes trouvée dans les {HEADER_SEARCH_LINES} premières lignes : "
        "le fichier est vide ou ne porte que des nombres."
    )


def read_table(
    data: bytes,
    *,
    recognise: Callable[[str], object | None],
    max_rows: int,
    csv: bool = True,
    sheet_name: str | None = None,
    csv_encodings: tuple[str, ...] = ("utf-8-sig", "cp1252"),
    unreadable: str = "",
    check_headers: Callable[[list[str], int], None] | None = None,
) -> Table:
    """Reads a .xlsx (or, when `csv`, a CSV file) through the guard, then finds its header."""
    max_lines = 2 * max_rows + HEADER_SEARCH_LINES
    sheets: list[str] = []
    if spreadsheets.is_xlsx(data) or not csv:
        lines = spreadsheets.read_xlsx(data, max_lines=max_lines, sheet_name=sheet_name)
        sheets = spreadsheets.sheet_names(data)
    else:
        lines = spreadsheets.read_csv(
            data, max_lines=max_lines, encodings=csv_encodings, unreadable=unreadable
        )
    if not any(text_of(cell) for cells in lines for cell in cells):
        raise NoTable("Le fichier est vide.")
    start = find_header(lines, recognise)
    headers = [text_of(cell) for cell in lines[start]]
    if check_headers is not None:
        check_headers(headers, start + 1)
    table = Table(headers=headers, rows=[], header_line=start + 1, sheet_names=sheets)
    if sheets:
        table.sheet = sheet_name if sheet_name in sheets else sheets[0]
    for number, cells in enumerate(lines[start + 1 :], start=start + 2):
        if all(text_of(cell) == "" for cell in cells):
            table.skipped.append((number, "vide"))
            continue
        if is_total(cells):
            table.skipped.append((number, "total"))
            continue
        if len(table.rows) == max_rows:
            raise ValidationError(
                f"Le fichier compte plus de {max_rows} lignes : découpez-le en plusieurs fichiers."
            )
        cells = list(cells)[: max(len(headers), 1)]
        table.rows.append((number, cells + [None] * (len(headers) - len(cells))))
    if not table.rows:
        raise NoTable(
            f"Le fichier ne contient aucune ligne sous la ligne d'en-têtes (ligne {start + 1})."
        )
    return table


# ---------------------------------------------------------------- mapping


@dataclass(frozen=True)
class Field:
    """A column an import understands, and the header words that name it."""

    key: str
    label: str
    required: bool = False
    synonyms: tuple[str, ...] = ()

    def names(self) -> list[str]:
        return [normalise(self.label), *(normalise(word) for word in self.synonyms)]


def guess_mapping(headers: list[str], fields: Iterable[Field]) -> dict[str, int | None]:
    """Column index per field key: an exact header match first, then a header containing one
    of the field's words; a column serves one field."""
    fields = list(fields)
    normalised = [normalise(header) for header in headers]
    mapping: dict[str, int | None] = {f.key: None for f in fields}
    taken: set[int] = set()
    for exact in (True, False):
        for f in fields:
            if mapping[f.key] is not None:
                continue
            for name in f.names():
                found = next(
                    (
                        i
                        for i, header in enumerate(normalised)
                        if i not in taken
                        and header
                        and (header == name if exact else _contains(header, name))
                    ),
                    None,
                )
                if found is not None:
                    mapping[f.key] = found
                    taken.add(found)
                    break
    return mapping


def _contains(header: str, name: str) -> bool:
    return bool(name) and f" {name} " in f" {header} "


def ignored_columns(headers: list[str], mapping: dict) -> list[str]:
    """The headers no field reads: shown as 'ignorée' so nothing vanishes silently."""
    used = {index for index in mapping.values() if index is not None}
    return [
        header or f"colonne {index + 1}"
        for index, header in enumerate(headers)
        if index not in used and header
    ]


# ---------------------------------------------------------------- formulas without a value


@dataclass(frozen=True)
class UncachedFormula:
    """A formula cell the file carries without its computed value: a workbook written by a
    program rather than saved by a spreadsheet. Never evaluated, never taken for empty."""

    formula: str

    def __str__(self) -> str:
        return self.formula

    @property
    def message(self) -> str:
        return (
            f"formule « {self.formula[:40]} » sans valeur calculée : ouvrez le fichier dans "
            "votre tableur, enregistrez-le, puis déposez-le à nouveau"
        )


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def mark_uncached_formulas(data: bytes, table: Table, *, sheet_name: str | None = None) -> None:
    """Replaces by an UncachedFormula each cell of `table` that the sheet holds as a formula
    with no cached value (read as empty otherwise). A workbook without formulas is not read
    again; `data` has already passed `read_table`, hence the guard."""
    if not spreadsheets.is_xlsx(data) or not _has_formulas(data):
        return
    import io
    import warnings

    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, keep_links=False)
    except Exception:
        raise ValidationError(spreadsheets.UNREADABLE) from None
    try:
        if sheet_name and sheet_name in workbook.sheetnames:
            sheet = workbook[sheet_name]
        else:
            sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        rows = {line: cells for line, cells in table.rows}
        last = max(rows, default=0)
        width = len(table.headers)
        for line, formulas in enumerate(
            sheet.iter_rows(max_col=max(width, 1), values_only=True), start=1
        ):
            if line > last:
                break
            cells = rows.get(line)
            if cells is None:
                continue
            for index, formula in enumerate(formulas[:width]):
                formula = getattr(formula, "text", formula)  # an array formula
                if cells[index] is None and isinstance(formula, str) and formula.startswith("="):
                    cells[index] = UncachedFormula(formula)
    except ValidationError:
        raise
    except Exception:
        raise ValidationError(spreadsheets.UNREADABLE) from None
    finally:
        workbook.close()


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet part holds an <f> element (the guard has bounded their size)."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(
                _FORMULA_TAG.search(archive.read(name))
                for name in archive.namelist()
                if name.startswith("xl/worksheets/") and name.endswith(".xml")
            )
    except (zipfile.BadZipFile, OSError, RuntimeError):
        return False
