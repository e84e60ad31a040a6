"""Every download of a table goes through ``maillage.core.exports`` and asks for a recent authentication.

Static checks over the URL configuration, so that a new export cannot skip them: a view whose code
writes CSV or spreadsheets must use ``csv_response``/``xlsx_response``/``workbook_response`` (which
neutralise formulas and journal the row count), and be decorated with
``maillage.accounts.stepup.recent_auth_required`` (ASVS 7.5.3: step-up before an export).
"""

import inspect
import re

from django.urls import URLPattern, URLResolver, get_resolver

EXPORT_CALL = re.compile(r"\b(csv_response|xlsx_response|workbook_response|journal_export)\(")
RAW_TABLE = re.compile(r"\bcsv\.writer\(|\bopenpyxl\b|spreadsheetml|text/csv")


def views():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    for route, callback in walk(get_resolver().url_patterns):
        if getattr(callback, "__module__", "").startswith("maillage."):
            yield route, callback


def source(view) -> str:
    try:
        return inspect.getsource(inspect.unwrap(view))
    except (OSError, TypeError):
        return ""


def test_every_view_that_exports_a_table_asks_for_a_recent_authentication():
    exporting = {route: view for route, view in views() if EXPORT_CALL.search(source(view))}
    missing = sorted(
        route for route, view in exporting.items() if not getattr(view, "recent_auth_required", False)
    )

    print(f"\n{len(exporting)} export views: {sorted(exporting)}")
    assert not missing, f"export views without @recent_auth_required: {missing}"


def test_no_view_writes_a_table_without_the_exports_module():
    raw = sorted(route for route, view in views() if RAW_TABLE.search(source(view)))

    assert not raw, f"views writing CSV/XLSX themselves (use maillage.core.exports): {raw}"
