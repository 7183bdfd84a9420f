"""The one export mechanism: rows of a filtered queryset to CSV or Excel, French headers.

A view describes its columns once as (header, accessor) pairs and calls `export_response`.
Given the request, an export of more than `EXPORT_ASYNC_THRESHOLD` rows (2,000 by default) is
not built in the request: the app that owns generated files (reporting, through
`register_deferred`) queues it for the worker, which calls the same view again inside
`building(...)` and stores the file; the user follows its progress and downloads it there.
"""

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

Column = tuple[str, Callable[[object], object]]

FORMATS = {"csv", "xlsx"}
# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


DEFAULT_ASYNC_THRESHOLD = 2000
PROGRESS_EVERY = 500  # rows between two progress reports of a build in the worker

# Set by the app that stores generated files: (request, fmt, filename, total) -> HttpResponse.
_deferred_handler: Callable | None = None
# Set while the worker builds a queued export: called with the number of rows written.
_building: ContextVar[Callable[[int], None] | None] = ContextVar("export_building", default=None)


def register_deferred(handler: Callable) -> None:
    """Called once by the app that queues big exports (reporting), from its ready()."""
    global _deferred_handler
    _deferred_handler = handler


@contextmanager
def building(progress: Callable[[int], None]):
    """The worker's side: exports made inside are built at once, reporting their progress."""
    token = _building.set(progress)
    try:
        yield
    finally:
        _building.reset(token)


def async_threshold() -> int:
    return getattr(settings, "EXPORT_ASYNC_THRESHOLD", DEFAULT_ASYNC_THRESHOLD)


def _count(rows) -> int | None:
    if isinstance(rows, QuerySet):
        return rows.count()
    return len(rows) if isinstance(rows, Sequence) else None


def _reporting(rows: Iterable) -> Iterable:
    """The rows, telling the worker's progress callback every PROGRESS_EVERY rows."""
    progress = _building.get()
    if progress is None:
        yield from rows
        return
    done = 0
    # Streamed in chunks (prefetches made per chunk): a big export does not hold every row.
    for row in rows.iterator(chunk_size=PROGRESS_EVERY) if isinstance(rows, QuerySet) else rows:
        yield row
        done += 1
        if done % PROGRESS_EVERY == 0:
            progress(done)


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _cell(value):
    """A value for Excel: numbers and dates stay typed, text is neutralised against formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value
    return _safe_text(str(value))


def _csv_text(value) -> str:
    value = _cell(value)
    if isinstance(value, Decimal) and value.as_tuple().exponent >= -2:
        return f"{value:.2f}".replace(".", ",")  # Amounts keep their cents: 300,00.
    if isinstance(value, Decimal | float):
        return format(value, "f").replace(".", ",")
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[Column], Iterable]]) -> bytes:
    """An Excel workbook with one sheet per (title, columns, rows): bold frozen headers, typed
    numbers and dates, widths fitted to the content. Used by list exports and report annexes."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title[:31])
        sheet.append([header for header, _ in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(accessor(row)) for _, accessor in columns])
        for column_cells in sheet.columns:
            width = max(len(str(cell.value or "")) for cell in column_cells)
            sheet.column_dimensions[column_cells[0].column_letter].width = (
                min(max(width, 8), 60) + 2
            )
        for row_cells in sheet.iter_rows(min_row=2):
            for cell in row_cells:
                if isinstance(cell.value, datetime):
                    cell.number_format = "DD/MM/YYYY HH:MM"
                elif isinstance(cell.value, date):
                    cell.number_format = "DD/MM/YYYY"
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(
    rows: Iterable, columns: Sequence[Column], *, filename: str, fmt: str, request=None
) -> HttpResponse:
    """An attachment with one line per row; fmt is 'csv' (; and BOM, for French Excel) or 'xlsx'.

    With the request, more rows than the threshold answer instead with the page of a queued
    export (see the module's docstring); inside the worker's build the file is made at once."""
    if fmt not in FORMATS:
        raise ValueError(f"Format d'export inconnu : {fmt}")
    if request is not None and _deferred_handler is not None and _building.get() is None:
        total = _count(rows)
        if total is not None and total > async_threshold():
            return _deferred_handler(request, fmt=fmt, filename=filename, total=total)
    rows = _reporting(rows)
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow([header for header, _ in columns])
        for row in rows:
            writer.writerow([_csv_text(accessor(row)) for _, accessor in columns])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            xlsx_bytes([(filename, columns, rows)]),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    stamp = timezone.localdate().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.{fmt}"'
    return response
