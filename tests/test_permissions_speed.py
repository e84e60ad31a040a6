"""The shape that keeps the policy fast: scopes bounded by the user's programmes, facts read once per request,
and never a stale answer outside a request (issue 12)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from maillage import permissions as perms
from maillage.core import request_cache
from maillage.pathways.enums import Circle
from maillage.pathways.models import Note
from maillage.programmes.enums import Role
from maillage.programmes.models import Membership
from tests.factories import MembershipFactory, open_pathway, programme_with_lists

pytestmark = pytest.mark.django_db


@pytest.fixture
def referent_world():
    programme = programme_with_lists()
    referent = MembershipFactory(programme=programme, role=Role.REFERENT)
    pathway = open_pathway(programme=programme, referent=referent.user)
    Note.objects.create(pathway=pathway, author=referent.user, circle=Circle.TEAM, body="note")
    return referent, pathway


def _where(queryset) -> str:
    return str(queryset.query).split(" WHERE ", 1)[1]


def test_every_pathway_scope_is_bounded_first_by_the_users_programmes(referent_world):
    referent, _pathway = referent_world
    user = referent.user
    bound = f'"pathways_pathway"."programme_id" IN ({referent.programme_id})'

    assert _where(perms.pathways_visible_to(user)).startswith(f"({bound}")
    assert _where(perms.items_readable_by(user, Note)).startswith(f"({bound}")
    assert _where(perms.consents_visible_to(user)).startswith(f"({bound}")


def test_no_arm_is_a_correlated_exists_on_the_pathway(referent_world):
    referent, _pathway = referent_world
    sql = str(perms.pathways_visible_to(referent.user).query)

    # The case team arm is an uncorrelated ``id IN (SELECT pathway_id …)``.
    assert '"pathways_pathway"."id" IN (SELECT' in sql
    assert '= ("pathways_pathway"."id")' not in sql


def test_outside_a_request_nothing_is_cached(referent_world):
    referent, pathway = referent_world
    user = referent.user
    assert perms.sees_pathway(user, pathway)

    Membership.objects.filter(pk=referent.pk).update(
        ends_on=timezone.localdate() - timezone.timedelta(days=1)
    )

    assert not perms.sees_pathway(user, pathway)
    assert not perms.items_readable_on(user, pathway, Note).exists()


def test_inside_a_request_memberships_and_decisions_are_read_once(referent_world):
    referent, pathway = referent_world
    user = referent.user
    with request_cache.request_scope():
        perms.readable_circles(user, pathway)
        with CaptureQueriesContext(connection) as queries:
            for _ in range(3):
                perms.readable_circles(user, pathway)
                perms.can_edit_pathway(user, pathway)
                perms.identity_visible(user, pathway)
                perms.has_role(user, referent.programme, Role.REFERENT)
                perms.can_break_glass(user, referent.programme)
        assert len(queries) == 0


def test_inside_a_request_saving_a_membership_forgets_what_was_read(referent_world):
    referent, pathway = referent_world
    user = referent.user
    with request_cache.request_scope():
        assert perms.sees_pathway(user, pathway)

        referent.ends_on = timezone.localdate() - timezone.timedelta(days=1)
        referent.save(update_fields=["ends_on"])

        assert not perms.sees_pathway(user, pathway)
        assert perms.held_memberships(user) == ()
