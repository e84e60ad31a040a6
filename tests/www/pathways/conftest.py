"""A pathway with its people around it, built through the services like in real life."""

import datetime
import html
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, BodyMember, Meeting
from maillage.pathways import services
from maillage.pathways.enums import Circle, Dimension, PathwayState
from maillage.programmes.enums import OrganisationKind, Role
from tests.factories import (
    ChildFactory,
    GuardianFactory,
    MembershipFactory,
    OrganisationFactory,
    open_pathway,
    programme_with_lists,
)

TODAY = timezone.localdate()

# Text that only some people may read: each must be absent from a response where it is not allowed.
CHILD_NAME = "Sentinelle-Quatremare"
CHILD_FIRST_NAME = "Philomène"
GUARDIAN_NAME = "Parentinelle-Ducasse"
TEAM_NOTE = "Note-équipe: la mère évoque une dette de loyer"
SECRET_NOTE = "Note-secret: suivi au CMP pour anxiété"
PARTNERS_NOTE = "Note-partenaires: vient à l'aide aux devoirs le mardi"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def programme():
    return programme_with_lists(name="PRE de Villeneuve-sur-Démo")


def eps_window(programme, pathway, membership, *, open_window: bool = True):
    """An EPS whose meeting lists the pathway; the window is open now, or ended yesterday.

    The two kinds of window belong to two different EPS, so that a member of the second one has no
    other meeting that would open the pathway to them.
    """
    now = timezone.now()
    name = "EPS du Centre" if open_window else "EPS du Nord"
    body, _created = Body.objects.get_or_create(programme=programme, kind=BodyKind.EPS, name=name)
    BodyMember.objects.get_or_create(body=body, membership=membership)
    meeting = Meeting.objects.create(
        body=body,
        starts_at=now - datetime.timedelta(days=2 if open_window else 40),
        agenda_published_at=now - datetime.timedelta(days=9 if open_window else 50),
        access_ends_at=now + datetime.timedelta(days=28) if open_window else now - datetime.timedelta(days=1),
    )
    AgendaItem.objects.create(meeting=meeting, pathway=pathway, title="Situation")
    return meeting


def consent_for(pathway, by, *, shared_with=()):
    guardian = pathway.child.household.guardians.filter(has_parental_authority=True).first()
    return services.consent_record(
        pathway=pathway, guardian=guardian, given_on=TODAY, by=by, shared_with=list(shared_with)
    )


@pytest.fixture
def journey(programme):
    """A pathway in diagnosis with a consent, notes in each circle, and every kind of neighbour."""
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    referent = MembershipFactory(programme=programme, role=Role.REFERENT)
    school = OrganisationFactory(programme=programme, kind=OrganisationKind.SCHOOL, name="École Jean Macé")
    social = OrganisationFactory(
        programme=programme, kind=OrganisationKind.CD_SOCIAL, name="Service social départemental"
    )
    child = ChildFactory(programme=programme, first_name=CHILD_FIRST_NAME, last_name=CHILD_NAME)
    GuardianFactory(household=child.household, last_name=GUARDIAN_NAME)
    pathway = open_pathway(programme=programme, referent=referent.user, by=coordinator.user, child=child)
    consent_for(pathway, referent.user, shared_with=[social])
    pathway = services.pathway_transition(pathway=pathway, to_state=PathwayState.DIAGNOSTIC, by=referent.user)
    for body, circle in (
        (TEAM_NOTE, Circle.TEAM),
        (SECRET_NOTE, Circle.SECRET),
        (PARTNERS_NOTE, Circle.PARTNERS),
    ):
        services.note_add(pathway=pathway, body=body, by=referent.user, circle=circle)
    services.diagnostic_section_save(
        pathway=pathway,
        dimension=Dimension.SCHOOL,
        by=referent.user,
        circle=Circle.PARTNERS,
        difficulties="Difficultés en lecture",
    )
    services.objective_add(
        pathway=pathway, dimension=Dimension.SCHOOL, wording="Lire un album seul", by=referent.user
    )

    # Neighbours: people who have, or do not have, a relation to this pathway.
    teacher = MembershipFactory(programme=programme, role=Role.EPS_MEMBER, organisation=school)
    services.case_team_add(
        pathway=pathway, membership=teacher, reason="Enseignante de la classe", by=referent.user
    )
    eps_teacher = MembershipFactory(programme=programme, role=Role.EPS_MEMBER, organisation=school)
    eps_window(programme, pathway, eps_teacher)
    eps_social_worker = MembershipFactory(
        programme=programme, role=Role.EPS_MEMBER, organisation=social, bound_by_secrecy=True
    )
    eps_window(programme, pathway, eps_social_worker)
    # Bound by secrecy, but from an organisation the family's consent does not cover; sits in the same
    # EPS as the social worker whose organisation it covers.
    eps_uncovered = MembershipFactory(
        programme=programme, role=Role.EPS_MEMBER, organisation=school, bound_by_secrecy=True
    )
    eps_window(programme, pathway, eps_uncovered)
    eps_past = MembershipFactory(
        programme=programme, role=Role.EPS_MEMBER, organisation=social, bound_by_secrecy=True
    )
    eps_window(programme, pathway, eps_past, open_window=False)

    other_referent = MembershipFactory(programme=programme, role=Role.REFERENT)
    open_pathway(programme=programme, referent=other_referent.user, by=coordinator.user)

    # A second pathway without any consent, where the teacher is in the case team too.
    unconsented = open_pathway(programme=programme, referent=referent.user, by=coordinator.user)
    services.case_team_add(pathway=unconsented, membership=teacher, reason="Enseignante", by=referent.user)

    return SimpleNamespace(
        programme=programme,
        pathway=pathway,
        unconsented=unconsented,
        child=child,
        coordinator=coordinator,
        referent=referent,
        other_referent=other_referent,
        teacher=teacher,
        eps_teacher=eps_teacher,
        eps_social_worker=eps_social_worker,
        eps_uncovered=eps_uncovered,
        eps_past=eps_past,
        school=school,
        social=social,
    )
