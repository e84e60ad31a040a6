"""The référent's caseload, the programme's list of pathways, the review reminders and the child page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from maillage.audit.models import AuditEvent
from maillage.pathways import services
from maillage.pathways.enums import PathwayState
from maillage.pathways.models import Pathway
from maillage.programmes.enums import Role
from maillage.www.pathways.summary import reminders_for
from tests.factories import ChildFactory, MembershipFactory, open_pathway, programme_with_lists
from tests.www.pathways.conftest import TODAY, client_for, consent_for, text_of

pytestmark = pytest.mark.django_db

CASELOAD = reverse("pathways:caseload")
LIST = reverse("pathways:list")


@pytest.fixture
def team(programme):
    return {
        "coordinator": MembershipFactory(programme=programme, role=Role.COORDINATOR).user,
        "referent": MembershipFactory(programme=programme, role=Role.REFERENT).user,
        "colleague": MembershipFactory(programme=programme, role=Role.REFERENT).user,
    }


def caseload_of(programme, referent, by, count, **child_fields):
    return [
        open_pathway(
            programme=programme,
            referent=referent,
            by=by,
            child=ChildFactory(programme=programme, **child_fields),
        )
        for _ in range(count)
    ]


def review_on(pathway, day):
    Pathway.objects.filter(pk=pathway.pk).update(next_review_on=day)


def labels(response) -> list[str]:
    return [row.label for row in response.context["rows"]]


# --- caseload ------------------------------------------------------------------------------------


def test_the_caseload_shows_the_referents_own_open_pathways_by_name(programme, team):
    mine = open_pathway(
        programme=programme,
        referent=team["referent"],
        by=team["coordinator"],
        child=ChildFactory(programme=programme, first_name="Anouk", last_name="Barthélémy"),
    )
    open_pathway(
        programme=programme,
        referent=team["colleague"],
        by=team["coordinator"],
        child=ChildFactory(programme=programme, first_name="Yanis", last_name="Colleguedautre"),
    )

    response = client_for(team["referent"]).get(CASELOAD)

    assert response.status_code == 200
    assert labels(response) == ["BARTHÉLÉMY Anouk"]
    body = text_of(response)
    assert reverse("pathways:detail", args=[mine.pk]) in body
    assert "Colleguedautre" not in body


def test_closed_pathways_leave_the_caseload(programme, team):
    [pathway] = caseload_of(programme, team["referent"], team["coordinator"], 1)
    reason = programme.list_items.get(kind="exit_reason", code="perte_contact")
    services.pathway_close(pathway=pathway, exit_reason=reason, closed_on=TODAY, by=team["referent"])

    assert client_for(team["referent"]).get(CASELOAD).context["rows"] == []


def test_overdue_reviews_are_flagged_counted_and_filterable(programme, team):
    late, soon, later = caseload_of(programme, team["referent"], team["coordinator"], 3)
    review_on(late, TODAY - datetime.timedelta(days=3))
    review_on(soon, TODAY + datetime.timedelta(days=5))
    review_on(later, TODAY + datetime.timedelta(days=60))
    client = client_for(team["referent"])

    everything = client.get(CASELOAD)
    overdue_only = client.get(CASELOAD, {"overdue": "on"})

    assert [row.pk for row in everything.context["rows"]] == [late.pk, soon.pk, later.pk]  # soonest first
    assert [row.overdue for row in everything.context["rows"]] == [True, False, False]
    assert [row.due_soon for row in everything.context["rows"]] == [False, True, False]
    assert "1 bilan est en retard." in text_of(everything)
    assert [row.pk for row in overdue_only.context["rows"]] == [late.pk]


def test_the_caseload_filters_by_state_and_searches_by_name_or_case_code(programme, team):
    first, second = caseload_of(programme, team["referent"], team["coordinator"], 2)
    first.child.first_name, first.child.last_name = "Éloïse", "D'Aubigné"
    first.child.save()
    consent_for(second, team["referent"])
    services.pathway_transition(pathway=second, to_state=PathwayState.DIAGNOSTIC, by=team["referent"])
    client = client_for(team["referent"])

    assert [r.pk for r in client.get(CASELOAD, {"state": "diagnostic"}).context["rows"]] == [second.pk]
    assert [r.pk for r in client.get(CASELOAD, {"q": "eloise d aubigne"}).context["rows"]] == [first.pk]
    assert [r.pk for r in client.get(CASELOAD, {"q": "Éloïse D'Aubigné"}).context["rows"]] == [first.pk]
    assert [r.pk for r in client.get(CASELOAD, {"q": second.case_code.lower()}).context["rows"]] == [
        second.pk
    ]
    empty = client.get(CASELOAD, {"q": "personne"})
    assert "Aucun de vos parcours ne correspond" in text_of(empty)


def test_each_row_of_the_caseload_is_journaled_once(programme, team):
    pathways = caseload_of(programme, team["referent"], team["coordinator"], 3)

    client_for(team["referent"]).get(CASELOAD)

    events = AuditEvent.objects.filter(verb="pathway.listed")
    assert sorted(int(e.target_id) for e in events) == sorted(p.pk for p in pathways)
    assert all(e.payload["identity"] is True for e in events)


def _queries(client, url, params=None) -> int:
    """Queries of one page, the journal's insert of the rows shown included (pages of at most 50 rows
    keep it to one INSERT, within SQLite's limit on query parameters)."""
    client.get(url, params or {})  # warm-up: one-off rows (the journal's chain head after a flush)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def test_the_caseload_takes_the_same_number_of_queries_for_5_or_200_pathways(programme, team):
    few_referent = team["referent"]
    many_referent = team["colleague"]
    for pathway in caseload_of(programme, few_referent, team["coordinator"], 5):
        review_on(pathway, TODAY - datetime.timedelta(days=1))
    for pathway in caseload_of(programme, many_referent, team["coordinator"], 200):
        review_on(pathway, TODAY - datetime.timedelta(days=1))

    few = _queries(client_for(few_referent), CASELOAD)
    many = _queries(client_for(many_referent), CASELOAD)
    overdue = _queries(client_for(many_referent), CASELOAD, {"overdue": "on"})

    assert few == many == overdue
    # Four visits (two of them warm-ups), one page of 50 rows journaled each time.
    assert AuditEvent.objects.filter(verb="pathway.listed", actor=many_referent).count() == 200


@pytest.mark.parametrize("role", [Role.EPS_MEMBER, Role.REFERRER, Role.PROVIDER, Role.STEERING, Role.MANAGER])
def test_the_caseload_is_only_for_referents_and_coordinators(programme, role):
    user = MembershipFactory(programme=programme, role=role).user

    assert client_for(user).get(CASELOAD).status_code == 404


# --- the programme's list ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.REFERENT, Role.EPS_MEMBER, Role.REFERRER, Role.STEERING, Role.DPO])
def test_the_programme_list_is_for_the_coordination_only(programme, team, role):
    caseload_of(programme, team["referent"], team["coordinator"], 1, last_name="Listedeprogramme")
    user = MembershipFactory(programme=programme, role=role).user

    response = client_for(user).get(LIST)

    assert response.status_code == 404
    assert "Listedeprogramme" not in text_of(response)


def test_the_coordinator_sees_every_open_pathway_of_the_programme_and_not_of_others(programme, team):
    caseload_of(programme, team["referent"], team["coordinator"], 2)
    caseload_of(programme, team["colleague"], team["coordinator"], 1)
    caseload_of(programme, None, team["coordinator"], 1)
    elsewhere = programme_with_lists()
    caseload_of(elsewhere, None, MembershipFactory(programme=elsewhere).user, 1, last_name="Dailleurs")

    response = client_for(team["coordinator"]).get(LIST)

    assert response.context["page_obj"].paginator.count == 4
    assert "dailleurs" not in text_of(response).lower()
    assert "à désigner" in text_of(response)  # the pathway without a référent says so


def test_the_coordinator_filters_by_referent_state_and_overdue(programme, team):
    mine = caseload_of(programme, team["referent"], team["coordinator"], 2)
    theirs = caseload_of(programme, team["colleague"], team["coordinator"], 1)
    review_on(theirs[0], TODAY - datetime.timedelta(days=10))
    reason = programme.list_items.get(kind="exit_reason", code="perte_contact")
    services.pathway_close(pathway=mine[1], exit_reason=reason, closed_on=TODAY, by=team["coordinator"])
    client = client_for(team["coordinator"])

    def pks(**params):
        return sorted(row.pk for row in client.get(LIST, params).context["rows"])

    assert pks(referent=team["referent"].pk) == [mine[0].pk]
    assert pks(referent=team["referent"].pk, state="all") == sorted([mine[0].pk, mine[1].pk])
    assert pks(state="closed") == [mine[1].pk]
    assert pks(overdue="on") == [theirs[0].pk]


def test_the_list_is_paginated_and_keeps_its_filters(programme, team):
    caseload_of(programme, team["referent"], team["coordinator"], 30)
    client = client_for(team["coordinator"])

    first = client.get(LIST, {"referent": team["referent"].pk})
    second = client.get(LIST, {"referent": team["referent"].pk, "page": 2})

    assert len(first.context["rows"]) == 25
    assert len(second.context["rows"]) == 5
    assert f"referent={team['referent'].pk}" in text_of(first)
    assert AuditEvent.objects.filter(verb="pathway.listed").count() == 30  # the rows shown, no more


def test_the_list_takes_the_same_number_of_queries_for_5_or_200_pathways(programme, team):
    other = programme_with_lists()
    other_coordinator = MembershipFactory(programme=other, role=Role.COORDINATOR).user
    caseload_of(programme, team["referent"], team["coordinator"], 5)
    caseload_of(other, None, other_coordinator, 200)

    few = _queries(client_for(team["coordinator"]), LIST)
    many = _queries(client_for(other_coordinator), LIST)
    many_overdue = _queries(client_for(other_coordinator), LIST, {"overdue": "on", "q": "a"})

    assert few == many
    assert many_overdue <= many


# --- reminders for the home page -----------------------------------------------------------------


def test_reminders_count_overdue_and_soon_due_reviews_and_show_the_first_five(programme, team):
    pathways = caseload_of(programme, team["referent"], team["coordinator"], 9)
    for n, pathway in enumerate(pathways[:7]):
        review_on(pathway, TODAY - datetime.timedelta(days=n + 1))
    review_on(pathways[7], TODAY + datetime.timedelta(days=3))
    review_on(pathways[8], TODAY + datetime.timedelta(days=30))

    reminders = reminders_for(team["referent"], programme=programme)

    assert reminders["overdue_count"] == 7
    assert len(reminders["overdue"]) == 5
    assert reminders["overdue"][0].pk == pathways[6].pk  # the most overdue first
    assert reminders["due_soon_count"] == 1
    assert [r.pk for r in reminders["due_soon"]] == [pathways[7].pk]
    assert reminders["overdue"][0].url == reverse("pathways:detail", args=[pathways[6].pk])
    assert reminders["overdue"][0].identity is True


def test_a_coordinator_is_reminded_of_the_whole_programme_a_referent_of_their_own(programme, team):
    mine = caseload_of(programme, team["referent"], team["coordinator"], 1)
    theirs = caseload_of(programme, team["colleague"], team["coordinator"], 1)
    for pathway in mine + theirs:
        review_on(pathway, TODAY - datetime.timedelta(days=1))

    assert reminders_for(team["referent"])["overdue_count"] == 1
    assert reminders_for(team["coordinator"])["overdue_count"] == 2
    assert (
        reminders_for(MembershipFactory(programme=programme, role=Role.STEERING).user)["overdue_count"] == 0
    )


# --- the child page and the menu -----------------------------------------------------------------


def test_the_child_page_lists_the_childs_pathways(programme, team):
    child = ChildFactory(programme=programme)
    first = open_pathway(programme=programme, referent=team["referent"], by=team["coordinator"], child=child)
    reason = programme.list_items.get(kind="exit_reason", code="perte_contact")
    first = services.pathway_close(pathway=first, exit_reason=reason, closed_on=TODAY, by=team["coordinator"])
    second = services.pathway_reopen(pathway=first, by=team["coordinator"], referent=team["referent"])

    body = text_of(client_for(team["coordinator"]).get(reverse("people:child", args=[child.pk])))

    for pathway in (first, second):
        assert reverse("pathways:detail", args=[pathway.pk]) in body
        assert pathway.case_code in body
    assert "Clôturé" in body and "Premier contact" in body


@pytest.mark.parametrize(
    ("role", "entry", "url"),
    [(Role.REFERENT, "Mes parcours", CASELOAD), (Role.COORDINATOR, "Parcours", LIST)],
)
def test_the_menu_leads_each_role_to_its_pathways(programme, role, entry, url):
    user = MembershipFactory(programme=programme, role=role).user

    menu = client_for(user).get(reverse("home")).context["navigation"]

    assert {"label": entry, "url": url} in [{"label": str(i["label"]), "url": i["url"]} for i in menu]


def test_the_reminders_block_renders_names_and_links(programme, team):
    from django.template.loader import render_to_string

    [pathway] = caseload_of(programme, team["referent"], team["coordinator"], 1, last_name="Rappelée")
    review_on(pathway, TODAY - datetime.timedelta(days=2))

    html = render_to_string("pathways/_reminders.html", {"reminders": reminders_for(team["referent"])})

    assert "1 bilan en retard" in html
    assert "RAPPELÉE" in html
    assert reverse("pathways:detail", args=[pathway.pk]) in html
