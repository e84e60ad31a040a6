"""The per-pathway decisions never drift from the scopes: same answer for every user × pathway.

The pathway page decides what its reader may see of one pathway in Python (``perms.reaches``,
``readable_circles``, ``items_readable_on``…, issue 12); every list, search and export asks the SQL
scopes (``pathways_visible_to``, ``items_readable_by``…). Both read the same arms of the policy
(``perms.relation_arms``) but evaluate them separately, so a random world is generated from a seed —
programmes, organisations, memberships of every role (bound or not, refusing or not, charter signed or
not, ended or future), pathways in every state (closed, archived), consents (in force, withdrawn, without
*prise en charge*, from a guardian without parental authority, shared with random organisations), case
teams and EPS seats and agendas (windows open, closed, unpublished), break-glass grants (current,
expired) — including the anomalies the services refuse (a membership of another programme in a case
team, an EPS seat or a break-glass grant) — and every answer of the per-pathway path is compared with
the scope's, outside a request and inside one (where the page's own read of the pathway seeds them).
"""

import datetime
import random
from types import SimpleNamespace

import pytest
from django.db.models import Q
from django.utils import timezone

from maillage import permissions as perms
from maillage.core import request_cache
from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, BodyMember, Decision, Meeting
from maillage.pathways.enums import Circle, Dimension, PathwayState
from maillage.pathways.models import (
    BreakGlass,
    CaseTeamMember,
    Consent,
    Contact,
    DiagnosticSection,
    Note,
    Objective,
    Pathway,
    PlanAction,
    Review,
)
from maillage.programmes.enums import ListKind, OrganisationKind, Role
from maillage.programmes.models import ListItem, Membership
from tests.factories import (
    ChildFactory,
    GuardianFactory,
    MembershipFactory,
    OrganisationFactory,
    programme_with_lists,
)

pytestmark = pytest.mark.django_db

SEEDS = range(5)
KINDS = [perms.PATHWAY, perms.CHILD, perms.ITEM_TEAM, perms.ITEM_SECRET, perms.ITEM_PARTNERS, perms.CONSENT]
WRITE_KINDS = [perms.PATHWAY, perms.CONSENT, perms.ITEM_PARTNERS]
ITEM_MODELS = [Note, Contact, DiagnosticSection, Review]
NOW = timezone.now()
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
MEMBERSHIP_DATES = [(TODAY - DAY * 30, None)] * 6 + [(TODAY - DAY * 30, TODAY - DAY), (TODAY + DAY * 3, None)]


def _world(seed: int) -> SimpleNamespace:
    rng = random.Random(seed)
    programmes = [programme_with_lists(), programme_with_lists()]
    organisations = {
        p.pk: [
            OrganisationFactory(programme=p, kind=kind)
            for kind in (OrganisationKind.CD_SOCIAL, OrganisationKind.SCHOOL, OrganisationKind.ASSOCIATION)
        ]
        for p in programmes
    }
    every_organisation = [o for orgs in organisations.values() for o in orgs]

    memberships = []
    for _ in range(8):
        programme = rng.choice(programmes)
        role = rng.choice(Role.values)
        membership = MembershipFactory(
            programme=programme,
            role=role,
            organisation=rng.choice([*organisations[programme.pk], None]),
            bound_by_secrecy=rng.random() < 0.6,
            refuses_shared_secret=rng.random() < 0.15,
            signed_charter=rng.random() < 0.85,
            # In force, ended yesterday, or starting in three days.
            **dict(zip(("starts_on", "ends_on"), rng.choice(MEMBERSHIP_DATES), strict=True)),
            second_factor=False,
        )
        memberships.append(membership)
        if rng.random() < 0.4:
            # A second membership of the same person, often the same role in the other programme (so that
            # the arm of that role spans both programmes and only the per-row isolation separates them).
            other = rng.choice([p for p in programmes if p != programme] * 3 + [programme])
            memberships.append(
                MembershipFactory(
                    user=membership.user,
                    programme=other,
                    role=rng.choice([role, *Role.values]) if rng.random() < 0.5 else role,
                    organisation=rng.choice([*organisations[other.pk], None]),
                    bound_by_secrecy=rng.random() < 0.6,
                    second_factor=False,
                )
            )
    users = list({m.user_id: m.user for m in memberships}.values())

    pathways = []
    for n in range(6):
        programme = rng.choice(programmes)
        child = ChildFactory(programme=programme)
        guardian = GuardianFactory(household=child.household, has_parental_authority=rng.random() < 0.8)
        state = rng.choice([PathwayState.ENGAGEMENT, PathwayState.DIAGNOSTIC, PathwayState.ACTIVE, "closed"])
        closed = state == "closed"
        exit_reason = ListItem.objects.filter(programme=programme, kind=ListKind.EXIT_REASON).first()
        pathway = Pathway.objects.create(
            programme=programme,
            child=child,
            case_code=f"EQ{seed}-{n}-{programme.pk}",
            state=PathwayState.CLOSED if closed else state,
            referent=rng.choice([*users, None, None]),
            opened_on=TODAY - DAY * 60,
            closed_on=TODAY - DAY if closed else None,
            exit_reason=exit_reason if closed else None,
            archived_at=NOW - DAY if rng.random() < 0.15 else None,
        )
        pathways.append(pathway)
        for _ in range(rng.choice([0, 1, 1, 2])):
            consent = Consent.objects.create(
                pathway=pathway,
                guardian=guardian,
                given_on=TODAY - DAY * 20,
                care=rng.random() < 0.85,
                withdrawn_on=TODAY - DAY if rng.random() < 0.2 else None,
                recorded_by=users[0],
            )
            consent.shared_with.set(rng.sample(every_organisation, rng.choice([0, 1, 2, 3])))
        for circle in Circle.values:
            author = rng.choice(users)
            Note.objects.create(pathway=pathway, author=author, circle=circle, body=f"note {circle}")
            Contact.objects.create(
                pathway=pathway, author=author, circle=circle, kind="phone", occurred_on=TODAY, summary="s"
            )
            DiagnosticSection.objects.create(
                pathway=pathway, author=author, circle=circle, dimension=Dimension.FAMILY, facts="f"
            )
            Review.objects.create(
                pathway=pathway, author=author, circle=circle, kind="intermediate", held_on=TODAY
            )
            Objective.objects.create(
                pathway=pathway,
                author=rng.choice([author, None]),
                circle=circle,
                dimension=Dimension.SCHOOL,
                wording=f"objectif {circle}",
            )
            PlanAction.objects.create(pathway=pathway, author=author, circle=circle, title=f"action {circle}")

    # Case teams (now, ended, not yet started), with memberships of any programme (anomalies included).
    for _ in range(12):
        starts, ends = rng.choice(
            [(TODAY - DAY * 5, None), (TODAY - DAY * 9, TODAY - DAY), (TODAY + DAY, None)]
        )
        CaseTeamMember.objects.create(
            pathway=rng.choice(pathways),
            membership=rng.choice(memberships),
            starts_on=starts,
            ends_on=ends,
            reason="Suivi",
            added_by=users[0],
        )
    # EPS (and a committee) with seats and agendas: windows open, closed, not yet published.
    for programme in programmes:
        for kind in (BodyKind.EPS, BodyKind.EPS, rng.choice(list(BodyKind.values))):
            body = Body.objects.create(programme=programme, kind=kind, name=f"Instance {rng.random():.6f}")
            for membership in rng.sample(memberships, 3):
                BodyMember.objects.get_or_create(body=body, membership=membership)
            published, ends = rng.choice(
                [
                    (NOW - DAY * 3, NOW + DAY * 20),
                    (NOW - DAY * 50, NOW - DAY),
                    (NOW + DAY * 2, NOW + DAY * 30),
                ]
            )
            meeting = Meeting.objects.create(
                body=body, starts_at=NOW - DAY, agenda_published_at=published, access_ends_at=ends
            )
            for pathway in rng.sample(pathways, 2):
                item = AgendaItem.objects.create(meeting=meeting, pathway=pathway, title="Situation")
                Decision.objects.create(
                    agenda_item=item, text="d", decided_by=rng.choice(users), circle=rng.choice(Circle.values)
                )
    # Break-glass grants, current or expired, opened with any membership of the user.
    for _ in range(4):
        membership = rng.choice(memberships)
        BreakGlass.objects.create(
            pathway=rng.choice(pathways),
            user=membership.user,
            membership=membership,
            reason="Urgence",
            expires_at=NOW + rng.choice([DAY, -DAY]),
        )
    _every_arm_once(programmes, organisations, users[0], pathways)
    users = list({m.user_id: m.user for m in Membership.objects.select_related("user")}.values())
    return SimpleNamespace(users=users, pathways=pathways)


def _every_arm_once(programmes, organisations, recorder, pathways) -> None:
    """Beside the random rows, one pathway that each arm surely opens to someone (bound by secrecy, of the
    organisation the consent covers): its référent, an added member, an EPS seat in the window, a DPO
    with a break-glass grant, and the coordinator; and, on the same pathway, the same links for a member
    the consent does not cover, and for members of the other programme (whose holder also has the same
    role in this one, so that only the per-row isolation keeps them out)."""
    programme, other = programmes
    organisation, uncovered_organisation = organisations[programme.pk][:2]

    def member(role, *, where=programme, organisation=organisation, **fields):
        return MembershipFactory(
            programme=where,
            role=role,
            organisation=organisation,
            bound_by_secrecy=True,
            second_factor=False,
            **fields,
        )

    referent, added, seated, dpo = (
        member(r) for r in (Role.REFERENT, Role.EPS_MEMBER, Role.EPS_MEMBER, Role.DPO)
    )
    member(Role.COORDINATOR)
    uncovered = member(Role.EPS_MEMBER, organisation=uncovered_organisation)
    foreign = {
        role: member(role, where=other, organisation=organisations[other.pk][0])
        for role in (Role.EPS_MEMBER, Role.DPO, Role.REFERENT)
    }
    for role, membership in foreign.items():
        member(role, user=membership.user)
    child = ChildFactory(programme=programme)
    guardian = GuardianFactory(household=child.household)
    pathway = Pathway.objects.create(
        programme=programme,
        child=child,
        case_code=f"EQ-ALL-{programme.pk}",
        state=PathwayState.DIAGNOSTIC,
        referent=referent.user,
        opened_on=TODAY - DAY * 60,
    )
    consent = Consent.objects.create(pathway=pathway, guardian=guardian, given_on=TODAY, recorded_by=recorder)
    consent.shared_with.set([organisation])
    for circle in Circle.values:
        Note.objects.create(pathway=pathway, author=recorder, circle=circle, body=f"note {circle}")
    for membership in (added, uncovered, foreign[Role.EPS_MEMBER], foreign[Role.REFERENT]):
        CaseTeamMember.objects.create(
            pathway=pathway, membership=membership, reason="Suivi", added_by=recorder
        )
    body = Body.objects.create(programme=programme, kind=BodyKind.EPS, name="EPS sûre")
    for membership in (seated, uncovered, foreign[Role.EPS_MEMBER]):
        BodyMember.objects.create(body=body, membership=membership)
    meeting = Meeting.objects.create(
        body=body, starts_at=NOW, agenda_published_at=NOW - DAY, access_ends_at=NOW + DAY * 20
    )
    AgendaItem.objects.create(meeting=meeting, pathway=pathway, title="Situation")
    for membership in (dpo, foreign[Role.DPO]):
        BreakGlass.objects.create(
            pathway=pathway,
            user=membership.user,
            membership=membership,
            reason="Urgence",
            expires_at=NOW + DAY,
        )
    pathways.append(pathway)


def _ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def _compare(user, pathway) -> list[str]:
    """Every per-pathway answer against the scope's, as a list of disagreements."""
    wrong = []

    def check(name, fast, scope):
        if fast != scope:
            wrong.append(f"{name}: per-pathway {fast!r}, scope {scope!r}")

    pathway = Pathway.objects.get(pk=pathway.pk)
    for table, kinds in (("read", KINDS), ("write", WRITE_KINDS)):
        for kind in kinds:
            scope = (
                Pathway.objects.filter(perms._relation(user, kind, table=table))
                .filter(pk=pathway.pk)
                .exists()
            )
            check(f"reaches {kind} {table}", perms.reaches(user, pathway, kind, table), scope)
    for kind in (perms.CONTRACT, perms.FUND_REQUEST):
        for table in ("read", "write"):
            scope = (
                Pathway.objects.filter(perms._offers_relation(user, kind, "", table))
                .filter(pk=pathway.pk)
                .exists()
            )
            check(f"offers {kind} {table}", perms._offers_reach(user, pathway, kind, table), scope)
    check(
        "sees",
        perms.sees_pathway(user, pathway),
        perms.pathways_visible_to(user).filter(pk=pathway.pk).exists(),
    )
    check(
        "edit",
        perms.can_edit_pathway(user, pathway),
        perms.pathways_editable_by(user).filter(pk=pathway.pk).exists(),
    )
    check(
        "identity",
        perms.identity_visible(user, pathway),
        perms.children_visible_to(user).filter(pk=pathway.child_id).exists(),
    )
    for model in ITEM_MODELS:
        check(
            f"items {model.__name__}",
            _ids(perms.items_readable_on(user, pathway, model)),
            _ids(perms.items_readable_by(user, model).filter(pathway=pathway)),
        )
    for model in (Objective, PlanAction):
        check(
            f"plan {model.__name__}",
            _ids(perms.plan_on(user, pathway, model)),
            _ids(perms.plan_visible_to(user, model).filter(pathway=pathway)),
        )
        rows = list(model.objects.filter(pathway=pathway))
        check(
            f"plan texts {model.__name__}",
            {row.pk for row in rows if perms.plan_text_readable(user, row)},
            _ids(perms.plan_texts_readable_by(user, model).filter(pathway=pathway)),
        )
    check(
        "consents",
        _ids(perms.consents_on(user, pathway)),
        _ids(perms.consents_visible_to(user).filter(pathway=pathway)),
    )
    decisions = list(Decision.objects.filter(agenda_item__pathway=pathway).select_related("agenda_item"))
    check(
        "decisions",
        {d.pk for d in decisions if perms.decision_text_readable(user, d)},
        _ids(perms.decision_texts_readable_by(user).filter(agenda_item__pathway=pathway)),
    )
    return wrong


def _disagreements(world) -> list[str]:
    wrong = []
    for user in world.users:
        for pathway in world.pathways:
            # Outside a request: nothing cached, every fact read afresh.
            wrong += [f"{user.email} × {pathway.case_code}: {w}" for w in _compare(user, pathway)]
            # Inside a request, as on the pathway page: the facts read once, the scope's row seeding them.
            with request_cache.request_scope():
                try:
                    perms.get_visible_pathway(user, pathway.pk)
                except Pathway.DoesNotExist:
                    pass
                wrong += [
                    f"{user.email} × {pathway.case_code} (request): {w}" for w in _compare(user, pathway)
                ]
    return wrong


@pytest.mark.parametrize("seed", SEEDS)
def test_the_per_pathway_decisions_equal_the_scopes_for_every_user_and_pathway(seed):
    world = _world(seed)

    wrong = _disagreements(world)

    assert not wrong, "\n".join(wrong[:20])


def test_the_worlds_open_pathways_through_every_arm():
    """The generator is worth something only if each arm opens pathways in it."""
    opened = {arm: 0 for arm in ("programme", "referent", "added", "eps", "break_glass")}
    for seed in SEEDS[:2]:
        world = _world(seed)
        for user in world.users:
            live, glass = perms.relation_arms(user, perms.ITEM_SECRET)
            live_p, glass_p = perms.relation_arms(user, perms.PATHWAY)
            for pathway in world.pathways:
                facts = perms.PathwayFacts(user, pathway.pk)
                for arm in [*live, *glass, *live_p, *glass_p]:
                    if perms._arm_holds(user, arm, facts):
                        opened[arm.how] += 1
    assert all(opened.values()), opened


# --- the comparison has teeth: each mutant of either path is caught ---------------------------------------


def _arm_holds_without_programme_isolation(user, arm, facts):
    """``_arm_holds`` that forgets ``membership.programme_id = pathway.programme_id``."""
    if arm.how in (perms.ARM_ADDED, perms.ARM_EPS):
        named = facts.team if arm.how == perms.ARM_ADDED else facts.eps
        return facts.open_with_consent and any(
            m.pk in named and (not arm.secret or facts.covered(m.organisation_id)) for m in arm.memberships
        )
    if arm.how == perms.ARM_BREAK_GLASS:
        return any(m.pk in facts.glass for m in arm.memberships)
    return ORIGINAL_ARM_HOLDS(user, arm, facts)


def _team_pathways_without_programme_isolation(arm):
    """The SQL case-team arm without its programme isolation."""
    members = CaseTeamMember.objects.current().filter(membership_id__in=arm.ids)
    if arm.secret:
        from django.db.models import F

        members = CaseTeamMember.objects.current().filter(
            membership_id__in=arm.ids,
            membership__organisation__consents__pathway=F("pathway"),
            membership__organisation__consents__care=True,
            membership__organisation__consents__withdrawn_on__isnull=True,
        )
    return members.filter(perms._open_with_consent_rows("pathway")).values("pathway_id")


def _relation_holds_with_archives(user, kind, facts, table="read"):
    """``_relation_holds`` that forgets that archived pathways leave every scope but break-glass."""
    live, glass = perms.relation_arms(user, kind, table)
    return facts.row["exists"] and any(perms._arm_holds(user, arm, facts) for arm in [*live, *glass])


ORIGINAL_ARM_HOLDS = perms._arm_holds
MUTANTS = {
    # Per-pathway path: a consent covering any organisation counts for every member.
    "consent coverage dropped": (
        "PathwayFacts.covered",
        lambda self, organisation_id: organisation_id is not None,
    ),
    # Per-pathway path: a case-team row, seat or grant of another programme opens the pathway.
    "programme isolation dropped (per pathway)": ("_arm_holds", _arm_holds_without_programme_isolation),
    # Scope: the same, in SQL.
    "programme isolation dropped (scope)": ("_team_pathways", _team_pathways_without_programme_isolation),
    # Per-pathway path: added members keep the pathway after a withdrawal or the exit.
    "open with consent dropped": ("PathwayFacts.open_with_consent", property(lambda self: True)),
    # Per-pathway path: archived pathways stay in reach.
    "archives kept": ("_relation_holds", _relation_holds_with_archives),
    # Per-pathway path: the author reads their items even where they no longer see the pathway.
    "author without the pathway": (
        "_circle_or_author",
        lambda user, pathway, field: (
            Q(circle__in=sorted(perms.readable_circles(user, pathway))) | Q(author=user)
        ),
    ),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_each_mutant_of_either_path_makes_the_comparison_fail(monkeypatch, mutant):
    target, replacement = MUTANTS[mutant]
    if "." in target:
        owner, name = target.split(".")
        monkeypatch.setattr(getattr(perms, owner), name, replacement)
    else:
        monkeypatch.setattr(perms, target, replacement)
    for seed in SEEDS:
        world = _world(seed)
        for user in world.users:
            for pathway in world.pathways:
                if _compare(user, pathway):
                    return
    pytest.fail(f"the mutant « {mutant} » survived every world")
