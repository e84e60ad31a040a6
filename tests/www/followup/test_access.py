"""Who reaches each form of a pathway: the same 404 for "not allowed" as for "does not exist"."""

import pytest

from maillage import permissions as perms
from maillage.audit.models import AuditEvent
from maillage.pathways.models import Consent, Contact, DiagnosticSection, Note, Objective, PlanAction, Review
from tests.www.followup.conftest import ROLES, url

pytestmark = pytest.mark.django_db

CONSENT_FORMS = {"consent_add", "consent_withdraw"}
PLAN_FORMS = {"objective_add", "objective_status", "action_add"}
ITEM_FORMS = {"diagnostic_edit", "contact_add", "note_add", "review_add"}
ALL_FORMS = sorted(CONSENT_FORMS | PLAN_FORMS | ITEM_FORMS)

ALLOWED = {
    "coordinator": set(ALL_FORMS),
    "referent": set(ALL_FORMS),
    # A teacher added to the case team writes follow-up items, never consents nor the plan.
    "teacher": ITEM_FORMS,
    "eps": set(),  # reads during the EPS window, writes nothing
    "referrer": set(),
    "provider": set(),
    "outsider": set(),
}

WRITTEN = [Consent, DiagnosticSection, Objective, PlanAction, Contact, Note, Review]


def _form_url(world, name):
    if name in {"consent_withdraw"}:
        return url(name, world.pathway, world.consent.pk)
    if name == "objective_status":
        objective = Objective.objects.filter(pathway=world.pathway).first()
        return url(name, world.pathway, objective.pk)
    if name == "diagnostic_edit":
        return url(name, world.pathway, "school")
    return url(name, world.pathway)


@pytest.fixture
def with_objective(world):
    from maillage.pathways import services

    services.objective_add(
        pathway=world.pathway, dimension="school", wording="Lire couramment", by=world.referent.user
    )
    return world


def test_the_eps_member_in_the_access_window_does_see_the_pathway(world):
    # Otherwise the 404s below would prove nothing about writing.
    assert perms.pathways_visible_to(world.eps.user).filter(pk=world.pathway.pk).exists()
    assert perms.pathways_visible_to(world.teacher.user).filter(pk=world.pathway.pk).exists()


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("name", ALL_FORMS)
def test_each_form_opens_only_for_those_who_may_write_it(with_objective, who, name):
    world = with_objective
    response = world.client(who).get(_form_url(world, name))

    expected = 200 if name in ALLOWED[who] else 404
    assert response.status_code == expected, f"{who} on {name}"
    if expected == 404:
        child = world.pathway.child
        assert f"{child.first_name} {child.last_name}" not in response.content.decode()
        assert world.pathway.case_code not in response.content.decode()


FORBIDDEN = [(who, name) for who in ROLES for name in ALL_FORMS if name not in ALLOWED[who]]


@pytest.mark.parametrize(("who", "name"), FORBIDDEN)
def test_a_forbidden_post_is_a_404_and_writes_nothing(with_objective, who, name):
    world = with_objective
    counts = {model: model.objects.count() for model in WRITTEN}
    data = {
        "guardian": world.guardian.pk,
        "given_on": "2025-01-10",
        "care": "on",
        "withdrawn_on": "2025-01-11",
        "dimension": "school",
        "wording": "Objectif glissé",
        "status": "reached",
        "title": "Action glissée",
        "kind": "individual",
    }

    response = world.client(who).post(_form_url(world, name), data)

    assert response.status_code == 404
    assert {model: model.objects.count() for model in WRITTEN} == counts
    world.consent.refresh_from_db()
    assert world.consent.withdrawn_on is None
    assert Objective.objects.get(pathway=world.pathway).status == "open"


@pytest.mark.parametrize("name", ALL_FORMS)
def test_opening_a_form_is_journaled_as_a_read_of_the_childs_file(with_objective, name):
    world = with_objective
    before = AuditEvent.objects.count()

    world.client("referent").get(_form_url(world, name))

    event = AuditEvent.objects.order_by("pk").last()
    assert AuditEvent.objects.count() == before + 1
    assert event.actor == world.referent.user
    assert event.target_type == "pathways.pathway"
    assert event.target_id == str(world.pathway.pk)
    assert event.membership == world.referent
    assert event.payload["identity"] is True


def test_every_view_of_the_area_is_classified_for_the_journal():
    from django.urls import get_resolver

    resolver = get_resolver()
    patterns = resolver.namespace_dict["followup"][1].url_patterns
    assert patterns
    for pattern in patterns:
        assert getattr(pattern.callback, "sensitivity", None) == "nominative", pattern.name


def test_forms_of_a_closed_pathway_are_closed_to_everyone(with_objective):
    from maillage.pathways import services
    from maillage.programmes.models import ListItem

    world = with_objective
    reason = ListItem.objects.get(programme=world.pathway.programme, code="refus_famille")
    services.pathway_close(
        pathway=world.pathway,
        exit_reason=reason,
        closed_on=world.pathway.opened_on,
        by=world.coordinator.user,
    )
    for name in ALL_FORMS:
        assert world.client("coordinator").get(_form_url(world, name)).status_code == 404, name
