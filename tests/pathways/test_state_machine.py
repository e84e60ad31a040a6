"""The pathway state machine under random sequences of transitions and consent events."""

import datetime

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from maillage.audit.models import AuditEvent
from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, Decision, Meeting
from maillage.pathways import services
from maillage.pathways.enums import Dimension, PathwayState, Rating, ReviewKind
from maillage.pathways.models import Pathway, PathwayTransition
from maillage.programmes.enums import ListKind, Role
from maillage.programmes.models import ListItem
from tests.factories import GuardianFactory, MembershipFactory, open_pathway, programme_with_lists

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


class PathwayMachine(RuleBasedStateMachine):
    """Drives one pathway at random; the guards must hold whatever the order of events."""

    @initialize()
    def start(self):
        self.programme = programme_with_lists()
        self.coordinator = MembershipFactory(programme=self.programme, role=Role.COORDINATOR).user
        self.referent = MembershipFactory(programme=self.programme, role=Role.REFERENT).user
        self.pathway = open_pathway(programme=self.programme, by=self.coordinator)
        self.guardian = self.pathway.child.household.guardians.first()
        self.attempts = 0
        self.bodies = {
            kind: Body.objects.create(
                programme=self.programme, kind=kind, name=str(kind), meetings_per_year=4
            )
            for kind in (BodyKind.EPS, BodyKind.TECHNICAL_COMMITTEE)
        }

    def refresh(self):
        self.pathway = Pathway.objects.get(pk=self.pathway.pk)

    @rule(to_state=st.sampled_from([s for s in PathwayState if s != PathwayState.CLOSED]))
    def transition(self, to_state):
        self.attempts += 1
        try:
            services.pathway_transition(pathway=self.pathway, to_state=to_state, by=self.coordinator)
        except services.JourneyError:
            pass
        self.refresh()

    @rule(authority=st.booleans())
    def record_consent(self, authority):
        guardian = (
            self.guardian
            if authority
            else GuardianFactory(household=self.pathway.child.household, has_parental_authority=False)
        )
        try:
            services.consent_record(pathway=self.pathway, guardian=guardian, given_on=TODAY, by=self.referent)
        except services.JourneyError:
            pass
        self.refresh()

    @rule()
    def withdraw_a_consent(self):
        consent = self.pathway.consents.valid().first()
        if consent is not None:
            services.consent_withdraw(consent=consent, withdrawn_on=TODAY, by=self.referent)
        self.refresh()

    @rule()
    def add_objective(self):
        try:
            services.objective_add(
                pathway=self.pathway, dimension=Dimension.SCHOOL, wording="Lire couramment", by=self.referent
            )
        except services.JourneyError:
            pass

    @rule(
        kind=st.sampled_from([BodyKind.EPS, BodyKind.TECHNICAL_COMMITTEE]),
        days=st.sampled_from([-7, -1, 1, 7]),
        cancelled=st.booleans(),
        decided=st.booleans(),
    )
    def put_on_a_meeting_agenda(self, kind, days, cancelled, decided):
        """A meeting (EPS or not, held or to come, cancelled or not) with the situation, decided or not."""
        meeting = Meeting.objects.create(
            body=self.bodies[kind],
            starts_at=timezone.now() + datetime.timedelta(days=days),
            cancelled=cancelled,
        )
        item = AgendaItem.objects.create(meeting=meeting, pathway=self.pathway, title="Situation")
        if decided:
            Decision.objects.create(
                agenda_item=item, text="Accompagnement proposé", decided_by=self.coordinator
            )

    @rule()
    def assign_referent(self):
        services.referent_assign(pathway=self.pathway, referent=self.referent, by=self.coordinator)
        self.refresh()

    @rule(
        code=st.sampled_from(["objectifs_atteints", "perte_contact", "refus_famille"]),
        with_review=st.booleans(),
    )
    def close(self, code, with_review):
        reason = ListItem.objects.get(programme=self.programme, kind=ListKind.EXIT_REASON, code=code)
        if with_review and self.pathway.state != PathwayState.CLOSED:
            ratings = {o.pk: (Rating.PARTLY, "") for o in self.pathway.objectives.all()}
            services.review_add(
                pathway=self.pathway, kind=ReviewKind.FINAL, held_on=TODAY, by=self.referent, ratings=ratings
            )
        try:
            services.pathway_close(
                pathway=self.pathway, exit_reason=reason, closed_on=TODAY, by=self.referent
            )
        except services.JourneyError:
            pass
        self.refresh()

    @invariant()
    def never_beyond_engagement_without_a_consent_having_existed(self):
        if not hasattr(self, "pathway"):
            return
        states = list(self.pathway.transitions.values_list("to_state", flat=True))
        reached_diagnostic = PathwayState.DIAGNOSTIC in states
        if self.pathway.state == PathwayState.DIAGNOSTIC:
            assert services.has_valid_consent(self.pathway)
        if reached_diagnostic:
            assert self.pathway.consents.filter(guardian__has_parental_authority=True).exists()

    @invariant()
    def active_means_objective_and_referent(self):
        if hasattr(self, "pathway") and self.pathway.state == PathwayState.ACTIVE:
            assert self.pathway.objectives.exists()
            assert self.pathway.referent_id is not None
            assert services.has_valid_consent(self.pathway)

    @invariant()
    def active_only_after_an_eps_that_met_decided_on_the_situation(self):
        if hasattr(self, "pathway") and self.pathway.state == PathwayState.ACTIVE:
            held = [
                item
                for item in AgendaItem.objects.filter(pathway=self.pathway).select_related("meeting__body")
                if item.meeting.body.kind == BodyKind.EPS
                and not item.meeting.cancelled
                and item.meeting.starts_at <= timezone.now()
                and item.decisions.exists()
            ]
            assert held, "« Parcours en cours » before any EPS that met decided on the situation"

    @invariant()
    def every_transition_is_logged_and_journaled(self):
        if not hasattr(self, "pathway"):
            return
        log = list(PathwayTransition.objects.filter(pathway=self.pathway).order_by("at", "pk"))
        assert log[-1].to_state == self.pathway.state
        for before, after in zip(log, log[1:], strict=False):
            assert after.from_state == before.to_state
        journaled = AuditEvent.objects.filter(
            target_type="pathways.pathway",
            target_id=str(self.pathway.pk),
            verb__in=["pathway.opened", "pathway.transition", "pathway.closed"],
        ).count()
        assert journaled == len(log)

    @invariant()
    def closed_has_reason_and_final_review_when_required(self):
        if hasattr(self, "pathway") and self.pathway.state == PathwayState.CLOSED:
            assert self.pathway.exit_reason is not None and self.pathway.closed_on is not None
            if self.pathway.exit_reason.needs_final_review:
                assert self.pathway.reviews.filter(kind=ReviewKind.FINAL).exists()


PathwayMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.django_db(transaction=True)
def test_random_sequences_keep_the_journey_guards():
    PathwayMachine.TestCase().runTest()


def test_diagnostic_is_refused_without_consent_with_a_clear_message():
    pathway = open_pathway()
    with pytest.raises(services.JourneyError, match="accord écrit"):
        services.pathway_transition(
            pathway=pathway, to_state=PathwayState.DIAGNOSTIC, by=pathway.transitions.get().by
        )


def test_withdrawing_the_last_consent_closes_the_pathway_with_reason_withdrawal():
    pathway = open_pathway()
    by = pathway.transitions.get().by
    consent = services.consent_record(
        pathway=pathway, guardian=pathway.child.household.guardians.get(), given_on=TODAY, by=by
    )
    services.pathway_transition(pathway=pathway, to_state=PathwayState.DIAGNOSTIC, by=by)
    services.consent_withdraw(consent=consent, withdrawn_on=TODAY, by=by)
    pathway.refresh_from_db()
    assert pathway.state == PathwayState.CLOSED
    assert pathway.exit_reason.code == "retrait_consentement"
    assert pathway.consents.get().withdrawn_on == TODAY  # the history stays readable


def test_case_codes_follow_prefix_year_and_number():
    programme = programme_with_lists(case_code_prefix="DEMO")
    first = open_pathway(programme=programme)
    second = open_pathway(programme=programme)
    year = TODAY.year
    assert (first.case_code, second.case_code) == (f"DEMO-{year}-0001", f"DEMO-{year}-0002")


def test_reopening_creates_a_new_pathway_linked_to_the_closed_one():
    pathway = open_pathway()
    by = pathway.transitions.get().by
    reason = ListItem.objects.get(
        programme=pathway.programme, kind=ListKind.EXIT_REASON, code="perte_contact"
    )
    services.pathway_close(pathway=pathway, exit_reason=reason, closed_on=TODAY, by=by)
    pathway.refresh_from_db()
    reopened = services.pathway_reopen(pathway=pathway, by=by)
    assert reopened.previous == pathway
    assert reopened.state == PathwayState.ENGAGEMENT
    assert reopened.case_code != pathway.case_code


def test_closing_with_a_reason_that_needs_a_final_review_is_refused_without_one():
    pathway = open_pathway()
    by = pathway.transitions.get().by
    reason = ListItem.objects.get(
        programme=pathway.programme, kind=ListKind.EXIT_REASON, code="objectifs_atteints"
    )
    with pytest.raises(services.JourneyError, match="bilan final"):
        services.pathway_close(pathway=pathway, exit_reason=reason, closed_on=TODAY, by=by)
    with pytest.raises(services.JourneyError, match="futur"):
        services.pathway_close(
            pathway=pathway, exit_reason=reason, closed_on=TODAY + datetime.timedelta(days=1), by=by
        )


def _ready_for_active(*, decided_eps_days=None, kind=BodyKind.EPS, cancelled=False):
    programme = programme_with_lists()
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR).user
    pathway = open_pathway(programme=programme, by=coordinator, referent=coordinator)
    services.consent_record(
        pathway=pathway, guardian=pathway.child.household.guardians.first(), given_on=TODAY, by=coordinator
    )
    pathway = services.pathway_transition(pathway=pathway, to_state=PathwayState.DIAGNOSTIC, by=coordinator)
    services.objective_add(pathway=pathway, dimension=Dimension.SCHOOL, wording="Lire", by=coordinator)
    if decided_eps_days is not None:
        body = Body.objects.create(programme=programme, kind=kind, name="Instance", meetings_per_year=4)
        meeting = Meeting.objects.create(
            body=body,
            starts_at=timezone.now() + datetime.timedelta(days=decided_eps_days),
            cancelled=cancelled,
        )
        item = AgendaItem.objects.create(meeting=meeting, pathway=pathway, title="Situation")
        Decision.objects.create(agenda_item=item, text="Accompagnement", decided_by=coordinator)
    return pathway, coordinator


@pytest.mark.parametrize(
    "setting",
    [
        {},
        {"decided_eps_days": 3},
        {"decided_eps_days": -3, "cancelled": True},
        {"decided_eps_days": -3, "kind": BodyKind.TECHNICAL_COMMITTEE},
    ],
    ids=["never on an agenda", "eps still to come", "eps cancelled", "not an eps"],
)
def test_active_is_refused_before_an_eps_has_met_and_decided(setting):
    pathway, coordinator = _ready_for_active(**setting)

    with pytest.raises(services.JourneyError) as error:
        services.pathway_transition(pathway=pathway, to_state=PathwayState.ACTIVE, by=coordinator)

    assert "examen de la situation en EPS" in " ".join(error.value.messages)
    assert Pathway.objects.get(pk=pathway.pk).state == PathwayState.DIAGNOSTIC


def test_active_is_allowed_once_an_eps_that_met_decided():
    pathway, coordinator = _ready_for_active(decided_eps_days=-1)

    pathway = services.pathway_transition(pathway=pathway, to_state=PathwayState.ACTIVE, by=coordinator)

    assert pathway.state == PathwayState.ACTIVE
