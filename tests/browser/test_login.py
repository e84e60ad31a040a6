import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.helpers import assert_no_csp_violation, assert_no_page_error, axe_check, login
from tests.factories import TEST_PASSWORD, MembershipFactory, ProgrammeFactory


@pytest.fixture
def coordinator(transactional_db):
    programme = ProgrammeFactory(name="PRE de Villeneuve-sur-Lot")
    return MembershipFactory(programme=programme, role="coordinator")


def test_a_coordinator_logs_in_through_the_form_and_lands_on_the_dashboard(page, live_server, coordinator):
    page.goto(live_server.url + reverse("account_login"))
    axe_check(page)

    login(page, live_server, coordinator.user.email, TEST_PASSWORD)

    expect(page).to_have_url(live_server.url + reverse("home"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    expect(page.get_by_text(coordinator.programme.name).first).to_be_visible()
    axe_check(page)
    assert_no_csp_violation(page)
    assert_no_page_error(page)


def test_on_a_phone_the_login_page_fits_the_screen_and_passes_axe(phone_page, live_server):
    phone_page.goto(live_server.url + reverse("account_login"))

    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    axe_check(phone_page)
    # The header's links are behind the menu button on a phone: the DSFR copies them into the menu.
    phone_page.get_by_role("button", name="Menu").click()
    menu = phone_page.locator("#fr-menu-mobile")
    expect(menu.get_by_role("link", name="Se connecter")).to_be_visible()
