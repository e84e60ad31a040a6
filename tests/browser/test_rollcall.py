"""The roll-call on a phone (issue 6): the provider opens today's session of their group, marks twelve
children with one tap each, saves the whole group at once; the référent then reads the attendance in
the child's pathway timeline. Axe runs on the roll-call page and on the group page.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from maillage.offers import services
from maillage.offers.models import Attendance, Group, Offer, Session
from maillage.pathways.services import consent_record
from maillage.programmes.enums import OrganisationKind, Role
from tests.browser.helpers import axe_check, login
from tests.factories import (
    TEST_PASSWORD,
    ChildFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    open_pathway,
    programme_with_lists,
    totp_code,
)

TAP_BUDGET = 15


def sign_in(page, live_server, user) -> None:
    """The project's ``login``; then the TOTP code when the second-factor page is shown (staff roles
    that see names have one), in case ``login`` does not type it itself."""
    login(page, live_server, user.email, TEST_PASSWORD)
    if "/2fa/" in page.url:
        page.get_by_label("Code").fill(totp_code())
        with page.expect_navigation():
            page.get_by_role("button", name="Connexion").click()


@pytest.fixture
def club(transactional_db):
    programme = programme_with_lists(name="PRE de Villeneuve-sur-Lot")
    services.ensure_default_rules(programme)
    coordinator = MembershipFactory(
        programme=programme, role=Role.COORDINATOR, user=UserFactory(first_name="Nadia", last_name="Lefebvre")
    )
    referent = MembershipFactory(
        programme=programme, role=Role.REFERENT, user=UserFactory(first_name="Julien", last_name="Marchand")
    )
    association = OrganisationFactory(
        programme=programme, name="Compagnie Théâtre en Herbe", kind=OrganisationKind.ASSOCIATION
    )
    provider = MembershipFactory(
        programme=programme,
        role=Role.PROVIDER,
        organisation=association,
        user=UserFactory(first_name="Léa", last_name="Fontaine"),
    )
    offer = Offer.objects.create(
        programme=programme, title="Atelier théâtre", kind="collective", provider=association, capacity=14
    )
    today = timezone.localdate()
    group = Group.objects.create(
        offer=offer,
        name="Théâtre du mercredi",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=30),
    )
    pathways = []
    for index in range(12):
        child = ChildFactory(
            programme=programme, first_name=f"Enfant{index:02d}", last_name=f"Nom{index:02d}"
        )
        pathway = open_pathway(programme=programme, referent=referent.user, by=coordinator.user, child=child)
        consent_record(
            pathway=pathway,
            guardian=child.household.guardians.get(),
            given_on=today,
            by=referent.user,
        )
        services.plan_action_from_offer(pathway=pathway, offer=offer, group=group, by=referent.user)
        pathways.append(pathway)
    start = datetime.datetime.combine(today, datetime.time(10, 0), tzinfo=timezone.get_current_timezone())
    session = Session.objects.create(
        group=group, starts_at=start, ends_at=start + datetime.timedelta(hours=1)
    )
    return {
        "provider": provider,
        "referent": referent,
        "group": group,
        "session": session,
        "pathways": pathways,
    }


def test_the_provider_takes_the_roll_call_of_twelve_children_on_a_phone_and_the_referent_sees_it(
    make_page, live_server, club
):
    phone = make_page(phone=True)
    sign_in(phone, live_server, club["provider"].user)
    phone.goto(live_server.url + reverse("offers:groups"))
    taps = 0

    phone.get_by_test_id("rollcall-link").first.tap()
    taps += 1
    phone.wait_for_url(f"**{reverse('offers:rollcall', args=[club['session'].pk])}")
    rows = phone.get_by_test_id("rollcall-row")
    expect(rows).to_have_count(12)
    # The provider sees first name, initial and age only.
    expect(phone.get_by_text("Enfant00 N.")).to_be_visible()
    assert "Nom00" not in phone.content()
    axe_check(phone)

    # Eleven present, the last one absent without excuse: one tap each.
    for index in range(12):
        row = rows.nth(index)
        label = "Absent·e" if index == 11 else "Présent·e"
        target = row.get_by_text(label, exact=True)
        target.scroll_into_view_if_needed()
        target.tap()
        taps += 1
        expect(row.get_by_role("radio", name=label, exact=True)).to_be_checked()

    with phone.expect_navigation():
        phone.get_by_role("button", name="Enregistrer l'appel").tap()
    taps += 1
    assert taps < TAP_BUDGET
    expect(phone.get_by_text("L'appel est enregistré : 11 présent·es sur 12.")).to_be_visible()
    axe_check(phone)
    assert Attendance.objects.filter(session=club["session"], status="present").count() == 11
    assert Attendance.objects.filter(session=club["session"], status="unexcused").count() == 1

    desk = make_page()
    sign_in(desk, live_server, club["referent"].user)
    pathway = club["pathways"][0]
    desk.goto(live_server.url + reverse("pathways:detail", args=[pathway.pk]))
    history = desk.locator("#historique")
    expect(history.get_by_text("Atelier théâtre : Présent·e")).to_be_visible()
    expect(desk.get_by_text("Présence : 1 séance(s) sur 1")).to_be_visible()


def test_the_roll_call_works_with_the_keyboard_alone(make_page, live_server, club):
    page = make_page()
    sign_in(page, live_server, club["provider"].user)
    page.goto(live_server.url + reverse("offers:rollcall", args=[club["session"].pk]))
    first = page.get_by_test_id("rollcall-row").first
    first.get_by_role("radio", name="Présent·e", exact=True).focus()
    page.keyboard.press("Space")
    expect(first.get_by_role("radio", name="Présent·e", exact=True)).to_be_checked()
    page.keyboard.press("ArrowRight")
    expect(first.get_by_role("radio", name="Excusé·e", exact=True)).to_be_checked()
