"""The partnership's rules: non-nominative minutes, decisions that write into the pathway, rhythm
warnings, circulation, notifications and digests, mission sheets."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from maillage import permissions as perms
from maillage.audit.models import AuditEvent
from maillage.governance import queries, services
from maillage.governance.enums import BodyKind, DigestFrequency, MissionSheetStatus
from maillage.governance.models import Decision, Meeting, Notification, NotificationPreference
from maillage.governance.services import GovernanceError
from maillage.pathways.enums import Dimension, PathwayState
from maillage.pathways.models import Note
from maillage.programmes.enums import Role
from tests.factories import MembershipFactory, programme_with_lists
from tests.governance.helpers import (
    child_named,
    committee,
    committee_meeting,
    eps_body,
    eps_meeting,
    eps_pathway,
    eps_world,
    held,
    mission_sheet,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme():
    return programme_with_lists()


@pytest.fixture
def coordinator(programme):
    return MembershipFactory(programme=programme, role=Role.COORDINATOR)


# --- minutes are non-nominative by construction ---------------------------------------------------


def test_minutes_naming_a_child_are_refused_with_the_name_found(programme, coordinator):
    child_named(programme, "Léa", "Martin-Dupont")
    meeting = committee_meeting(committee(programme), by=coordinator.user)

    with pytest.raises(GovernanceError) as error:
        services.minutes_save(
            meeting=meeting, text="Le cas de LEA martin dupont a été évoqué.", by=coordinator.user
        )

    # Quoted as written: the message names what was found, never more than the author typed.
    assert "« LEA martin dupont »" in error.value.messages[0]
    assert "non nominatif" in error.value.messages[0]
    meeting.refresh_from_db()
    assert meeting.minutes == ""


def test_minutes_naming_a_child_last_name_first_are_refused_too(programme, coordinator):
    child_named(programme, "Noé", "Bernard")
    meeting = committee_meeting(committee(programme), by=coordinator.user)

    with pytest.raises(GovernanceError):
        services.minutes_save(meeting=meeting, text="Situation de Bernard Noé.", by=coordinator.user)


def test_minutes_citing_a_case_code_are_refused_with_the_code(programme, coordinator):
    meeting = committee_meeting(committee(programme), by=coordinator.user)
    code = f"{programme.case_code_prefix}-2026-0142"

    with pytest.raises(GovernanceError) as error:
        services.minutes_save(meeting=meeting, text=f"Point sur {code} : RAS.", by=coordinator.user)

    assert code in error.value.messages[0]


def test_minutes_with_a_first_name_alone_or_a_child_of_another_programme_are_accepted(programme, coordinator):
    child_named(programme, "Léa", "Martin")
    child_named(programme_with_lists(), "Hugo", "Petit")
    meeting = committee_meeting(committee(programme), by=coordinator.user)

    services.minutes_save(
        meeting=meeting,
        text="Léa, animatrice, présente le bilan. Hugo Petit n'est pas d'ici.",
        by=coordinator.user,
    )

    meeting.refresh_from_db()
    assert meeting.minutes.startswith("Léa")
    assert AuditEvent.objects.filter(verb="meeting.minutes_saved").exists()


def test_a_summary_forwarded_to_another_body_is_non_nominative_too(programme, coordinator):
    child_named(programme, "Inès", "Robert")
    eps = eps_body(programme)
    technical = committee(programme, kind=BodyKind.TECHNICAL_COMMITTEE, name="Comité technique")
    meeting = eps_meeting(eps, by=coordinator.user)

    with pytest.raises(GovernanceError):
        services.forward(
            meeting=meeting, to_body=technical, summary="Inès Robert a besoin…", by=coordinator.user
        )
    services.forward(
        meeting=meeting,
        to_body=technical,
        summary="Trois situations de décrochage en CM2.",
        by=coordinator.user,
    )

    assert technical.received.get().summary == "Trois situations de décrochage en CM2."


def test_forwarding_notifies_the_members_of_the_receiving_body(programme, coordinator):
    technical = committee(programme, kind=BodyKind.TECHNICAL_COMMITTEE, name="Comité technique")
    member = MembershipFactory(programme=programme, role=Role.REFERENT)
    technical.members.create(membership=member)
    meeting = eps_meeting(eps_body(programme), by=coordinator.user)

    services.forward(meeting=meeting, to_body=technical, summary="Synthèse.", by=coordinator.user)

    notification = Notification.objects.get(user=member.user)
    assert "Comité technique" in notification.message


# --- EPS: agendas, windows, decisions -------------------------------------------------------------


def test_scheduling_an_eps_meeting_stores_the_end_of_the_access_window(programme, coordinator):
    body = eps_body(programme)
    starts_at = timezone.now() + datetime.timedelta(days=7)

    meeting = services.meeting_schedule(body=body, starts_at=starts_at, by=coordinator.user)

    assert meeting.access_ends_at == starts_at + datetime.timedelta(days=programme.eps_access_window_days)
    assert meeting.agenda_published_at is None


def test_a_bound_member_sees_the_name_during_the_window_and_not_after(programme):
    world = eps_world(programme)
    bound, teacher, pathway = world["bound"].user, world["teacher"].user, world["pathway"]

    assert perms.identity_visible(bound, pathway)
    assert not perms.identity_visible(teacher, pathway)
    assert perms.pathways_visible_to(teacher).filter(pk=pathway.pk).exists()

    after = world["meeting"].access_ends_at + datetime.timedelta(minutes=1)
    with time_machine.travel(after, tick=False):
        assert not perms.identity_visible(bound, pathway)
        assert not perms.pathways_visible_to(bound).filter(pk=pathway.pk).exists()


def test_cancelling_an_eps_meeting_closes_its_window_at_once(programme):
    world = eps_world(programme)

    services.meeting_cancel(meeting=world["meeting"], by=world["coordinator"].user)

    assert not perms.identity_visible(world["bound"].user, world["pathway"])


def test_a_referent_may_put_only_their_own_situations_on_the_agenda(programme, coordinator):
    referent = MembershipFactory(programme=programme, role=Role.REFERENT)
    own = eps_pathway(programme, coordinator=coordinator.user, referent=referent.user)
    other = eps_pathway(programme, coordinator=coordinator.user)
    meeting = eps_meeting(eps_body(programme), by=coordinator.user)

    assert perms.can_put_on_agenda(referent.user, meeting, own)
    assert not perms.can_put_on_agenda(referent.user, meeting, other)
    assert perms.can_put_on_agenda(coordinator.user, meeting, other)


def test_a_situation_goes_on_an_eps_agenda_once_and_never_on_a_committees(programme, coordinator):
    pathway = eps_pathway(programme, coordinator=coordinator.user)
    meeting = eps_meeting(eps_body(programme), by=coordinator.user)
    services.agenda_item_add(meeting=meeting, pathway=pathway, by=coordinator.user)

    with pytest.raises(GovernanceError):
        services.agenda_item_add(meeting=meeting, pathway=pathway, by=coordinator.user)
    with pytest.raises(GovernanceError):
        services.agenda_item_add(
            meeting=committee_meeting(committee(programme), by=coordinator.user),
            pathway=pathway,
            by=coordinator.user,
        )


def test_a_decision_writes_into_the_timeline_adds_to_the_plan_and_moves_the_pathway_to_active(programme):
    world = eps_world(programme)
    held(world["meeting"])  # the EPS has met
    coordinator, pathway = world["coordinator"].user, world["pathway"]

    decision = services.decision_record(
        item=world["item"],
        text="Orientation vers l'aide aux devoirs",
        who_does_what="La référente contacte l'association",
        due_on=timezone.localdate() + datetime.timedelta(days=30),
        objective=(Dimension.SCHOOL, "Retrouver le goût de lire"),
        action_title="Aide aux devoirs, deux soirs par semaine",
        move_to_active=True,
        by=coordinator,
    )

    pathway.refresh_from_db()
    assert pathway.state == PathwayState.ACTIVE
    assert decision.moved_to_active
    note = Note.objects.get(pathway=pathway)
    assert "Orientation vers l'aide aux devoirs" in note.body
    assert "EPS Nord" in note.body
    assert pathway.objectives.filter(wording="Retrouver le goût de lire").exists()
    assert pathway.plan_actions.filter(title__startswith="Aide aux devoirs").exists()
    transition = pathway.transitions.order_by("-at").first()
    assert transition.to_state == PathwayState.ACTIVE
    assert "EPS Nord" in transition.note


def test_a_decision_before_the_eps_has_met_cannot_move_the_pathway_to_active(programme):
    world = eps_world(programme)  # the meeting is in a week

    with pytest.raises(GovernanceError) as error:
        services.decision_record(
            item=world["item"], text="Accompagnement", move_to_active=True, by=world["coordinator"].user
        )

    assert "examen de la situation en EPS" in " ".join(error.value.messages)
    world["pathway"].refresh_from_db()
    assert world["pathway"].state == PathwayState.EPS_REVIEW


def test_a_decision_cannot_move_a_pathway_the_rules_keep_in_eps_review(programme):
    world = eps_world(programme)
    pathway = world["pathway"]
    pathway.objectives.all().delete()

    with pytest.raises(GovernanceError) as error:
        services.decision_record(
            item=world["item"], text="Accompagnement", move_to_active=True, by=world["coordinator"].user
        )

    assert "objectif" in " ".join(error.value.messages)
    pathway.refresh_from_db()
    assert pathway.state == PathwayState.EPS_REVIEW
    assert not Decision.objects.exists()  # all or nothing


def test_a_decision_on_a_committee_point_is_non_nominative(programme, coordinator):
    child_named(programme, "Jade", "Roux")
    item = services.agenda_item_add(
        meeting=committee_meeting(committee(programme), by=coordinator.user),
        title="Budget",
        by=coordinator.user,
    )

    with pytest.raises(GovernanceError):
        services.decision_record(item=item, text="Aider Jade Roux", by=coordinator.user)


def test_the_eps_review_date_is_the_first_meeting_with_a_decision(programme):
    world = eps_world(programme)
    pathway, coordinator = world["pathway"], world["coordinator"].user
    first = Meeting.objects.filter(pk=world["meeting"].pk)
    first.update(starts_at=timezone.now() - datetime.timedelta(days=20))
    later = eps_meeting(world["body"], days_from_now=-5, by=coordinator)
    item = services.agenda_item_add(meeting=later, pathway=pathway, by=coordinator)

    assert queries.eps_review_dates(pathway.__class__.objects.all())[pathway.pk] == first.get().starts_at
    services.decision_record(item=item, text="Suivi", by=coordinator)
    assert queries.eps_review_dates(pathway.__class__.objects.all())[pathway.pk] == later.starts_at


def test_held_meetings_are_past_and_not_cancelled(programme, coordinator):
    body = eps_body(programme)
    past = eps_meeting(body, days_from_now=-3, by=coordinator.user)
    cancelled = eps_meeting(body, days_from_now=-10, by=coordinator.user)
    services.meeting_cancel(meeting=cancelled, by=coordinator.user)
    eps_meeting(body, days_from_now=5, by=coordinator.user)

    assert list(Meeting.objects.held()) == [past]
    today = timezone.localdate()
    assert queries.eps_meetings_held(programme, today - datetime.timedelta(days=30), today) == 1


# --- rhythm warnings ---------------------------------------------------------------------------------


def _at(day: datetime.date, hour=18):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@time_machine.travel(datetime.datetime(2026, 11, 15, 10, tzinfo=datetime.UTC), tick=False)
def test_a_steering_committee_with_one_meeting_this_school_year_is_flagged(programme, coordinator):
    body = committee(programme)
    services.meeting_schedule(body=body, starts_at=_at(datetime.date(2026, 10, 8)), by=coordinator.user)
    # Last school year's meeting does not count; a cancelled one neither.
    services.meeting_schedule(body=body, starts_at=_at(datetime.date(2026, 6, 20)), by=coordinator.user)
    cancelled = services.meeting_schedule(
        body=body, starts_at=_at(datetime.date(2027, 3, 4)), by=coordinator.user
    )
    services.meeting_cancel(meeting=cancelled, by=coordinator.user)

    warnings = queries.rhythm_warnings(body)

    assert warnings == [
        "Seulement 1 réunion « Comité de pilotage / CCRE » prévue cette année scolaire "
        "(au moins 2 attendues)."
    ]
    services.meeting_schedule(body=body, starts_at=_at(datetime.date(2027, 5, 6)), by=coordinator.user)
    assert queries.rhythm_warnings(body) == []


@time_machine.travel(datetime.datetime(2027, 1, 20, 10, tzinfo=datetime.UTC), tick=False)
def test_an_eps_without_a_meeting_for_six_weeks_either_side_is_flagged(programme, coordinator):
    body = eps_body(programme)
    for month in (9, 10, 11):
        services.meeting_schedule(
            body=body, starts_at=_at(datetime.date(2026, month, 10)), by=coordinator.user
        )
    for month in (3, 4, 5, 6, 6, 6, 6):
        services.meeting_schedule(
            body=body, starts_at=_at(datetime.date(2027, month, 12)), by=coordinator.user
        )

    warnings = queries.rhythm_warnings(body)

    assert len(warnings) == 1
    assert "environ une par mois" in warnings[0]
    services.meeting_schedule(body=body, starts_at=_at(datetime.date(2027, 2, 3)), by=coordinator.user)
    assert queries.rhythm_warnings(body) == []


@time_machine.travel(datetime.datetime(2027, 7, 20, 10, tzinfo=datetime.UTC), tick=False)
def test_the_summer_holidays_do_not_break_the_eps_rhythm(programme, coordinator):
    body = eps_body(programme)
    body.meetings_per_year = 0
    body.save()

    assert queries.rhythm_warnings(body) == []


# --- notifications and digests -----------------------------------------------------------------------


def test_digests_are_sent_once_and_respect_the_weekly_period(programme):
    daily = MembershipFactory(programme=programme).user
    weekly = MembershipFactory(programme=programme).user
    silent = MembershipFactory(programme=programme).user
    NotificationPreference.objects.create(user=daily, digest=DigestFrequency.DAILY)
    NotificationPreference.objects.create(user=weekly, digest=DigestFrequency.WEEKLY)
    NotificationPreference.objects.create(user=silent, digest=DigestFrequency.NONE)
    for user in (daily, weekly, silent):
        services.notify(users=[user], verb="test.notified", message="Ordre du jour publié : EPS Nord")

    call_command("send_digests")
    call_command("send_digests")

    assert sorted(m.to[0] for m in mail.outbox) == sorted([daily.email, weekly.email])
    assert "Ordre du jour publié : EPS Nord" in mail.outbox[0].body
    mail.outbox.clear()

    services.notify(users=[daily, weekly], verb="test.notified", message="Réunion annulée")
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, hours=1)):
        call_command("send_digests")
    assert [m.to[0] for m in mail.outbox] == [daily.email]  # the weekly one waits for its week
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, hours=1)):
        call_command("send_digests")
    assert sorted(m.to[0] for m in mail.outbox) == sorted([daily.email, weekly.email])


def test_publishing_an_agenda_notifies_the_members_but_not_the_publisher(programme):
    world = eps_world(programme)
    body = world["body"]
    meeting = services.meeting_schedule(
        body=body, starts_at=timezone.now() + datetime.timedelta(days=3), by=world["coordinator"].user
    )
    Notification.objects.all().delete()

    services.meeting_publish_agenda(meeting=meeting, by=world["coordinator"].user)

    assert set(Notification.objects.values_list("user", flat=True)) == {
        world["bound"].user_id,
        world["teacher"].user_id,
    }


def test_what_changed_since_the_last_visit_lists_the_decision(programme):
    world = eps_world(programme)
    referent_user = world["coordinator"].user
    pathway = world["pathway"]
    assert services.pathway_visit(user=referent_user, pathway=pathway) is None
    seen = services.pathway_visit(user=referent_user, pathway=pathway)

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        other = MembershipFactory(programme=programme, role=Role.COORDINATOR).user
        services.decision_record(item=world["item"], text="Suivi renforcé", by=other)
        changes = queries.pathway_changes(referent_user, pathway, seen)

    labels = [change.label for change in changes]
    assert "Décision de l'EPS Nord" in labels
    assert "Nouvelle note" in labels


# --- mission sheets ----------------------------------------------------------------------------------


def test_a_mission_sheet_keeps_versions_and_contributors_and_is_validated_with_the_meetings_date(
    programme, coordinator
):
    agent = MembershipFactory(programme=programme, role=Role.REFERENT).user
    sheet = mission_sheet(programme, by=coordinator.user)
    services.mission_sheet_revise(
        sheet=sheet, body="Anime le réseau.\nPrépare les EPS.\nSuit les actions.", by=agent
    )
    meeting = committee_meeting(
        committee(programme), at=timezone.now() - datetime.timedelta(days=2), by=coordinator.user
    )

    services.mission_sheet_propose(sheet=sheet, meeting=meeting, by=coordinator.user)
    services.mission_sheet_validate(sheet=sheet, by=coordinator.user)

    sheet.refresh_from_db()
    assert sheet.versions.count() == 3
    assert set(sheet.contributors.all()) == {coordinator.user, agent}
    assert sheet.status == MissionSheetStatus.VALIDATED
    assert sheet.validated_on == timezone.localdate(meeting.starts_at)
    assert meeting.agenda_items.filter(title__contains="Agent de développement local").exists()


def test_a_sheet_cannot_be_validated_before_its_meeting_and_goes_back_to_writing_when_changed(
    programme, coordinator
):
    sheet = mission_sheet(programme, by=coordinator.user)
    future = committee_meeting(
        committee(programme), at=timezone.now() + datetime.timedelta(days=9), by=coordinator.user
    )
    services.mission_sheet_propose(sheet=sheet, meeting=future, by=coordinator.user)

    with pytest.raises(GovernanceError):
        services.mission_sheet_validate(sheet=sheet, by=coordinator.user)
    services.mission_sheet_revise(sheet=sheet, body="Autre texte", by=coordinator.user)
    sheet.refresh_from_db()
    assert sheet.status == MissionSheetStatus.DRAFT
