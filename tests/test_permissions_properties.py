"""Properties of the policy over random users: secrecy and programme isolation hold whatever the mix."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maillage import permissions as perms
from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, BodyMember, Meeting
from maillage.pathways.enums import Circle, Dimension
from maillage.pathways.models import CaseTeamMember, Consent, DiagnosticSection, Note, Pathway
from maillage.programmes.enums import OrganisationKind, Role
from tests.factories import (
    GuardianFactory,
    MembershipFactory,
    OrganisationFactory,
    open_pathway,
    programme_with_lists,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two programmes, each with a pathway holding secret, partners and team items."""
    programmes = []
    for _ in range(2):
        programme = programme_with_lists()
        coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR).user
        organisations = [
            OrganisationFactory(programme=programme, kind=k)
            for k in (OrganisationKind.CD_SOCIAL, OrganisationKind.SCHOOL)
        ]
        pathway = open_pathway(programme=programme, by=coordinator)
        guardian = pathway.child.household.guardians.first() or GuardianFactory(
            household=pathway.child.household
        )
        consent = Consent.objects.create(
            pathway=pathway, guardian=guardian, given_on=timezone.localdate(), recorded_by=coordinator
        )
        consent.shared_with.add(organisations[0])
        for circle in Circle.values:
            Note.objects.create(pathway=pathway, author=coordinator, circle=circle, body=f"note {circle}")
            DiagnosticSection.objects.create(
                pathway=pathway,
                author=coordinator,
                circle=circle,
                dimension=Dimension.FAMILY,
                facts=f"faits {circle}",
            )
        body = Body.objects.create(programme=programme, kind=BodyKind.EPS, name="EPS")
        now = timezone.now()
        meeting = Meeting.objects.create(
            body=body,
            starts_at=now,
            agenda_published_at=now - datetime.timedelta(days=3),
            access_ends_at=now + datetime.timedelta(days=30),
        )
        AgendaItem.objects.create(meeting=meeting, pathway=pathway)
        programmes.append((programme, pathway, organisations, body, consent))
    return programmes


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    role=st.sampled_from(Role.values),
    bound=st.booleans(),
    refuses=st.booleans(),
    signed=st.booleans(),
    covered=st.booleans(),
    in_team=st.booleans(),
    in_eps=st.booleans(),
    is_referent=st.booleans(),
    consent_in_force=st.booleans(),
    home=st.sampled_from([0, 1]),
)
def test_secret_items_reach_only_the_bound_and_nothing_crosses_programmes(
    world, role, bound, refuses, signed, covered, in_team, in_eps, is_referent, consent_in_force, home
):
    programme, pathway, organisations, body, consent = world[home]
    with transaction.atomic():
        membership = MembershipFactory(
            programme=programme,
            role=role,
            organisation=organisations[0 if covered else 1],
            bound_by_secrecy=bound,
            refuses_shared_secret=refuses,
            signed_charter=signed,
        )
        user = membership.user
        if in_team:
            CaseTeamMember.objects.create(
                pathway=pathway, membership=membership, reason="Suivi", added_by=user
            )
        if in_eps:
            BodyMember.objects.create(body=body, membership=membership)
        if is_referent:
            Pathway.objects.filter(pk=pathway.pk).update(referent=user)
        if not consent_in_force:
            Consent.objects.filter(pk=consent.pk).update(withdrawn_on=timezone.localdate())

        other_pathway = world[1 - home][1]
        assert not perms.pathways_visible_to(user).filter(pk=other_pathway.pk).exists()
        assert not perms.children_visible_to(user).filter(pk=other_pathway.child_id).exists()
        for model in (Note, DiagnosticSection):
            readable = perms.items_readable_by(user, model)
            assert not readable.filter(pathway=other_pathway).exists()
            secret_seen = readable.filter(pathway=pathway, circle=Circle.SECRET).exists()
            if secret_seen:
                # Only the bound (CASF L.226-2-2): the coordinator, the pathway's référent(s), or a
                # member whose organisation the family's consent in force covers.
                assert signed and bound and not refuses, (role, bound, refuses, signed)
                assert (
                    role == Role.COORDINATOR
                    or (role == Role.REFERENT and (is_referent or (in_team and consent_in_force)))
                    or (covered and consent_in_force)
                ), (role, covered, consent_in_force, is_referent, in_team)
            if not signed:
                assert not readable.exists()
        if not bound:
            assert not perms.items_readable_by(user, Note).filter(circle=Circle.SECRET).exists()
            if role not in {Role.COORDINATOR, Role.REFERENT}:
                assert not perms.children_visible_to(user).exists()
        transaction.set_rollback(True)
