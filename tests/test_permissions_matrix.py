"""The access policy as a generated matrix: role × relation × object × entry point.

``EXPECTED`` below is the policy table of design/CONFIDENTIALITY.md, transcribed on its own: nothing in
this file reads ``maillage.permissions.POLICY`` to compute what a user should reach (the flip tests only
enumerate its cells). The oracle (``reaches`` and its neighbours) says, from that transcription and the
document's rules, what each user reaches; the cases compare the code's answers with it.

**The world** is built once per module (``world`` fixture: a transaction opened for the module and rolled
back at its end; each test runs in a savepoint inside it). Programme A, where every target lives, and
programme B, the "other programme", each with its coordinator (the "owner", who writes what the users do
not) and published charters (A has two versions, the second current). For each relation (``RELATIONS``)
there is one user per role of its grid (``roles``), all in the same relation to the same *target* pathway
(a target per role where the relation needs one: author, named référent, referral submitter). A target is
a child with a sentinel name (``Zelie<tok> QUILLE<tok>``), its household and guardian (``Gardien<tok>``),
its referral (context ``sentinel-referral-context-<tok>``), its pathway (case code), the family's consent
(sharing with the owner's organisation and, when the relation is "covered", the users'), a written item of
each of the four models in each circle (``sentinel-<model>-<circle>-<tok>``), an objective and a plan
action in each circle, and the child's enrolment and attendance in a common group (and in the roster
relations' own groups). The users of a relation share an organisation of their own, so that a consent
or an action's provider reaches exactly the relation it is meant for.

**Relations**: the case team (the référent role as the pathway's référent, the others as added members),
added member, named référent (every role), unbound (a teacher), refusing the *secret partagé*,
organisation not covered by the consent, consent withdrawn, consent without *prise en charge*, before any
consent, exited, archived, membership ended / not yet started, case-team period ended / not yet started,
charter unsigned / signed for an older version, EPS member with the situation on an agenda in its window
(bound, unbound, refusing, not covered, consent withdrawn), window closed, agenda not yet published,
sitting in another EPS, same programme without link, other programme, author in and outside the team,
referral submitter, break-glass current / expired / on an archived pathway, roster of the provider's
organisation's action / of a group they are named on. The grid gives every relation that links a user to
the target (case team, EPS, référent, author, submitter, break-glass, roster) and the baselines (same
programme, other programme, charter unsigned) to all nine roles, and the conditions of the consent, the
state, the dates and the charter to the roles they change the answer for.

**Entry points.** Query level (``CHECKS``): every scope of ``maillage.permissions`` (children,
households, guardians, referrals, pathways, plan rows and their texts, consents, written items,
attendance, groups, rosters, sessions) compared for every user with the exact set the table allows *in
the whole world* — a row of any other target, or of nothing in the world, fails too — then the write
predicates on the user's target (edit, consents, items and their circles, referral decision, roll-call)
and the programme-level ones (referral submission, break-glass, journal, list of children, dashboards
and exact counts, directory, charter, charter requirement). HTTP level (``PAGES``, ``django.test.Client``),
every sentinel found in the answer compared with what the table shows: the child, household, pathway,
referral and EPS meeting pages (view); the children, pathways, caseload, referrals, own-referrals, group
roster and roll-call pages and the searches of the children, pathways and referrals (list, search); the
family's plan summary and consent form (export, PDFs read with pypdf); the home page's reminders; the
steering pages and exports of the aggregate roles (no name at all, counts suppressed). A denied page is a
404 — or the charter in its place, for a member who must sign it first — with no sentinel. To keep the
file within its time budget, the denied pages of the user's own child and pathway (and meeting) are
requested for every user, and any other page once per role and expected answer (``SEEN``).

**Flip tests**: one per cell of ``perms.POLICY`` and ``perms.WRITE_POLICY``: the cell is set to
``none``, to ``programme`` (and between ``case_team`` and ``case_team_or_eps``), and each flip must make
a query-level case fail, but for the few listed in ``EQUIVALENT_FLIPS`` with their reason.

**Counting.** A case is one (role, relation, entry point, object) whose answer was checked; it is recorded
once in tests/matrix_cases.py and pytest's terminal summary prints
``permission matrix: N distinct cases executed`` (tests/conftest.py; also under pytest-xdist).
"""

import dataclasses
import datetime
import io
import itertools
import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from maillage import permissions as perms
from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, BodyMember, Meeting
from maillage.offers.enums import AttendanceStatus, EnrolmentStatus
from maillage.offers.models import Attendance, Enrolment, Group, Offer, Session
from maillage.pathways.enums import Circle, Dimension, PathwayState, ReviewKind
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
from maillage.programmes.models import CharterSignature, ListItem, Membership
from maillage.referrals.models import Referral
from tests import matrix_cases
from tests.factories import (
    CharterVersionFactory,
    ChildFactory,
    GuardianFactory,
    MembershipFactory,
    OrganisationFactory,
    programme_with_lists,
)

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("permissions_matrix")]

# --- the document's table -----------------------------------------------------------------------------
# P: all in programme · T: case team · TE: case team or EPS member in the access window · s: only under
# the secret conditions (bound by secrecy, not refusing it, organisation covered by the consent) ·
# R: the referrer's own (the referral; of the child and the pathway, what they entered and the state only,
# shown through the referral) · Ro: the roster of the provider's own groups · B: break-glass only ·
# A: aggregates only · -: nothing.
COLUMNS = (
    "referral",
    "child",
    "pathway",
    "item_team",
    "item_secret",
    "item_partners",
    "consent",
    "attendance",
    "indicators",
)
EXPECTED = {
    #                  referral child pathway team  secret partners consent attendance indicators
    Role.COORDINATOR: ("P", "P", "P", "P", "P", "P", "P", "P", "P"),
    Role.REFERENT: ("P", "T", "T", "T", "T", "T", "T", "T", "T"),
    Role.EPS_MEMBER: ("-", "TEs", "TE", "-", "TEs", "TE", "T", "-", "A"),
    Role.REFERRER: ("R", "R", "R", "-", "-", "-", "-", "-", "-"),
    Role.PROVIDER: ("-", "Ro", "-", "-", "-", "-", "-", "Ro", "-"),
    Role.STEERING: ("-", "-", "-", "-", "-", "-", "-", "-", "A"),
    Role.MANAGER: ("-", "-", "-", "-", "-", "-", "-", "A", "A"),
    Role.DPO: ("-", "B", "B", "B", "B", "B", "-", "-", "A"),
    Role.NETWORK: ("-", "-", "-", "-", "-", "-", "-", "-", "A"),
}
ROLES = list(EXPECTED)
NOMINATIVE_COLUMNS = COLUMNS[:-1]

# Configuration rows of the code's table: the charter (« everyone reads, each signs their own ») and the
# partner directory (every role of the programme but the network level, which works across programmes).
EXPECTED_CONFIG = {role: {"directory": "P", "charter": "P"} for role in ROLES} | {
    Role.NETWORK: {"directory": "-", "charter": "P"}
}

# Who may change things (the table's "edit", "record, withdraw", the case team's writing, referral review).
EXPECTED_WRITE = {
    "pathway": {Role.COORDINATOR: "P", Role.REFERENT: "T"},
    "consent": {Role.COORDINATOR: "P", Role.REFERENT: "T"},
    "items": {Role.COORDINATOR: "P", Role.REFERENT: "T", Role.EPS_MEMBER: "T"},
    "referral_decide": {Role.COORDINATOR: "P"},
}
# « Send a fiche d'orientation »: the referring partners, and the coordinator for a family.
REFERRAL_SUBMITTERS = {Role.REFERRER, Role.COORDINATOR}
# « break-glass (coordinator and dpo) », « audit journal (dpo and coordinator of the programme) ».
BREAK_GLASS_ROLES = {Role.COORDINATOR, Role.DPO}
JOURNAL_ROLES = {Role.COORDINATOR, Role.DPO}
# EPS meetings (issue 7): the coordinator and the référents read every EPS of the programme, an EPS member
# the EPS they sit in, nobody else.
EPS_READERS = {Role.COORDINATOR: "P", Role.REFERENT: "P", Role.EPS_MEMBER: "member"}


def cell(role: str, column: str) -> str:
    return EXPECTED[role][COLUMNS.index(column)]


# --- relations ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Relation:
    """How the users of a relation stand to its target (and what the target is like).

    ``link``: ``team`` (the référent role as the pathway's référent, every other role as an added
    member), ``member`` (added member, every role), ``member_ended``/``member_future`` (added member
    whose period is over / not begun), ``referent`` (the pathway's référent, every role), ``eps`` (sits in
    an EPS whose meeting lists the target; ``window``: open, closed, unpublished), ``eps_elsewhere`` (sits
    in an EPS, the target is on another EPS's agenda), ``author`` / ``author_team``, ``submitter`` (sent
    the referral), ``break_glass`` / ``break_glass_expired``, ``roster_org`` / ``roster_named`` (the
    child is on a group of an action of the user's organisation / a group the user is named on),
    ``other_programme`` (in the case team of a pathway of programme B), ``cross_programme`` (members of
    programme B tied to the target of programme A through their memberships of B: added to its case
    team, seated in an EPS of A that lists it, a break-glass grant — rows the services refuse), ``none``.
    """

    name: str
    link: str = "team"
    bound: bool = True
    refuses: bool = False
    covered: bool = True
    charter: str = "current"  # current | none | old
    dates: str = "in_force"  # in_force | ended | future
    consent: str = "valid"  # valid | withdrawn | no_care | none
    state: str = PathwayState.ACTIVE
    archived: bool = False
    window: str = ""
    own_target: bool = False  # one target per role
    roles: tuple = ()  # the roles that stand in this relation: one user each

    @property
    def programme(self) -> str:
        return "B" if self.link in {"other_programme", "cross_programme"} else "A"


ALL = tuple(ROLES)
# The roles that reach names through a case team or an EPS, and for whom the conditions of the target
# (consent, state, archive), of the membership and of the link change the answer. The other roles stand in
# every relation that links them to the target (case team, EPS, referent, author, submitter, break-glass,
# roster) and in the baseline ones (same programme, other programme, charter unsigned): there they must
# reach nothing more than their row allows.
NAMES = (Role.COORDINATOR, Role.REFERENT, Role.EPS_MEMBER)
RELATIONS = [
    Relation("same_programme", link="none", roles=ALL),
    Relation("case_team", roles=ALL),
    Relation("added_member", link="member", roles=(Role.REFERENT, Role.EPS_MEMBER, Role.PROVIDER)),
    Relation("named_referent", link="referent", own_target=True, roles=ALL),
    Relation(
        "named_referent_not_covered",
        link="referent",
        own_target=True,
        covered=False,
        roles=(Role.REFERENT, Role.EPS_MEMBER),
    ),
    Relation("case_team_unbound", bound=False, roles=NAMES),
    Relation("case_team_refuses_secret", refuses=True, roles=NAMES),
    Relation("case_team_not_covered", covered=False, roles=NAMES),
    Relation("consent_withdrawn", consent="withdrawn", roles=NAMES),
    Relation("consent_without_care", consent="no_care", roles=NAMES),
    Relation("before_consent", consent="none", state=PathwayState.ENGAGEMENT, roles=NAMES),
    Relation("exited", state=PathwayState.CLOSED, roles=NAMES),
    Relation("archived", state=PathwayState.CLOSED, archived=True, roles=(*NAMES, Role.DPO)),
    Relation("membership_ended", dates="ended", roles=(*NAMES, Role.STEERING)),
    Relation("membership_not_started", dates="future", roles=(*NAMES, Role.STEERING)),
    Relation("team_period_ended", link="member_ended", roles=(Role.REFERENT, Role.EPS_MEMBER)),
    Relation("team_period_not_started", link="member_future", roles=(Role.REFERENT, Role.EPS_MEMBER)),
    Relation("charter_unsigned", charter="none", roles=ALL),
    Relation(
        "charter_old_version",
        charter="old",
        roles=(*NAMES, Role.REFERRER, Role.PROVIDER, Role.DPO),
    ),
    Relation("eps_in_window", link="eps", window="open", roles=ALL),
    Relation("eps_unbound", link="eps", window="open", bound=False, roles=(Role.EPS_MEMBER, Role.REFERENT)),
    Relation("eps_refuses_secret", link="eps", window="open", refuses=True, roles=(Role.EPS_MEMBER,)),
    Relation("eps_not_covered", link="eps", window="open", covered=False, roles=(Role.EPS_MEMBER,)),
    Relation(
        "eps_consent_withdrawn", link="eps", window="open", consent="withdrawn", roles=(Role.EPS_MEMBER,)
    ),
    Relation("eps_window_closed", link="eps", window="closed", roles=(Role.EPS_MEMBER, Role.REFERENT)),
    Relation("eps_agenda_unpublished", link="eps", window="unpublished", roles=(Role.EPS_MEMBER,)),
    Relation("eps_other_body", link="eps_elsewhere", roles=(Role.EPS_MEMBER, Role.REFERENT)),
    Relation("other_programme", link="other_programme", roles=ALL),
    Relation(
        "cross_programme_rows",
        link="cross_programme",
        roles=(Role.COORDINATOR, Role.REFERENT, Role.EPS_MEMBER, Role.DPO),
    ),
    Relation(
        "author_in_team",
        link="author_team",
        bound=False,
        own_target=True,
        roles=(*NAMES, Role.PROVIDER),
    ),
    Relation("author_outside_team", link="author", own_target=True, roles=(*NAMES, Role.REFERRER)),
    Relation("referral_submitter", link="submitter", own_target=True, roles=ALL),
    Relation("break_glass", link="break_glass", roles=ALL),
    Relation(
        "break_glass_expired", link="break_glass_expired", roles=(Role.COORDINATOR, Role.DPO, Role.REFERENT)
    ),
    Relation(
        "break_glass_archived",
        link="break_glass",
        state=PathwayState.CLOSED,
        archived=True,
        roles=(Role.COORDINATOR, Role.DPO, Role.REFERENT),
    ),
    Relation("roster_organisation", link="roster_org", roles=ALL),
    Relation("roster_named", link="roster_named", roles=ALL),
]
RELATION_NAMES = [r.name for r in RELATIONS]
# One user per (role, relation) of the grid.
MEMBER_KEYS = [(role, relation.name) for relation in RELATIONS for role in relation.roles]

MODELS = {"diag": DiagnosticSection, "contact": Contact, "note": Note, "review": Review}
CIRCLES = [Circle.TEAM.value, Circle.SECRET.value, Circle.PARTNERS.value]


# --- the world ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Target:
    key: str
    tok: str
    programme: str
    pathway: Pathway
    consent_state: str
    archived: bool
    shared_with: frozenset
    author: str  # key of the member who wrote its items and plan, or "owner"
    submitter: str  # key of the member who sent its referral, or "owner"
    objects: dict
    groups: list = dataclasses.field(default_factory=list)
    meeting: Meeting | None = None

    @property
    def closed(self) -> bool:
        return self.pathway.state == PathwayState.CLOSED

    @property
    def consent_in_force(self) -> bool:
        return self.consent_state == "valid"

    @property
    def open_with_consent(self) -> bool:
        return not self.closed and self.consent_in_force

    def name_in(self, text: str) -> bool:
        """Whether ``text`` shows the child's last name (pages print it in capitals)."""
        return f"quille{self.tok}" in text

    def first_name_in(self, text: str) -> bool:
        return f"zelie{self.tok}" in text


@dataclasses.dataclass
class GroupFact:
    group: Group
    session: Session
    programme: str
    provider: str  # organisation key
    facilitators: frozenset  # member keys
    targets: list  # targets whose child is enrolled


@dataclasses.dataclass
class Member:
    role: str
    relation: Relation
    user: object
    membership: Membership
    org: str
    target: Target | None = None

    @property
    def key(self) -> str:
        return f"{self.role}/{self.relation.name}"

    @property
    def programme(self) -> str:
        return self.relation.programme

    @property
    def in_force(self) -> bool:
        return self.relation.dates == "in_force"

    @property
    def signed(self) -> bool:
        return self.relation.charter == "current"

    @property
    def bound(self) -> bool:
        return self.relation.bound

    @property
    def refuses(self) -> bool:
        return self.relation.refuses


@dataclasses.dataclass
class World:
    programmes: dict
    orgs: dict
    owners: dict
    targets: dict = dataclasses.field(default_factory=dict)
    members: dict = dataclasses.field(default_factory=dict)
    links: dict = dataclasses.field(default_factory=dict)
    groups: list = dataclasses.field(default_factory=list)
    charters: dict = dataclasses.field(default_factory=dict)

    def link(self, member: Member, target: Target, fact: str) -> None:
        self.links.setdefault((member.key, target.key), set()).add(fact)

    def links_of(self, member: Member, target: Target) -> set:
        return self.links.get((member.key, target.key), set())


TOKENS = ("".join(t) for t in itertools.product("bcdfghjkmnpqrstvwxz", repeat=3))


def build_world() -> World:
    from maillage.programmes.models import NetworkLevel

    now = timezone.now()
    level = NetworkLevel.objects.create(name="Niveau de la matrice", kind="intercommunal")
    programmes = {
        "A": programme_with_lists(network_level=level),
        "B": programme_with_lists(network_level=level),
    }
    charters = {}
    for key, programme in programmes.items():
        charters[key, 1] = CharterVersionFactory(
            programme=programme, number=1, published_at=now - datetime.timedelta(days=60)
        )
    charters["A", 2] = CharterVersionFactory(programme=programmes["A"], number=2)
    orgs = {
        "owner/A": OrganisationFactory(programme=programmes["A"], kind=OrganisationKind.CD_SOCIAL),
        "owner/B": OrganisationFactory(programme=programmes["B"], kind=OrganisationKind.CD_SOCIAL),
        "common": OrganisationFactory(programme=programmes["A"], name="Centre social commun"),
        "named": OrganisationFactory(programme=programmes["A"], name="Club de judo"),
    }
    owners = {
        key: MembershipFactory(
            programme=programmes[key], role=Role.COORDINATOR, organisation=orgs[f"owner/{key}"]
        )
        for key in programmes
    }
    world = World(programmes=programmes, orgs=orgs, owners=owners, charters=charters)
    common = _group(world, "A", "common", "Atelier commun")
    for relation in RELATIONS:
        _build_relation(world, relation)
    for target in world.targets.values():
        if target.programme == "A" and not target.archived:
            _enrol(world, common, target)
    return world


def _build_relation(world: World, relation: Relation) -> None:
    today = timezone.localdate()
    programme = world.programmes[relation.programme]
    org_key = f"org/{relation.name}"
    world.orgs[org_key] = OrganisationFactory(programme=programme, name=f"Structure {relation.name}")
    members = []
    for role in relation.roles:
        starts_on = today - datetime.timedelta(days=90)
        ends_on = None
        if relation.dates == "ended":
            ends_on = today - datetime.timedelta(days=1)
        elif relation.dates == "future":
            starts_on = today + datetime.timedelta(days=1)
        membership = MembershipFactory(
            programme=programme,
            role=role,
            organisation=world.orgs[org_key],
            bound_by_secrecy=relation.bound,
            refuses_shared_secret=relation.refuses,
            starts_on=starts_on,
            ends_on=ends_on,
            signed_charter=relation.charter == "current",
        )
        if relation.charter == "old":
            CharterSignature.objects.create(version=world.charters["A", 1], membership=membership)
        member = Member(
            role=role, relation=relation, user=membership.user, membership=membership, org=org_key
        )
        world.members[member.key] = member
        members.append(member)

    if relation.own_target:
        for member in members:
            author = member if relation.link in {"author", "author_team"} else None
            submitter = member if relation.link == "submitter" else None
            member.target = _target(world, f"{relation.name}/{member.role}", "A", relation, author, submitter)
    else:
        target = _target(world, relation.name, "A", relation, None, None)
        for member in members:
            member.target = target
    linked = members[0].target
    if relation.link == "other_programme":
        # Their own link is to a pathway of programme B; the target in A has none.
        linked = _target(world, f"{relation.name}/B", "B", relation, None, None)

    owner = world.owners[relation.programme].user
    for member in members:
        target = linked if relation.link == "other_programme" else member.target
        _link(world, relation, member, target, owner)
    if relation.link in {"eps", "eps_elsewhere"}:
        _eps(world, relation, members, linked)
    if relation.link == "cross_programme":
        # A seat of their own programme's memberships in an EPS of A that lists the target, in its window.
        # (The meeting page is not requested: the governance scopes are the partnership table's.)
        body = Body.objects.create(programme=world.programmes["A"], kind=BodyKind.EPS, name="EPS mêlée")
        now = timezone.now()
        meeting = Meeting.objects.create(
            body=body,
            starts_at=now - datetime.timedelta(days=2),
            agenda_published_at=now - datetime.timedelta(days=9),
            access_ends_at=now + datetime.timedelta(days=28),
        )
        AgendaItem.objects.create(meeting=meeting, pathway=linked.pathway)
        for member in members:
            BodyMember.objects.create(body=body, membership=member.membership)
            world.link(member, linked, "eps_open")
    if relation.link in {"roster_org", "roster_named"}:
        provider = org_key if relation.link == "roster_org" else "named"
        facilitators = members if relation.link == "roster_named" else []
        fact = _group(world, "A", provider, f"Atelier {relation.name}", facilitators=facilitators)
        _enrol(world, fact, linked)


def _link(world: World, relation: Relation, member: Member, target: Target, owner) -> None:
    today = timezone.localdate()
    link = relation.link
    if (
        link in {"team", "author_team", "other_programme"}
        and member.role == Role.REFERENT
        or link == "referent"
    ):
        Pathway.objects.filter(pk=target.pathway.pk).update(referent=member.user)
        target.pathway.referent = member.user
        world.link(member, target, "referent")
    elif link in {"team", "member", "author_team", "other_programme", "cross_programme"}:
        CaseTeamMember.objects.create(
            pathway=target.pathway, membership=member.membership, reason="Suivi", added_by=owner
        )
        world.link(member, target, "member")
    elif link in {"member_ended", "member_future"}:
        ended = link == "member_ended"
        CaseTeamMember.objects.create(
            pathway=target.pathway,
            membership=member.membership,
            reason="Suivi",
            added_by=owner,
            starts_on=today - datetime.timedelta(days=30) if ended else today + datetime.timedelta(days=1),
            ends_on=today - datetime.timedelta(days=1) if ended else None,
        )
        world.link(member, target, link)
    if link in {"break_glass", "break_glass_expired", "cross_programme"}:
        hours = -1 if link == "break_glass_expired" else 1
        BreakGlass.objects.create(
            pathway=target.pathway,
            user=member.user,
            membership=member.membership,
            reason="Demande d'accès de la famille",
            expires_at=timezone.now() + datetime.timedelta(hours=hours),
        )
        world.link(member, target, "break_glass_expired" if link == "break_glass_expired" else "break_glass")
    if link in {"author", "author_team"}:
        world.link(member, target, "author")
    if link == "submitter":
        world.link(member, target, "submitter")


WINDOWS = {
    # window: (meeting day, agenda published, access ends), in days from now
    "open": (-2, -9, 28),
    "closed": (-45, -52, -15),
    "unpublished": (6, None, 36),
}


def _eps(world: World, relation: Relation, members: list, target: Target) -> None:
    programme = world.programmes[relation.programme]
    now = timezone.now()

    def meeting(body, window):
        day, published, ends = WINDOWS[window]
        return Meeting.objects.create(
            body=body,
            starts_at=now + datetime.timedelta(days=day),
            agenda_published_at=None if published is None else now + datetime.timedelta(days=published),
            access_ends_at=now + datetime.timedelta(days=ends),
        )

    seat = Body.objects.create(programme=programme, kind=BodyKind.EPS, name=f"EPS {relation.name}")
    for member in members:
        BodyMember.objects.create(body=seat, membership=member.membership)
    if relation.link == "eps":
        target.meeting = meeting(seat, relation.window)
        AgendaItem.objects.create(meeting=target.meeting, pathway=target.pathway)
        for member in members:
            world.link(member, target, f"eps_{relation.window}")
    else:
        AgendaItem.objects.create(meeting=meeting(seat, "open"), title="Organisation de l'équipe")
        elsewhere = Body.objects.create(
            programme=programme, kind=BodyKind.EPS, name=f"EPS voisine {relation.name}"
        )
        target.meeting = meeting(elsewhere, "open")
        AgendaItem.objects.create(meeting=target.meeting, pathway=target.pathway)


def _group(world: World, programme: str, provider: str, title: str, facilitators=()) -> GroupFact:
    today = timezone.localdate()
    offer = Offer.objects.create(
        programme=world.programmes[programme], title=title, kind="collective", provider=world.orgs[provider]
    )
    group = Group.objects.create(
        offer=offer,
        name=f"Groupe {title}",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=30),
    )
    group.facilitators.add(*[m.membership for m in facilitators])
    starts = timezone.now() - datetime.timedelta(hours=1)
    session = Session.objects.create(
        group=group, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1)
    )
    fact = GroupFact(
        group=group,
        session=session,
        programme=programme,
        provider=provider,
        facilitators=frozenset(m.key for m in facilitators),
        targets=[],
    )
    world.groups.append(fact)
    return fact


def _enrol(world: World, fact: GroupFact, target: Target) -> None:
    owner = world.owners[fact.programme].user
    enrolment = Enrolment.objects.create(
        group=fact.group, child=target.pathway.child, status=EnrolmentStatus.ENROLLED, enrolled_by=owner
    )
    attendance = Attendance.objects.create(
        session=fact.session, enrolment=enrolment, status=AttendanceStatus.PRESENT, recorded_by=owner
    )
    fact.targets.append(target)
    target.groups.append((fact, enrolment, attendance))


def _target(world: World, key: str, programme_key: str, relation: Relation, author, submitter) -> Target:
    today = timezone.localdate()
    tok = next(TOKENS)
    programme = world.programmes[programme_key]
    owner = world.owners[programme_key].user
    child = ChildFactory(programme=programme, first_name=f"Zelie{tok}", last_name=f"Quille{tok}")
    guardian = GuardianFactory(household=child.household, first_name="Maud", last_name=f"Gardien{tok}")
    referral = Referral.objects.create(
        programme=programme,
        submitted_by=submitter.user if submitter else owner,
        referrer_type=ListItem.objects.of_kind(ListKind.REFERRER_TYPE).filter(programme=programme).first(),
        child_first_name=child.first_name,
        child_last_name=child.last_name,
        child_birth_date=child.birth_date,
        child_sex=child.sex,
        guardian_name="Parent",
        family_informed=True,
        context=f"sentinel-referral-context-{tok}",
        state="accepted",
        child=child,
    )
    closed = relation.state == PathwayState.CLOSED
    pathway = Pathway.objects.create(
        programme=programme,
        child=child,
        referral=referral,
        case_code=f"{programme.case_code_prefix}-2026-{len(world.targets) + 1:04d}",
        state=relation.state,
        referent=owner,
        opened_on=today - datetime.timedelta(days=60),
        next_review_on=today + datetime.timedelta(days=3),
        closed_on=today if closed else None,
        exit_reason=ListItem.objects.get(programme=programme, kind=ListKind.EXIT_REASON, code="perte_contact")
        if closed
        else None,
        archived_at=timezone.now() - datetime.timedelta(days=1) if relation.archived else None,
    )
    shared_with = frozenset()
    consent = None
    if relation.consent != "none":
        consent = Consent.objects.create(
            pathway=pathway,
            guardian=guardian,
            given_on=today - datetime.timedelta(days=50),
            care=relation.consent != "no_care",
            withdrawn_on=today if relation.consent == "withdrawn" else None,
            recorded_by=owner,
        )
        shared = [f"owner/{programme_key}"]
        if relation.covered and (relation.programme == programme_key or relation.link == "cross_programme"):
            shared.append(f"org/{relation.name}")
        consent.shared_with.add(*[world.orgs[k] for k in shared])
        shared_with = frozenset(shared)
    writer = author.user if author else owner
    objects = {
        "child": child,
        "household": child.household,
        "guardian": guardian,
        "referral": referral,
        "pathway": pathway,
        "consent": consent,
    }
    for circle in CIRCLES:
        objects[f"diag_{circle}"] = DiagnosticSection.objects.create(
            pathway=pathway,
            author=writer,
            circle=circle,
            dimension=Dimension.SCHOOL,
            facts=f"sentinel-diag-{circle}-{tok}",
        )
        objects[f"contact_{circle}"] = Contact.objects.create(
            pathway=pathway,
            author=writer,
            circle=circle,
            kind="phone",
            occurred_on=today,
            summary=f"sentinel-contact-{circle}-{tok}",
        )
        objects[f"note_{circle}"] = Note.objects.create(
            pathway=pathway, author=writer, circle=circle, body=f"sentinel-note-{circle}-{tok}"
        )
        objects[f"review_{circle}"] = Review.objects.create(
            pathway=pathway,
            author=writer,
            circle=circle,
            kind=ReviewKind.INTERMEDIATE,
            held_on=today,
            summary=f"sentinel-review-{circle}-{tok}",
        )
        objective = Objective.objects.create(
            pathway=pathway,
            dimension=Dimension.SCHOOL,
            wording=f"sentinel-objective-{circle}-{tok}",
            author=writer,
            circle=circle,
        )
        objects[f"objective_{circle}"] = objective
        objects[f"action_{circle}"] = PlanAction.objects.create(
            pathway=pathway,
            objective=objective,
            title=f"sentinel-action-{circle}-{tok}",
            author=writer,
            circle=circle,
        )
    target = Target(
        key=key,
        tok=tok,
        programme=programme_key,
        pathway=pathway,
        consent_state=relation.consent,
        archived=relation.archived,
        shared_with=shared_with,
        author=f"{author.role}/{relation.name}" if author else "owner",
        submitter=f"{submitter.role}/{relation.name}" if submitter else "owner",
        objects=objects,
    )
    world.targets[key] = target
    return target


@pytest.fixture(autouse=True)
def _whole_lists(monkeypatch):
    """List pages on one page: the matrix compares every row the table allows with every row shown."""
    from maillage.www.pathways import views as pathways
    from maillage.www.people import views as people
    from maillage.www.referrals import views as referrals

    for module in (people, pathways, referrals):
        monkeypatch.setattr(module, "PAGE_SIZE", 1000)
    monkeypatch.setattr(pathways, "CASELOAD_PAGE_SIZE", 1000)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world, built once for the module in a transaction that is rolled back at its end; each test
    runs in a savepoint inside it (pytest-django), so that what a test writes (sessions, journal) goes."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# --- the oracle: what the document lets a member reach -------------------------------------------------


def nominative(member: Member, programme: str) -> bool:
    """Membership in force, current charter signed, and the object's programme (isolation)."""
    return member.in_force and member.signed and member.programme == programme


def secret_holder(member: Member) -> bool:
    """« bound by secrecy », and did not « refuse the secret partagé »."""
    return member.bound and not member.refuses


def reaches(w: World, member: Member, target: Target, column: str) -> bool:
    """Whether the table lets ``member`` reach ``column`` (a column of ``EXPECTED``) of ``target``."""
    if not nominative(member, target.programme):
        return False
    letter = cell(member.role, column)
    links = w.links_of(member, target)
    # Break-glass opens the file (not the referral) to the roles the table gives it to, and to the
    # programme-wide roles on archived pathways; read only.
    if "break_glass" in links and letter in {"P", "B"} and column != "referral":
        return True
    if target.archived:
        return False  # the intermediate archive is out of every scope
    if column == "referral":
        return letter == "P" or (letter == "R" and target.submitter == member.key)
    if column == "item_secret" and not secret_holder(member):
        return False  # the secret partagé is for the bound only, whatever the role
    if letter == "P":
        return True
    if letter not in {"T", "TE", "TEs"}:
        return False
    if letter == "TEs" and not secret_holder(member):
        return False
    # Under the secret conditions the family's consent must cover the member's organisation, for every
    # role but the coordinator's and the référent's (the pathway's référent(s) are in the ``team`` circle).
    secret = column == "item_secret" or letter == "TEs"
    coverage = not secret or member.role in {Role.COORDINATOR, Role.REFERENT}
    coverage = coverage or (target.consent_in_force and member.org in target.shared_with)
    # After a withdrawal or the exit the case team shrinks to the référent (and the coordinator);
    # before the consent, nobody else is in it.
    team = "referent" in links or ("member" in links and target.open_with_consent)
    eps = letter.startswith("TE") and "eps_open" in links and target.open_with_consent
    return (team or eps) and coverage


def reads_item(w: World, member: Member, target: Target, circle: str) -> bool:
    """An item of ``circle``: its circle's column, or its author while they see the pathway."""
    own = target.author == member.key and reaches(w, member, target, "pathway")
    return reaches(w, member, target, f"item_{circle}") or own


def sees_group(member: Member, fact: GroupFact, column: str) -> bool:
    """A group's roster (``child``) or roll-call (``attendance``): all of the programme's (P), or the
    provider's own groups: of their organisation's actions or where they are named (Ro)."""
    if not nominative(member, fact.programme):
        return False
    letter = cell(member.role, column)
    own = fact.provider == member.org or member.key in fact.facilitators
    return letter == "P" or (letter == "Ro" and own)


def write_reach(w: World, member: Member, target: Target, action: str) -> bool:
    """The write cells (pathway, consent, items), whatever the pathway's state."""
    letter = EXPECTED_WRITE[action].get(member.role)
    if letter is None or not nominative(member, target.programme) or target.archived:
        return False
    links = w.links_of(member, target)
    return letter == "P" or "referent" in links or ("member" in links and target.open_with_consent)


def circles_written(w: World, member: Member, target: Target) -> list[str]:
    """« A member who refuses the secret partagé writes team only »; an unbound one never writes secret."""
    if not write_reach(w, member, target, "items"):
        return []
    if member.refuses:
        return [Circle.TEAM.value]
    if not member.bound:
        return [Circle.TEAM.value, Circle.PARTNERS.value]
    return CIRCLES


def reaches_names(role: str) -> bool:
    return any(cell(role, column) not in {"-", "A"} for column in NOMINATIVE_COLUMNS)


def in_force_in(member: Member, programme: str) -> bool:
    return member.in_force and member.programme == programme


# --- query-level cases ---------------------------------------------------------------------------------
#
# Each check runs one scope or predicate for a member and returns (object, got, want) rows. Scopes are
# compared over the whole world: ``got`` and ``want`` are sets of "<target>:<object>" keys, and a row the
# scope returns that belongs to no target of the world fails too. ``reads`` names the columns of the
# table a check's expectation depends on (the flip tests run only the checks that read a flipped cell).


@dataclasses.dataclass(frozen=True)
class Check:
    entry: str
    reads: frozenset
    run: object  # (world, member) -> list of (object, got, want)


CHECKS: list[Check] = []


def check(entry: str, *reads: str):
    def register(function):
        CHECKS.append(Check(entry, frozenset(reads), function))
        return function

    return register


def _compare(w: World, queryset, oracles: dict) -> list:
    """``oracles``: object name → (target → bool); one query, every target's objects of those names."""
    rows, want = {}, set()
    for target in w.targets.values():
        for name, oracle in oracles.items():
            obj = target.objects.get(name)
            if obj is None:
                continue
            rows[obj.pk] = f"{target.key}:{name}"
            if oracle(target):
                want.add(rows[obj.pk])
    got = {rows.get(pk, f"?{pk}") for pk in queryset.values_list("pk", flat=True)}
    return [
        (
            name,
            {k for k in got if k.endswith(f":{name}") or k.startswith("?")},
            {k for k in want if k.endswith(f":{name}")},
        )
        for name in oracles
    ]


def _column(w: World, member: Member, name: str):
    return lambda t: reaches(w, member, t, name)


def _scope(entry: str, scope, obj: str, column: str, *reads: str) -> None:
    check(entry, column, *reads)(lambda w, m: _compare(w, scope(m.user), {obj: _column(w, m, column)}))


_scope("children_visible_to", perms.children_visible_to, "child", "child")
_scope("households_visible_to", perms.households_visible_to, "household", "child")
_scope("guardians_visible_to", perms.guardians_visible_to, "guardian", "child")
_scope("referrals_visible_to", perms.referrals_visible_to, "referral", "referral")
_scope("pathways_visible_to", perms.pathways_visible_to, "pathway", "pathway")
_scope("consents_visible_to", perms.consents_visible_to, "consent", "consent")


def _plan(model, name: str) -> None:
    names = [f"{name}_{circle}" for circle in CIRCLES]

    @check(f"plan_visible_to:{name}", "pathway")
    def rows(w, m):
        return _compare(
            w, perms.plan_visible_to(m.user, model), dict.fromkeys(names, _column(w, m, "pathway"))
        )

    @check(f"plan_texts_readable_by:{name}", "pathway", "item_team", "item_secret", "item_partners")
    def texts(w, m):
        def oracle(circle):
            return lambda t: reads_item(w, m, t, circle) and reaches(w, m, t, "pathway")

        oracles = {f"{name}_{circle}": oracle(circle) for circle in CIRCLES}
        return _compare(w, perms.plan_texts_readable_by(m.user, model), oracles)


_plan(Objective, "objective")
_plan(PlanAction, "action")


def _items(model, name: str, *, every_member: bool) -> None:
    @check(f"items_readable_by:{name}", "pathway", "item_team", "item_secret", "item_partners")
    def items(w, m):
        if (
            not every_member
            and MEMBER_KEYS.index((m.role, m.relation.name)) % 2 != list(MODELS).index(name) % 2
        ):
            return []  # contacts and reviews: every other member each (the same scope as notes')

        def oracle(circle):
            return lambda t: reads_item(w, m, t, circle)

        return _compare(
            w, perms.items_readable_by(m.user, model), {f"{name}_{c}": oracle(c) for c in CIRCLES}
        )


for _name, _model in MODELS.items():
    _items(_model, _name, every_member=_name in {"diag", "note"})


def _roster_rows(w: World, member: Member, column: str, attendance: bool) -> tuple[dict, set]:
    rows, want = {}, set()
    for target in w.targets.values():
        for fact, enrolment, record in target.groups:
            key = f"{target.key}@{fact.provider}"
            rows[(record if attendance else enrolment).pk] = key
            if sees_group(member, fact, column) or (attendance and reaches(w, member, target, "attendance")):
                want.add(key)
    return rows, want


@check("attendances_visible_to", "attendance", "child")
def _attendances(w, m):
    """Attendance: of the groups the member runs (or coordinates), and of the children of their pathways."""
    rows, want = _roster_rows(w, m, "attendance", attendance=True)
    got = {rows.get(pk, f"?{pk}") for pk in perms.attendances_visible_to(m.user).values_list("pk", flat=True)}
    return [("attendance", got, want)]


@check("enrolments_visible_to", "child")
def _enrolments(w, m):
    """A group's roster (first name, initial, age): the ``child`` column."""
    rows, want = _roster_rows(w, m, "child", attendance=False)
    got = {rows.get(pk, f"?{pk}") for pk in perms.enrolments_visible_to(m.user).values_list("pk", flat=True)}
    return [("roster", got, want)]


@check("groups_visible_to", "child")
def _groups(w, m):
    rows = {f.group.pk: f.provider for f in w.groups}
    want = {f.provider for f in w.groups if sees_group(m, f, "child")}
    got = {rows.get(pk, f"?{pk}") for pk in perms.groups_visible_to(m.user).values_list("pk", flat=True)}
    return [("group", got, want)]


@check("sessions_visible_to", "child")
def _sessions(w, m):
    rows = {f.session.pk: f.provider for f in w.groups}
    want = {f.provider for f in w.groups if sees_group(m, f, "child")}
    got = {rows.get(pk, f"?{pk}") for pk in perms.sessions_visible_to(m.user).values_list("pk", flat=True)}
    return [("session", got, want)]


@check("can_take_attendance", "attendance")
def _rollcall(w, m):
    return [
        (
            f"session:{f.provider}",
            perms.can_take_attendance(m.user, f.session),
            sees_group(m, f, "attendance"),
        )
        for f, _e, _a in m.target.groups
    ]


# Write predicates, on the member's own target.


@check("identity_visible", "child")
def _identity(w, m):
    return [("child", perms.identity_visible(m.user, m.target.pathway), reaches(w, m, m.target, "child"))]


@check("can_edit_pathway", "write:pathway")
def _edit(w, m):
    want = write_reach(w, m, m.target, "pathway") and not m.target.closed
    editable = perms.pathways_editable_by(m.user).filter(pk=m.target.pathway.pk).exists()
    return [
        ("pathway", perms.can_edit_pathway(m.user, m.target.pathway), want),
        ("pathway:scope", editable, want),
    ]


@check("can_manage_consents", "write:consent")
def _consents(w, m):
    want = write_reach(w, m, m.target, "consent") and not m.target.closed
    return [("consent", perms.can_manage_consents(m.user, m.target.pathway), want)]


@check("can_write_items", "write:items")
def _write_items(w, m):
    want = write_reach(w, m, m.target, "items") and not m.target.closed
    return [
        ("items", perms.can_write_items(m.user, m.target.pathway), want),
        ("circles", perms.circles_writable_by(m.user, m.target.pathway), circles_written(w, m, m.target)),
    ]


@check("referrals_decidable_by", "write:referral_decide", "referral")
def _decide(w, m):
    """The decision scope (every referral of the programmes where the role reviews), and the review page's
    gate: the read scope and the decision scope together."""
    referral = m.target.objects["referral"]
    decidable = perms.referrals_decidable_by(m.user).filter(pk=referral.pk)
    decides = nominative(m, m.target.programme) and EXPECTED_WRITE["referral_decide"].get(m.role) == "P"
    page = decidable.filter(pk__in=perms.referrals_visible_to(m.user)).exists()
    return [
        ("referral", decidable.exists(), decides),
        ("page", page, decides and reaches(w, m, m.target, "referral")),
    ]


# Programme-level predicates, on programme A (where every target lives).


@check("can_submit_referral")
def _submit(w, m):
    want = nominative(m, "A") and m.role in REFERRAL_SUBMITTERS
    return [("programme", perms.can_submit_referral(m.user, w.programmes["A"]), want)]


@check("can_break_glass")
def _break_glass(w, m):
    want = nominative(m, "A") and m.role in BREAK_GLASS_ROLES
    return [("programme", perms.can_break_glass(m.user, w.programmes["A"]), want)]


@check("can_read_journal")
def _journal(w, m):
    want = nominative(m, "A") and m.role in JOURNAL_ROLES
    return [("programme", perms.can_read_journal(m.user, w.programmes["A"]), want)]


@check("can_list_children", "child")
def _list_children(w, m):
    want = in_force_in(m, "A") and cell(m.role, "child") in {"P", "T", "TE", "TEs"}
    return [("programme", perms.can_list_children(m.user, w.programmes["A"]), want)]


@check("steering", "indicators")
def _steering(w, m):
    programme = w.programmes["A"]
    dashboards = in_force_in(m, "A") and cell(m.role, "indicators") in {"P", "A"}
    exact = in_force_in(m, "A") and cell(m.role, "indicators") == "P"
    return [
        (
            "dashboards",
            perms.steering_programmes_visible_to(m.user).filter(pk=programme.pk).exists(),
            dashboards,
        ),
        ("exact counts", perms.indicators_unsuppressed(m.user, programme), exact),
    ]


@check("directory", "directory")
def _directory(w, m):
    programme = w.programmes["A"]
    want = in_force_in(m, "A") and EXPECTED_CONFIG[m.role]["directory"] == "P"
    orgs = {o.pk for o in w.orgs.values() if o.programme_id == programme.pk}
    got = set(perms.organisations_visible_to(m.user).filter(pk__in=orgs).values_list("pk", flat=True))
    members = perms.memberships_visible_to(m.user).filter(programme=programme).exists()
    return [
        ("page", perms.can_read_directory(m.user, programme), want),
        ("organisations", got == orgs, want),
        ("members", members, want),
    ]


@check("charter_versions_visible_to", "charter")
def _charter(w, m):
    want = in_force_in(m, "A") and EXPECTED_CONFIG[m.role]["charter"] == "P"
    got = perms.charter_versions_visible_to(m.user).filter(programme=w.programmes["A"]).count() == 2
    return [("programme", got, want)]


@check("charter requirement", *NOMINATIVE_COLUMNS)
def _charter_requirement(w, m):
    requires = reaches_names(m.role)
    return [
        ("membership_requires_charter", perms.membership_requires_charter(m.membership), requires),
        ("must_sign_charter", perms.must_sign_charter(m.membership), requires and not m.signed),
    ]


def run_checks(
    w: World, member: Member, checks=None, *, record: bool = True, first: bool = False
) -> list[str]:
    """Run ``checks`` (all by default) for ``member``; the failures, or the first one only."""
    failures = []
    for spec in CHECKS if checks is None else checks:
        for obj, got, want in spec.run(w, member):
            if record:
                matrix_cases.record(member.role, member.relation.name, f"scope:{spec.entry}", obj)
            if got != want:
                failures.append(_difference(member, spec.entry, obj, got, want))
                if first:
                    return failures
    return failures


def _difference(member: Member, entry: str, obj: str, got, want) -> str:
    where = f"{member.role} × {member.relation.name} × {entry} × {obj}"
    if isinstance(got, set):
        return f"{where}: extra {sorted(got - want)}, missing {sorted(want - got)}"
    return f"{where}: got {got}, table says {want}"


# --- HTTP cases -------------------------------------------------------------------------------------------
#
# Each page is requested as the member (``django.test.Client``) and read as text (pypdf for the PDFs).
# Every sentinel found in the answer is compared with what the table lets the member see: the names
# (``quille<tok>``, ``zelie<tok>``, ``gardien<tok>``), the written items and plan texts
# (``sentinel-<kind>-<circle>-<tok>``), the referral's context and the case codes. A sentinel of
# anything else is a leak. A denied page is a 404 (principle 5) — or the charter in its place, for a
# member who must sign the current charter first (the charter gate) — and shows no sentinel at all.
#
# Budget: a denied page of an object is requested for every member (the scope decides per object); an
# allowed page, or any list page, is requested once per role and expected answer (``SEEN``): another
# relation with exactly the same expected page adds nothing the query-level cases do not check.

SENTINEL_RE = re.compile(r"(?:quille|zelie|gardien)[bcdfghjkmnpqrstvwxz]{3}|sentinel-[a-z]+-[a-z]+-[a-z]{3}")
CONSENT_MARKER = "accompagnement par le programme"
SEEN: set = set()


@dataclasses.dataclass
class Answer:
    url: str
    allowed: bool
    want: dict  # object → sentinels the page must show (exactly), when allowed
    universe: dict | None = None  # object → sentinels that belong to it (None: ``want``'s keys, whole world)
    kind: str = "detail"  # detail (the member's target), list (many rows), subset (no name it may not show)
    every_denial: bool = False  # a denial is requested for every member (the object's own scope decides)
    denied_status: int = 404
    markers: dict = dataclasses.field(default_factory=dict)  # object → (text, shown when allowed)
    signature: object = None
    tolerated: set = dataclasses.field(default_factory=set)  # may show when allowed (the case code)


PAGES: list = []


def page(entry: str, *, sensitive: bool = True):
    def register(function):
        PAGES.append((entry, sensitive, function))
        return function

    return register


def names(t: Target) -> set:
    return {f"quille{t.tok}", f"zelie{t.tok}"}


def items_of(t: Target) -> dict:
    return {f"{model}_{c}": {f"sentinel-{model}-{c}-{t.tok}"} for model in MODELS for c in CIRCLES}


def plan_of(t: Target) -> dict:
    return {
        f"{kind}_{c}": {f"sentinel-{kind}-{c}-{t.tok}"} for kind in ("objective", "action") for c in CIRCLES
    }


def world_names(w: World, programme: str, wanted) -> set:
    return set().union(*(names(t) for t in w.targets.values() if t.programme == programme and wanted(t)))


@page("view:child")
def _child_page(w, m):
    t = m.target
    allowed = reaches(w, m, t, "child")
    want = {"child": names(t), "guardian": {f"gardien{t.tok}"}}
    return Answer(reverse("people:child", args=[t.pathway.child_id]), allowed, want, every_denial=True)


@page("view:household")
def _household_page(w, m):
    t = m.target
    allowed = reaches(w, m, t, "child")
    want = {"household": names(t), "guardian": {f"gardien{t.tok}"}}
    return Answer(reverse("people:household", args=[t.pathway.child.household_id]), allowed, want)


@page("view:pathway")
def _pathway_page(w, m):
    t = m.target
    allowed = reaches(w, m, t, "pathway")
    identity = reaches(w, m, t, "child")
    consent = t.objects["consent"] is not None and reaches(w, m, t, "consent")
    want = {
        "identity": names(t) if identity else set(),
        "guardian": {f"gardien{t.tok}"} if identity and consent else set(),
        "referral": set(),
    }
    universe = {
        "identity": names(t),
        "guardian": {f"gardien{t.tok}"},
        "referral": {f"sentinel-referral-context-{t.tok}"},
    }
    for name, sentinels in items_of(t).items():
        universe[name] = sentinels
        want[name] = sentinels if reads_item(w, m, t, name.split("_")[1]) else set()
    for name, sentinels in plan_of(t).items():
        universe[name] = sentinels
        want[name] = sentinels if reads_item(w, m, t, name.split("_")[1]) else set()
    return Answer(
        reverse("pathways:detail", args=[t.pathway.pk]),
        allowed,
        want,
        universe,
        markers={"consent": (CONSENT_MARKER, consent)},
        every_denial=True,
    )


@page("view:referral")
def _referral_page(w, m):
    # The review page: the roles reading every referral of the programme (a referrer follows their own
    # on their list only).
    t = m.target
    allowed = reaches(w, m, t, "referral") and cell(m.role, "referral") == "P"
    want = {"referral": names(t) | {f"sentinel-referral-context-{t.tok}"}}
    return Answer(reverse("referrals:detail", args=[t.objects["referral"].pk]), allowed, want)


def _family_document(w, m) -> bool:
    """The family's documents: whoever runs the pathway (edits it or records consents) and sees the child."""
    t = m.target
    runs = write_reach(w, m, t, "pathway") or write_reach(w, m, t, "consent")
    return runs and not t.closed and reaches(w, m, t, "pathway") and reaches(w, m, t, "child")


@page("export:plan_summary")
def _plan_pdf(w, m):
    t = m.target
    want = {"identity": names(t), "referral": set()}
    universe = {"identity": names(t), "referral": {f"sentinel-referral-context-{t.tok}"}}
    for name, sentinels in items_of(t).items():
        universe[name], want[name] = sentinels, set()  # nothing written reaches the family's summary
    for name, sentinels in plan_of(t).items():
        universe[name] = sentinels
        want[name] = sentinels if reads_item(w, m, t, name.split("_")[1]) else set()
    url = reverse("documents:plan_summary", args=[t.pathway.pk])
    return Answer(url, _family_document(w, m), want, universe)


@page("export:consent_form")
def _consent_pdf(w, m):
    t = m.target
    want = {"identity": names(t), "guardian": {f"gardien{t.tok}"}}
    url = reverse("documents:consent_form", args=[t.pathway.pk, t.objects["guardian"].pk])
    return Answer(url, _family_document(w, m), want)


def _lists_children(m: Member) -> bool:
    return m.in_force and cell(m.role, "child") in {"P", "T", "TE", "TEs"}


@page("list:children")
def _children_list(w, m):
    rows = world_names(w, m.programme, lambda t: reaches(w, m, t, "child"))
    return Answer(reverse("people:children"), _lists_children(m), {"rows": rows}, kind="list")


@page("search:children")
def _children_search(w, m):
    t = m.target
    hit = t.programme == m.programme and reaches(w, m, t, "child")
    url = reverse("people:children") + f"?q=ille{t.tok}"
    answer = Answer(url, _lists_children(m), {"row": names(t) if hit else set()}, {"row": names(t)})
    answer.signature = ("search:children", m.role, _lists_children(m), hit)
    return answer


def _pathway_rows(w, m, wanted) -> set:
    codes = set()
    for t in w.targets.values():
        if t.programme == m.programme and reaches(w, m, t, "pathway") and wanted(t):
            codes.add(t.pathway.case_code.lower())
            if reaches(w, m, t, "child"):
                codes |= names(t)
    return codes


@page("list:pathways")
def _pathways_list(w, m):
    allowed = m.in_force and m.role == Role.COORDINATOR
    rows = _pathway_rows(w, m, lambda t: not t.closed)
    return Answer(reverse("pathways:list"), allowed, {"rows": rows}, kind="list")


@page("search:pathways")
def _pathways_search(w, m):
    t = m.target
    allowed = m.in_force and m.role == Role.COORDINATOR
    by_code = _pathway_rows(w, m, lambda row: row is t)
    by_name = by_code if reaches(w, m, t, "child") else set()
    universe = names(t) | {t.pathway.case_code.lower()}
    url = reverse("pathways:list") + f"?state=all&q={t.pathway.case_code.split('-', 1)[1]}"
    answer = Answer(url, allowed, {"by code": by_code}, {"by code": universe})
    answer.signature = ("search:pathways", m.role, allowed, bool(by_code), bool(by_name))
    answers = [answer]
    answer = Answer(
        reverse("pathways:list") + f"?state=all&q=ille{t.tok}",
        allowed,
        {"by name": by_name},
        {"by name": universe},
    )
    answer.signature = ("search:pathways:name", m.role, allowed, bool(by_name))
    answers.append(answer)
    return answers


@page("list:caseload")
def _caseload(w, m):
    allowed = m.in_force and m.role in {Role.REFERENT, Role.COORDINATOR}
    rows = _pathway_rows(w, m, lambda t: not t.closed and "referent" in w.links_of(m, t))
    return Answer(reverse("pathways:caseload"), allowed, {"rows": rows}, kind="list")


def _reviews_referrals(m: Member) -> bool:
    return m.in_force and cell(m.role, "referral") == "P"


@page("list:referrals")
def _referrals_list(w, m):
    rows = world_names(w, m.programme, lambda t: reaches(w, m, t, "referral"))
    return Answer(reverse("referrals:list"), _reviews_referrals(m), {"rows": rows}, kind="list")


@page("search:referrals")
def _referrals_search(w, m):
    t = m.target
    hit = t.programme == m.programme and reaches(w, m, t, "referral")
    url = reverse("referrals:list") + f"?q=ille{t.tok}"
    answer = Answer(url, _reviews_referrals(m), {"row": names(t) if hit else set()}, {"row": names(t)})
    answer.signature = ("search:referrals", m.role, _reviews_referrals(m), hit)
    return answer


@page("list:my_referrals")
def _my_referrals(w, m):
    # The referrer's own referrals: the child as they entered them (first name, initial), the state.
    allowed = m.in_force and cell(m.role, "referral") == "R"
    rows = {
        f"zelie{t.tok}"
        for t in w.targets.values()
        if t.programme == m.programme and t.submitter == m.key and reaches(w, m, t, "referral")
    }
    return Answer(reverse("referrals:mine"), allowed, {"rows": rows}, kind="list")


@page("list:roster")
def _roster(w, m):
    fact = m.target.groups[-1][0] if m.target.groups else None
    if fact is None:
        return None
    want = {"roster": {f"zelie{t.tok}" for t in fact.targets}}
    answer = Answer(
        reverse("offers:group", args=[fact.group.pk]), sees_group(m, fact, "child"), want, kind="list"
    )
    answer.signature = ("list:roster", m.role, fact.provider, answer.allowed)
    return answer


@page("list:rollcall")
def _rollcall_page(w, m):
    fact = m.target.groups[-1][0] if m.target.groups else None
    if fact is None:
        return None
    want = {"rollcall": {f"zelie{t.tok}" for t in fact.targets}}
    allowed = sees_group(m, fact, "attendance")
    answer = Answer(reverse("offers:rollcall", args=[fact.session.pk]), allowed, want, kind="list")
    answer.denied_status = 403 if sees_group(m, fact, "child") else 404
    answer.signature = ("list:rollcall", m.role, fact.provider, allowed)
    return answer


@page("view:meeting")
def _meeting(w, m):
    t = m.target
    if t.meeting is None:
        return None
    sits = m.membership.bodies.filter(body=t.meeting.body_id).exists()
    reader = EPS_READERS.get(m.role)
    allowed = m.in_force and m.programme == t.programme and (reader == "P" or (reader == "member" and sits))
    want = {"situation": {t.pathway.case_code.lower()} | (names(t) if reaches(w, m, t, "child") else set())}
    universe = {"situation": {t.pathway.case_code.lower()} | names(t)}
    url = reverse("governance:meeting", args=[t.meeting.pk])
    return Answer(url, allowed, want, universe, every_denial=True)


@page("list:home", sensitive=False)
def _home(w, m):
    # Reminders (the first five overdue or due soon) name the children of the pathways one answers for:
    # never a name the member may not see.
    allowed_names = world_names(w, m.programme, lambda t: reaches(w, m, t, "child"))
    answer = Answer(reverse("home"), True, {"reminders": allowed_names}, kind="subset")
    answers_for = {t.key for t in w.targets.values() if "referent" in w.links_of(m, t)}
    answer.signature = ("list:home", m.role, m.in_force, m.signed, m.programme, frozenset(answers_for))
    return answer


@page("aggregate:dashboard", sensitive=False)
def _dashboard(w, m):
    allowed = in_force_in(m, m.programme) and cell(m.role, "indicators") in {"P", "A"}
    return Answer(reverse("steering:dashboard"), allowed, {"names": set()}, kind="list")


def _text(response) -> str:
    if response.get("Content-Type", "").startswith("application/pdf"):
        reader = PdfReader(io.BytesIO(response.content))
        text = "\n".join(page.extract_text() or "" for page in reader.pages).lower()
        return re.sub(r"-\s*\n\s*", "-", text)  # a sentinel wrapped at one of its hyphens
    return response.content.decode().lower()


def _found(text: str) -> set:
    found = set(SENTINEL_RE.findall(text))
    found |= set(re.findall(r"p\d+-2026-\d{4}", text))
    return found


def gated(m: Member) -> bool:
    """The charter gate answers instead of a nominative page: membership in force, role reaching names,
    current charter not signed."""
    return m.in_force and reaches_names(m.role) and not m.signed


def run_pages(w: World, member: Member) -> list[str]:
    code = member.target.pathway.case_code.lower()
    client = Client()
    client.force_login(member.user)
    failures = []
    for entry, sensitive, build in PAGES:
        answers = build(w, member)
        for answer in answers if isinstance(answers, list) else [answers]:
            if answer is None:
                continue
            if answer.kind == "detail":
                answer.tolerated.add(code)
            failures += _check_page(w, member, client, entry, sensitive, answer)
    return failures


def _signature(member: Member, entry: str, answer: Answer, gate: bool):
    if answer.signature is not None:
        return (*answer.signature, gate)
    # A detail page is the same page for every target: the sentinels without their token.
    tok = member.target.tok if answer.kind == "detail" else "no token"
    want = tuple(sorted((k, tuple(sorted(s.replace(tok, "·") for s in v))) for k, v in answer.want.items()))
    return (entry, member.role, answer.allowed, gate, want, tuple(sorted(answer.markers.items())))


def _check_page(w, member, client, entry, sensitive, answer: Answer) -> list[str]:
    gate = sensitive and gated(member)
    allowed = answer.allowed and not gate
    signature = _signature(member, entry, answer, gate)
    if (allowed or gate or not answer.every_denial) and signature in SEEN:
        return []
    SEEN.add(signature)
    response = client.get(answer.url)
    text = _text(response)
    found = _found(text)
    where = f"{member.role} × {member.relation.name} × {entry}"
    failures = []
    charter = "programmes/charter.html" in [t.name for t in response.templates or []]
    if allowed and (response.status_code != 200 or charter):
        failures.append(f"{where}: status {response.status_code}, the table allows the page")
    if not allowed:
        expected = "charter" if gate else answer.denied_status
        got = "charter" if charter and response.status_code == 200 else response.status_code
        if got != expected:
            failures.append(f"{where}: answered {got}, the table says {expected}")
    universe = answer.universe or answer.want
    if answer.universe is None and answer.kind != "detail":
        universe = {obj: _world_sentinels(w) for obj in answer.want}
    for obj, sentinels in universe.items():
        matrix_cases.record(member.role, member.relation.name, entry, obj)
        got = found & sentinels
        want = answer.want.get(obj, set()) if allowed else set()
        if answer.kind == "subset":
            if not got <= want:
                failures.append(f"{where} × {obj}: shows {sorted(got - want)}, which the table hides")
        elif got != want:
            failures.append(f"{where} × {obj}: extra {sorted(got - want)}, missing {sorted(want - got)}")
    for obj, (marker, shown) in answer.markers.items():
        matrix_cases.record(member.role, member.relation.name, entry, obj)
        if (marker in text) != (shown and allowed):
            failures.append(f"{where} × {obj}: shown={marker in text}, table says {shown and allowed}")
    others = found - set().union(*universe.values()) - (answer.tolerated if allowed else set())
    if others:
        failures.append(f"{where}: leaks {sorted(others)}")
    return failures


def _world_sentinels(w: World) -> set:
    everything = set()
    for t in w.targets.values():
        everything |= names(t) | {
            f"gardien{t.tok}",
            t.pathway.case_code.lower(),
            f"sentinel-referral-context-{t.tok}",
        }
        for sentinels in [*items_of(t).values(), *plan_of(t).values()]:
            everything |= sentinels
    return everything


# --- the tests --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "relation"), MEMBER_KEYS)
def test_the_code_follows_the_table(world, role, relation):
    member = world.members[f"{role}/{relation}"]
    failures = run_checks(world, member) + run_pages(world, member)
    assert not failures, "\n".join(failures)


# --- the code's table is the document's, and every cell of it is read --------------------------------------

LETTERS = {
    perms.A.PROGRAMME: "P",
    perms.A.CASE_TEAM: "T",
    perms.A.CASE_TEAM_OR_EPS: "TE",
    perms.A.OWN: "R",
    perms.A.ROSTER: "Ro",
    perms.A.BREAK_GLASS: "B",
    perms.A.AGGREGATE: "A",
    perms.A.NONE: "-",
}
# The kinds of the code's table, by the names of the document's columns (and the configuration rows).
KINDS = {
    perms.REFERRAL: "referral",
    perms.CHILD: "child",
    perms.PATHWAY: "pathway",
    perms.ITEM_TEAM: "item_team",
    perms.ITEM_SECRET: "item_secret",
    perms.ITEM_PARTNERS: "item_partners",
    perms.CONSENT: "consent",
    perms.ATTENDANCE: "attendance",
    perms.INDICATORS: "indicators",
    perms.DIRECTORY: "directory",
    perms.CHARTER: "charter",
}
WRITE_KINDS = {
    perms.PATHWAY: "write:pathway",
    perms.CONSENT: "write:consent",
    perms.ITEM_PARTNERS: "write:items",
    perms.REFERRAL: "write:referral_decide",
}


def test_the_code_table_matches_the_document():
    code = {role: tuple(LETTERS[perms.access(role, kind)] for kind in KINDS) for role in ROLES}
    # The secret conditions ("s") are rules of the scopes, not cells of the code's table.
    document = {
        role: tuple(cell(role, c).removesuffix("s") for c in COLUMNS) + tuple(EXPECTED_CONFIG[role].values())
        for role in ROLES
    }
    assert code == document
    write = {
        kind: {
            role: LETTERS[perms.write_access(role, kind)]
            for role in ROLES
            if perms.write_access(role, kind) != perms.A.NONE
        }
        for kind in WRITE_KINDS
    }
    assert write == {kind: EXPECTED_WRITE[tag.removeprefix("write:")] for kind, tag in WRITE_KINDS.items()}


# Flipping a cell to one of these must make a case fail: to nothing, to the whole programme, and between
# the case team and the case team or EPS window.
def flips(kind: str, current: str) -> list[str]:
    targets = [perms.A.NONE, perms.A.PROGRAMME]
    if kind in perms.NOMINATIVE_KINDS and current == perms.A.CASE_TEAM:
        targets.append(perms.A.CASE_TEAM_OR_EPS)
    if kind in perms.NOMINATIVE_KINDS and current == perms.A.CASE_TEAM_OR_EPS:
        targets.append(perms.A.CASE_TEAM)
    return [t for t in targets if t != current]


# Flips that change nothing, by design: the cell says what the role sees through another row. Each one is
# checked to still change nothing (so that this list cannot go stale), and its other flips must fail.
EQUIVALENT_FLIPS = {
    # « R: what they entered », « R: state only »: the referrer sees the child and the pathway through
    # their own referral (the REFERRAL cell, ``own``), never the Child or Pathway rows.
    (Role.REFERRER, perms.CHILD, perms.A.NONE): "the referral's own copy of the name",
    (Role.REFERRER, perms.PATHWAY, perms.A.NONE): "the referral's state, on the referrer's list",
    # « own caseload »: the référent's caseload page opens to the role itself, not through this cell.
    (Role.REFERENT, perms.INDICATORS, perms.A.NONE): "the caseload page, granted by role",
    # « catalogue and counts »: the catalogue is the actions table's (``offers_access``).
    (Role.MANAGER, perms.ATTENDANCE, perms.A.NONE): "the catalogue, granted by the actions table",
}

# The members most likely to reveal a flipped cell come first (the checks stop at the first failure).
FLIP_ORDER = [
    "same_programme",
    "case_team",
    "eps_in_window",
    "break_glass",
    "roster_organisation",
    "referral_submitter",
    "named_referent",
    "roster_named",
]


def _members_of(w: World, role: str) -> list[Member]:
    members = [m for m in w.members.values() if m.role == role]
    rank = {name: i for i, name in enumerate(FLIP_ORDER)}
    return sorted(members, key=lambda m: rank.get(m.relation.name, len(rank)))


def _detects(w: World, role: str, tag: str, *, thorough: bool = True) -> bool:
    """Whether a case of ``role`` fails: first the checks that read ``tag``, then (``thorough``) all."""
    members = _members_of(w, role)
    reading = [c for c in CHECKS if tag in c.reads]
    for checks in (reading, CHECKS) if thorough else (reading,):
        if any(run_checks(w, m, checks, record=False, first=True) for m in members):
            return True
    return False


def _flip_test(w: World, monkeypatch, table: str, role: str, kind: str, tag: str, current: str):
    detected, silent = [], []
    for flipped in flips(kind, current):
        cells = {k: dict(v) for k, v in getattr(perms, table).items()}
        if table == "POLICY":
            cells[role][kind] = flipped
        else:
            cells.setdefault(kind, {})[role] = flipped
        equivalent = (role, kind, flipped) in EQUIVALENT_FLIPS
        with monkeypatch.context() as patch:
            patch.setattr(perms, table, cells)
            (detected if _detects(w, role, tag, thorough=not equivalent) else silent).append(flipped)
    expected_silent = [f for f in flips(kind, current) if (role, kind, f) in EQUIVALENT_FLIPS]
    assert detected, f"{table}[{role}][{kind}] is read by no case: no flip of it fails"
    assert silent == expected_silent, (
        f"{table}[{role}][{kind}]: flipping to {silent} fails no case "
        f"(listed as changing nothing: {expected_silent})"
    )


POLICY_CELLS = [(role, kind) for role in perms.POLICY for kind in perms.POLICY[role]]
WRITE_CELLS = [(role, kind) for kind in perms.WRITE_POLICY for role in Role.values]


@pytest.mark.parametrize(("role", "kind"), POLICY_CELLS)
def test_flipping_a_policy_cell_makes_the_matrix_fail(world, monkeypatch, role, kind):
    _flip_test(world, monkeypatch, "POLICY", role, kind, KINDS[kind], perms.access(role, kind))


@pytest.mark.parametrize(("role", "kind"), WRITE_CELLS)
def test_flipping_a_write_cell_makes_the_matrix_fail(world, monkeypatch, role, kind):
    _flip_test(
        world, monkeypatch, "WRITE_POLICY", role, kind, WRITE_KINDS[kind], perms.write_access(role, kind)
    )


# --- the aggregate roles' own pages: no name, counts suppressed -------------------------------------------

STEERING_PAGES = [
    "steering:dashboard",
    "steering:objectives",
    "steering:budget",
    "steering:copil",
    "steering:copil_pdf",
    "steering:anct",
    "steering:diagnosis",
    "steering:barometer",
    "steering:network",
    "steering:network_anct",
    "steering:structuring",
    "steering:structuring_export",
]
SUPPRESSED_PAGES = {"steering:dashboard", "steering:network"}


def _any_text(response) -> str:
    content_type = response.get("Content-Type", "")
    if "spreadsheetml" in content_type:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(
            str(value)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value
        ).lower()
    return _text(response)


@pytest.mark.parametrize("role", [Role.STEERING, Role.MANAGER, Role.NETWORK, Role.DPO, Role.EPS_MEMBER])
def test_the_aggregate_pages_name_no_one(world, role):
    """Steering, manager, network, DPO and EPS members read indicators as aggregates only: on every
    steering page and export, no name and no case code, small counts suppressed. The member is in the
    case team of a pathway: even so, nothing of it."""
    member = world.members[f"{role}/case_team"]
    client = Client()
    client.force_login(member.user)
    failures = []
    for name in STEERING_PAGES:
        response = client.get(reverse(name))
        matrix_cases.record(role, "case_team", f"aggregate:{name}", "names")
        network = name.startswith(("steering:network", "steering:structuring"))
        dashboards = cell(role, "indicators") in {"P", "A"}
        if network and response.status_code != (200 if role == Role.NETWORK else 404):
            failures.append(f"{name}: status {response.status_code}")
        if response.status_code not in (200, 403, 404):
            failures.append(f"{name}: status {response.status_code}")
        if name == "steering:dashboard" and (response.status_code == 200) != dashboards:
            failures.append(f"{name}: status {response.status_code}, the table says dashboards={dashboards}")
        if response.status_code != 200:
            continue
        text = _any_text(response)
        if _found(text):
            failures.append(f"{name}: shows {sorted(_found(text))}")
        if (
            name in SUPPRESSED_PAGES
            and "text/html" in response.get("Content-Type", "")
            and "&lt; 5" not in text
        ):
            failures.append(f"{name}: no suppressed count")
    assert not failures, "\n".join(failures)


def _plain_pathway(programme, coordinator, organisation) -> Pathway:
    """An active pathway of a new child, with a consent that shares with ``organisation``."""
    child = ChildFactory(programme=programme)
    guardian = GuardianFactory(household=child.household)
    pathway = Pathway.objects.create(
        programme=programme,
        child=child,
        case_code=f"{programme.case_code_prefix}-2026-{child.pk:04d}",
        state=PathwayState.ACTIVE,
        referent=coordinator,
    )
    consent = Consent.objects.create(
        pathway=pathway, guardian=guardian, given_on=timezone.localdate(), recorded_by=coordinator
    )
    consent.shared_with.add(organisation)
    return pathway


# --- the partnership (bodies, EPS agendas, mission sheets, memento) ---------------------------------
# Transcribed from the rules, not read from ``perms.GOVERNANCE_READ``. Columns: committees
# (read), EPS meetings of an EPS the user sits in (read), of an EPS they do not sit in (read), mission
# sheets (read / contribute / validate), memento (read / edit), bodies (manage committees / manage EPS).
# Y: yes, -: no.
EXPECTED_GOVERNANCE = {
    #                  com  epsIn epsOut sheetR sheetW sheetV memR memW manCom manEps
    Role.COORDINATOR: ("Y", "Y", "Y", "Y", "Y", "Y", "Y", "Y", "Y", "Y"),
    Role.REFERENT: ("Y", "Y", "Y", "Y", "Y", "-", "Y", "-", "-", "-"),
    Role.EPS_MEMBER: ("Y", "Y", "-", "Y", "Y", "-", "Y", "-", "-", "-"),
    Role.REFERRER: ("Y", "-", "-", "Y", "Y", "-", "Y", "-", "-", "-"),
    Role.PROVIDER: ("Y", "-", "-", "Y", "Y", "-", "Y", "-", "-", "-"),
    Role.STEERING: ("Y", "-", "-", "Y", "-", "-", "Y", "-", "-", "-"),
    Role.MANAGER: ("Y", "-", "-", "Y", "Y", "-", "Y", "Y", "Y", "-"),
    Role.DPO: ("-", "-", "-", "Y", "-", "-", "Y", "-", "-", "-"),
    Role.NETWORK: ("-", "-", "-", "-", "-", "-", "-", "-", "-", "-"),
}


def _governance_row(role: str) -> tuple[str, ...]:
    from maillage.governance.models import MementoPage, MissionSheet

    programme = programme_with_lists()
    membership = MembershipFactory(programme=programme, role=role)
    user = membership.user
    committee = Body.objects.create(programme=programme, kind=BodyKind.STEERING_COMMITTEE, name="Copil")
    eps_in = Body.objects.create(programme=programme, kind=BodyKind.EPS, name="EPS Nord")
    eps_out = Body.objects.create(programme=programme, kind=BodyKind.EPS, name="EPS Sud")
    BodyMember.objects.create(body=eps_in, membership=membership)
    now = timezone.now()
    meetings = {
        body: Meeting.objects.create(body=body, starts_at=now) for body in (committee, eps_in, eps_out)
    }
    sheet = MissionSheet.objects.create(programme=programme, title="Coordination")
    page = MementoPage.objects.create(programme=programme, title="Accueil", slug="accueil")
    visible = perms.meetings_visible_to(user)
    cells = [
        visible.filter(pk=meetings[committee].pk).exists(),
        visible.filter(pk=meetings[eps_in].pk).exists(),
        visible.filter(pk=meetings[eps_out].pk).exists(),
        perms.mission_sheets_visible_to(user).filter(pk=sheet.pk).exists(),
        perms.can_contribute_mission_sheet(user, programme),
        perms.can_validate_mission_sheet(user, programme),
        perms.memento_pages_visible_to(user).filter(pk=page.pk).exists(),
        perms.can_edit_memento(user, programme),
        perms.can_manage_body(user, committee),
        perms.can_manage_body(user, eps_in),
    ]
    # Nothing of another programme, whatever the role.
    other = programme_with_lists()
    other_body = Body.objects.create(programme=other, kind=BodyKind.STEERING_COMMITTEE, name="Copil")
    assert not perms.meetings_visible_to(user).filter(body=other_body).exists()
    assert not perms.can_manage_body(user, other_body)
    return tuple("Y" if cell else "-" for cell in cells)


@pytest.mark.parametrize("role", list(EXPECTED_GOVERNANCE))
def test_the_partnership_follows_its_table_for(role):
    assert _governance_row(role) == EXPECTED_GOVERNANCE[role]


# --- actions (issue 6): catalogue, groups and rosters, attendance, contracts, alerts, support fund -------
# Transcribed from the issue and CONFIDENTIALITY.md, not read from ``perms.OFFERS_READ``. One world per
# role: the user's organisation runs action A, whose group GA has child X enrolled (X's pathway has a
# team-circle diagnosis and note, a consent, a contract, a breach alert and a fund request); the user is
# named on group GN of another organisation; group GO of a third organisation has child Y. The référent
# is X's référent, the EPS member is in X's case team (not bound by secrecy); the others have no link.
# Columns: offer A · groups GA, GN, GO · rosters GA, GO · attendance of X in GA, of Y in GO · roll-call
# of GA, GO · X's contract, alert, fund request · decide the request · X's identity, pathway, diagnosis,
# note, consent. Y: reaches it, -: does not (404).
OFFERS_COLUMNS = (
    "offer",
    "group_own",
    "group_named",
    "group_other",
    "roster_own",
    "roster_other",
    "attendance_own",
    "attendance_other",
    "call_own",
    "call_other",
    "contract",
    "alert",
    "fund_request",
    "decide_fund",
    "child",
    "pathway",
    "diagnosis",
    "note",
    "consent",
)
# Groups of columns: offer | groups own, named, other | rosters own, other | attendance own, other |
# roll-call own, other | contract, alert, fund request, decide | child, pathway, diagnosis, note, consent.
EXPECTED_OFFERS = {
    Role.COORDINATOR: "Y YYY YY YY YY YYYY YYYYY",
    Role.REFERENT: "Y --- -- Y- -- YYY- YYYYY",
    Role.EPS_MEMBER: "Y --- -- -- -- ---- -Y--Y",
    Role.REFERRER: "- --- -- -- -- ---- -----",
    Role.PROVIDER: "Y YY- Y- Y- Y- ---- -----",
    Role.STEERING: "Y --- -- -- -- ---- -----",
    Role.MANAGER: "Y --- -- -- -- ---- -----",
    Role.DPO: "- --- -- -- -- ---- -----",
    Role.NETWORK: "- --- -- -- -- ---- -----",
}


def _offers_row(role: str) -> tuple[str, ...]:
    from maillage.offers import services as offers
    from maillage.offers.models import (
        Attendance,
        BreachAlert,
        Enrolment,
        FamilyContract,
        FundRequest,
        Group,
        Offer,
    )
    from tests.offers.helpers import alert_in, contract_in, funding_line, offer_in, session_on

    programme = programme_with_lists()
    offers.ensure_default_rules(programme)
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR).user
    own_org, named_org, other_org = (OrganisationFactory(programme=programme) for _ in range(3))
    membership = MembershipFactory(programme=programme, role=role, organisation=own_org)
    user = membership.user
    today = timezone.localdate()

    def group_of(organisation, title):
        offer = Offer.objects.create(
            programme=programme, title=title, kind="collective", provider=organisation
        )
        return Group.objects.create(
            offer=offer,
            name=title,
            starts_on=today - datetime.timedelta(days=30),
            ends_on=today + datetime.timedelta(days=30),
        )

    alert = alert_in(programme, by=coordinator)
    pathway = alert.pathway
    group_own = Group.objects.get(enrolments__child=pathway.child)
    Offer.objects.filter(groups=group_own).update(provider=own_org)
    group_named = group_of(named_org, "Judo")
    group_named.facilitators.add(membership)
    group_other = group_of(other_org, "Théâtre")
    other_pathway = _plain_pathway(programme, coordinator, other_org)
    offers.enrol(group=group_other, by=coordinator, child=other_pathway.child)
    session_own = session_on(group_own, today)
    session_other = session_on(group_other, today)
    for session, group in ((session_own, group_own), (session_other, group_other)):
        statuses = {e.pk: "present" for e in group.enrolments.all()}
        offers.attendance_save(session=session, statuses=statuses, by=coordinator)
    if role == Role.REFERENT:
        Pathway.objects.filter(pk=pathway.pk).update(referent=user)
    elif role == Role.EPS_MEMBER:
        CaseTeamMember.objects.create(
            pathway=pathway, membership=membership, reason="Suivi", added_by=coordinator
        )
    guardian = GuardianFactory(household=pathway.child.household)
    Consent.objects.create(pathway=pathway, guardian=guardian, given_on=today, recorded_by=coordinator)
    contract = contract_in(programme, by=coordinator)
    FamilyContract.objects.filter(pk=contract.pk).update(pathway=pathway)
    line = funding_line(programme)
    fund_request = offers.fund_request_create(
        pathway=pathway, purpose="care", amount=10, payee="Cabinet", funding_line=line, by=coordinator
    )
    diagnosis = DiagnosticSection.objects.create(
        pathway=pathway, author=coordinator, circle=Circle.TEAM, dimension=Dimension.SCHOOL, facts="x"
    )
    note = Note.objects.create(pathway=pathway, author=coordinator, circle=Circle.TEAM, body="x")
    roster_own = Enrolment.objects.get(group=group_own, child=pathway.child)
    roster_other = Enrolment.objects.get(group=group_other)
    attendance_own = Attendance.objects.get(session=session_own)
    attendance_other = Attendance.objects.get(session=session_other)

    def sees(scope, obj) -> bool:
        return scope.filter(pk=obj.pk).exists()

    groups = perms.groups_visible_to(user)
    cells = [
        sees(perms.offers_visible_to(user), group_own.offer),
        sees(groups, group_own),
        sees(groups, group_named),
        sees(groups, group_other),
        sees(perms.enrolments_visible_to(user), roster_own),
        sees(perms.enrolments_visible_to(user), roster_other),
        sees(perms.attendances_visible_to(user), attendance_own),
        sees(perms.attendances_visible_to(user), attendance_other),
        perms.can_take_attendance(user, session_own),
        perms.can_take_attendance(user, session_other),
        sees(perms.contracts_visible_to(user), contract),
        sees(perms.breach_alerts_visible_to(user), BreachAlert.objects.get(pk=alert.pk)),
        sees(perms.fund_requests_visible_to(user), FundRequest.objects.get(pk=fund_request.pk)),
        perms.can_decide_fund_request(user, fund_request),
        sees(perms.children_visible_to(user), pathway.child),
        sees(perms.pathways_visible_to(user), pathway),
        sees(perms.items_readable_by(user, DiagnosticSection), diagnosis),
        sees(perms.items_readable_by(user, Note), note),
        sees(perms.consents_visible_to(user), pathway.consents.first()),
    ]
    # Nothing of another programme, whatever the role.
    other_programme = programme_with_lists()
    _offer, foreign = offer_in(other_programme)
    assert not perms.groups_visible_to(user).filter(pk=foreign.pk).exists()
    assert not perms.offers_visible_to(user).filter(pk=foreign.offer_id).exists()
    return tuple("Y" if cell else "-" for cell in cells)


@pytest.mark.parametrize("role", list(EXPECTED_OFFERS))
def test_the_actions_follow_their_table_for(role):
    got = _offers_row(role)
    want = tuple(EXPECTED_OFFERS[role].replace(" ", ""))
    differences = [
        f"{column}: got {g}, table says {w}"
        for column, g, w in zip(OFFERS_COLUMNS, got, want, strict=True)
        if g != w
    ]
    assert not differences, f"{role}: " + "; ".join(differences)


def test_flipping_the_providers_group_cell_makes_the_actions_table_fail(monkeypatch):
    table = {r: dict(cells) for r, cells in perms.OFFERS_READ.items()}
    table[Role.PROVIDER][perms.GROUP] = perms.A.PROGRAMME
    monkeypatch.setattr(perms, "OFFERS_READ", table)
    assert _offers_row(Role.PROVIDER) != tuple(EXPECTED_OFFERS[Role.PROVIDER].replace(" ", ""))
