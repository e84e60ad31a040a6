"""Helpers for the browser tests: Chromium lookup, page watching, accessibility, CSP and login.

Import them in test modules (``from tests.browser.helpers import axe_check, login``); the fixtures
(``browser``, ``page``, ``phone_page``, ``make_page``) live in ``tests/browser/conftest.py``.
"""

import os
import shutil

import pytest
from django.urls import reverse

# Set MAILLAGE_CHROMIUM to use another binary, or to a missing path to check that the folder is skipped.
CHROMIUM_ENV_VAR = "MAILLAGE_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ABSENT = "Chromium absent: browser tests skipped — apt-get install chromium"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

DESKTOP_VIEWPORT = {"width": 1280, "height": 800}
PHONE_VIEWPORT = {"width": 390, "height": 844}
LOCALE = "fr-FR"
TIMEZONE = "Europe/Paris"
# Short enough that a missing element fails the test quickly, long enough for a loaded CI machine.
DEFAULT_TIMEOUT_MS = 10_000

BLOCKING_IMPACTS = ("serious", "critical")
CSP_MARKER = "Content Security Policy"


def chromium_executable() -> str | None:
    """Path of the Chromium binary to drive, or None when there is none to run."""
    configured = os.environ.get(CHROMIUM_ENV_VAR)
    candidates = [configured] if configured else [DEFAULT_CHROMIUM, shutil.which("chromium")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def chromium_absent_reason() -> str:
    configured = os.environ.get(CHROMIUM_ENV_VAR)
    if configured:
        return f"{CHROMIUM_ABSENT} ({CHROMIUM_ENV_VAR}={configured} is not an executable file)"
    return CHROMIUM_ABSENT


def watch_page(page):
    """Record what the page says on its own: console messages, uncaught errors, failed requests.

    The lists are attributes of the Playwright page so that tests read them where they use the page:
    ``page.console_messages`` (ConsoleMessage), ``page.page_errors`` (Error),
    ``page.failed_requests`` (strings "STATUS URL" or "failed URL: reason").
    """
    page.console_messages = []
    page.page_errors = []
    page.failed_requests = []
    # Playwright tags its handlers with an attribute: bound builtins such as list.append cannot take it.
    page.on("console", lambda message: page.console_messages.append(message))
    page.on("pageerror", lambda error: page.page_errors.append(error))

    def _on_response(response):
        if response.status >= 400:
            page.failed_requests.append(f"{response.status} {response.url}")

    def _on_request_failed(request):
        page.failed_requests.append(f"failed {request.url}: {request.failure}")

    page.on("response", _on_response)
    page.on("requestfailed", _on_request_failed)
    return page


def csp_violations(page) -> list[str]:
    """Console messages in which Chromium reports that the Content Security Policy blocked something."""
    return [message.text for message in page.console_messages if CSP_MARKER in message.text]


def assert_no_csp_violation(page) -> None:
    violations = csp_violations(page)
    if violations:
        listing = "\n".join(f"- {text}" for text in violations)
        pytest.fail(f"{len(violations)} Content Security Policy violation(s) on {page.url}:\n{listing}")


def assert_no_page_error(page) -> None:
    if page.page_errors:
        listing = "\n".join(f"- {error}" for error in page.page_errors)
        pytest.fail(f"{len(page.page_errors)} uncaught JavaScript error(s) on {page.url}:\n{listing}")


def format_axe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    · {target}")
            lines.append(f"      {node['html'][:200]}")
    return "\n".join(lines)


def axe_check(page, *, context=None):
    """Run axe-core on the page; fail listing every serious or critical violation.

    Minor and moderate findings do not fail the test: they are returned (``results.response``) for
    the tests that want to look at them. ``context`` is axe's include/exclude selector.
    """
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        pytest.fail(
            f"{len(blocking)} serious or critical accessibility violation(s) on {page.url}:\n"
            + format_axe_violations(blocking)
        )
    return results


# Last TOTP code typed per address: a code is accepted once only, so the next login waits for a new one.
_LAST_TOTP_CODE: dict[str, str] = {}


def _totp_secret_of(email: str) -> str | None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import decrypt

    authenticator = Authenticator.objects.filter(
        user__email__iexact=email, type=Authenticator.Type.TOTP
    ).first()
    return decrypt(authenticator.data["secret"]) if authenticator else None


def fresh_totp_code(email: str, secret: str) -> str:
    """A code of ``secret`` not used yet by ``email``, with a few seconds left in its 30 s window."""
    import time

    from tests.factories import totp_code

    while True:
        now = time.time()
        code = totp_code(secret, at=now)
        if 30 - now % 30 >= 4 and _LAST_TOTP_CODE.get(email) != code:
            _LAST_TOTP_CODE[email] = code
            return code
        time.sleep(30 - now % 30 + 0.2)


def login(page, live_server, email: str, password: str):
    """Log in through the real allauth forms, as a person would: password, then the TOTP code if the
    account has a second factor (its secret is read back from the test database). Fail clearly when
    it does not work."""
    login_path = reverse("account_login")
    response = page.goto(live_server.url + login_path)
    if response is None or not response.ok:
        pytest.fail(f"The login page answered {response and response.status}, not a form to fill.")
    form = page.locator("form").filter(has=page.locator("input[name='login']"))
    form.locator("input[name='login']").fill(email)
    form.locator("input[name='password']").fill(password)
    with page.expect_navigation():
        form.locator("button[type='submit'], input[type='submit']").first.click()
    if page.url.split("?", 1)[0].endswith(login_path):
        errors = page.locator(
            ".errorlist, .fr-error-text, .fr-alert--error, [role='alert']"
        ).all_inner_texts()
        pytest.fail(f"Login as {email} failed, still on the login page. Errors shown: {errors}")
    mfa_path = reverse("mfa_authenticate")
    if page.url.split("?", 1)[0].endswith(mfa_path):
        secret = _totp_secret_of(email)
        if secret is None:
            pytest.fail(f"Login as {email}: a second factor is asked but the account has no TOTP.")
        code_form = page.locator("form").filter(has=page.locator("input[name='code']")).first
        code_form.locator("input[name='code']").fill(fresh_totp_code(email, secret))
        with page.expect_navigation():
            code_form.locator("button[type='submit'], input[type='submit']").first.click()
        if page.url.split("?", 1)[0].endswith(mfa_path):
            errors = page.locator(
                ".errorlist, .fr-error-text, .fr-alert--error, [role='alert']"
            ).all_inner_texts()
            pytest.fail(f"Login as {email}: the TOTP code was refused. Errors shown: {errors}")
    return page


def force_login(page, live_server, user):
    """Open a session for ``user`` without the form: for the tests whose subject is not logging in."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie.value, "url": live_server.url}]
    )
    return page


def menu_link(page, entry: str):
    """The main menu's link ``entry``, its section (drop-down) opened first when it is in one."""
    menu = page.get_by_role("navigation", name="Menu principal")
    # Links of a closed section are hidden, and roles ignore hidden elements unless asked.
    link = menu.get_by_role("link", name=entry, exact=True, include_hidden=True)
    if not link.is_visible():
        link.locator("xpath=ancestor::li[contains(@class, 'fr-nav__item')]/button").click()
    return menu.get_by_role("link", name=entry, exact=True)
