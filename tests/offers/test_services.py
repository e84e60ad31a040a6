import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from maillage.offers import services
from maillage.offers.enums import AlertState, EnrolmentStatus, FundRequestState, TaskState
from maillage.offers.models import Attendance, BreachAlert, Enrolment, Group, InterventionTask
from maillage.pathways.models import CaseTeamMember, PlanAction
from maillage.pathways.services import contact_add
from maillage.programmes.enums import OrganisationKind, Role
from tests.factories import MembershipFactory, OrganisationFactory
from tests.offers.helpers import active_pathway, enrolled_child, funding_line, session_on, world

pytestmark = pytest.mark.django_db

FROZEN = datetime.datetime(2026, 3, 20, 16, 0, tzinfo=datetime.UTC)


def test_enrolment_beyond_capacity_goes_to_the_waiting_list_in_order():
    w = world(capacity=2)
    statuses = [enrolled_child(w)[1] for _ in range(4)]
    assert [e.status for e in statuses] == ["enrolled", "enrolled", "waiting", "waiting"]
    assert [e.position for e in statuses[2:]] == [1, 2]
    assert services.places_left(w["group"]) == 0


def test_a_group_capacity_overrides_the_offer_capacity():
    w = world(capacity=10)
    Group.objects.filter(pk=w["group"].pk).update(capacity=1)
    w["group"].refresh_from_db()
    first, second = enrolled_child(w)[1], enrolled_child(w)[1]
    assert (first.status, second.status) == ("enrolled", "waiting")


def test_leaving_frees_the_place_for_the_first_person_waiting():
    w = world(capacity=1)
    first = enrolled_child(w)[1]
    waiting = [enrolled_child(w)[1] for _ in range(2)]
    services.enrolment_leave(enrolment=first, by=w["coordinator"].user)
    waiting[0].refresh_from_db()
    waiting[1].refresh_from_db()
    assert waiting[0].status == EnrolmentStatus.ENROLLED and waiting[0].position is None
    assert waiting[1].status == EnrolmentStatus.WAITING


def test_the_same_person_cannot_be_enrolled_twice_in_a_group():
    w = world()
    pathway, _enrolment = enrolled_child(w)
    with pytest.raises(ValidationError):
        services.enrol(group=w["group"], by=w["coordinator"].user, child=pathway.child)


def test_collective_only_beneficiaries_and_parents_are_enrolled_without_a_pathway():
    w = world()
    beneficiary = services.beneficiary_create(
        programme=w["programme"],
        by=w["coordinator"].user,
        first_name="Inès",
        initial="b",
        age_band="6-10",
        sex="F",
        in_qpv=True,
    )
    enrolment = services.enrol(group=w["group"], by=w["coordinator"].user, beneficiary=beneficiary)
    assert beneficiary.initial == "B"
    assert enrolment.roster_name == "Inès B."
    pathway = active_pathway(w["programme"], w["coordinator"].user)
    guardian = pathway.child.household.guardians.get()
    parent = services.enrol(group=w["group"], by=w["coordinator"].user, guardian=guardian)
    assert parent.roster_name == f"{guardian.first_name} {guardian.last_name[0]}."


def test_adding_a_collective_catalogue_action_to_a_plan_enrols_the_child():
    w = world()
    pathway = active_pathway(w["programme"], w["coordinator"].user)
    action, enrolment = services.plan_action_from_offer(
        pathway=pathway, offer=w["offer"], group=w["group"], by=w["coordinator"].user
    )
    assert PlanAction.objects.get(pk=action.pk).offer == w["offer"]
    assert action.provider == w["organisation"] and action.kind == "collective"
    assert enrolment.child == pathway.child and enrolment.plan_action == action
    assert enrolment.roster_name == f"{pathway.child.first_name} {pathway.child.last_name[0]}."


def test_a_collective_action_needs_a_group():
    w = world()
    pathway = active_pathway(w["programme"], w["coordinator"].user)
    with pytest.raises(ValidationError):
        services.plan_action_from_offer(pathway=pathway, offer=w["offer"], by=w["coordinator"].user)


def test_the_roll_call_saves_the_whole_group_and_can_be_corrected():
    w = world()
    enrolments = [enrolled_child(w)[1] for _ in range(3)]
    session = session_on(w["group"], timezone.localdate())
    statuses = dict(zip([e.pk for e in enrolments], ["present", "excused", "unexcused"], strict=True))
    services.attendance_save(session=session, statuses=statuses, by=w["provider"].user)
    services.attendance_save(session=session, statuses={enrolments[2].pk: "present"}, by=w["provider"].user)
    got = dict(Attendance.objects.filter(session=session).values_list("enrolment_id", "status"))
    assert got == {enrolments[0].pk: "present", enrolments[1].pk: "excused", enrolments[2].pk: "present"}


def test_the_roll_call_refuses_someone_not_enrolled_in_the_group():
    w = world()
    other = world()
    stranger = enrolled_child(other)[1]
    session = session_on(w["group"], timezone.localdate())
    with pytest.raises(ValidationError):
        services.attendance_save(session=session, statuses={stranger.pk: "present"}, by=w["provider"].user)


def _queries_for_roll_call(size: int) -> int:
    w = world()
    enrolments = [enrolled_child(w)[1] for _ in range(size)]
    session = session_on(w["group"], timezone.localdate())
    statuses = {e.pk: "unexcused" for e in enrolments}
    with CaptureQueriesContext(connection) as queries:
        services.attendance_save(session=session, statuses=statuses, by=w["provider"].user)
    return len(queries)


def test_saving_the_roll_call_runs_a_constant_number_of_queries():
    assert _queries_for_roll_call(30) == _queries_for_roll_call(3)


# --- breach rules -------------------------------------------------------------------------------------


def _absences(w, enrolment, days):
    for day in days:
        session = session_on(w["group"], day)
        services.attendance_save(session=session, statuses={enrolment.pk: "unexcused"}, by=w["provider"].user)


@time_machine.travel(FROZEN, tick=False)
def test_the_third_unexcused_absence_within_30_days_raises_exactly_one_alert():
    w = world()
    pathway, enrolment = enrolled_child(w)
    today = timezone.localdate()
    _absences(w, enrolment, [today - datetime.timedelta(days=20), today - datetime.timedelta(days=13)])
    assert not BreachAlert.objects.exists()
    mail.outbox.clear()
    _absences(w, enrolment, [today - datetime.timedelta(days=6)])
    alert = BreachAlert.objects.get()
    assert alert.pathway == pathway and alert.count == 3 and alert.state == AlertState.OPEN
    assert alert.window_starts_on == today - datetime.timedelta(days=20)
    assert len(mail.outbox) == 1 and pathway.case_code in mail.outbox[0].body
    assert pathway.child.last_name not in mail.outbox[0].body


@time_machine.travel(FROZEN, tick=False)
def test_a_fourth_absence_in_the_same_window_raises_no_second_alert():
    w = world()
    _pathway, enrolment = enrolled_child(w)
    today = timezone.localdate()
    _absences(w, enrolment, [today - datetime.timedelta(days=d) for d in (20, 13, 6, 0)])
    assert BreachAlert.objects.count() == 1


@time_machine.travel(FROZEN, tick=False)
def test_absences_spread_over_more_than_30_days_raise_nothing():
    w = world()
    _pathway, enrolment = enrolled_child(w)
    today = timezone.localdate()
    _absences(w, enrolment, [today - datetime.timedelta(days=d) for d in (50, 35, 0)])
    assert not BreachAlert.objects.exists()


@time_machine.travel(FROZEN, tick=False)
def test_excused_absences_do_not_count():
    w = world()
    _pathway, enrolment = enrolled_child(w)
    today = timezone.localdate()
    for d in (10, 5, 0):
        session = session_on(w["group"], today - datetime.timedelta(days=d))
        services.attendance_save(session=session, statuses={enrolment.pk: "excused"}, by=w["provider"].user)
    assert not BreachAlert.objects.exists()


@time_machine.travel(FROZEN, tick=False)
def test_two_missed_appointments_in_a_row_raise_an_alert():
    w = world()
    pathway = active_pathway(w["programme"], w["coordinator"].user)
    by = w["coordinator"].user
    today = timezone.localdate()
    contact_add(pathway=pathway, by=by, kind="office_meeting", occurred_on=today - datetime.timedelta(days=9))
    contact_add(
        pathway=pathway,
        by=by,
        kind="office_meeting",
        occurred_on=today - datetime.timedelta(days=7),
        missed=True,
    )
    assert not BreachAlert.objects.exists()
    contact_add(pathway=pathway, by=by, kind="office_meeting", occurred_on=today, missed=True)
    alert = BreachAlert.objects.get()
    assert alert.rule.kind == "missed_appointments" and alert.count == 2


def _case_team_social_worker(w, pathway, kind=OrganisationKind.CD_SOCIAL, job_title=""):
    organisation = OrganisationFactory(programme=w["programme"], kind=kind)
    membership = MembershipFactory(
        programme=w["programme"], role=Role.EPS_MEMBER, organisation=organisation, job_title=job_title
    )
    CaseTeamMember.objects.create(
        pathway=pathway, membership=membership, reason="AS", added_by=w["coordinator"].user
    )
    return membership


@time_machine.travel(FROZEN, tick=False)
def test_escalation_creates_the_social_worker_task_and_the_outcome_resolves_the_alert():
    w = world()
    pathway, enrolment = enrolled_child(w)
    worker = _case_team_social_worker(w, pathway)
    today = timezone.localdate()
    _absences(w, enrolment, [today - datetime.timedelta(days=d) for d in (8, 4, 0)])
    alert = BreachAlert.objects.get()
    task = services.alert_escalate(
        alert=alert, assignee=worker, by=w["coordinator"].user, instructions="Visite"
    )
    alert.refresh_from_db()
    assert alert.state == AlertState.ESCALATED
    assert InterventionTask.objects.get() == task and task.assignee == worker and task.state == TaskState.OPEN
    services.task_complete(task=task, outcome="recommitted", by=worker.user, note="RDV pris")
    alert.refresh_from_db()
    task.refresh_from_db()
    assert task.state == TaskState.DONE and alert.state == AlertState.RESOLVED


def test_social_workers_are_found_by_organisation_kind_or_job_title():
    w = world()
    pathway = active_pathway(w["programme"], w["coordinator"].user)
    by_kind = _case_team_social_worker(w, pathway, kind=OrganisationKind.CCAS)
    by_title = _case_team_social_worker(
        w, pathway, kind=OrganisationKind.SCHOOL, job_title="Assistante sociale"
    )
    _teacher = _case_team_social_worker(w, pathway, kind=OrganisationKind.SCHOOL, job_title="Enseignante")
    assert services.social_workers(pathway) == [by_kind, by_title]


@time_machine.travel(FROZEN, tick=False)
def test_escalation_refuses_someone_who_is_not_a_social_worker_of_the_case_team():
    w = world()
    pathway, enrolment = enrolled_child(w)
    today = timezone.localdate()
    _absences(w, enrolment, [today - datetime.timedelta(days=d) for d in (8, 4, 0)])
    with pytest.raises(ValidationError):
        services.alert_escalate(
            alert=BreachAlert.objects.get(), assignee=w["provider"], by=w["coordinator"].user
        )
    assert not InterventionTask.objects.exists()


# --- support fund ----------------------------------------------------------------------------------


def test_a_fund_request_is_approved_or_refused_once_and_refusal_needs_a_reason():
    w = world()
    pathway = active_pathway(w["programme"], w["coordinator"].user)
    line = funding_line(w["programme"])
    by = w["coordinator"].user
    first = services.fund_request_create(
        pathway=pathway,
        purpose="sports_licence",
        amount=Decimal("85"),
        payee="Club",
        funding_line=line,
        by=by,
    )
    second = services.fund_request_create(
        pathway=pathway, purpose="care", amount=Decimal("40"), payee="Cabinet", funding_line=line, by=by
    )
    services.fund_request_decide(fund_request=first, approve=True, by=by)
    with pytest.raises(ValidationError):
        services.fund_request_decide(fund_request=first, approve=False, by=by, reason="Non")
    with pytest.raises(ValidationError):
        services.fund_request_decide(fund_request=second, approve=False, by=by)
    second = services.fund_request_decide(
        fund_request=second, approve=False, by=by, reason="Prise en charge CPAM"
    )
    assert second.state == FundRequestState.REFUSED


def test_fund_totals_per_funding_line_and_per_child():
    from maillage.offers.models import FundRequest
    from maillage.offers.queries import fund_totals

    w = world()
    by = w["coordinator"].user
    line = funding_line(w["programme"])
    one, two = (active_pathway(w["programme"], by) for _ in range(2))
    for pathway, amount in ((one, "85"), (one, "15"), (two, "40")):
        request = services.fund_request_create(
            pathway=pathway,
            purpose="equipment",
            amount=Decimal(amount),
            payee="Magasin",
            funding_line=line,
            by=by,
        )
        services.fund_request_decide(fund_request=request, approve=True, by=by)
    totals = fund_totals(FundRequest.objects.all())
    assert totals["per_line"][0]["approved"] == Decimal("140")
    assert {row["pathway_id"]: row["approved"] for row in totals["per_child"]} == {
        one.pk: Decimal("100"),
        two.pk: Decimal("40"),
    }


def test_enrolments_keep_exactly_one_person():
    w = world()
    with pytest.raises(ValidationError):
        services.enrol(group=w["group"], by=w["coordinator"].user)
    assert not Enrolment.objects.exists()


def test_collective_only_beneficiaries_are_counted_apart_from_children_in_pathways_once_each():
    from maillage.offers.models import Beneficiary
    from maillage.offers.queries import participant_counts

    w = world()
    by = w["coordinator"].user
    pathway, _enrolment = enrolled_child(w)
    fields = {"programme": w["programme"], "by": by, "initial": "A", "age_band": "6-10", "sex": "F"}
    alone = services.beneficiary_create(first_name="Lou", **fields)
    later_in_pathway = services.beneficiary_create(first_name="Zoé", **fields)
    parent = services.beneficiary_create(first_name="Awa", **{**fields, "age_band": "adult"}, is_parent=True)
    for person in (alone, later_in_pathway, parent):
        services.enrol(group=w["group"], by=by, beneficiary=person)
    # Zoé later enters a pathway: she is that child now, and the child is also enrolled in another group.
    other = active_pathway(w["programme"], by)
    Beneficiary.objects.filter(pk=later_in_pathway.pk).update(child=other.child)
    second_group = Group.objects.create(
        offer=w["offer"], name="Autre", starts_on=w["group"].starts_on, ends_on=w["group"].ends_on
    )
    services.enrol(group=second_group, by=by, child=other.child)
    services.enrol(group=second_group, by=by, child=pathway.child)
    counts = participant_counts(w["programme"], w["group"].starts_on, w["group"].ends_on)
    assert counts == {"pathway_children": 2, "collective_only": 1, "parents": 1}
