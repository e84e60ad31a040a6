"""Reads of the partnership: the rhythm of bodies, what changed on a pathway, the EPS review date.

For the steering indicators:

* an EPS meeting is **held** when it is not ``cancelled`` and its ``starts_at`` is past —
  ``Meeting.objects.held()``; the count of EPS meetings held is
  ``Meeting.objects.held().filter(body__programme=p, body__kind=BodyKind.EPS)``;
* the **EPS review date** of a pathway is ``eps_review_dates(pathways)``: the ``starts_at`` of the first
  held meeting whose agenda lists the pathway and that recorded a decision on it, or, failing a
  decision, the first held meeting that listed it.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, Decision, Meeting

# EPS "about monthly": a gap of more than this many days without a meeting, in term time, is flagged.
EPS_MAX_GAP_DAYS = 45


def school_year(on: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The school year containing ``on``: 1 September to 31 August."""
    start_year = on.year if on.month >= 9 else on.year - 1
    return datetime.date(start_year, 9, 1), datetime.date(start_year + 1, 8, 31)


def _aware(day: datetime.date, end: bool = False) -> datetime.datetime:
    moment = datetime.time.max if end else datetime.time.min
    return timezone.make_aware(datetime.datetime.combine(day, moment))


def rhythm_warnings(body: Body, on: datetime.date | None = None) -> list[str]:
    """Warnings when a body does not keep its expected rhythm this school year.

    * fewer meetings held or planned (not cancelled) this school year than expected (comité de
      pilotage: at least two);
    * for a body meeting about monthly (8 or more a year), in term time (September to June), no
      meeting in the last ``EPS_MAX_GAP_DAYS`` days and none planned in the next ones.
    """
    return rhythm_warnings_many([body], on)[body.pk]


def rhythm_warnings_many(bodies, on: datetime.date | None = None) -> dict[int, list[str]]:
    """``rhythm_warnings`` for several bodies, in one query."""
    on = on or timezone.localdate()
    start, end = school_year(on)
    gap = datetime.timedelta(days=EPS_MAX_GAP_DAYS)
    low, high = _aware(min(start, on - gap)), _aware(max(end, on + gap), end=True)
    dates: dict[int, list[datetime.datetime]] = {body.pk: [] for body in bodies}
    for body_id, starts_at in (
        Meeting.objects.planned()
        .filter(body__in=[b.pk for b in bodies], starts_at__gte=low, starts_at__lte=high)
        .values_list("body_id", "starts_at")
    ):
        dates[body_id].append(starts_at)
    result = {}
    for body in bodies:
        warnings = []
        days = [timezone.localdate(at) for at in dates[body.pk]]
        count = sum(1 for day in days if start <= day <= end)
        expected = body.meetings_per_year
        if expected and count < expected:
            label = BodyKind(body.kind).label if body.kind == BodyKind.STEERING_COMMITTEE else body.name
            warnings.append(
                ngettext(
                    "Seulement %(count)s réunion « %(body)s » prévue cette année scolaire "
                    "(au moins %(expected)s attendues).",
                    "Seulement %(count)s réunions « %(body)s » prévues cette année scolaire "
                    "(au moins %(expected)s attendues).",
                    count,
                )
                % {"count": count, "body": label, "expected": expected}
            )
        if expected >= 8 and on.month not in (7, 8):
            if not any(on - gap <= day <= on + gap for day in days):
                warnings.append(
                    _(
                        "Aucune réunion de « %(body)s » depuis plus de %(days)s jours, et aucune n'est "
                        "prévue dans les %(days)s prochains jours : le rythme attendu est d'environ une "
                        "par mois."
                    )
                    % {"body": body.name, "days": EPS_MAX_GAP_DAYS}
                )
        result[body.pk] = warnings
    return result


def eps_review_dates(pathways: QuerySet) -> dict[int, datetime.datetime]:
    """Pathway id → the date of its EPS review (see the module's docstring), for the given pathways."""
    items = AgendaItem.objects.filter(
        pathway__in=pathways,
        meeting__body__kind=BodyKind.EPS,
        meeting__cancelled=False,
        meeting__starts_at__lte=timezone.now(),
    )
    with_decision = dict(
        items.filter(decisions__isnull=False)
        .values("pathway")
        .annotate(first=Min("meeting__starts_at"))
        .values_list("pathway", "first")
    )
    listed = dict(
        items.values("pathway").annotate(first=Min("meeting__starts_at")).values_list("pathway", "first")
    )
    return {**listed, **with_decision}


def eps_meetings_held(programme, start: datetime.date, end: datetime.date) -> int:
    return (
        Meeting.objects.held()
        .filter(
            body__programme=programme,
            body__kind=BodyKind.EPS,
            starts_at__gte=_aware(start),
            starts_at__lte=_aware(end, end=True),
        )
        .count()
    )


@dataclass
class Change:
    at: datetime.datetime
    label: str


def pathway_changes(user, pathway, since: datetime.datetime, *, loaded: dict | None = None) -> list[Change]:
    """What happened on ``pathway`` after ``since`` that ``user`` may read, newest first.

    Steps, plan (objectives, actions), written items the user may read (through the scopes), EPS
    decisions and agenda inscriptions.

    ``loaded``: the rows the pathway page already read through the same scopes — ``transitions`` (all of
    the pathway's), ``objectives`` and ``actions`` (``perms.plan_on``), ``items`` (``perms.items_readable_on``
    of the four kinds of written items), ``decisions`` (all of the pathway's, agenda item, meeting and
    body joined) — filtered here instead of read again.
    """
    from maillage import permissions as perms
    from maillage.pathways.enums import PathwayState
    from maillage.pathways.models import Contact, DiagnosticSection, Note, Objective, PlanAction, Review

    changes = []
    if loaded is not None:
        transitions = [t for t in loaded["transitions"] if t.at > since and t.by_id != user.pk]
    else:
        transitions = pathway.transitions.filter(at__gt=since).exclude(by=user)
    for t in transitions:
        changes.append(Change(t.at, _("Étape « %(state)s »") % {"state": PathwayState(t.to_state).label}))
    for model, key, label in (
        (Objective, "objectives", _("Objectif ajouté")),
        (PlanAction, "actions", _("Action ajoutée au plan")),
    ):
        if loaded is not None:
            created = [row.created_at for row in loaded[key] if row.created_at > since]
        else:
            created = (
                perms.plan_on(user, pathway, model)
                .filter(created_at__gt=since)
                .values_list("created_at", flat=True)
            )
        changes.extend(Change(at, label) for at in created)
    labels = {
        Note: _("Nouvelle note"),
        Contact: _("Nouveau contact"),
        Review: _("Nouveau bilan"),
        DiagnosticSection: _("Diagnostic complété"),
    }
    for model, label in labels.items():
        if loaded is not None:
            rows = [
                item.updated_at
                for item in loaded["items"]
                if type(item) is model and item.updated_at > since and item.author_id != user.pk
            ]
        else:
            rows = (
                perms.items_readable_on(user, pathway, model)
                .filter(updated_at__gt=since)
                .exclude(author=user)
                .values_list("updated_at", flat=True)
            )
        changes.extend(Change(at, label) for at in rows)
    if loaded is not None:
        decisions = [d for d in loaded["decisions"] if d.created_at > since]
    else:
        decisions = Decision.objects.filter(
            agenda_item__pathway=pathway, created_at__gt=since
        ).select_related("agenda_item__meeting__body")
    for decision in decisions:
        changes.append(
            Change(
                decision.created_at,
                _("Décision de l'%(body)s") % {"body": decision.agenda_item.meeting.body.name},
            )
        )
    for item in AgendaItem.objects.filter(pathway=pathway, created_at__gt=since).select_related(
        "meeting__body"
    ):
        changes.append(
            Change(
                item.created_at,
                _("Inscrite à l'ordre du jour de l'%(body)s du %(day)s")
                % {
                    "body": item.meeting.body.name,
                    "day": timezone.localtime(item.meeting.starts_at).strftime("%d/%m/%Y"),
                },
            )
        )
    changes.sort(key=lambda c: c.at, reverse=True)
    return changes
