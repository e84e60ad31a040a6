"""Builders for the partnership's tests: bodies, EPS meetings with situations, committees."""

import datetime

from django.utils import timezone

from maillage.governance import services
from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, BodyMember, Decision, Meeting, MissionSheet
from maillage.pathways import services as journey
from maillage.pathways.enums import Dimension, PathwayState
from maillage.programmes.enums import OrganisationKind, Role
from tests.factories import ChildFactory, MembershipFactory, OrganisationFactory, open_pathway


def eps_pathway(
    programme, *, coordinator, referent=None, organisation=None, child=None, state=PathwayState.EPS_REVIEW
):
    """A pathway in ``eps_review`` (consent sharing with ``organisation``, one objective, a référent)."""
    referent = referent or coordinator
    pathway = open_pathway(programme=programme, by=coordinator, referent=referent, child=child)
    guardian = pathway.child.household.guardians.first()
    journey.consent_record(
        pathway=pathway,
        guardian=guardian,
        given_on=timezone.localdate(),
        by=coordinator,
        shared_with=[organisation] if organisation else [],
    )
    if state in (PathwayState.DIAGNOSTIC, PathwayState.EPS_REVIEW):
        pathway = journey.pathway_transition(
            pathway=pathway, to_state=PathwayState.DIAGNOSTIC, by=coordinator
        )
    if state == PathwayState.EPS_REVIEW:
        journey.objective_add(
            pathway=pathway,
            dimension=Dimension.SCHOOL,
            wording="Reprendre confiance en lecture",
            by=coordinator,
        )
        pathway = journey.pathway_transition(
            pathway=pathway, to_state=PathwayState.EPS_REVIEW, by=coordinator
        )
    return pathway


def eps_body(programme, *, members=(), name="EPS Nord") -> Body:
    body = Body.objects.create(programme=programme, kind=BodyKind.EPS, name=name, meetings_per_year=10)
    for membership in members:
        BodyMember.objects.create(body=body, membership=membership)
    return body


def eps_meeting(body, *, days_from_now=7, published=True, by=None) -> Meeting:
    starts_at = timezone.now() + datetime.timedelta(days=days_from_now)
    by = by or MembershipFactory(programme=body.programme, role=Role.COORDINATOR).user
    return services.meeting_schedule(
        body=body, starts_at=starts_at, by=by, place="Salle 1", publish=published
    )


def eps_world(programme, *, child=None):
    """An EPS with a coordinator, a bound social worker and an unbound teacher; a situation on the agenda."""
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    social = OrganisationFactory(programme=programme, kind=OrganisationKind.CD_SOCIAL)
    school = OrganisationFactory(programme=programme, kind=OrganisationKind.SCHOOL)
    bound = MembershipFactory(
        programme=programme, role=Role.EPS_MEMBER, organisation=social, bound_by_secrecy=True
    )
    teacher = MembershipFactory(
        programme=programme, role=Role.EPS_MEMBER, organisation=school, bound_by_secrecy=False
    )
    body = eps_body(programme, members=[coordinator, bound, teacher])
    pathway = eps_pathway(programme, coordinator=coordinator.user, organisation=social, child=child)
    meeting = eps_meeting(body, by=coordinator.user)
    item = services.agenda_item_add(meeting=meeting, pathway=pathway, title="Situation", by=coordinator.user)
    return {
        "coordinator": coordinator,
        "bound": bound,
        "teacher": teacher,
        "body": body,
        "pathway": pathway,
        "meeting": meeting,
        "item": item,
    }


def committee(programme, *, kind=BodyKind.STEERING_COMMITTEE, name="Comité de pilotage", per_year=2) -> Body:
    return Body.objects.create(programme=programme, kind=kind, name=name, meetings_per_year=per_year)


def committee_meeting(body, *, at=None, by=None) -> Meeting:
    by = by or MembershipFactory(programme=body.programme, role=Role.COORDINATOR).user
    return services.meeting_schedule(
        body=body, starts_at=at or timezone.now() - datetime.timedelta(days=3), by=by, place="Mairie"
    )


def mission_sheet(programme, *, by, title="Agent de développement local") -> MissionSheet:
    sheet = services.mission_sheet_create(programme=programme, title=title, body="Anime le réseau.", by=by)
    services.mission_sheet_revise(sheet=sheet, body="Anime le réseau.\nPrépare les EPS.", by=by, note="Ajout")
    return sheet


def held(meeting, *, hours_ago: int = 2) -> Meeting:
    """The meeting took place (``hours_ago``): an EPS decision may then move its situations to active."""
    starts_at = timezone.now() - datetime.timedelta(hours=hours_ago)
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=starts_at)
    meeting.refresh_from_db()
    return meeting


def eps_decided(pathway, *, by) -> Decision:
    """An EPS of the pathway's programme met yesterday and decided on the situation."""
    body = Body.objects.create(
        programme=pathway.programme, kind=BodyKind.EPS, name=f"EPS {pathway.case_code}", meetings_per_year=10
    )
    meeting = Meeting.objects.create(body=body, starts_at=timezone.now() - datetime.timedelta(days=1))
    item = AgendaItem.objects.create(meeting=meeting, pathway=pathway, title="Situation")
    return Decision.objects.create(agenda_item=item, text="Accompagnement individualisé", decided_by=by)


def child_named(programme, first, last):
    return ChildFactory(programme=programme, first_name=first, last_name=last)


__all__ = ["AgendaItem"]
