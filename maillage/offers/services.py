"""Writes on actions: catalogue, groups and sessions, enrolment and waiting list, roll-call, family
contracts with their breach rules and escalation, and the individual support fund.

Every function is keyword-only, atomic, takes ``by`` and journals what it did. Guards raise
``OffersError`` with a French message the person can act on.

Breach rules (``BreachRule``, seeded per programme by ``ensure_default_rules``):

* ``unexcused_absences``: ``threshold`` unexcused absences of a child in a pathway within
  ``window_days`` days (counted back from the session just recorded). One alert per window: once an
  alert covers a window, later absences that fall within it raise nothing new.
* ``missed_appointments``: the last ``threshold`` pathway appointments (``Contact.missed``) in a row
  were missed. One alert per run of missed appointments.

Escalation assigns an *intervention au titre du dispositif* to a social worker of the case team: a
current case-team member whose organisation is a departmental social service or a CCAS, or whose
job title says « assistant·e social·e » (``social_workers``).
"""

import datetime
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.audit.services import record
from maillage.offers.enums import (
    ALERT_TRANSITIONS,
    AlertState,
    AttendanceStatus,
    BreachKind,
    EnrolmentStatus,
    FundRequestState,
    TaskState,
)
from maillage.offers.models import (
    Attendance,
    Beneficiary,
    BreachAlert,
    BreachRule,
    Enrolment,
    FamilyContract,
    FundRequest,
    Group,
    InterventionTask,
    Offer,
    Session,
)
from maillage.pathways.enums import ActionKind, PathwayState
from maillage.pathways.models import CaseTeamMember, Contact, Pathway, PlanAction
from maillage.programmes.enums import OrganisationKind
from maillage.programmes.models import Membership, Programme


class OffersError(ValidationError):
    """An operation on actions that the rules do not allow: the message says why."""


# --- breach rules defaults -------------------------------------------------------------------------

DEFAULT_RULES = [
    {"kind": BreachKind.UNEXCUSED_ABSENCES, "threshold": 3, "window_days": 30},
    {"kind": BreachKind.MISSED_APPOINTMENTS, "threshold": 2, "window_days": None},
]


def ensure_default_rules(programme: Programme) -> list[BreachRule]:
    """The seeded rules (3 unexcused absences within 30 days; 2 missed appointments in a row)."""
    rules = []
    for values in DEFAULT_RULES:
        rule, _created = BreachRule.objects.get_or_create(
            programme=programme,
            kind=values["kind"],
            defaults={"threshold": values["threshold"], "window_days": values["window_days"]},
        )
        rules.append(rule)
    return rules


# --- catalogue -------------------------------------------------------------------------------------


def _check_offer_fields(programme: Programme, fields: dict) -> None:
    provider = fields.get("provider")
    if provider is not None and provider.programme_id != programme.pk:
        raise OffersError(_("L'intervenant doit être un partenaire du programme."))
    line = fields.get("funding_line")
    if line is not None and line.programme_id != programme.pk:
        raise OffersError(_("La ligne de financement doit être celle du programme."))


@transaction.atomic
def offer_create(*, programme: Programme, title: str, by, **fields) -> Offer:
    _check_offer_fields(programme, fields)
    offer = Offer.objects.create(programme=programme, title=title, **fields)
    record(verb="offer.created", actor=by, target=offer, programme=programme)
    return offer


@transaction.atomic
def offer_update(*, offer: Offer, by, **fields) -> Offer:
    _check_offer_fields(offer.programme, fields)
    for name, value in fields.items():
        setattr(offer, name, value)
    offer.save(update_fields=[*fields, "updated_at"])
    record(
        verb="offer.updated",
        actor=by,
        target=offer,
        programme=offer.programme,
        payload={"fields": list(fields)},
    )
    return offer


@transaction.atomic
def group_create(
    *,
    offer: Offer,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    by,
    capacity: int | None = None,
    place: str = "",
    facilitators=(),
) -> Group:
    if not offer.is_collective:
        raise OffersError(_("Seule une action collective se déroule en groupes."))
    if ends_on < starts_on:
        raise OffersError(_("La fin du groupe doit suivre son début."))
    group = Group.objects.create(
        offer=offer, name=name, starts_on=starts_on, ends_on=ends_on, capacity=capacity, place=place
    )
    facilitators = list(facilitators)
    if any(m.programme_id != offer.programme_id for m in facilitators):
        raise OffersError(_("Les animateur·rices doivent être membres du programme."))
    group.facilitators.set(facilitators)
    record(
        verb="group.created", actor=by, target=offer, programme=offer.programme, payload={"group": group.pk}
    )
    return group


def weekly_starts(
    first_day: datetime.date, last_day: datetime.date, weekday: int, at: datetime.time
) -> list[datetime.datetime]:
    """The start of each weekly session on ``weekday`` (0 = Monday) between two dates, in local time."""
    day = first_day + datetime.timedelta(days=(weekday - first_day.weekday()) % 7)
    tz = timezone.get_current_timezone()
    starts = []
    while day <= last_day:
        starts.append(datetime.datetime.combine(day, at, tzinfo=tz))
        day += datetime.timedelta(days=7)
    return starts


@transaction.atomic
def sessions_plan(
    *, group: Group, starts: list[datetime.datetime], duration: datetime.timedelta, by
) -> list[Session]:
    """Add dated sessions to a group (a term of weekly sessions, say)."""
    if duration <= datetime.timedelta(0):
        raise OffersError(_("Une séance dure plus de zéro minute."))
    sessions = Session.objects.bulk_create(
        [Session(group=group, starts_at=start, ends_at=start + duration) for start in starts]
    )
    record(
        verb="session.planned",
        actor=by,
        target=group.offer,
        programme=group.offer.programme_id,
        payload={"group": group.pk, "sessions": len(sessions)},
    )
    return sessions


@transaction.atomic
def session_cancel(*, session: Session, by) -> Session:
    session.cancelled = True
    session.save(update_fields=["cancelled", "updated_at"])
    record(
        verb="session.cancelled",
        actor=by,
        target=session.group.offer,
        programme=session.group.offer.programme_id,
        payload={"session": session.pk},
    )
    return session


# --- enrolment -------------------------------------------------------------------------------------


def places_left(group: Group, enrolled: int | None = None) -> int | None:
    """Free places of a group (None: unlimited). ``enrolled``: a count already fetched."""
    capacity = group.effective_capacity
    if capacity is None:
        return None
    if enrolled is None:
        enrolled = group.enrolments.enrolled().count()
    return max(capacity - enrolled, 0)


@transaction.atomic
def beneficiary_create(*, programme: Programme, by, **fields) -> Beneficiary:
    """A collective-only participant: first name, initial, age band, sex, QPV, parent or not."""
    fields["initial"] = (fields.get("initial") or "").strip()[:1].upper()
    beneficiary = Beneficiary.objects.create(programme=programme, **fields)
    record(
        verb="beneficiary.created",
        actor=by,
        target_type="offers.beneficiary",
        target_id=str(beneficiary.pk),
        programme=programme,
    )
    return beneficiary


@transaction.atomic
def enrol(
    *, group: Group, by, child=None, plan_action: PlanAction | None = None, beneficiary=None, guardian=None
) -> Enrolment:
    """Enrol one person in a group; when the group is full, put them on its waiting list.

    The group row is locked (``select_for_update``) while places are counted, so that two people
    enrolling into the last place at the same time end with one enrolled and one waiting.
    """
    group = Group.objects.select_for_update().select_related("offer").get(pk=group.pk)
    programme_id = group.offer.programme_id
    if sum(x is not None for x in (child, beneficiary, guardian)) != 1:
        raise OffersError(_("Inscrivez un enfant, un·e bénéficiaire ou un parent, un·e seul·e à la fois."))
    if child is not None and child.programme_id != programme_id:
        raise OffersError(_("Cet enfant n'est pas suivi par ce programme."))
    if beneficiary is not None and beneficiary.programme_id != programme_id:
        raise OffersError(_("Ce·tte bénéficiaire n'est pas de ce programme."))
    if guardian is not None and guardian.household.programme_id != programme_id:
        raise OffersError(_("Ce parent n'est pas connu de ce programme."))
    if group.ends_on < timezone.localdate():
        raise OffersError(_("Ce groupe est terminé."))
    person = {"child": child, "beneficiary": beneficiary, "guardian": guardian}
    person = {name: value for name, value in person.items() if value is not None}
    if group.enrolments.filter(**person).exclude(status=EnrolmentStatus.LEFT).exists():
        raise OffersError(_("Cette personne est déjà inscrite dans ce groupe ou sur sa liste d'attente."))
    left = places_left(group)
    if left is None or left > 0:
        status, position = EnrolmentStatus.ENROLLED, None
    else:
        status = EnrolmentStatus.WAITING
        position = (group.enrolments.waiting().aggregate(last=Max("position"))["last"] or 0) + 1
    enrolment = Enrolment.objects.create(
        group=group, plan_action=plan_action, status=status, position=position, enrolled_by=by, **person
    )
    record(
        verb="enrolment.added",
        actor=by,
        target=child if child is not None else group.offer,
        programme=programme_id,
        payload={"group": group.pk, "enrolment": enrolment.pk, "status": status},
    )
    return enrolment


@transaction.atomic
def enrolment_leave(*, enrolment: Enrolment, by) -> Enrolment:
    """Take someone off a group (or its waiting list); the first person waiting takes a freed place."""
    group = Group.objects.select_for_update().select_related("offer").get(pk=enrolment.group_id)
    enrolment.refresh_from_db()
    if enrolment.status == EnrolmentStatus.LEFT:
        raise OffersError(_("Cette personne a déjà quitté le groupe."))
    was_enrolled = enrolment.status == EnrolmentStatus.ENROLLED
    enrolment.status = EnrolmentStatus.LEFT
    enrolment.position = None
    enrolment.left_on = timezone.localdate()
    enrolment.save(update_fields=["status", "position", "left_on", "updated_at"])
    record(
        verb="enrolment.left",
        actor=by,
        target=group.offer,
        programme=group.offer.programme_id,
        payload={"group": group.pk, "enrolment": enrolment.pk},
    )
    if was_enrolled:
        following = group.enrolments.waiting().order_by("position", "pk").first()
        if following is not None and places_left(group) != 0:
            following.status = EnrolmentStatus.ENROLLED
            following.position = None
            following.save(update_fields=["status", "position", "updated_at"])
            record(
                verb="enrolment.promoted",
                actor=by,
                target=group.offer,
                programme=group.offer.programme_id,
                payload={"group": group.pk, "enrolment": following.pk},
            )
    return enrolment


@transaction.atomic
def plan_action_from_offer(
    *, pathway: Pathway, offer: Offer, by, group: Group | None = None, objective=None, circle: str = "team"
) -> tuple[PlanAction, Enrolment | None]:
    """Add a catalogue action to a child's plan; a collective one enrols the child in ``group``.

    The provider then sees the child on the group's roster by first name, initial and age only.
    The action's text is read within ``circle`` (``team`` by default), like every plan action.
    """
    from maillage.pathways import services as pathway_services

    if offer.programme_id != pathway.programme_id:
        raise OffersError(_("Cette action n'est pas au catalogue du programme."))
    if offer.is_collective and group is None:
        raise OffersError(_("Choisissez le groupe dans lequel inscrire l'enfant."))
    if group is not None and group.offer_id != offer.pk:
        raise OffersError(_("Ce groupe n'appartient pas à cette action."))
    fields = {
        "kind": offer.kind,
        "provider": offer.provider,
        "offer": offer,
        "objective": objective,
        "starts_on": group.starts_on if group else offer.starts_on,
        "ends_on": group.ends_on if group else offer.ends_on,
        "frequency": offer.schedule[:100],
        "cost": offer.unit_cost,
        "funding_line": offer.funding_line.label[:150] if offer.funding_line_id else "",
    }
    try:
        action = pathway_services.plan_action_add(
            pathway=pathway, title=offer.title[:200], by=by, circle=circle, **fields
        )
    except pathway_services.JourneyError as error:
        raise OffersError(error.messages) from error
    enrolment = None
    if offer.kind == ActionKind.COLLECTIVE:
        enrolment = enrol(group=group, by=by, child=pathway.child, plan_action=action)
    return action, enrolment


# --- roll-call -------------------------------------------------------------------------------------


def roster(session: Session):
    """The people expected at a session: enrolled in the group (ordered by first name)."""
    return (
        Enrolment.objects.filter(group_id=session.group_id, status=EnrolmentStatus.ENROLLED)
        .select_related("child", "beneficiary", "guardian")
        .order_by("child__first_name", "beneficiary__first_name", "guardian__first_name", "pk")
    )


@transaction.atomic
def attendance_save(*, session: Session, statuses: dict[int, str], by) -> list[Attendance]:
    """Record the roll-call of a whole group in one go (``statuses``: enrolment id → status).

    Runs a constant number of queries whatever the size of the group: the roster in one query, the
    attendance in one upsert, the breach rule in a handful.
    """
    if session.cancelled:
        raise OffersError(_("Cette séance est annulée."))
    if session.starts_at.date() > timezone.localdate() + datetime.timedelta(days=1):
        raise OffersError(_("On ne fait pas l'appel d'une séance à venir."))
    enrolments = {
        e.pk: e
        for e in Enrolment.objects.filter(
            group_id=session.group_id, status=EnrolmentStatus.ENROLLED, pk__in=list(statuses)
        ).select_related("plan_action")
    }
    unknown = set(statuses) - set(enrolments)
    if unknown:
        raise OffersError(_("Une personne de la liste n'est pas inscrite dans ce groupe."))
    if any(status not in AttendanceStatus.values for status in statuses.values()):
        raise OffersError(_("Choisissez présent·e, excusé·e ou non excusé·e pour chaque personne."))
    now = timezone.now()
    rows = [
        Attendance(
            session=session,
            enrolment=enrolments[pk],
            status=status,
            recorded_by=by,
            created_at=now,
            updated_at=now,
        )
        for pk, status in statuses.items()
    ]
    Attendance.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["session", "enrolment"],
        update_fields=["status", "recorded_by", "updated_at"],
    )
    offer = Offer.objects.only("pk", "programme_id").get(groups__sessions=session)
    record(
        verb="attendance.recorded",
        actor=by,
        target=offer,
        programme=offer.programme_id,
        payload={"session": session.pk, "count": len(rows)},
    )
    absent = [enrolments[pk] for pk, s in statuses.items() if s == AttendanceStatus.UNEXCUSED]
    children = {e.child_id for e in absent if e.child_id}
    if children:
        check_absences(
            programme_id=offer.programme_id, child_ids=children, on=timezone.localdate(session.starts_at)
        )
    return rows


def _open_pathways(child_ids) -> dict[int, Pathway]:
    pathways = (
        Pathway.objects.filter(child_id__in=child_ids, archived_at__isnull=True)
        .exclude(state=PathwayState.CLOSED)
        .select_related("referent")
        .order_by("opened_on", "pk")
    )
    return {p.child_id: p for p in pathways}


def check_absences(*, programme_id: int, child_ids, on: datetime.date) -> list[BreachAlert]:
    """Raise the alerts due under the unexcused-absence rule for these children, as of ``on``."""
    rule = BreachRule.objects.filter(
        programme_id=programme_id, kind=BreachKind.UNEXCUSED_ABSENCES, is_active=True
    ).first()
    if rule is None:
        return []
    window = datetime.timedelta(days=(rule.window_days or 30) - 1)
    start = datetime.datetime.combine(on - window, datetime.time.min, tzinfo=timezone.get_current_timezone())
    end = datetime.datetime.combine(on, datetime.time.max, tzinfo=timezone.get_current_timezone())
    absences: dict[int, list[datetime.date]] = {}
    for child_id, starts_at in Attendance.objects.filter(
        enrolment__child_id__in=child_ids,
        status=AttendanceStatus.UNEXCUSED,
        session__cancelled=False,
        session__starts_at__range=(start, end),
    ).values_list("enrolment__child_id", "session__starts_at"):
        absences.setdefault(child_id, []).append(timezone.localdate(starts_at))
    due = {child_id: sorted(days) for child_id, days in absences.items() if len(days) >= rule.threshold}
    if not due:
        return []
    pathways = _open_pathways(due)
    covered = set(
        BreachAlert.objects.filter(
            rule=rule, pathway__in=pathways.values(), window_ends_on__gte=on - window
        ).values_list("pathway_id", flat=True)
    )
    alerts = []
    for child_id, days in due.items():
        pathway = pathways.get(child_id)
        if pathway is None or pathway.pk in covered:
            continue
        alerts.append(_raise(rule=rule, pathway=pathway, first=days[0], last=days[-1], count=len(days)))
    return alerts


def check_missed_appointments(*, pathway: Pathway) -> BreachAlert | None:
    """Raise an alert when the last ``threshold`` appointments of the pathway were all missed."""
    rule = BreachRule.objects.filter(
        programme_id=pathway.programme_id, kind=BreachKind.MISSED_APPOINTMENTS, is_active=True
    ).first()
    if rule is None:
        return None
    last = list(
        Contact.objects.filter(pathway=pathway)
        .order_by("-occurred_on", "-pk")
        .values_list("occurred_on", "missed")[: rule.threshold]
    )
    if len(last) < rule.threshold or not all(missed for _day, missed in last):
        return None
    first, latest = last[-1][0], last[0][0]
    if BreachAlert.objects.filter(rule=rule, pathway=pathway, window_ends_on__gte=first).exists():
        return None
    return _raise(rule=rule, pathway=pathway, first=first, last=latest, count=len(last))


def _raise(*, rule: BreachRule, pathway: Pathway, first, last, count: int) -> BreachAlert:
    alert = BreachAlert.objects.create(
        rule=rule, pathway=pathway, window_starts_on=first, window_ends_on=last, count=count
    )
    record(
        verb="breach_alert.raised",
        target=pathway,
        payload={"alert": alert.pk, "rule": rule.kind, "count": count},
    )
    referent = pathway.referent
    if referent is not None and referent.email:
        # The case code only: an email travels outside the platform.
        send_mail(
            _("Maillage — manquement au contrat d'engagement (%(code)s)") % {"code": pathway.case_code},
            _(
                "Une alerte de manquement au contrat d'engagement a été levée pour la situation %(code)s "
                "(%(rule)s). Connectez-vous à Maillage pour la traiter."
            )
            % {"code": pathway.case_code, "rule": rule.get_kind_display()},
            None,
            [referent.email],
            fail_silently=True,
        )
    return alert


# --- contracts, alerts, tasks ----------------------------------------------------------------------


@transaction.atomic
def contract_create(*, pathway: Pathway, by, **fields) -> FamilyContract:
    if not pathway.is_open:
        raise OffersError(_("Le parcours est clôturé."))
    review_on, starts_on = fields.get("review_on"), fields.get("starts_on") or timezone.localdate()
    if review_on is not None and review_on < starts_on:
        raise OffersError(_("La date de révision doit suivre le début du contrat."))
    ensure_default_rules(pathway.programme)
    contract = FamilyContract.objects.create(pathway=pathway, created_by=by, **fields)
    record(verb="contract.created", actor=by, target=pathway, payload={"contract": contract.pk})
    return contract


@transaction.atomic
def contract_sign(*, contract: FamilyContract, signed_on: datetime.date, by) -> FamilyContract:
    if signed_on > timezone.localdate():
        raise OffersError(_("La date de signature ne peut pas être dans le futur."))
    contract.signed_on = signed_on
    contract.save(update_fields=["signed_on", "updated_at"])
    record(verb="contract.signed", actor=by, target=contract.pathway, payload={"contract": contract.pk})
    return contract


SOCIAL_WORKER_KINDS = {OrganisationKind.CD_SOCIAL, OrganisationKind.CCAS}
SOCIAL_WORKER_TITLE = re.compile(r"assistant(e|·e|\.e)?\s+(de\s+service\s+)?social", re.IGNORECASE)


def social_workers(pathway: Pathway, on: datetime.date | None = None) -> list[Membership]:
    """Current case-team members who are social workers: organisation ``cd_social`` or ``ccas``, or a
    job title that reads « assistant·e social·e » (« assistante sociale », « assistant de service
    social »…)."""
    members = (
        CaseTeamMember.objects.current(on)
        .filter(pathway=pathway)
        .select_related("membership__user", "membership__organisation")
    )
    found = []
    for member in members:
        membership = member.membership
        if not membership.is_active_on(on):
            continue
        organisation = membership.organisation
        if (
            organisation is not None and organisation.kind in SOCIAL_WORKER_KINDS
        ) or SOCIAL_WORKER_TITLE.search(membership.job_title or ""):
            if membership not in found:
                found.append(membership)
    return found


def _move_alert(alert: BreachAlert, to_state: str) -> None:
    if to_state not in ALERT_TRANSITIONS[AlertState(alert.state)]:
        raise OffersError(_("Cette alerte a déjà été traitée."))


@transaction.atomic
def alert_escalate(
    *, alert: BreachAlert, assignee: Membership, by, instructions: str = ""
) -> InterventionTask:
    """The référent asks a social worker of the case team to step in for the programme."""
    alert = BreachAlert.objects.select_for_update().select_related("pathway").get(pk=alert.pk)
    _move_alert(alert, AlertState.ESCALATED)
    if assignee not in social_workers(alert.pathway):
        raise OffersError(
            _("Choisissez un·e travailleur·se social·e de l'équipe du parcours (ajoutez-le ou la d'abord).")
        )
    alert.state = AlertState.ESCALATED
    alert.handled_by = by
    alert.handled_at = timezone.now()
    alert.save(update_fields=["state", "handled_by", "handled_at", "updated_at"])
    task = InterventionTask.objects.create(
        alert=alert, pathway=alert.pathway, assignee=assignee, instructions=instructions, created_by=by
    )
    record(
        verb="breach_alert.escalated",
        actor=by,
        target=alert.pathway,
        payload={"alert": alert.pk, "task": task.pk, "assignee": assignee.pk},
    )
    return task


@transaction.atomic
def alert_close(*, alert: BreachAlert, by, note: str) -> BreachAlert:
    """The référent closes an alert without escalation (with a reason)."""
    alert = BreachAlert.objects.select_for_update().get(pk=alert.pk)
    _move_alert(alert, AlertState.CLOSED)
    if not note.strip():
        raise OffersError(_("Dites pourquoi l'alerte est classée sans suite."))
    alert.state = AlertState.CLOSED
    alert.note = note
    alert.handled_by = by
    alert.handled_at = timezone.now()
    alert.save(update_fields=["state", "note", "handled_by", "handled_at", "updated_at"])
    record(verb="breach_alert.closed", actor=by, target=alert.pathway, payload={"alert": alert.pk})
    return alert


@transaction.atomic
def task_start(*, task: InterventionTask, by) -> InterventionTask:
    if task.state != TaskState.OPEN:
        raise OffersError(_("Cette intervention est déjà commencée ou terminée."))
    task.state = TaskState.IN_PROGRESS
    task.save(update_fields=["state", "updated_at"])
    record(verb="intervention_task.started", actor=by, target=task.pathway, payload={"task": task.pk})
    return task


@transaction.atomic
def task_complete(*, task: InterventionTask, outcome: str, by, note: str = "") -> InterventionTask:
    """The social worker records the outcome; the alert is then resolved."""
    task = InterventionTask.objects.select_for_update().select_related("alert", "pathway").get(pk=task.pk)
    if task.state == TaskState.DONE:
        raise OffersError(_("Cette intervention est déjà terminée."))
    if not outcome:
        raise OffersError(_("Indiquez le résultat de l'intervention."))
    task.state = TaskState.DONE
    task.outcome = outcome
    task.outcome_note = note
    task.done_at = timezone.now()
    task.save(update_fields=["state", "outcome", "outcome_note", "done_at", "updated_at"])
    alert = task.alert
    alert.state = AlertState.RESOLVED
    alert.save(update_fields=["state", "updated_at"])
    record(
        verb="intervention_task.completed",
        actor=by,
        target=task.pathway,
        payload={"task": task.pk, "outcome": outcome},
    )
    return task


# --- the individual support fund -------------------------------------------------------------------


@transaction.atomic
def fund_request_create(
    *,
    pathway: Pathway,
    purpose: str,
    amount: Decimal,
    payee: str,
    funding_line,
    by,
    details: str = "",
    invoice=None,
    invoice_content_type: str = "",
) -> FundRequest:
    """A référent asks the fund to pay for something for a child (invoice already checked by
    ``maillage.core.uploads.validate_upload``)."""
    if not pathway.is_open:
        raise OffersError(_("Le parcours est clôturé."))
    if amount is None or amount <= 0:
        raise OffersError(_("Le montant doit être positif."))
    if funding_line.programme_id != pathway.programme_id:
        raise OffersError(_("La ligne de financement doit être celle du programme."))
    fund_request = FundRequest(
        programme_id=pathway.programme_id,
        pathway=pathway,
        purpose=purpose,
        details=details,
        amount=amount,
        payee=payee,
        funding_line=funding_line,
        requested_by=by,
        invoice_content_type=invoice_content_type if invoice else "",
    )
    if invoice is not None:
        fund_request.invoice.save("facture", invoice, save=False)
    fund_request.save()
    record(
        verb="fund_request.created",
        actor=by,
        target=pathway,
        payload={"fund_request": fund_request.pk, "amount": str(amount), "purpose": purpose},
    )
    return fund_request


@transaction.atomic
def fund_request_decide(*, fund_request: FundRequest, approve: bool, by, reason: str = "") -> FundRequest:
    """The coordinator approves or refuses (refusal needs a reason)."""
    fund_request = FundRequest.objects.select_for_update().get(pk=fund_request.pk)
    if fund_request.state != FundRequestState.REQUESTED:
        raise OffersError(_("Cette demande a déjà été examinée."))
    if not approve and not reason.strip():
        raise OffersError(_("Dites pourquoi la demande est refusée."))
    fund_request.state = FundRequestState.APPROVED if approve else FundRequestState.REFUSED
    fund_request.reason = reason
    fund_request.decided_by = by
    fund_request.decided_at = timezone.now()
    fund_request.save(update_fields=["state", "reason", "decided_by", "decided_at", "updated_at"])
    record(
        verb="fund_request.approved" if approve else "fund_request.refused",
        actor=by,
        target=fund_request.pathway,
        payload={"fund_request": fund_request.pk, "amount": str(fund_request.amount)},
    )
    return fund_request
