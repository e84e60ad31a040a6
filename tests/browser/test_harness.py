"""The browser harness itself: static files served, CSP violations seen, axe failures reported, phone size."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.helpers import (
    CHROMIUM_ABSENT,
    CHROMIUM_ENV_VAR,
    axe_check,
    chromium_absent_reason,
    chromium_executable,
    csp_violations,
    force_login,
)
from tests.factories import MembershipFactory

# A made-up origin answered by Playwright itself (page.route), so no request leaves the machine.
FAKE_ORIGIN = "http://harnais.maillage.test"


def test_the_live_server_serves_the_dsfr_stylesheet_and_its_fonts(page, live_server):
    response = page.goto(live_server.url + reverse("account_login"))
    assert response.ok
    page.evaluate("document.fonts.ready")

    stylesheets = page.evaluate("[...document.styleSheets].map(sheet => sheet.href || '')")
    assert any("dsfr" in href and href.endswith(".css") for href in stylesheets)
    # The DSFR sets the Marianne typeface on the body: the stylesheet is not only linked, it applies.
    assert "Marianne" in page.evaluate("getComputedStyle(document.body).fontFamily")
    assert page.evaluate("document.fonts.check('1em Marianne')")
    assert page.failed_requests == []


def test_an_inline_script_without_nonce_is_reported_as_a_csp_violation(page):
    def answer(route):
        route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": "script-src 'self'"},
            body="<!DOCTYPE html><html lang='fr'><title>Essai</title><script>document.title = 'x'</script>",
        )

    page.route(f"{FAKE_ORIGIN}/**", answer)
    page.goto(f"{FAKE_ORIGIN}/csp")

    assert page.title() == "Essai"
    assert len(csp_violations(page)) == 1
    # This violation is the point of the test: keep the fixture's end-of-test check from failing on it.
    page.console_messages.clear()


def test_axe_check_fails_listing_a_critical_violation_and_its_element(page):
    page.set_content(
        "<!DOCTYPE html><html lang='fr'><head><title>Essai</title></head>"
        "<body><main><h1>Essai</h1><img id='sans-alt' src='data:image/gif;base64,R0lGODlhAQABAAAAACw='>"
        "</main></body></html>"
    )

    with pytest.raises(pytest.fail.Exception) as failure:
        axe_check(page)

    assert "image-alt (critical)" in str(failure.value)
    assert "#sans-alt" in str(failure.value)


def test_axe_check_passes_a_clean_page_and_returns_the_results(page):
    page.set_content(
        "<!DOCTYPE html><html lang='fr'><head><title>Essai</title></head>"
        "<body><main><h1>Essai</h1><p>Un paragraphe.</p></main></body></html>"
    )

    results = axe_check(page)

    assert results.response["violations"] == []


def test_the_phone_page_is_a_french_phone_sized_touch_screen(phone_page):
    phone_page.set_content(
        "<!DOCTYPE html><html lang='fr'><meta name='viewport' content='width=device-width'>"
    )

    assert phone_page.evaluate("[window.innerWidth, window.innerHeight]") == [390, 844]
    assert phone_page.evaluate("navigator.maxTouchPoints") > 0
    assert phone_page.evaluate("navigator.language") == "fr-FR"


def test_a_missing_chromium_named_in_the_environment_gives_the_skip_reason(monkeypatch):
    monkeypatch.setenv(CHROMIUM_ENV_VAR, "/nonexistent/chromium")

    assert chromium_executable() is None
    assert chromium_absent_reason().startswith(CHROMIUM_ABSENT)


def test_force_login_opens_a_session_without_going_through_the_form(page, live_server, transactional_db):
    membership = MembershipFactory(role="coordinator")

    force_login(page, live_server, membership.user)
    page.goto(live_server.url + reverse("home"))

    expect(page).to_have_url(live_server.url + reverse("home"))
    expect(page.get_by_text(membership.programme.name).first).to_be_visible()
