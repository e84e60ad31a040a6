"""CSV/XLSX exports: no cell can run as a formula, and every export is journaled with its row count."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from maillage.audit.models import AuditEvent
from maillage.core.exports import (
    FORMULA_TRIGGERS,
    csv_bytes,
    csv_response,
    is_dangerous,
    safe_cell,
    workbook_response,
    xlsx_bytes,
    xlsx_response,
)
from tests.factories import MembershipFactory

LEADING = " \t\r\n\x0b\x0c\xa0\u3000"

# Text built to hit the triggers often: a blank prefix, a trigger, then anything.
risky_text = st.one_of(
    st.text(),
    st.builds(
        lambda blanks, trigger, rest: blanks + trigger + rest,
        st.text(alphabet=" \t\r\n\xa0", max_size=3),
        st.sampled_from(FORMULA_TRIGGERS),
        st.text(max_size=30),
    ),
    st.sampled_from(
        ["=1+1", '=HYPERLINK("http://evil","x")', "@SUM(A1)", "+33 1 23", "-2+3", " =cmd|'/c calc'!A1"]
    ),
)
cell_value = st.one_of(
    risky_text,
    st.none(),
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.booleans(),
    st.dates(),
)


def fires(text: str) -> bool:
    """What a spreadsheet does with a text cell: a trigger first, or after leading blanks, is a formula."""
    stripped = text.lstrip(LEADING)
    return bool(text) and (
        text[0] in FORMULA_TRIGGERS or (bool(stripped) and stripped[0] in FORMULA_TRIGGERS)
    )


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


@given(st.text())
def test_safe_cell_never_returns_text_that_a_spreadsheet_would_run(text):
    cell = safe_cell(text)

    assert not fires(cell)
    assert cell == text or cell == "'" + text
    assert (cell != text) == is_dangerous(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("  =1+1", "'  =1+1"),
        ("+33 6 12", "'+33 6 12"),
        ("-", "'-"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\r=x", "'\r=x"),
        ("Lucas M.", "Lucas M."),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-5, -5),
        (Decimal("-1.50"), Decimal("-1.50")),
        (True, True),
        (datetime.date(2026, 1, 2), datetime.date(2026, 1, 2)),
    ],
)
def test_safe_cell_quotes_formula_text_and_keeps_values_typed(value, expected):
    assert safe_cell(value) == expected


@given(header=st.lists(risky_text, max_size=4), rows=st.lists(st.lists(cell_value, max_size=5), max_size=8))
@settings(max_examples=200, deadline=None)
def test_no_text_cell_of_a_csv_export_starts_with_a_formula_trigger(header, rows):
    content, count = csv_bytes(header, rows)

    parsed = read_csv(content)
    assert count == len(rows)
    typed_numbers = {
        str(v) for row in rows for v in row if isinstance(v, int | Decimal) and not isinstance(v, bool)
    }
    for cell in (cell for line in parsed for cell in line):
        # A negative number is written as a number ("-5"), which no spreadsheet reads as a formula.
        assert not fires(cell) or cell in typed_numbers, cell


@given(header=st.lists(risky_text, max_size=4), rows=st.lists(st.lists(cell_value, max_size=5), max_size=6))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_cell_of_an_xlsx_export_is_a_formula_or_formula_text(header, rows):
    content, count = xlsx_bytes(header, rows)

    sheet = load_workbook(io.BytesIO(content)).active
    assert count == len(rows)
    for line in sheet.iter_rows():
        for cell in line:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str):
                assert not fires(cell.value), cell.value


def test_control_characters_and_lone_surrogates_do_not_break_an_export():
    content, _ = xlsx_bytes(["a"], [["x\x00y\x1b", "\ud800", "=\x07"]])
    row = [c.value for c in next(load_workbook(io.BytesIO(content)).active.iter_rows(min_row=2))]
    assert row == ["x\ufffdy\ufffd", "\ufffd", "'=\ufffd"]

    csv_content, _ = csv_bytes(["a"], [["\ud800", "=1"]])
    assert read_csv(csv_content)[1] == ["\ufffd", "'=1"]


@pytest.fixture
def member(db):
    return MembershipFactory(role="coordinator")


def export_request(user):
    request = RequestFactory().get("/export")
    request.user = user
    request.request_id = "req-1"
    request.client_ip = "127.0.0.1"
    return request


@pytest.mark.parametrize("size", [0, 1, 7, 60])
def test_a_csv_export_is_journaled_with_its_row_count(member, size):
    rows = ((f"Enfant {i}", i) for i in range(size))  # a generator: counted while written

    response = csv_response(
        export_request(member.user),
        filename="liste.csv",
        header=["Nom", "N"],
        rows=rows,
        verb="export.test",
        programme=member.programme,
        payload={"filter": "all"},
    )

    event = AuditEvent.objects.get(verb="export.test")
    assert event.payload == {"rows": size, "filename": "liste.csv", "format": "csv", "filter": "all"}
    assert event.actor == member.user
    assert event.programme_id == member.programme_id
    assert event.membership == member
    assert event.request_id == "req-1"
    assert len(read_csv(response.content)) == size + 1


def test_an_xlsx_export_is_journaled_with_its_row_count_and_downloads_as_an_attachment(member):
    response = xlsx_response(
        export_request(member.user),
        filename="liste",
        header=["Nom"],
        rows=[["=evil()"], ["Inès"], ["-3"]],
        verb="export.test",
        programme=member.programme,
    )

    event = AuditEvent.objects.get(verb="export.test")
    assert event.payload["rows"] == 3
    assert event.payload["format"] == "xlsx"
    assert response["Content-Disposition"] == 'attachment; filename="liste.xlsx"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    values = [c.value for c in load_workbook(io.BytesIO(response.content)).active["A"]]
    assert values == ["Nom", "'=evil()", "Inès", "'-3"]


def test_a_workbook_built_elsewhere_is_neutralised_before_download(member):
    workbook = Workbook()
    sheet = workbook.active
    sheet["A1"] = '=HYPERLINK("http://evil")'  # openpyxl stores it as a formula
    sheet["A2"] = " @x"
    sheet["B1"] = 12
    second = workbook.create_sheet("Deux")
    second["A1"] = "+1"

    response = workbook_response(
        export_request(member.user),
        filename="anct.xlsx",
        workbook=workbook,
        rows=2,
        verb="export.workbook",
        programme=member.programme,
    )

    read = load_workbook(io.BytesIO(response.content))
    assert read.active["A1"].value == '\'=HYPERLINK("http://evil")'
    assert read.active["A1"].data_type == "s"
    assert read.active["A2"].value == "' @x"
    assert read.active["B1"].value == 12
    assert read["Deux"]["A1"].value == "'+1"
    assert AuditEvent.objects.get(verb="export.workbook").payload["rows"] == 2


def test_a_dangerous_filename_is_made_harmless(member):
    response = csv_response(
        export_request(member.user),
        filename='../../etc/"passwd\r\n',
        header=[],
        rows=[],
        verb="export.test",
    )

    disposition = response["Content-Disposition"]
    assert "/" not in disposition and "\r" not in disposition and "\n" not in disposition
    assert disposition.endswith('.csv"')
