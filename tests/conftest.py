import asyncio
import os

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Uploaded files of one test never leak into another, nor into the developer's var/.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _plain_email_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def login_as(client):
    """Log the test client in as a new member of ``programme`` (a new programme if none) with ``role``."""
    from tests.factories import MembershipFactory

    def _login(role: str, programme=None, **membership_fields):
        kwargs = {"role": role, **membership_fields}
        if programme is not None:
            kwargs["programme"] = programme
        membership = MembershipFactory(**kwargs)
        client.force_login(membership.user)
        return membership

    return _login


@pytest.fixture
def admin_user(db, django_user_model):
    """pytest-django's superuser, with the TOTP second factor every staff account must have."""
    from tests.factories import TEST_PASSWORD, enrol_totp

    user = django_user_model.objects.create_superuser("admin@example.com", TEST_PASSWORD)
    enrol_totp(user)
    return user


# --- Chromium, and event loops --------------------------------------------------------------------
#
# One Playwright per process: a second ``sync_playwright().start()`` while the first runs fails with
# « Playwright Sync API inside the asyncio loop » (the first one leaves its loop marked as running in the
# main thread between calls). tests/browser and tests/accounts/test_proconnect.py both use this fixture.
_PLAYWRIGHT_ACTIVE = False


def _forget_closed_event_loop() -> None:
    """Unset the main thread's event loop if it is closed (what a stopped Playwright leaves behind)."""
    running = asyncio.events._get_running_loop()
    if running is not None and running.is_closed():
        asyncio.events._set_running_loop(None)
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return
    if loop.is_closed():
        asyncio.set_event_loop(None)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright's sync API, for the session (never ``playwright install``)."""
    global _PLAYWRIGHT_ACTIVE
    from tests.browser.helpers import CHROMIUM_ARGS, chromium_absent_reason, chromium_executable

    executable = chromium_executable()
    if executable is None:
        pytest.skip(chromium_absent_reason())

    from playwright.sync_api import sync_playwright

    # Between its calls, Playwright's sync API leaves its asyncio event loop marked as running in the
    # main thread (playwright/sync_api/_context_manager.py), for as long as Playwright is started.
    # Django then takes every ORM call made by the test code (factories, assertions) for a call from
    # async code and raises SynchronousOnlyOperation. The test code is really synchronous, so the check
    # is lifted for exactly the life of Playwright, and restored after.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    _PLAYWRIGHT_ACTIVE = True
    try:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        _PLAYWRIGHT_ACTIVE = False
        _forget_closed_event_loop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _no_event_loop_left_running():
    """A test (or fixture: aiosmtpd, the OIDC provider…) must not leave an event loop running in the
    main thread: the next test on the worker would inherit it. Playwright's own, while the session's
    browser is started, is the one exception."""
    yield
    if _PLAYWRIGHT_ACTIVE:
        return
    _forget_closed_event_loop()
    running = asyncio.events._get_running_loop()
    assert running is None, f"an event loop was left running in the main thread: {running!r}"


# --- xdist's loadgroup ----------------------------------------------------------------------------------


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Give every item marked ``xdist_group`` the "@<group>" node id suffix that loadgroup groups on.

    xdist 3.8 writes it to ``item._nodeid``, which pytest 9.2 no longer reads: the marker is silently
    ignored and a group spreads over the workers (tests/browser/conftest.py, pytest-xdist#1386). The
    permission matrix builds its world once per worker that runs it, so it must stay on one. Does nothing
    where xdist's own suffix took effect, or without loadgroup.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        marks = list(item.iter_markers("xdist_group"))
        if not marks:
            continue
        names = sorted(
            {str(mark.args[0] if mark.args else mark.kwargs.get("name", "default")) for mark in marks}
        )
        suffix = "@" + "_".join(names)
        if not item.nodeid.endswith(suffix) and isinstance(getattr(item, "_id", None), NodeId):
            item._id = NodeId.parse(item.nodeid + suffix)


# --- the permission matrix's count of distinct cases (tests/matrix_cases.py) ----------------------------
#
# Each process records the keys of the cases it executed; an xdist worker hands its keys to the controller
# (``workeroutput``), which unites them, so that a case is counted once whatever the number of workers.
_MATRIX_CASES_FROM_WORKERS: set[str] = set()


def pytest_sessionfinish(session, exitstatus):
    from tests.matrix_cases import EXECUTED

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["permission_matrix_cases"] = sorted(EXECUTED)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _MATRIX_CASES_FROM_WORKERS.update(getattr(node, "workeroutput", {}).get("permission_matrix_cases", ()))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from tests.matrix_cases import EXECUTED

    cases = EXECUTED | _MATRIX_CASES_FROM_WORKERS
    if cases:
        terminalreporter.write_line(f"permission matrix: {len(cases)} distinct cases executed")
