"""Reads on actions: places left, attendance summaries for a pathway, dashboard items, fund totals.

Callers pass querysets already restricted by ``maillage.permissions`` scopes.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.offers.enums import AttendanceStatus, EnrolmentStatus, FundRequestState
from maillage.offers.models import Attendance, BreachAlert, FundRequest, Group, InterventionTask, Offer


def with_places(groups: QuerySet[Group]) -> QuerySet[Group]:
    """Groups annotated with ``enrolled_count`` and ``waiting_count`` (one query)."""
    return groups.select_related("offer").annotate(
        enrolled_count=Count(
            "enrolments", filter=Q(enrolments__status=EnrolmentStatus.ENROLLED), distinct=True
        ),
        waiting_count=Count(
            "enrolments", filter=Q(enrolments__status=EnrolmentStatus.WAITING), distinct=True
        ),
    )


def group_places_left(group: Group) -> int | None:
    """Places left of a group annotated by ``with_places`` (None: unlimited)."""
    capacity = group.capacity if group.capacity is not None else group.offer.capacity
    if capacity is None:
        return None
    return max(capacity - group.enrolled_count, 0)


def offers_with_places(offers: QuerySet[Offer], on: datetime.date | None = None) -> list[Offer]:
    """Offers with their current groups and places left (``offer.open_groups``, ``offer.places_left``).

    Two queries whatever the number of offers. ``places_left`` is None when unlimited.
    """
    on = on or timezone.localdate()
    offers = list(offers.select_related("provider", "funding_line"))
    groups = with_places(Group.objects.filter(offer__in=offers, ends_on__gte=on)).order_by("starts_on", "pk")
    by_offer = defaultdict(list)
    for group in groups:
        group.places_left = group_places_left(group)
        by_offer[group.offer_id].append(group)
    for offer in offers:
        offer.open_groups = by_offer.get(offer.pk, [])
        if offer.is_collective and offer.open_groups:
            lefts = [g.places_left for g in offer.open_groups]
            offer.places_left = None if any(x is None for x in lefts) else sum(lefts)
        elif offer.is_collective:
            offer.places_left = 0
        else:
            offer.places_left = offer.capacity  # an individual action: a number of funded places
        offer.dimension_labels = _dimension_labels(offer.dimensions)
    return offers


def _dimension_labels(values) -> list[str]:
    from maillage.pathways.enums import Dimension

    labels = dict(Dimension.choices)
    return [str(labels.get(value, value)) for value in values or []]


@dataclass
class AttendanceLine:
    day: datetime.date
    at: datetime.datetime
    offer: str
    group: str
    status: str
    status_label: str


def attendance_for_pathway(attendances: QuerySet[Attendance], pathway) -> list[AttendanceLine]:
    """The child's attendance (from a scope), oldest first, for the timeline and the plan."""
    rows = (
        attendances.filter(
            enrolment__child_id=pathway.child_id, session__starts_at__date__gte=pathway.opened_on
        )
        .select_related("session__group__offer")
        .order_by("session__starts_at", "pk")
    )
    labels = dict(AttendanceStatus.choices)
    return [
        AttendanceLine(
            day=timezone.localdate(a.session.starts_at),
            at=a.session.starts_at,
            offer=a.session.group.offer.title,
            group=a.session.group.name,
            status=a.status,
            status_label=str(labels[a.status]),
        )
        for a in rows
    ]


def timeline_rows(attendances: QuerySet[Attendance], pathway) -> list[tuple]:
    """(day, at, title, detail, kind) rows for the pathway timeline: one per attendance recorded."""
    return [
        (
            line.day,
            line.at,
            _("%(offer)s : %(status)s") % {"offer": line.offer, "status": line.status_label},
            _("Groupe « %(group)s »") % {"group": line.group},
            "attendance",
        )
        for line in attendance_for_pathway(attendances, pathway)
    ]


def progress_by_plan_action(attendances: QuerySet[Attendance], plan_action_ids) -> dict[int, dict]:
    """Attendance counts per plan action: {id: {present, excused, unexcused, total, rate}} (one query)."""
    counts = (
        attendances.filter(enrolment__plan_action_id__in=list(plan_action_ids))
        .values("enrolment__plan_action_id", "status")
        .annotate(n=Count("pk"))
    )
    progress: dict[int, dict] = {}
    for row in counts:
        entry = progress.setdefault(
            row["enrolment__plan_action_id"], {"present": 0, "excused": 0, "unexcused": 0, "total": 0}
        )
        entry[row["status"]] += row["n"]
        entry["total"] += row["n"]
    for entry in progress.values():
        entry["rate"] = round(100 * entry["present"] / entry["total"]) if entry["total"] else None
    return progress


def pending_alerts(alerts: QuerySet[BreachAlert], user) -> QuerySet[BreachAlert]:
    """Alerts waiting for the user: of pathways where they are the référent (or all, for a scope
    limited to the coordinator's programme)."""
    return alerts.pending().select_related("rule", "pathway").order_by("-raised_at")


def pending_tasks(tasks: QuerySet[InterventionTask], user) -> QuerySet[InterventionTask]:
    return tasks.pending().select_related("pathway", "assignee__user").order_by("-created_at")


def fund_totals(requests: QuerySet[FundRequest]) -> dict:
    """Totals of the fund: per funding line and per child (approved and requested), two queries."""
    per_line = list(
        requests.values(
            "funding_line_id", "funding_line__label", "funding_line__year", "funding_line__amount"
        )
        .annotate(
            approved=Sum("amount", filter=Q(state=FundRequestState.APPROVED)),
            requested=Sum("amount", filter=Q(state=FundRequestState.REQUESTED)),
            count=Count("pk"),
        )
        .order_by("-funding_line__year", "funding_line__label")
    )
    per_child = list(
        requests.values("pathway_id", "pathway__case_code")
        .annotate(
            approved=Sum("amount", filter=Q(state=FundRequestState.APPROVED)),
            requested=Sum("amount", filter=Q(state=FundRequestState.REQUESTED)),
            count=Count("pk"),
        )
        .order_by("pathway__case_code")
    )
    for row in per_line + per_child:
        row["approved"] = row["approved"] or Decimal("0")
        row["requested"] = row["requested"] or Decimal("0")
    total = sum((row["approved"] for row in per_line), Decimal("0"))
    return {"per_line": per_line, "per_child": per_child, "approved_total": total}


def participant_counts(programme, start: datetime.date, end: datetime.date) -> dict[str, int]:
    """People enrolled in collective actions of groups running between two dates, without double
    counting: ``pathway_children`` (children in a pathway, and collective-only beneficiaries that
    later entered one, counted once as that child), ``collective_only`` (beneficiaries with no
    pathway, counted apart) and ``parents``. For the ANCT survey and the steering indicators."""
    from maillage.offers.models import Enrolment

    rows = Enrolment.objects.filter(
        group__offer__programme=programme,
        group__starts_on__lte=end,
        group__ends_on__gte=start,
        status=EnrolmentStatus.ENROLLED,
    ).values_list(
        "child_id", "beneficiary_id", "beneficiary__child_id", "beneficiary__is_parent", "guardian_id"
    )
    children, collective_only, parents = set(), set(), set()
    for child_id, beneficiary_id, linked_child, is_parent, guardian_id in rows:
        if child_id:
            children.add(child_id)
        elif guardian_id:
            parents.add(("guardian", guardian_id))
        elif is_parent:
            parents.add(("beneficiary", beneficiary_id))
        elif linked_child:
            children.add(linked_child)
        else:
            collective_only.add(beneficiary_id)
    return {
        "pathway_children": len(children),
        "collective_only": len(collective_only),
        "parents": len(parents),
    }
