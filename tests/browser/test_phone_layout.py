"""Labelled buttons and no sideways scrolling on a phone (issue 13, point 18 and its acceptance).

The plan's « Ajouter un objectif », « Ajouter une action » and « Clôturer le parcours » show their
label (a DSFR button with an icon class and no ``fr-btn--icon-*`` modifier, nor a group that sets one,
is drawn as an icon-only square). Then every page a provider, a référent and a referrer reach from their
menu and links, crawled in Chromium at 390×844, must not scroll sideways and must pass axe.
"""

import re
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from maillage.programmes.enums import Role
from tests.browser.helpers import axe_check
from tests.browser.test_rollcall import club, sign_in  # noqa: F401 -- the fixture is used below
from tests.factories import MembershipFactory
from tests.www.referrals.helpers import make_referral

MAX_PAGES_PER_ROLE = 40
# Never opened: logging out, changing language, files and downloads, the admin.
NOT_OPENED = re.compile(
    r"/deconnexion|/logout|/i18n/|/static/|/media/|/gestion-technique/|/documents/|export|\.(pdf|xlsx|ics|csv)$"
)


@pytest.fixture
def people(club):  # noqa: F811 -- the imported fixture
    offer = club["group"].offer
    programme = offer.programme
    # Titles as long as the demo's (and one word longer than a phone is wide), on the roll-call button.
    offer.title = "Atelier théâtre-improvisation-expression-corporelle-et-écriture du mercredi après-midi"
    offer.save(update_fields=["title"])
    club["group"].name = "Groupe des collégiens du quartier des Érables"
    club["group"].save(update_fields=["name"])
    referrer = MembershipFactory(programme=programme, role=Role.REFERRER)
    referral = make_referral(programme, by=referrer.user, child_first_name="Inès")
    return {**club, "referrer": referrer, "referral": referral}


def assert_no_sideways_scroll(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways at {widths[1]} px: {widths[0]} px wide"


LABEL_SHOWN = """(el) => {
    const text = el.innerText.trim();
    const range = document.createRange();
    range.selectNodeContents(el);
    const box = el.getBoundingClientRect();
    return {text, width: box.width, clipped: el.scrollWidth > el.clientWidth + 1,
            textWidth: range.getBoundingClientRect().width};
}"""


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_plan_buttons_show_their_label(make_page, live_server, people, phone):
    page = make_page(phone=phone)
    sign_in(page, live_server, people["referent"].user)
    page.goto(live_server.url + reverse("pathways:detail", args=[people["pathways"][0].pk]))
    for label in ("Ajouter un objectif", "Ajouter une action", "Clôturer le parcours"):
        button = page.get_by_role("link", name=label, exact=True)
        expect(button).to_be_visible()
        shown = button.evaluate(LABEL_SHOWN)
        assert shown["text"] == label
        # An icon-only DSFR button is a 2.5 rem square whose text is pushed out of sight.
        assert shown["width"] > 100 and not shown["clipped"], f"« {label} » drawn without its label: {shown}"
    assert_no_sideways_scroll(page)


def test_the_roll_call_button_fits_a_phone(make_page, live_server, people):
    phone = make_page(phone=True)
    sign_in(phone, live_server, people["provider"].user)
    phone.goto(live_server.url + reverse("offers:groups"))
    link = phone.get_by_test_id("rollcall-link").first
    expect(link).to_contain_text("Faire l'appel")
    box = link.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert_no_sideways_scroll(phone)


def crawl_on_phone(page, live_server, start: str = "/") -> list[str]:
    """Visit the same-site pages reachable by links from ``start`` (one page per address shape)."""
    origin = urlsplit(live_server.url).netloc
    queue, seen, shapes, visited = [start], {start}, set(), []
    while queue and len(visited) < MAX_PAGES_PER_ROLE:
        path = queue.pop(0)
        shape = re.sub(r"\d+", "N", path.split("?", 1)[0]) + ("?" if "?" in path else "")
        if shape in shapes:
            continue
        shapes.add(shape)
        response = page.goto(live_server.url + path)
        if (
            response is None
            or response.status != 200
            or "text/html" not in response.headers.get("content-type", "")
        ):
            continue
        visited.append(path)
        assert_no_sideways_scroll(page)
        axe_check(page)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            absolute = urldefrag(urljoin(page.url, href))[0]
            parts = urlsplit(absolute)
            if parts.scheme not in {"http", "https"} or parts.netloc != origin:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target in seen or NOT_OPENED.search(parts.path) or parts.path.startswith(settings.STATIC_URL):
                continue
            seen.add(target)
            queue.append(target)
    return visited


@pytest.mark.parametrize("who", ["provider", "referent", "referrer"])
def test_no_page_of_the_role_scrolls_sideways_on_a_phone_and_axe_is_clean(
    make_page, live_server, people, who
):
    phone = make_page(phone=True)
    sign_in(phone, live_server, people[who].user)
    visited = crawl_on_phone(phone, live_server)
    print(f"\n{who}: {len(visited)} pages at 390 px: {visited}")
    assert len(visited) >= 3
