"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Every test in this folder gets the ``browser`` marker and the xdist group "browser", so that under
``pytest -n 2 --dist loadgroup`` a single worker starts Chromium and runs them all. The whole folder is
skipped, with the reason in the summary (``-rfEs`` in pyproject), when no Chromium binary is found:
/usr/bin/chromium or ``chromium`` on the PATH, or the path in MAILLAGE_CHROMIUM (set it to a missing
file to see the skip). Never ``playwright install``: it downloads a browser, which this project does not do.

Helpers to import in tests are in ``tests/browser/helpers.py``: ``login``, ``force_login``, ``axe_check``,
``assert_no_csp_violation``, ``assert_no_page_error``, ``csp_violations``.

Tests needing data create it with factories and request ``transactional_db``: the live server answers
from another thread, which does not see data held in a test's uncommitted transaction.
"""

from pathlib import Path

import pytest

from tests.browser.helpers import (
    DEFAULT_TIMEOUT_MS,
    DESKTOP_VIEWPORT,
    LOCALE,
    PHONE_VIEWPORT,
    TIMEZONE,
    assert_no_csp_violation,
    assert_no_page_error,
    chromium_absent_reason,
    chromium_executable,
    watch_page,
)

BROWSER_DIR = Path(__file__).resolve().parent
XDIST_GROUP = "browser"


def pytest_configure(config):
    # ``xdist_group`` is registered by pytest-xdist only; under ``-p no:xdist`` the marker is unknown and
    # ``--strict-markers`` (pyproject) would abort the collection. Register it here so that a browser test
    # file runs the same with or without xdist (the group is then simply unused).
    config.addinivalue_line("markers", "xdist_group(name): run the tests of a group on one xdist worker")


def _in_browser_folder(item) -> bool:
    return BROWSER_DIR in Path(item.path).resolve().parents


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # Before every other implementation: the markers must be there when ``-m "not browser"`` deselects
    # and when xdist's loadgroup reads ``xdist_group``. This hook sees every collected item of the
    # session, not only this folder's, hence the path filter.
    browser_items = [item for item in items if _in_browser_folder(item)]
    skip = None if chromium_executable() else pytest.mark.skip(reason=chromium_absent_reason())
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.xdist_group(XDIST_GROUP))
        if skip is not None:
            item.add_marker(skip)

    result = yield

    if getattr(config.option, "loadgroup", False):
        _tag_loadgroup_nodeids(browser_items)
    return result


def _tag_loadgroup_nodeids(items) -> None:
    """Give the items the "@browser" node id suffix that xdist's loadgroup scheduler groups on.

    xdist 3.8 writes the suffix to ``item._nodeid``, which pytest 9.2's structured node ids no longer
    read: the group is silently ignored and the browser tests spread over every worker, each starting
    its own Chromium (pytest-dev/pytest-xdist#1386, fix proposed in #1388). Remove this once a fixed
    xdist is locked; it does nothing when xdist's own suffix took effect.
    """
    from _pytest.nodeid import NodeId

    suffix = f"@{XDIST_GROUP}"
    for item in items:
        if not item.nodeid.endswith(suffix) and isinstance(getattr(item, "_id", None), NodeId):
            item._id = NodeId.parse(item.nodeid + suffix)


@pytest.fixture
def make_page(browser):
    """Factory of watched pages, each in a fresh context (no shared cookies), French locale.

    ``make_page()`` is a desktop page (1280×800), ``make_page(phone=True)`` a phone (390×844, touch);
    extra keyword arguments go to ``browser.new_context``. When the test ends, every page is checked for
    Content Security Policy violations and uncaught JavaScript errors; a test that causes one on
    purpose clears ``page.console_messages`` or ``page.page_errors`` after asserting on it.
    """
    contexts = []
    pages = []

    def _make_page(*, phone: bool = False, **context_options):
        options = {
            "locale": LOCALE,
            "timezone_id": TIMEZONE,
            "viewport": PHONE_VIEWPORT if phone else DESKTOP_VIEWPORT,
        }
        if phone:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=3)
        options.update(context_options)
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = watch_page(context.new_page())
        pages.append(page)
        return page

    yield _make_page

    for context in contexts:
        context.close()
    # After the contexts are closed, so that a failure here leaves no browser state behind.
    for page in pages:
        assert_no_csp_violation(page)
        assert_no_page_error(page)


@pytest.fixture
def page(make_page):
    """A desktop page (1280×800, fr-FR) with ``console_messages``, ``page_errors`` and ``failed_requests``."""
    return make_page()


@pytest.fixture
def phone_page(make_page):
    """A phone page (390×844, touch, fr-FR), watched like ``page``."""
    return make_page(phone=True)
