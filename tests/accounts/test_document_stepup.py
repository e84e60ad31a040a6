"""One rule for every nominative document: a download asks for a recent authentication.

Every URL of the project is walked; each view whose code (or a helper of its module it calls) serves
a file — a PDF, an upload, a workbook, an attachment — must say what it serves
(``@nominative_document`` or ``@non_nominative_document``, ``maillage.accounts.stepup``): a new
document view cannot escape the rule unnoticed. Then each nominative one is downloaded: right after
the login it serves; eleven minutes later it redirects to the re-authentication page; once the
password is confirmed, it serves again.
"""

import inspect
import re
import time
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from maillage.accounts.stepup import NOMINATIVE, NON_NOMINATIVE
from tests.factories import TEST_PASSWORD
from tests.governance import registries as governance_registries
from tests.www.journal.sensitive_urls import SENSITIVE_URLS, exclusion, new_world, walk

pytestmark = pytest.mark.django_db

ELEVEN_MINUTES = 11 * 60
REAUTHENTICATE = reverse("account_reauthenticate")

# What serving a file looks like in a view's code.
SERVES_A_FILE = re.compile(
    r"FileResponse|HttpResponse\([^)]*content_type=\"application/|Content-Disposition|as_attachment"
    r"|render_pdf|_pdf\(|xlsx_response|workbook_response|\.open\(\"rb\"\)"
)


def _source(func) -> str:
    """The view's code and that of the functions of its module it calls, transitively."""
    func = inspect.unwrap(func)
    module = inspect.getmodule(func)
    seen, todo, sources = {func}, [func], []
    while todo:
        source = inspect.getsource(todo.pop())
        sources.append(source)
        for name in set(re.findall(r"\b(_?[a-z][a-z0-9_]*)\(", source)):
            helper = getattr(module, name, None)
            if inspect.isfunction(helper) and helper.__module__ == module.__name__:
                helper = inspect.unwrap(helper)
                if helper not in seen:
                    seen.add(helper)
                    todo.append(helper)
    return "\n".join(sources)


def _document_routes() -> dict[str, object]:
    """URL name → route, for every project view that serves a file."""
    routes = {}
    for route in walk():
        if exclusion(route) is not None:
            continue
        if SERVES_A_FILE.search(_source(route.pattern.callback)):
            routes[route.name or route.pattern.pattern] = route
    return routes


def _serves(route) -> str | None:
    return getattr(route.pattern.callback, "serves_document", None)


def _meeting_document(world):
    kwargs, _document = governance_registries.pk_urls("Stepup")["governance:document"](world.programme)
    return SENSITIVE_URLS["home"](world).__class__(kwargs, [])


# URL name → builder(world) → Case (kwargs, query, user): the journal's registry where it has one.
BUILDERS = {
    "followup:consent_proof": SENSITIVE_URLS["followup:consent_proof"],
    "documents:consent_form": SENSITIVE_URLS["documents:consent_form"],
    "documents:notice_parents": SENSITIVE_URLS["documents:notice_parents"],
    "documents:notice_child": SENSITIVE_URLS["documents:notice_child"],
    "documents:plan_summary": SENSITIVE_URLS["documents:plan_summary"],
    "journal:consultations_pdf": SENSITIVE_URLS["journal:consultations_pdf"],
    "offers:contract_pdf": SENSITIVE_URLS["offers:contract_pdf"],
    "offers:fund_invoice": SENSITIVE_URLS["offers:fund_invoice"],
    "governance:document": _meeting_document,
}


def test_every_view_that_serves_a_file_says_whether_it_is_nominative():
    routes = _document_routes()
    unclassified = sorted(f"{name} → {r.view_path}" for name, r in routes.items() if _serves(r) is None)
    assert not unclassified, (
        f"mark these views @nominative_document (step-up) or @non_nominative_document: {unclassified}"
    )
    # The scan finds what it must: the documents of the family, uploads and exports.
    assert {"documents:plan_summary", "followup:consent_proof", "governance:document"} <= set(routes)


def test_every_view_marked_as_a_document_is_found_by_the_scan():
    marked = {r.name for r in walk() if exclusion(r) is None and _serves(r) in (NOMINATIVE, NON_NOMINATIVE)}
    assert marked == set(_document_routes())


def test_every_nominative_document_has_a_download_case_here():
    nominative = {name for name, route in _document_routes().items() if _serves(route) == NOMINATIVE}
    assert nominative == set(BUILDERS)


def _later(seconds: int):
    return time_machine.travel(time.time() + seconds, tick=False)


@pytest.mark.parametrize("url_name", sorted(BUILDERS))
def test_a_nominative_document_asks_for_a_recent_authentication_then_serves(url_name):
    world = new_world()
    case = BUILDERS[url_name](world)
    user = case.user or world.coordinator.user
    url = reverse(url_name, kwargs=case.kwargs)
    if case.query:
        url += "?" + "&".join(f"{k}={v}" for k, v in case.query.items())
    client = Client()
    client.force_login(user)

    fresh = client.get(url)
    assert fresh.status_code == 200, "right after the login the document is served"
    assert "attachment" in fresh.get("Content-Disposition", "")

    with _later(ELEVEN_MINUTES):
        asked = client.get(url)
        assert asked.status_code == 302
        assert urlsplit(asked["Location"]).path == REAUTHENTICATE
        assert b"%PDF" not in b"".join(getattr(asked, "streaming_content", [asked.content]))

        confirmed = client.post(asked["Location"], {"password": TEST_PASSWORD})
        assert confirmed.status_code == 302

        served = client.get(url)
        assert served.status_code == 200
        assert "attachment" in served.get("Content-Disposition", "")
