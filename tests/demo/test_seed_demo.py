"""``manage.py seed_demo``: the demo programme, its partnership and a year of journey, run twice.

The seed runs once for the whole module (twice, to check idempotence) inside a transaction rolled back
at the end, so that no other test sees the demo data.
"""

import datetime
import io
import time

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models, transaction
from django.utils import timezone

from maillage import permissions as perms
from maillage.accounts.models import User
from maillage.audit.services import verify_chain
from maillage.demo import DEMO_SLUG
from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, Meeting
from maillage.pathways.enums import Circle, PathwayState, ReviewKind
from maillage.pathways.models import Consent, DiagnosticSection, Pathway
from maillage.programmes.models import ListItem, Programme
from maillage.referrals.enums import ReferralState
from maillage.referrals.models import Referral

MAX_SECONDS = 60

# Dates that say what is planned, not what happened: they may lie ahead.
PLANNED = {
    ("governance.Meeting", "starts_at"),
    ("governance.Meeting", "access_ends_at"),
    ("pathways.Objective", "target_date"),
    ("pathways.PlanAction", "starts_on"),
    ("pathways.PlanAction", "ends_on"),
    ("pathways.Pathway", "next_review_on"),
    ("pathways.CaseTeamMember", "ends_on"),
    ("pathways.BreakGlass", "expires_at"),
    ("programmes.Membership", "ends_on"),
}
APPS = ["referrals", "pathways", "governance", "people", "programmes", "audit"]


def model_counts() -> dict[str, int]:
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        started = time.monotonic()
        first_output = io.StringIO()
        call_command("seed_demo", force=True, stdout=first_output)
        seconds = time.monotonic() - started
        first = model_counts()
        call_command("seed_demo", force=True, stdout=io.StringIO())
        second = model_counts()
        yield {"seconds": seconds, "first": first, "second": second, "output": first_output.getvalue()}
        transaction.set_rollback(True)


@pytest.fixture
def programme(seeded, db):
    return Programme.objects.get(slug=DEMO_SLUG)


def test_the_seed_takes_less_than_a_minute(seeded):
    print(f"seed_demo took {seeded['seconds']:.1f} s")
    assert seeded["seconds"] < MAX_SECONDS


def test_running_the_seed_twice_changes_no_count_of_any_model(seeded):
    assert seeded["first"] == seeded["second"]
    assert seeded["first"]["referrals.Referral"] >= 30


def test_the_summary_gives_counts_by_state(seeded):
    assert "Orientations : " in seeded["output"]
    assert "Parcours : " in seeded["output"]
    assert "Accords retirés : " in seeded["output"]


def test_the_programme_gets_its_default_lists(programme):
    kinds = set(ListItem.objects.filter(programme=programme).values_list("kind", flat=True))
    assert kinds == {"referral_motif", "referrer_type", "exit_reason"}


def test_every_referral_state_exists_with_decisions_explained(programme):
    referrals = Referral.objects.filter(programme=programme)
    assert set(referrals.values_list("state", flat=True)) == set(ReferralState.values)
    assert not referrals.filter(state=ReferralState.DECLINED, decision_reason="").exists()
    assert not referrals.filter(state=ReferralState.REDIRECTED, redirected_to="").exists()
    submitters = set(referrals.values_list("submitted_by__email", flat=True))
    assert submitters == {"orienteur@demo.test", "coordination@demo.test"}
    assert referrals.filter(on_behalf_of_family=True).exists()
    assert all(referral.motifs.exists() for referral in referrals)


def test_every_pathway_state_exists(programme):
    states = set(Pathway.objects.filter(programme=programme).values_list("state", flat=True))
    assert states == set(PathwayState.values)


def test_a_withdrawn_consent_closed_its_pathway(programme):
    withdrawn = Consent.objects.filter(pathway__programme=programme, withdrawn_on__isnull=False)
    assert withdrawn.exists()
    pathway = withdrawn.first().pathway
    assert pathway.state == PathwayState.CLOSED
    assert pathway.exit_reason.code == "retrait_consentement"
    assert not pathway.consents.valid().exists()


def test_a_closed_pathway_was_reopened_as_a_new_one(programme):
    reopened = Pathway.objects.filter(programme=programme, previous__isnull=False).select_related("previous")
    assert reopened.count() == 1
    new = reopened.get()
    assert new.previous.state == PathwayState.CLOSED
    assert new.opened_on > new.previous.closed_on
    assert new.child_id == new.previous.child_id


def test_no_date_lies_in_the_future(programme):
    now = timezone.now()
    today = timezone.localdate()
    late = []
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.concrete_fields:
                if (model._meta.label, field.name) in PLANNED:
                    continue
                if isinstance(field, models.DateTimeField):
                    limit = now
                elif isinstance(field, models.DateField):
                    limit = today
                else:
                    continue
                if model._base_manager.filter(**{f"{field.name}__gt": limit}).exists():
                    late.append(f"{model._meta.label}.{field.name}")
    assert late == []


def test_the_journal_verifies(seeded, db):
    assert verify_chain() is None


def test_each_story_reads_in_order(programme):
    for pathway in Pathway.objects.filter(programme=programme).select_related("referral"):
        submitted = timezone.localdate(pathway.referral.submitted_at)
        assert submitted <= pathway.opened_on, pathway
        transitions = [t.at for t in pathway.transitions.all()]
        assert transitions == sorted(transitions), pathway
        assert pathway.case_code.startswith(f"DEMO-{pathway.opened_on.year}-")
        consents = list(pathway.consents.values_list("given_on", flat=True))
        if consents:
            assert min(consents) >= pathway.opened_on, pathway
            first_contact = pathway.contacts.order_by("occurred_on").first()
            assert first_contact is None or first_contact.occurred_on >= min(consents), pathway
        first_objective = pathway.objectives.order_by("created_at").first()
        for review in pathway.reviews.all():
            assert timezone.localdate(first_objective.created_at) <= review.held_on, pathway
        if pathway.state == PathwayState.CLOSED:
            final = pathway.reviews.filter(kind=ReviewKind.FINAL).first()
            if pathway.exit_reason.needs_final_review:
                assert final is not None and final.held_on <= pathway.closed_on, pathway


def test_active_pathways_have_a_plan_and_some_bilans_are_overdue(programme):
    active = Pathway.objects.filter(programme=programme, state=PathwayState.ACTIVE)
    for pathway in active:
        assert pathway.objectives.exists()
        assert pathway.plan_actions.filter(provider__programme=programme).exists()
        assert pathway.contacts.exists()
    assert active.filter(reviews__kind=ReviewKind.INTERMEDIATE).exists()
    assert active.filter(next_review_on__lt=timezone.localdate()).exists()


def test_diagnoses_use_several_circles(programme):
    for pathway in Pathway.objects.filter(programme=programme, state=PathwayState.DIAGNOSTIC):
        circles = set(pathway.diagnostic_sections.values_list("circle", flat=True))
        assert pathway.consents.valid().exists()
        assert len(circles) >= 2
    assert set(
        DiagnosticSection.objects.filter(pathway__programme=programme).values_list("circle", flat=True)
    ) == set(Circle.values)


def test_the_referente_leads_most_pathways_and_the_coordinator_a_few(programme):
    pathways = Pathway.objects.filter(programme=programme)
    referente = pathways.filter(referent__email="referente@demo.test").count()
    coordinator = pathways.filter(referent__email="coordination@demo.test").count()
    assert referente > pathways.count() / 2
    assert coordinator >= 2


def test_the_partnership_has_its_bodies_and_members(programme):
    bodies = {body.name: body for body in Body.objects.filter(programme=programme)}
    assert {body.kind for body in bodies.values()} >= {
        BodyKind.EPS,
        BodyKind.STEERING_COMMITTEE,
        BodyKind.TECHNICAL_COMMITTEE,
    }
    nord = set(bodies["EPS Nord"].members.values_list("membership__user__email", flat=True))
    sud = set(bodies["EPS Sud"].members.values_list("membership__user__email", flat=True))
    assert {"enseignant@demo.test", "assistante-sociale@demo.test"} <= nord
    assert {"referente@demo.test", "coordination@demo.test"} <= nord & sud


def test_next_weeks_eps_has_its_agenda_published_today_with_three_situations(programme):
    now = timezone.now()
    meeting = Meeting.objects.get(body__programme=programme, body__kind=BodyKind.EPS, starts_at__gt=now)
    assert meeting.body.name == "EPS Nord"
    assert timezone.localdate(meeting.agenda_published_at) == timezone.localdate()
    assert 0 < (timezone.localdate(meeting.starts_at) - timezone.localdate()).days <= 14
    window = datetime.timedelta(days=programme.eps_access_window_days)
    assert meeting.access_ends_at == meeting.starts_at + window
    assert meeting.agenda_items.filter(pathway__isnull=False).count() == 3
    assert AgendaItem.objects.filter(
        meeting__body__programme=programme, meeting__starts_at__lt=now, pathway__isnull=False
    ).exists()


def test_the_eps_demo_accounts_see_the_situations_of_next_weeks_eps(programme):
    meeting = Meeting.objects.get(
        body__programme=programme, body__kind=BodyKind.EPS, starts_at__gt=timezone.now()
    )
    on_agenda = set(meeting.agenda_items.exclude(pathway=None).values_list("pathway", flat=True))
    for email in ("enseignant@demo.test", "assistante-sociale@demo.test"):
        visible = set(perms.pathways_visible_to(User.objects.get(email=email)).values_list("pk", flat=True))
        assert on_agenda <= visible, email


def test_the_social_worker_reads_secret_items_only_where_the_family_shares_with_her_service(programme):
    social_worker = User.objects.get(email="assistante-sociale@demo.test")
    shared = set(
        Consent.objects.valid()
        .filter(pathway__programme=programme, shared_with__name="Maison départementale des solidarités")
        .values_list("pathway", flat=True)
    )
    secret = perms.items_readable_by(social_worker, DiagnosticSection).filter(circle=Circle.SECRET)
    read = set(secret.exclude(author=social_worker).values_list("pathway", flat=True))
    assert read
    assert read <= shared
    visible = set(perms.pathways_visible_to(social_worker).values_list("pk", flat=True))
    assert visible - shared, "some situations she sees are not shared with her service"


def test_the_plan_uses_realistic_circles_and_the_teacher_reads_only_the_practical_ones(programme):
    from maillage.pathways.enums import HEALTH_DIMENSIONS
    from maillage.pathways.models import Objective

    objectives = Objective.objects.filter(pathway__programme=programme)
    assert {Circle.SECRET, Circle.PARTNERS} <= set(objectives.values_list("circle", flat=True))
    assert not objectives.filter(dimension__in=HEALTH_DIMENSIONS, circle=Circle.PARTNERS).exists()
    teacher = User.objects.get(email="enseignant@demo.test")
    seen = perms.plan_visible_to(teacher, Objective)
    readable = perms.plan_texts_readable_by(teacher, Objective)
    assert readable.exists(), "the teacher reads « soutien en lecture »"
    assert seen.exclude(pk__in=readable).exists(), "he sees that other objectives exist, not their text"
    assert set(readable.values_list("dimension", flat=True)) <= {"school", "cultural", "sport_leisure"}


def test_children_accepted_with_a_qpv_reside_in_it_through_the_acceptance(programme):
    """Issue #13, point 13: the QPV of the referral reaches the child at acceptance (the same path as
    the interface), so the dashboard, the ANCT workbook and the comité pack count QPV residents."""
    from maillage.people.models import Child

    accepted = Referral.objects.filter(
        programme=programme, state=ReferralState.ACCEPTED, priority_area__isnull=False
    )
    assert accepted.exists()
    residents = Child.objects.filter(programme=programme, in_priority_area=True)
    assert residents.count() > 0
    assert set(accepted.values_list("child", flat=True)) <= set(residents.values_list("pk", flat=True))


def test_every_active_pathway_was_decided_by_an_eps_that_met(programme):
    """Issue #13, point 19: « Parcours en cours » only after an EPS that met decided on the situation."""
    active = Pathway.objects.filter(programme=programme, state=PathwayState.ACTIVE)
    assert active.exists()
    for pathway in active:
        assert AgendaItem.objects.filter(
            pathway=pathway,
            meeting__body__kind=BodyKind.EPS,
            meeting__cancelled=False,
            meeting__starts_at__lte=timezone.now(),
            decisions__isnull=False,
        ).exists(), pathway
