"""The Content Security Policy in Chromium: the main pages of three roles raise no violation (issue 5).

The crawl test (``tests/security/test_crawl.py``) reads the headers and the HTML; here a real browser
runs the pages under the policy: every ``securitypolicyviolation`` event and every console message
about the policy is collected, on the pages of the main navigation of a coordinator, a référent and a
referring partner, plus a pathway's page and the referral form. The DSFR and htmx scripts must also
have run (their nonces are right), not merely been blocked silently.
"""

import pytest

from maillage.programmes.enums import Role
from tests.browser.helpers import csp_violations, force_login
from tests.factories import MembershipFactory, open_pathway, programme_with_lists

# Collects the violations the page itself sees, from before any script of the page runs.
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`
    + ` at ${event.sourceFile || ''}:${event.lineNumber || ''}`);
});
"""


@pytest.fixture
def world(transactional_db):
    programme = programme_with_lists()
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    referent = MembershipFactory(programme=programme, role=Role.REFERENT)
    referrer = MembershipFactory(programme=programme, role=Role.REFERRER)
    pathway = open_pathway(programme=programme, referent=referent.user, by=coordinator.user)
    return {"coordinator": coordinator, "referent": referent, "referrer": referrer, "pathway": pathway}


def visit(page, live_server, path: str) -> list[str]:
    response = page.goto(live_server.url + path)
    assert response is not None and response.status < 500, f"{path}: HTTP {response and response.status}"
    page.wait_for_load_state("load")
    return page.evaluate("window.__cspViolations || []")


def main_pages(page, live_server, user, extra: tuple[str, ...] = ()) -> dict[str, list[str]]:
    page.context.add_init_script(LISTEN)
    force_login(page, live_server, user)
    found = {"/": visit(page, live_server, "/")}
    menu = page.evaluate(
        "[...document.querySelectorAll('#fr-navigation a.fr-nav__link')].map(a => a.getAttribute('href'))"
    )
    assert menu, "no navigation on the home page"
    for path in [*menu, *extra]:
        if path.startswith("/") and path not in found:
            found[path] = visit(page, live_server, path)
            # Scripts ran under the policy: the DSFR initialised itself and htmx is there.
            assert page.evaluate("typeof window.dsfr") != "undefined", f"{path}: the DSFR script did not run"
            assert page.evaluate("typeof window.htmx") != "undefined", f"{path}: htmx did not run"
    return found


@pytest.mark.parametrize("role", ["coordinator", "referent", "referrer"])
def test_the_main_pages_of_a_role_raise_no_content_security_policy_violation(page, live_server, world, role):
    pathway = world["pathway"]
    extra = {
        "coordinator": (f"/parcours/{pathway.pk}/", "/orientations/nouvelle/"),
        "referent": (f"/parcours/{pathway.pk}/",),
        "referrer": ("/orientations/nouvelle/",),
    }[role]

    visited = main_pages(page, live_server, world[role].user, extra)

    violations = {path: found for path, found in visited.items() if found}
    print(f"{role}: {len(visited)} pages in Chromium, {len(violations)} with a CSP violation")
    assert len(visited) >= 3
    assert violations == {}
    assert csp_violations(page) == []


def test_the_listener_sees_a_violation_when_there_is_one(page):
    """The check above would fail on a blocked script: the same listener, on a page that has one."""

    def answer(route):
        route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": "script-src 'self'"},
            body="<!DOCTYPE html><html lang='fr'><title>Essai</title><script>document.title = 'x'</script>",
        )

    page.context.add_init_script(LISTEN)
    page.route("http://csp.maillage.test/**", answer)
    page.goto("http://csp.maillage.test/")

    assert any("script-src" in v for v in page.evaluate("window.__cspViolations"))
    page.console_messages.clear()  # the violation is the point: keep the fixture's final check quiet
