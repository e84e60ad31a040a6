"""Builders for the actions tests: a collective offer with a group, a session, enrolled children."""

import datetime
from decimal import Decimal

from django.utils import timezone

from maillage.offers import services
from maillage.offers.models import Group, Offer, Session
from maillage.pathways.services import consent_record, pathway_transition
from maillage.programmes.enums import OrganisationKind, Role
from maillage.steering.models import FundingLine
from tests.factories import (
    ChildFactory,
    MembershipFactory,
    OrganisationFactory,
    open_pathway,
    programme_with_lists,
)


def world(capacity=None):
    """A programme, its coordinator, a provider organisation and member, a collective offer and group."""
    programme = programme_with_lists()
    services.ensure_default_rules(programme)
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    organisation = OrganisationFactory(programme=programme, kind=OrganisationKind.ASSOCIATION)
    provider = MembershipFactory(programme=programme, role=Role.PROVIDER, organisation=organisation)
    offer = Offer.objects.create(
        programme=programme,
        title="Atelier théâtre",
        kind="collective",
        provider=organisation,
        capacity=capacity,
    )
    today = timezone.localdate()
    group = Group.objects.create(
        offer=offer,
        name="Groupe du mercredi",
        starts_on=today - datetime.timedelta(days=60),
        ends_on=today + datetime.timedelta(days=60),
    )
    return {
        "programme": programme,
        "coordinator": coordinator,
        "organisation": organisation,
        "provider": provider,
        "offer": offer,
        "group": group,
    }


def session_on(group, day: datetime.date, hour: int = 14) -> Session:
    tz = timezone.get_current_timezone()
    starts = datetime.datetime.combine(day, datetime.time(hour, 0), tzinfo=tz)
    return Session.objects.create(group=group, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1))


def active_pathway(programme, coordinator_user, referent=None, **child_fields):
    """An open pathway with a consent, in the active step (the référent defaults to the coordinator)."""
    child = ChildFactory(programme=programme, **child_fields)
    pathway = open_pathway(
        programme=programme, by=coordinator_user, referent=referent or coordinator_user, child=child
    )
    consent_record(
        pathway=pathway,
        guardian=pathway.child.household.guardians.get(),
        given_on=pathway.opened_on,
        by=coordinator_user,
    )
    pathway.refresh_from_db()
    return pathway


def enrolled_child(w, **child_fields):
    pathway = active_pathway(w["programme"], w["coordinator"].user, **child_fields)
    enrolment = services.enrol(group=w["group"], by=w["coordinator"].user, child=pathway.child)
    return pathway, enrolment


def funding_line(programme, label="Crédits État 2026") -> FundingLine:
    return FundingLine.objects.create(
        programme=programme, year=2026, source="state_pre", label=label, amount=Decimal("50000")
    )


__all__ = ["pathway_transition"]


# --- builders for the project-wide registries (journal, isolation) -----------------------------------

SMALL_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def offer_in(programme, title="Atelier théâtre"):
    from maillage.programmes.defaults import ensure_default_lists

    ensure_default_lists(programme)
    services.ensure_default_rules(programme)
    organisation = OrganisationFactory(programme=programme, kind=OrganisationKind.ASSOCIATION)
    offer = Offer.objects.create(programme=programme, title=title, kind="collective", provider=organisation)
    today = timezone.localdate()
    group = Group.objects.create(
        offer=offer,
        name=f"Groupe {title}",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=30),
    )
    return offer, group


def coordinator_of(programme):
    return MembershipFactory(programme=programme, role=Role.COORDINATOR).user


def roster_in(programme, by=None, size=2, last_name=None):
    """A group with ``size`` children of pathways enrolled, and a session today."""
    by = by or coordinator_of(programme)
    _offer, group = offer_in(programme)
    children = []
    for _ in range(size):
        fields = {"last_name": last_name} if last_name else {}
        pathway = active_pathway(programme, by, **fields)
        services.enrol(group=group, by=by, child=pathway.child)
        children.append(pathway.child)
    session = session_on(group, timezone.localdate())
    return group, session, children


def alert_in(programme, by=None, last_name=None):
    """A pathway whose child missed three sessions: one open breach alert."""
    by = by or coordinator_of(programme)
    group, _session, children = roster_in(programme, by=by, size=1, last_name=last_name)
    enrolment = group.enrolments.get()
    today = timezone.localdate()
    for days in (9, 5, 2):
        session = session_on(group, today - datetime.timedelta(days=days))
        services.attendance_save(session=session, statuses={enrolment.pk: "unexcused"}, by=by)
    from maillage.offers.models import BreachAlert

    return BreachAlert.objects.get(pathway__child=children[0])


def task_in(programme, by=None, last_name=None):
    from maillage.pathways.models import CaseTeamMember

    by = by or coordinator_of(programme)
    alert = alert_in(programme, by=by, last_name=last_name)
    organisation = OrganisationFactory(programme=programme, kind=OrganisationKind.CD_SOCIAL)
    worker = MembershipFactory(programme=programme, role=Role.EPS_MEMBER, organisation=organisation)
    CaseTeamMember.objects.create(pathway=alert.pathway, membership=worker, reason="AS", added_by=by)
    return services.alert_escalate(alert=alert, assignee=worker, by=by)


def contract_in(programme, by=None, last_name=None):
    by = by or coordinator_of(programme)
    fields = {"last_name": last_name} if last_name else {}
    pathway = active_pathway(programme, by, **fields)
    return services.contract_create(
        pathway=pathway,
        by=by,
        child_commitments="Venir à l'aide aux devoirs",
        family_commitments="Prévenir en cas d'absence",
        team_commitments="Trouver un club de judo",
    )


def fund_request_in(programme, by=None, last_name=None, invoice=True):
    from django.core.files.base import ContentFile

    by = by or coordinator_of(programme)
    fields = {"last_name": last_name} if last_name else {}
    pathway = active_pathway(programme, by, **fields)
    line = FundingLine.objects.filter(programme=programme).first() or funding_line(programme)
    return services.fund_request_create(
        pathway=pathway,
        purpose="sports_licence",
        amount=Decimal("85"),
        payee="Judo club",
        funding_line=line,
        by=by,
        invoice=ContentFile(SMALL_PDF, name="facture.pdf") if invoice else None,
        invoice_content_type="application/pdf" if invoice else "",
    )
