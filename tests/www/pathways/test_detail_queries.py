"""The pathway page runs a small, constant number of queries, whoever reads it and however full it is.

Issue 12: the page ran 114 queries as its référent (memberships read again by every predicate, every
item query embedding the whole scope three times). The readable circles are now decided once per
pathway and request, and the memberships read once per request.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from maillage.governance.models import AgendaItem, Decision
from maillage.pathways import services
from maillage.pathways.enums import HEALTH_DIMENSIONS, ActionKind, Circle, ContactKind, Dimension, ReviewKind
from tests.www.pathways.conftest import TODAY, client_for

pytestmark = pytest.mark.django_db

MAX_QUERIES = 30
READERS = ["referent", "coordinator", "teacher", "eps_social_worker", "eps_teacher"]
DIMENSIONS = [d for d in Dimension if d not in HEALTH_DIMENSIONS]


def _fill(journey, start: int, stop: int) -> None:
    """Items of every kind in every circle, numbered ``start`` to ``stop - 1``, and EPS decisions."""
    pathway, user = journey.pathway, journey.referent.user
    agenda_item = AgendaItem.objects.filter(pathway=pathway).first()
    for n in range(start, stop):
        for circle in (Circle.TEAM, Circle.SECRET, Circle.PARTNERS):
            services.note_add(pathway=pathway, body=f"Note {n}", by=user, circle=circle)
            services.contact_add(
                pathway=pathway,
                by=user,
                kind=ContactKind.PHONE,
                occurred_on=TODAY,
                summary=f"Appel {n}",
                circle=circle,
            )
            objective = services.objective_add(
                pathway=pathway, dimension=Dimension.FAMILY, wording=f"Objectif {n}", by=user, circle=circle
            )
            services.plan_action_add(
                pathway=pathway,
                title=f"Action {n}",
                by=user,
                objective=objective,
                kind=ActionKind.INDIVIDUAL,
                circle=circle,
            )
            ratings = {o.pk: ("partly", "") for o in pathway.objectives.all()}
            services.review_add(
                pathway=pathway,
                kind=ReviewKind.INTERMEDIATE,
                held_on=TODAY,
                by=user,
                ratings=ratings,
                circle=circle,
            )
            Decision.objects.create(
                agenda_item=agenda_item, text=f"Décision {n}", decided_by=user, circle=circle
            )
        services.diagnostic_section_save(
            pathway=pathway,
            dimension=DIMENSIONS[n % len(DIMENSIONS)],
            by=user,
            difficulties=f"Section {n}",
            circle=Circle.PARTNERS,
        )


def _queries(user, pathway) -> int:
    client = client_for(user)
    url = reverse("pathways:detail", args=[pathway.pk])
    # The first visit records it: the measured one also lists what changed since (governance).
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", READERS)
def test_the_pathway_page_stays_within_thirty_queries_and_does_not_grow_with_its_items(journey, who):
    user = getattr(journey, who).user
    _fill(journey, 0, 2)
    few = _queries(user, journey.pathway)

    _fill(journey, 2, 10)
    many = _queries(user, journey.pathway)

    assert many == few, f"{who}: {few} queries with 2 items of each kind, {many} with 10"
    assert many <= MAX_QUERIES, f"{who}: {many} queries"
