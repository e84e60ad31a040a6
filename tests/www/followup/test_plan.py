"""The plan: objectives by dimension, their state, and the actions that serve them."""

import datetime
from decimal import Decimal

import pytest

from maillage.audit.models import AuditEvent
from maillage.pathways import services
from maillage.pathways.enums import ActionKind, ObjectiveStatus
from maillage.pathways.models import Objective, PlanAction
from tests.factories import OrganisationFactory, open_pathway
from tests.www.followup.conftest import TODAY, detail, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def objective(world):
    return services.objective_add(
        pathway=world.pathway, dimension="school", wording="Lire couramment", by=world.referent.user
    )


@pytest.mark.parametrize("who", ["coordinator", "referent"])
def test_an_objective_is_added_to_the_plan(world, who):
    response = world.client(who).post(
        url("objective_add", world.pathway),
        {"dimension": "school", "wording": "Lire seul un album", "target_date": "2027-06-30"},
    )

    assert response.status_code == 302
    assert response["Location"] == detail(world.pathway, "plan")
    objective = Objective.objects.get()
    assert (objective.pathway, objective.dimension, objective.wording) == (
        world.pathway,
        "school",
        "Lire seul un album",
    )
    assert objective.target_date == datetime.date(2027, 6, 30)
    assert objective.status == ObjectiveStatus.OPEN
    assert AuditEvent.objects.filter(verb="objective.added").latest("pk").actor == getattr(world, who).user


def test_the_dimension_can_be_chosen_from_the_link(world):
    page = (
        world.client("referent")
        .get(url("objective_add", world.pathway) + "?dimension=cultural")
        .content.decode()
    )

    assert '<option value="cultural" selected>' in page


def test_an_objective_needs_a_dimension_and_a_wording(world):
    response = world.client("referent").post(
        url("objective_add", world.pathway), {"dimension": "", "wording": ""}
    )

    page = response.content.decode()
    assert "Choisissez la dimension de l&#x27;objectif." in page
    assert "Écrivez l&#x27;objectif." in page
    assert 'href="#id_dimension"' in page
    assert not Objective.objects.exists()


def test_the_state_of_an_objective_changes_and_is_journaled(world, objective):
    page = world.client("referent").get(url("objective_status", world.pathway, objective.pk)).content.decode()
    assert "Lire couramment" in page

    response = world.client("referent").post(
        url("objective_status", world.pathway, objective.pk), {"status": "partly"}
    )

    assert response.status_code == 302
    objective.refresh_from_db()
    assert objective.status == ObjectiveStatus.PARTLY
    event = AuditEvent.objects.filter(verb="objective.status_changed").latest("pk")
    assert event.payload == {"objective": objective.pk, "status": "partly"}


def test_an_unchanged_state_writes_nothing(world, objective):
    before = AuditEvent.objects.filter(verb="objective.status_changed").count()

    world.client("referent").post(url("objective_status", world.pathway, objective.pk), {"status": "open"})

    assert AuditEvent.objects.filter(verb="objective.status_changed").count() == before


def test_an_objective_of_another_pathway_is_a_404(world, objective):
    other = open_pathway(
        programme=world.pathway.programme, referent=world.referent.user, by=world.coordinator.user
    )

    response = world.client("coordinator").post(
        url("objective_status", other, objective.pk), {"status": "reached"}
    )

    assert response.status_code == 404
    objective.refresh_from_db()
    assert objective.status == ObjectiveStatus.OPEN


def test_a_plan_action_is_added_with_its_provider_dates_cost_and_funding(world, objective):
    club = OrganisationFactory(programme=world.pathway.programme, name="Club de lecture du quartier")

    response = world.client("referent").post(
        url("action_add", world.pathway),
        {
            "objective": objective.pk,
            "kind": "collective",
            "title": "Atelier lecture",
            "provider": club.pk,
            "starts_on": "2026-09-01",
            "ends_on": "2027-06-30",
            "frequency": "Une heure par semaine",
            "cost": "150,50",
            "funding_line": "Crédits État (ANCT)",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == detail(world.pathway, "plan")
    action = PlanAction.objects.get()
    assert action.objective == objective
    assert action.kind == ActionKind.COLLECTIVE
    assert action.provider == club
    assert action.cost == Decimal("150.50")
    assert action.funding_line == "Crédits État (ANCT)"
    assert (action.starts_on, action.ends_on) == (datetime.date(2026, 9, 1), datetime.date(2027, 6, 30))
    assert AuditEvent.objects.filter(verb="plan_action.added").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cost": "-10"}, "Le coût ne peut pas être négatif."),
        ({"starts_on": "2027-01-10", "ends_on": "2026-12-01"}, "La fin ne peut pas précéder le début."),
        ({"title": ""}, "Nommez l&#x27;action."),
    ],
)
def test_a_plan_action_with_wrong_values_is_refused(world, data, message):
    response = world.client("referent").post(
        url("action_add", world.pathway), {"kind": "individual", "title": "Soutien scolaire", **data}
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PlanAction.objects.exists()


def test_only_partners_and_objectives_of_this_programme_and_pathway_are_offered(world, objective):
    elsewhere = OrganisationFactory(name="Intervenant lointain")
    other = open_pathway(programme=world.pathway.programme, by=world.coordinator.user)
    foreign_objective = services.objective_add(
        pathway=other, dimension="school", wording="Objectif d'un autre enfant", by=world.coordinator.user
    )

    page = world.client("referent").get(url("action_add", world.pathway)).content.decode()
    assert "Intervenant lointain" not in page
    assert "Objectif d&#x27;un autre enfant" not in page
    for data in ({"provider": elsewhere.pk}, {"objective": foreign_objective.pk}):
        response = world.client("referent").post(
            url("action_add", world.pathway), {"kind": "individual", "title": "Soutien", **data}
        )
        assert response.status_code == 200
    assert not PlanAction.objects.exists()


def test_dates_of_the_plan_may_be_in_the_future(world):
    later = (TODAY + datetime.timedelta(days=90)).isoformat()

    world.client("referent").post(
        url("objective_add", world.pathway), {"dimension": "school", "wording": "Lire", "target_date": later}
    )

    assert Objective.objects.get().target_date.isoformat() == later
