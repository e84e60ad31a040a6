"""Children and households: list, search, detail pages, and the journal of every consultation."""

import datetime
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from maillage.audit.models import AuditEvent
from maillage.people.enums import GuardianRelation
from maillage.programmes.enums import Role
from tests.factories import ChildFactory, GuardianFactory, HouseholdFactory, MembershipFactory, SchoolFactory

pytestmark = pytest.mark.django_db

ALL_ROLES = list(Role.values)
# Roles whose table row reaches children by name (the référent and EPS member through pathways).
LIST_ROLES = {Role.COORDINATOR, Role.REFERENT, Role.EPS_MEMBER}


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def listed(response) -> list[str]:
    return [f"{child.first_name} {child.last_name}" for child in response.context["page_obj"]]


# --- list ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_children_list_opens_only_to_roles_that_reach_children(client, login_as, programme, role):
    login_as(role, programme=programme)
    ChildFactory(programme=programme, first_name="Inès", last_name="Quillebœuf-Sentinelle")

    response = client.get(reverse("people:children"))

    if role not in LIST_ROLES:
        assert response.status_code == 404
        assert "Quillebœuf" not in text_of(response)
        return
    assert response.status_code == 200
    if role == Role.COORDINATOR:
        assert listed(response) == ["Inès Quillebœuf-Sentinelle"]
    else:
        # No pathway yet: a référent or EPS member reaches no child, and is told why.
        assert listed(response) == []
        assert "Aucun enfant pour le moment" in text_of(response)


def test_the_list_shows_school_household_and_age(client, login_as, programme):
    login_as(Role.COORDINATOR, programme=programme)
    school = SchoolFactory(name="École Paul Éluard")
    child = ChildFactory(
        programme=programme,
        first_name="Noé",
        last_name="Garnier",
        school=school,
        birth_date=datetime.date.today().replace(year=datetime.date.today().year - 8)
        - datetime.timedelta(days=1),
    )
    body = text_of(client.get(reverse("people:children")))
    assert "GARNIER Noé" in body
    assert "École Paul Éluard" in body
    assert "(8 ans)" in body
    assert reverse("people:child", args=[child.pk]) in body
    assert reverse("people:household", args=[child.household_id]) in body


@pytest.fixture
def children_to_search(programme):
    ChildFactory(programme=programme, first_name="Hélène", last_name="Le Gall")
    ChildFactory(programme=programme, first_name="Jean-Édouard", last_name="D'Arc")
    ChildFactory(programme=programme, first_name="Zoé", last_name="Nguyen")
    return programme


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("helene", ["Hélène Le Gall"]),
        ("le-gall", ["Hélène Le Gall"]),
        ("HELENE gall", ["Hélène Le Gall"]),
        ("jean edouard", ["Jean-Édouard D'Arc"]),
        ("d'arc", ["Jean-Édouard D'Arc"]),
        ("nguyen zoe", ["Zoé Nguyen"]),
        ("martin", []),
    ],
)
def test_children_are_found_whatever_the_accents_case_or_hyphens(
    client, login_as, children_to_search, query, expected
):
    login_as(Role.COORDINATOR, programme=children_to_search)
    assert listed(client.get(reverse("people:children"), {"q": query})) == expected


def test_a_search_without_result_suggests_what_to_try(client, login_as, children_to_search):
    login_as(Role.COORDINATOR, programme=children_to_search)
    body = text_of(client.get(reverse("people:children"), {"q": "martin"}))
    assert "Aucun enfant ne correspond à cette recherche" in body


def test_the_list_is_sorted_by_name_and_paged(client, login_as, programme):
    login_as(Role.COORDINATOR, programme=programme)
    for index in range(30):
        ChildFactory(programme=programme, last_name=f"Nom{index:02d}", first_name="Alex")
    first = client.get(reverse("people:children"))
    second = client.get(reverse("people:children"), {"page": 2})
    assert listed(first)[:2] == ["Alex Nom00", "Alex Nom01"]
    assert len(listed(first)) == 25
    assert listed(second) == [f"Alex Nom{index}" for index in range(25, 30)]


def _queries_for(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def test_the_list_runs_the_same_number_of_queries_for_5_or_50_children(client, login_as, programme):
    login_as(Role.COORDINATOR, programme=programme)
    url = reverse("people:children")
    school = SchoolFactory()
    ChildFactory.create_batch(5, programme=programme, school=school)
    # A first visit may create one-off rows (the journal's chain head after a flush by another test).
    client.get(url)
    few = _queries_for(client, url)
    ChildFactory.create_batch(45, programme=programme, school=school)
    assert _queries_for(client, url) == few
    assert _queries_for(client, url, page=2) == few
    assert _queries_for(client, url, q="a") == few


# --- details -------------------------------------------------------------------------------------


@pytest.fixture
def family(programme):
    household = HouseholdFactory(
        programme=programme, name="Foyer Benali-Quillebœuf", address="3 rue des Lilas", postcode="99100"
    )
    mother = GuardianFactory(
        household=household, first_name="Samira", last_name="Benali-Quillebœuf", phone="06 11 22 33 44"
    )
    GuardianFactory(
        household=household,
        first_name="Karim",
        last_name="Benali-Quillebœuf",
        relation=GuardianRelation.FATHER,
        has_parental_authority=False,
    )
    school = SchoolFactory(name="École Jacques Prévert", priority_education="REP+")
    child = ChildFactory(
        programme=programme,
        household=household,
        first_name="Yanis",
        last_name="Benali-Quillebœuf",
        school=school,
    )
    sibling = ChildFactory(
        programme=programme, household=household, first_name="Lina", last_name="Benali-Quillebœuf"
    )
    return child, sibling, mother


def test_the_coordinator_reads_a_child_with_school_household_and_guardians(
    client, login_as, programme, family
):
    login_as(Role.COORDINATOR, programme=programme)
    child, sibling, mother = family

    response = client.get(reverse("people:child", args=[child.pk]))

    assert response.status_code == 200
    body = text_of(response)
    assert "Yanis BENALI" in body
    assert "École Jacques Prévert" in body and "REP+" in body
    assert "3 rue des Lilas" in body
    assert "Samira" in body and "06 11 22 33 44" in body
    assert "Karim" in body
    assert reverse("people:child", args=[sibling.pk]) in body
    assert reverse("people:household", args=[child.household_id]) in body
    assert "journal des accès" in body


def test_each_view_of_a_child_writes_one_journal_entry(client, login_as, programme, family):
    membership = login_as(Role.COORDINATOR, programme=programme)
    child = family[0]

    client.get(reverse("people:child", args=[child.pk]), HTTP_X_REQUEST_ID="req-123")
    client.get(reverse("people:child", args=[child.pk]))

    viewed = AuditEvent.objects.filter(verb="child.viewed")
    assert viewed.count() == 2
    event = viewed.first()
    assert (event.actor, event.membership, event.role) == (membership.user, membership, Role.COORDINATOR)
    assert (event.target_type, event.target_id, event.programme_id) == (
        "people.child",
        str(child.pk),
        programme.pk,
    )
    assert event.request_id == "req-123"
    assert event.ip_address == "127.0.0.1"


def test_the_household_page_lists_its_guardians_and_children_and_is_journaled(
    client, login_as, programme, family
):
    login_as(Role.COORDINATOR, programme=programme)
    child, sibling, _mother = family

    response = client.get(reverse("people:household", args=[child.household_id]))

    assert response.status_code == 200
    body = text_of(response)
    assert "Foyer Benali-Quillebœuf" in body and "Samira" in body
    assert reverse("people:child", args=[child.pk]) in body
    assert reverse("people:child", args=[sibling.pk]) in body
    event = AuditEvent.objects.get(verb="household.viewed")
    assert (event.target_type, event.target_id) == ("people.household", str(child.household_id))
    assert not AuditEvent.objects.filter(verb="child.viewed").exists()


@pytest.mark.parametrize("role", sorted(set(ALL_ROLES) - {Role.COORDINATOR}))
def test_no_other_role_reads_a_child_or_household_without_a_pathway(
    client, login_as, programme, family, role
):
    login_as(role, programme=programme)
    child = family[0]
    for url in (
        reverse("people:child", args=[child.pk]),
        reverse("people:household", args=[child.household_id]),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert "Benali-Quillebœuf" not in text_of(response)
    assert not AuditEvent.objects.filter(verb__in=["child.viewed", "household.viewed"]).exists()


def test_a_refused_view_writes_nothing_in_the_journal(client, login_as, family):
    login_as(Role.COORDINATOR)  # of another programme
    assert client.get(reverse("people:child", args=[family[0].pk])).status_code == 404
    assert not AuditEvent.objects.exists()


def test_the_detail_pages_need_a_login(client, family):
    response = client.get(reverse("people:child", args=[family[0].pk]))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_coordinator_whose_membership_ended_reads_nothing(client, login_as, programme, family):
    login_as(
        Role.COORDINATOR,
        programme=programme,
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date(2021, 1, 1),
    )
    assert client.get(reverse("people:child", args=[family[0].pk])).status_code == 404


def test_a_coordinator_of_two_programmes_journals_the_view_under_the_childs_programme(
    client, programme, other_programme, family
):
    elsewhere = MembershipFactory(role=Role.REFERENT, programme=other_programme)
    here = MembershipFactory(role=Role.COORDINATOR, programme=programme, user=elsewhere.user)
    client.force_login(elsewhere.user)  # the current programme is the older membership: ``elsewhere``
    assert client.get(reverse("people:child", args=[family[0].pk])).status_code == 200
    assert AuditEvent.objects.get(verb="child.viewed").membership == here
