"""CSV and XLSX downloads: the only way the application hands out tables (issue 5, point 7).

Two risks are handled here, once, for every export:

* **formula injection** (CSV/spreadsheet injection): a cell whose text starts with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return — also after leading whitespace — is run as a formula by
  spreadsheet software (``=HYPERLINK(...)``, DDE…). :func:`safe_cell` prefixes such text with a
  single quote ``'`` so that it is shown as text. Numbers, dates and booleans keep their type (a
  negative number is a number, not a formula);
* **accountability**: every export is journaled (``maillage.audit.services.record``) with its row
  count, its file name and its format, in the same transaction as the response is built.

Usage in a view (decorate the view with ``recent_auth_required`` from ``maillage.accounts.stepup``)::

    return csv_response(
        request,
        filename="orientations.csv",
        header=[_("Enfant"), _("Date")],
        rows=((r.child.display_name, r.created) for r in referrals),
        verb="export.referrals",
        programme=programme,
    )

CSV files are written in UTF-8 with a byte order mark and ``;`` as separator: what spreadsheet
software set up in French expects (pass ``delimiter=","`` for another convention). An export that
builds its own openpyxl workbook (several sheets, styles) goes through :func:`workbook_response`,
which neutralises every text cell of the workbook before saving it.
"""

import csv
import datetime
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.http import content_disposition_header

from maillage.audit.services import record

# Characters that make spreadsheet software read a cell as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Also seen as leading characters by spreadsheet software: a trigger hidden behind them still fires.
_LEADING_BLANKS = " \t\r\n\x0b\x0c\xa0\u3000"
QUOTE = "'"

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Characters an XLSX file (XML) cannot hold: control characters (openpyxl raises on them), lone
# surrogates and the two non-characters (the file would be written but not opened again).
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Lone surrogates cannot be encoded in UTF-8 at all.
_SURROGATES = re.compile("[\ud800-\udfff]")

_NATIVE = (bool, int, float, Decimal, datetime.date, datetime.time, datetime.timedelta)


def is_dangerous(text: str) -> bool:
    """Whether ``text`` would be read as a formula: trigger first, or first after leading blanks."""
    if not text:
        return False
    if text[0] in FORMULA_TRIGGERS:
        return True
    stripped = text.lstrip(_LEADING_BLANKS)
    return bool(stripped) and stripped[0] in FORMULA_TRIGGERS


def safe_cell(value: Any) -> Any:
    """The value to write in a cell: text that could run as a formula gets a leading ``'``.

    ``None`` becomes an empty string; numbers, dates, times and booleans are returned unchanged (a
    spreadsheet stores them as values, never as formulas); anything else (lazy translations, enums,
    model instances) is turned into text first.
    """
    if value is None:
        return ""
    if isinstance(value, _NATIVE):
        if isinstance(value, float) and value != value:  # NaN: no spreadsheet meaning
            return ""
        return value
    text = force_str(value) if isinstance(value, Promise) else str(value)
    if is_dangerous(text):
        return QUOTE + text
    return text


def safe_filename(filename: str, extension: str) -> str:
    """A download name without path or odd characters, ending with ``extension``."""
    name = re.sub(r"[^\w.\- ]+", "_", filename.strip(), flags=re.UNICODE).strip(". ") or "export"
    if not name.lower().endswith(extension):
        name += extension
    return name[:150]


def _download(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _membership(request: HttpRequest, programme) -> Any:
    if programme is None:
        return None
    from maillage import permissions as perms

    programme_id = programme.pk if isinstance(programme, models.Model) else programme
    return perms.active_memberships(request.user).filter(programme_id=programme_id).order_by("pk").first()


def journal_export(
    request: HttpRequest,
    *,
    verb: str,
    rows: int,
    filename: str,
    file_format: str,
    target: models.Model | None = None,
    programme=None,
    payload: dict[str, Any] | None = None,
):
    """Journal one export: who, when, what (verb, target), how many rows, which file."""
    if programme is None and target is not None:
        programme = getattr(target, "programme_id", None)
    return record(
        verb=verb,
        actor=request.user,
        target=target,
        programme=programme,
        membership=_membership(request, programme),
        payload={**(payload or {}), "rows": rows, "filename": filename, "format": file_format},
        request=request,
    )


def csv_bytes(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, delimiter: str = ";"
) -> tuple[bytes, int]:
    """The CSV file (UTF-8 with BOM) and its number of data rows, every cell through :func:`safe_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    if header:
        writer.writerow([_csv_text(cell) for cell in header])
    count = 0
    for row in rows:
        writer.writerow([_csv_text(cell) for cell in row])
        count += 1
    return _SURROGATES.sub("\ufffd", buffer.getvalue()).encode("utf-8-sig"), count


def _csv_text(value: Any) -> Any:
    value = safe_cell(value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return value


@transaction.atomic
def csv_response(
    request: HttpRequest,
    *,
    filename: str,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    verb: str,
    target: models.Model | None = None,
    programme=None,
    payload: dict[str, Any] | None = None,
    delimiter: str = ";",
) -> HttpResponse:
    """A CSV download (attachment, nosniff, no-store), neutralised and journaled with its row count."""
    filename = safe_filename(filename, ".csv")
    content, count = csv_bytes(header, rows, delimiter=delimiter)
    journal_export(
        request,
        verb=verb,
        rows=count,
        filename=filename,
        file_format="csv",
        target=target,
        programme=programme,
        payload=payload,
    )
    return _download(content, content_type=CSV_CONTENT_TYPE, filename=filename)


def _xlsx_value(value: Any) -> Any:
    value = safe_cell(value)
    if isinstance(value, str):
        return _XLSX_ILLEGAL.sub("\ufffd", value)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        # Spreadsheets have no time zones: write the local wall-clock time.
        from django.utils import timezone

        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, datetime.timedelta):
        return str(value)
    return value


def _write_cell(cell, value: Any) -> None:
    value = _xlsx_value(value)
    cell.value = value
    if isinstance(value, str):
        # openpyxl turns any text starting with "=" into a formula: text stays text.
        cell.data_type = "s"


def sanitise_workbook(workbook, *, allow_formulas: bool = False) -> None:
    """Neutralise every text cell of a workbook built elsewhere (and every formula unless allowed).

    Pass ``allow_formulas=True`` only when the code itself wrote the formulas (``=SUM(B2:B9)``) and no
    user text can have become one: openpyxl stores any text starting with ``=`` as a formula.
    """
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" and allow_formulas:
                    continue
                if isinstance(cell.value, str):
                    _write_cell(cell, cell.value)


def _save(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_bytes(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, sheet_title: str = "Export"
) -> tuple[bytes, int]:
    """A one-sheet XLSX file (bold, frozen header row) and its number of data rows, cells neutralised."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = (
        re.sub(r"[\[\]:*?/\\]", " ", _XLSX_ILLEGAL.sub("", force_str(sheet_title)))[:31].strip() or "Export"
    )
    if header:
        for column, value in enumerate(header, start=1):
            cell = sheet.cell(row=1, column=column)
            _write_cell(cell, value)
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    count = 0
    first = 2 if header else 1
    for index, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            _write_cell(sheet.cell(row=first + index, column=column), value)
        count += 1
    return _save(workbook), count


@transaction.atomic
def xlsx_response(
    request: HttpRequest,
    *,
    filename: str,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    verb: str,
    target: models.Model | None = None,
    programme=None,
    payload: dict[str, Any] | None = None,
    sheet_title: str = "Export",
) -> HttpResponse:
    """An XLSX download of one sheet, neutralised and journaled with its row count."""
    filename = safe_filename(filename, ".xlsx")
    content, count = xlsx_bytes(header, rows, sheet_title=sheet_title)
    journal_export(
        request,
        verb=verb,
        rows=count,
        filename=filename,
        file_format="xlsx",
        target=target,
        programme=programme,
        payload=payload,
    )
    return _download(content, content_type=XLSX_CONTENT_TYPE, filename=filename)


@transaction.atomic
def workbook_response(
    request: HttpRequest,
    *,
    filename: str,
    workbook,
    rows: int,
    verb: str,
    target: models.Model | None = None,
    programme=None,
    payload: dict[str, Any] | None = None,
    allow_formulas: bool = False,
) -> HttpResponse:
    """Download a workbook built by the caller (several sheets): neutralised, journaled with ``rows``."""
    sanitise_workbook(workbook, allow_formulas=allow_formulas)
    filename = safe_filename(filename, ".xlsx")
    content = _save(workbook)
    journal_export(
        request,
        verb=verb,
        rows=rows,
        filename=filename,
        file_format="xlsx",
        target=target,
        programme=programme,
        payload=payload,
    )
    return _download(content, content_type=XLSX_CONTENT_TYPE, filename=filename)
