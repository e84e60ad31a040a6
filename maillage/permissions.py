"""THE access policy of Maillage (design/CONFIDENTIALITY.md), in one module.

Three kinds of functions live here and nowhere else:

* **scopes** — ``<objects>_visible_to(user)`` return querysets filtered in SQL; every list, detail,
  search and export fetches sensitive objects through one of them, so that an object out of scope
  is a 404, exactly like an object that does not exist;
* **predicates** — ``can_<verb>_<object>(user, obj)`` return a bool and say in their docstring who may;
* **abilities** — ``abilities(user, obj)`` return a dict of predicates for templates.

The policy table itself is data (``POLICY``): the scopes read it, and the tests generate the
role × object × action × relation matrix from it.
"""

import datetime
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from maillage.core import request_cache
from maillage.governance.enums import BodyKind
from maillage.governance.models import (
    AgendaItem,
    Body,
    BodyMember,
    Decision,
    Meeting,
    MeetingDocument,
    MementoPage,
    MissionSheet,
)
from maillage.offers.models import (
    Attendance,
    BreachAlert,
    Enrolment,
    FamilyContract,
    FundRequest,
    Group,
    InterventionTask,
    Offer,
    Session,
)
from maillage.pathways.enums import CIRCLE_ORDER, Circle, PathwayState
from maillage.pathways.models import BreakGlass, CaseTeamMember, Consent, Pathway
from maillage.people.models import Child, Guardian, Household
from maillage.programmes.enums import Role
from maillage.programmes.models import CharterSignature, CharterVersion, Membership, Organisation, Programme
from maillage.referrals.models import Referral


class Access(StrEnum):
    """How far a role reaches into one kind of object, as in the policy table."""

    NONE = "none"  # —
    PROGRAMME = "programme"  # all objects of the programmes where the role is held
    CASE_TEAM = "case_team"  # T: pathways where the user is in the case team
    CASE_TEAM_OR_EPS = "case_team_or_eps"  # T/E: case team, or EPS member during the access window
    OWN = "own"  # R: objects the user created (referrals)
    ROSTER = "roster"  # provider: the minimal roster of their own groups
    BREAK_GLASS = "break_glass"  # dpo: only through a journaled, time-limited break-glass
    AGGREGATE = "aggregate"  # aggregates only, never a name


A = Access

# Object kinds of the policy table. Columns of CONFIDENTIALITY.md's table; later issues add rows
# (documents, agenda items, decisions, exports, journal…) in the same shape.
CHILD = "child"  # child identity & household
REFERRAL = "referral"
PATHWAY = "pathway"
ITEM_TEAM = "item_team"
ITEM_SECRET = "item_secret"  # noqa: S105 -- an object kind, not a password
ITEM_PARTNERS = "item_partners"
CONSENT = "consent"
ATTENDANCE = "attendance"
INDICATORS = "indicators"
DIRECTORY = "directory"  # the programme's partner organisations and members (non-sensitive)
CHARTER = "charter"  # the programme's charter of confidentiality: everyone reads, each signs their own

OBJECT_KINDS = [
    CHILD,
    REFERRAL,
    PATHWAY,
    ITEM_TEAM,
    ITEM_SECRET,
    ITEM_PARTNERS,
    CONSENT,
    ATTENDANCE,
    INDICATORS,
]

# Configuration objects of a programme: not nominative, but still confined to the programme.
CONFIGURATION_KINDS = [DIRECTORY, CHARTER]
ALL_KINDS = [*OBJECT_KINDS, *CONFIGURATION_KINDS]

# Kinds that expose a name: holding any access to one of them (other than aggregates) makes the
# signature of the current charter a condition of that access (CONFIDENTIALITY.md, cross-cutting rules).
NOMINATIVE_KINDS = [CHILD, REFERRAL, PATHWAY, ITEM_TEAM, ITEM_SECRET, ITEM_PARTNERS, CONSENT, ATTENDANCE]

POLICY: dict[str, dict[str, Access]] = {
    Role.COORDINATOR: {
        REFERRAL: A.PROGRAMME,
        CHILD: A.PROGRAMME,
        PATHWAY: A.PROGRAMME,
        ITEM_TEAM: A.PROGRAMME,
        ITEM_SECRET: A.PROGRAMME,
        ITEM_PARTNERS: A.PROGRAMME,
        CONSENT: A.PROGRAMME,
        ATTENDANCE: A.PROGRAMME,
        INDICATORS: A.PROGRAMME,
        DIRECTORY: A.PROGRAMME,
        CHARTER: A.PROGRAMME,
    },
    Role.REFERENT: {
        REFERRAL: A.PROGRAMME,
        CHILD: A.CASE_TEAM,
        PATHWAY: A.CASE_TEAM,
        ITEM_TEAM: A.CASE_TEAM,
        ITEM_SECRET: A.CASE_TEAM,
        ITEM_PARTNERS: A.CASE_TEAM,
        CONSENT: A.CASE_TEAM,
        ATTENDANCE: A.CASE_TEAM,
        INDICATORS: A.CASE_TEAM,
        DIRECTORY: A.PROGRAMME,
        CHARTER: A.PROGRAMME,
    },
    Role.EPS_MEMBER: {
        REFERRAL: A.NONE,
        CHILD: A.CASE_TEAM_OR_EPS,
        PATHWAY: A.CASE_TEAM_OR_EPS,
        ITEM_TEAM: A.NONE,
        ITEM_SECRET: A.CASE_TEAM_OR_EPS,
        ITEM_PARTNERS: A.CASE_TEAM_OR_EPS,
        CONSENT: A.CASE_TEAM,
        ATTENDANCE: A.NONE,
        INDICATORS: A.AGGREGATE,
        DIRECTORY: A.PROGRAMME,
        CHARTER: A.PROGRAMME,
    },
    Role.REFERRER: {
        REFERRAL: A.OWN,
        CHILD: A.OWN,
        PATHWAY: A.OWN,
        ITEM_TEAM: A.NONE,
        ITEM_SECRET: A.NONE,
        ITEM_PARTNERS: A.NONE,
        CONSENT: A.NONE,
        ATTENDANCE: A.NONE,
        INDICATORS: A.NONE,
        DIRECTORY: A.PROGRAMME,
        CHARTER: A.PROGRAMME,
    },
    Role.PROVIDER: {
        REFERRAL: A.NONE,
        CHILD: A.ROSTER,
        PATHWAY: A.NONE,
        ITEM_TEAM: A.NONE,
        ITEM_SECRET: A.NONE,
        ITEM_PARTNERS: A.NONE,
        CONSENT: A.NONE,
        ATTENDANCE: A.ROSTER,
        INDICATORS: A.NONE,
        DIRECTORY: A.PROGRAMME,
        CHARTER: A.PROGRAMME,
    },
    Role.STEERING: {
        **dict.fromkeys([REFERRAL, CHILD, PATHWAY, ITEM_TEAM, ITEM_SECRET, ITEM_PARTNERS, CONSENT], A.NONE),
        ATTENDANCE: A.NONE,
        INDICATORS: A.AGGREGATE,
        DIRECTORY: A.PROGRAMME,
        CHARTER: A.PROGRAMME,
    },
    Role.MANAGER: {
        **dict.fromkeys([REFERRAL, CHILD, PATHWAY, ITEM_TEAM, ITEM_SECRET, ITEM_PARTNERS, CONSENT], A.NONE),
        ATTENDANCE: A.AGGREGATE,
        INDICATORS: A.AGGREGATE,
        DIRECTORY: A.PROGRAMME,
        CHARTER: A.PROGRAMME,
    },
    Role.DPO: {
        REFERRAL: A.NONE,
        **dict.fromkeys([CHILD, PATHWAY, ITEM_TEAM, ITEM_SECRET, ITEM_PARTNERS], A.BREAK_GLASS),
        CONSENT: A.NONE,
        ATTENDANCE: A.NONE,
        INDICATORS: A.AGGREGATE,
        DIRECTORY: A.PROGRAMME,
        CHARTER: A.PROGRAMME,
    },
    Role.NETWORK: {
        **dict.fromkeys([REFERRAL, CHILD, PATHWAY, ITEM_TEAM, ITEM_SECRET, ITEM_PARTNERS, CONSENT], A.NONE),
        ATTENDANCE: A.NONE,
        INDICATORS: A.AGGREGATE,
        DIRECTORY: A.NONE,
        CHARTER: A.PROGRAMME,
    },
}


def access(role: str, kind: str) -> Access:
    """The cell of the policy table for a role and an object kind (NONE when absent)."""
    return POLICY.get(role, {}).get(kind, Access.NONE)


# --- memberships ---------------------------------------------------------------------------------


def active_memberships(user, on: datetime.date | None = None) -> QuerySet[Membership]:
    """The memberships in force today of an authenticated, active user (none for anyone else)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Membership.objects.none()
    return Membership.objects.active(on).filter(user=user)


def roles_granting(kind: str, *accesses: Access) -> list[str]:
    return [role for role in POLICY if access(role, kind) in accesses]


def _programmes_where(user, kind: str, *accesses: Access) -> QuerySet[Membership]:
    """Active memberships of ``user`` whose role reaches ``kind`` with one of ``accesses``."""
    return active_memberships(user).filter(role__in=roles_granting(kind, *accesses))


def _in_programme_with(
    user, kind: str, *accesses: Access, programme_field: str = "programme", nominative: bool = False
):
    memberships = nominative_memberships(user) if nominative else active_memberships(user)
    memberships = memberships.filter(role__in=roles_granting(kind, *accesses))
    return Exists(memberships.filter(programme=OuterRef(programme_field)).values("pk"))


def nominative_memberships(user) -> QuerySet[Membership]:
    """Active memberships that may reach names: their holder signed the programme's current charter.

    A programme always has a published charter from its creation; a member who has not signed its
    latest version reaches no nominative data at all (CONFIDENTIALITY.md, conditions across rows).
    """
    return active_memberships(user).filter(_signed_current_charter())


def _signed_current_charter() -> Exists:
    """On a membership row: its holder signed the latest published charter of its programme."""
    current = (
        CharterVersion.objects.filter(published_at__isnull=False, programme=OuterRef(OuterRef("programme")))
        .order_by("-number")
        .values("pk")[:1]
    )
    return Exists(CharterSignature.objects.filter(membership=OuterRef("pk"), version=Subquery(current)))


def _authenticated(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def memberships_in_force(user) -> tuple[Membership, ...]:
    """``active_memberships(user)`` (today) as a tuple, each with ``charter_signed`` (the holder signed
    the programme's current charter) and its programme and organisation: one query per request (every
    call outside one).

    The policy reads them for every scope and predicate, the layout for the programme switcher, the
    charter gate for the signature, the journal for the membership of an entry.
    """
    if not _authenticated(user):
        return ()
    return request_cache.memo(
        ("memberships", user.pk),
        lambda: tuple(
            active_memberships(user)
            .annotate(charter_signed=_signed_current_charter())
            .select_related("programme", "organisation")
        ),
    )


def held_memberships(user) -> tuple[Membership, ...]:
    """``nominative_memberships(user)``: those of ``memberships_in_force`` whose charter is signed."""
    return tuple(m for m in memberships_in_force(user) if m.charter_signed)


def _forget_cached_policy_facts(**kwargs) -> None:
    # A row the cached memberships or pathway facts come from changed during the request.
    request_cache.forget()


for _model in (
    get_user_model(),
    Membership,
    CharterSignature,
    CharterVersion,
    Pathway,
    CaseTeamMember,
    Consent,
    Guardian,
    BreakGlass,
    Body,
    BodyMember,
    Meeting,
    AgendaItem,
):
    post_save.connect(
        _forget_cached_policy_facts, sender=_model, dispatch_uid=f"policy-forget-{_model.__name__}"
    )
    post_delete.connect(
        _forget_cached_policy_facts, sender=_model, dispatch_uid=f"policy-forget-del-{_model.__name__}"
    )
m2m_changed.connect(
    _forget_cached_policy_facts, sender=Consent.shared_with.through, dispatch_uid="policy-forget-shared-with"
)


# --- scopes --------------------------------------------------------------------------------------


def programmes_visible_to(user) -> QuerySet[Programme]:
    """Programmes where the user holds an active membership. Programme isolation starts here."""
    return Programme.objects.filter(Exists(active_memberships(user).filter(programme=OuterRef("pk"))))


def organisations_visible_to(user) -> QuerySet[Organisation]:
    """Partner organisations of the programmes whose directory the user's role may read."""
    return Organisation.objects.filter(_in_programme_with(user, DIRECTORY, A.PROGRAMME))


def memberships_visible_to(user) -> QuerySet[Membership]:
    """Members of the programmes whose directory the user's role may read (the partner directory)."""
    return Membership.objects.filter(_in_programme_with(user, DIRECTORY, A.PROGRAMME))


def children_visible_to(user) -> QuerySet[Child]:
    """Children whose identity (name, household) the user may see.

    Coordinators: every child of their programme. Référents: the children of pathways where they
    are in the case team. EPS members: the same, or during the access window of an EPS meeting
    that lists the situation — and only when they meet the *secret partagé* conditions (bound by
    secrecy, not refusing it, organisation covered by the family's consent); otherwise they see the
    pseudonymised situation. A break-glass grant opens one child for an hour. Never a child of
    another programme, nor without the signed charter.
    """
    # A child whose every pathway moved to the intermediate archive leaves the programme-wide
    # view too: only a break-glass grant on one of those pathways opens it again.
    roles = roles_granting(CHILD, A.PROGRAMME)
    programmes = {m.programme_id for m in held_memberships(user) if m.role in roles}
    by_programme = Q(programme_id__in=programmes) & ~_archived_only("")
    # The children of the pathways the user reaches for CHILD: an uncorrelated subquery, itself bounded
    # to the user's programmes (no per-child EXISTS over the whole country).
    through_pathways = Q(pk__in=Pathway.objects.filter(_relation(user, CHILD)).values("child_id"))
    return Child.objects.filter(by_programme | through_pathways)


def _archived_only(prefix: str) -> Q:
    """The child (at ``prefix``) has pathways, all of them in the intermediate archive."""
    child = OuterRef(f"{prefix}pk" if not prefix else prefix.removesuffix("__"))
    archived = Pathway.objects.filter(child=child, archived_at__isnull=False)
    live = Pathway.objects.filter(child=child, archived_at__isnull=True)
    return Q(Exists(archived)) & ~Q(Exists(live))


def households_visible_to(user) -> QuerySet[Household]:
    """Households of the children whose identity the user may see."""
    return Household.objects.filter(pk__in=children_visible_to(user).values("household_id"))


def guardians_visible_to(user) -> QuerySet[Guardian]:
    """Adults of the households the user may see."""
    return Guardian.objects.filter(household_id__in=children_visible_to(user).values("household_id"))


def charter_versions_visible_to(user) -> QuerySet[CharterVersion]:
    """Published charter versions of the user's programmes: every member reads the charter."""
    return CharterVersion.objects.published().filter(_in_programme_with(user, CHARTER, A.PROGRAMME))


# --- the journey: relations of a user to a pathway ----------------------------------------------------
#
# Every scope below is built from ``_relation(user, kind, prefix)``: a Q over rows that lead to a
# pathway through ``prefix`` (``""`` on Pathway itself, ``"pathway__"`` on items), allowing exactly
# what the policy table grants to each role the user holds, in SQL.

# Roles whose written items, consents or plan a role may change (the table's "edit", "record").
WRITE_POLICY: dict[str, dict[str, Access]] = {
    PATHWAY: {Role.COORDINATOR: A.PROGRAMME, Role.REFERENT: A.CASE_TEAM},
    CONSENT: {Role.COORDINATOR: A.PROGRAMME, Role.REFERENT: A.CASE_TEAM},
    # Written items (notes, contacts): the case team writes, within the circles it may use.
    ITEM_PARTNERS: {Role.COORDINATOR: A.PROGRAMME, Role.REFERENT: A.CASE_TEAM, Role.EPS_MEMBER: A.CASE_TEAM},
    REFERRAL: {Role.COORDINATOR: A.PROGRAMME},
}

# Kinds whose T/E access needs the secret conditions (the identity, and secret-circle items).
SECRET_KINDS = {CHILD, ITEM_SECRET}


def write_access(role: str, kind: str) -> Access:
    return WRITE_POLICY.get(kind, {}).get(role, Access.NONE)


# How a user reaches pathways, decided once from the policy table and evaluated two ways: in SQL for a
# set of pathways (the scopes), and in Python for one pathway (``PathwayAccess``: the pathway page and its
# sub-pages). Both read the same plan of *arms*, so that the per-pathway answer cannot drift from the
# scope's (tests/test_permissions_equivalence.py compares them on random worlds).
#
# An arm is one way a group of the user's memberships (those of one role) reaches a pathway:
#
# * ``programme`` — every pathway of the memberships' programmes;
# * ``referent`` — the pathway's accountable référent is the user, in one of those programmes; under
#   the secret conditions, a consent in force also shares with one of the memberships' organisations;
# * ``added`` — a case-team row in force names one of the memberships, of the pathway's own programme,
#   and the pathway is open with a consent in force; under the secret conditions, a consent in force
#   shares with the organisation of *that same* membership;
# * ``eps`` — one of the memberships sits in an EPS of the pathway's programme whose meeting lists the
#   pathway, during the meeting's access window, and the pathway is open with a consent in force; under
#   the secret conditions, the organisation of that same seat is covered;
# * ``break_glass`` — a break-glass grant in force, opened by the user with one of the memberships, of
#   the pathway's programme (the only arm that reaches an archived pathway).
#
# In SQL the whole relation is ``programme_id IN (programmes of the arms)`` — an indexable conjunct that
# bounds every scope to the user's own programmes — and, inside it, the arms: plain columns for the
# first two, uncorrelated ``id IN (SELECT pathway_id FROM … WHERE membership_id IN (…))`` subqueries for
# the others, each driven by an index on the membership (or the user) and returning a handful of rows.

ARM_PROGRAMME = "programme"
ARM_REFERENT = "referent"
ARM_ADDED = "added"
ARM_EPS = "eps"
ARM_BREAK_GLASS = "break_glass"


@dataclass(frozen=True)
class Arm:
    """One way ``memberships`` (of one role) reach a pathway; ``secret``: under the secret conditions."""

    how: str
    memberships: tuple[Membership, ...]
    secret: bool = False

    @property
    def ids(self) -> list[int]:
        return [m.pk for m in self.memberships]

    @property
    def programmes(self) -> set[int]:
        return {m.programme_id for m in self.memberships}

    @property
    def organisations(self) -> set[int]:
        return {m.organisation_id for m in self.memberships if m.organisation_id}


def _secret_holders(memberships) -> list[Membership]:
    return [m for m in memberships if m.bound_by_secrecy and not m.refuses_shared_secret]


def _case_team_arms(memberships, *, secret: bool) -> list[Arm]:
    """The user is in the case team: the accountable référent, or an added member in force.

    Added members reach the pathway only while it is open with a consent in force: after a
    withdrawal or the exit, the case team shrinks to the référent and the coordinator. Under the
    secret conditions, only memberships bound by secrecy, not refusing the secret partagé, whose
    organisation the family's consent in force covers.
    """
    if secret:
        memberships = _secret_holders(memberships)
    if not memberships:
        return []
    held = tuple(memberships)
    return [Arm(ARM_REFERENT, held, secret), Arm(ARM_ADDED, held, secret)]


def _eps_arms(memberships, *, secret: bool) -> list[Arm]:
    """The user sits in an EPS whose meeting lists the situation, during its access window."""
    if secret:
        memberships = _secret_holders(memberships)
    return [Arm(ARM_EPS, tuple(memberships), secret)] if memberships else []


def relation_arms(user, kind: str, table: str = "read") -> tuple[list[Arm], list[Arm]]:
    """The arms through which the policy table lets ``user`` reach pathways for ``kind``.

    Returns ``(live, glass)``: ``live`` arms reach pathways that are not archived; ``glass`` arms (the
    break-glass grants) reach one pathway whatever its state.

    The user's memberships in force with the charter signed are read first (once per request); then
    one set of arms per role they hold that the table opens: the programmes of the role for
    ``programme``; the case team for ``case_team``; case team or EPS window for ``case_team_or_eps``.
    Secret items need a membership bound by secrecy that does not refuse it, for every role; the
    organisation's coverage by the family's consent is required too, for secret items and the
    identity, from every role but the coordinator's and the référent's. Archived pathways are out of
    every scope; a break-glass grant (read only) opens one pathway whatever its state, for the kinds
    whose cell is ``break_glass`` or ``programme`` for the role of the membership it was opened with.
    """
    cell = write_access if table == "write" else access
    held = held_memberships(user)
    live: list[Arm] = []
    for role in sorted({m.role for m in held}):
        granted = cell(role, kind)
        if granted not in {A.PROGRAMME, A.CASE_TEAM, A.CASE_TEAM_OR_EPS}:
            continue
        memberships = [m for m in held if m.role == role]
        if kind == ITEM_SECRET:
            # The secret partagé is shared between professionals bound by secrecy only (CASF
            # L.226-2-2), whatever their role, and never with one who refused it.
            memberships = _secret_holders(memberships)
        secret = kind in SECRET_KINDS and role not in {Role.COORDINATOR, Role.REFERENT}
        if granted == A.PROGRAMME:
            if memberships:
                live.append(Arm(ARM_PROGRAMME, tuple(memberships)))
        elif granted == A.CASE_TEAM:
            live += _case_team_arms(memberships, secret=secret)
        else:
            live += _case_team_arms(memberships, secret=secret)
            live += _eps_arms(memberships, secret=secret)
    # Break-glass opens the pathway to the roles whose cell for ``kind`` is break-glass (the DPO) or the
    # whole programme (the coordinator, on an archived pathway), through the membership it was opened with.
    glass = [m for m in held if access(m.role, kind) in {A.BREAK_GLASS, A.PROGRAMME}]
    glass_arms = [Arm(ARM_BREAK_GLASS, tuple(glass))] if table == "read" and glass else []
    return live, glass_arms


# --- the arms in SQL -----------------------------------------------------------------------------------


def _pk_in(prefix: str, subquery) -> Q:
    """The pathway reached through ``prefix`` is one of ``subquery``'s (an uncorrelated ``IN``)."""
    return Q(pk__in=subquery) if prefix == "" else Q(**{f"{prefix.removesuffix('__')}__in": subquery})


def _open_with_consent_rows(pathway_field: str) -> Q:
    """For rows of a table that names a pathway in ``pathway_field``: that pathway is open and a holder
    of parental authority's consent is in force on it (correlated to those few rows only)."""
    consents = Consent.objects.valid().filter(
        pathway=OuterRef(pathway_field), guardian__has_parental_authority=True
    )
    return ~Q(**{f"{pathway_field}__state": PathwayState.CLOSED}) & Q(Exists(consents.values("pk")))


def _covered_pathways(organisations: set[int]) -> QuerySet:
    """Pathways with a consent in force that shares with one of ``organisations``."""
    return Consent.objects.valid().filter(shared_with__in=organisations).values("pathway_id")


def _team_pathways(arm: Arm) -> QuerySet:
    """Pathways whose case team names one of the arm's memberships, of the pathway's own programme."""
    if arm.secret:
        # One filter() call: the consent must cover the organisation of that same membership.
        members = CaseTeamMember.objects.current().filter(
            membership_id__in=arm.ids,
            membership__organisation__consents__pathway=F("pathway"),
            membership__organisation__consents__care=True,
            membership__organisation__consents__withdrawn_on__isnull=True,
        )
    else:
        members = CaseTeamMember.objects.current().filter(membership_id__in=arm.ids)
    # Programme isolation does not rest on the services alone: a membership of another programme added
    # to the team (which case_team_add refuses) opens nothing.
    members = members.filter(membership__programme_id=F("pathway__programme_id"))
    return members.filter(_open_with_consent_rows("pathway")).values("pathway_id")


def _eps_pathways(arm: Arm) -> QuerySet:
    """Pathways on the agenda of an EPS meeting, in its access window, where a membership of the arm sits."""
    now = timezone.now()
    conditions = {
        "meeting__agenda_published_at__lte": now,
        "meeting__access_ends_at__gte": now,
        "meeting__body__kind": BodyKind.EPS,
        "meeting__body__members__membership_id__in": arm.ids,
        # Programme isolation: the EPS, and the seat in it, of the pathway's programme.
        "meeting__body__programme_id": F("pathway__programme_id"),
        "meeting__body__members__membership__programme_id": F("pathway__programme_id"),
    }
    if arm.secret:
        # In the same filter() call, so that the covered organisation is that of the user's own
        # body membership, not of any other member of the EPS.
        conditions |= {
            "meeting__body__members__membership__organisation__consents__pathway": F("pathway"),
            "meeting__body__members__membership__organisation__consents__care": True,
            "meeting__body__members__membership__organisation__consents__withdrawn_on__isnull": True,
        }
    items = AgendaItem.objects.filter(**conditions)
    return items.filter(_open_with_consent_rows("pathway")).values("pathway_id")


def _glass_pathways(user, arm: Arm) -> QuerySet:
    """Pathways with a break-glass grant in force, opened by the user with one of the arm's memberships."""
    return (
        BreakGlass.objects.current()
        .filter(user=user, membership_id__in=arm.ids, membership__programme_id=F("pathway__programme_id"))
        .values("pathway_id")
    )


def _arm_q(user, arm: Arm, prefix: str) -> Q:
    if arm.how == ARM_PROGRAMME:
        return Q(**{f"{prefix}programme_id__in": arm.programmes})
    if arm.how == ARM_REFERENT:
        q = Q(**{f"{prefix}referent": user, f"{prefix}programme_id__in": arm.programmes})
        if arm.secret:
            organisations = arm.organisations
            if not organisations:
                return Q(pk__in=[])
            q &= _pk_in(prefix, _covered_pathways(organisations))
        return q
    if arm.how == ARM_ADDED:
        return _pk_in(prefix, _team_pathways(arm))
    if arm.how == ARM_EPS:
        return _pk_in(prefix, _eps_pathways(arm))
    return _pk_in(prefix, _glass_pathways(user, arm))


def _relation(user, kind: str, prefix: str = "", table: str = "read") -> Q:
    """Rows (reached through ``prefix``: ``""`` on Pathway, ``"pathway__"`` on items) that the policy
    table lets ``user`` reach for ``kind``, in SQL (see ``relation_arms`` for the rules).

    Shape: ``programme_id IN (the arms' programmes) AND ((archived_at IS NULL AND (live arms)) OR
    (break-glass arm))``.
    """
    live, glass = relation_arms(user, kind, table)
    if not live and not glass:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for arm in live:
        q |= _arm_q(user, arm, prefix)
    if live:
        q &= Q(**{f"{prefix}archived_at__isnull": True})
    for arm in glass:
        q |= _arm_q(user, arm, prefix)
    programmes = set().union(*(arm.programmes for arm in [*live, *glass]))
    return Q(**{f"{prefix}programme_id__in": programmes}) & q


def _bound(user, prefix: str = "") -> Q:
    """Rows (reached through ``prefix``) of a programme where the user holds a nominative membership:
    an indexable superset of every relation, put first so that no scope scans other programmes."""
    return Q(**{f"{prefix}programme_id__in": {m.programme_id for m in held_memberships(user)}})


# --- the arms for one pathway --------------------------------------------------------------------------


def _authority_consent(pathway_ref) -> Exists:
    """A consent in force of a holder of parental authority on the pathway ``pathway_ref``."""
    return Exists(
        Consent.objects.valid()
        .filter(pathway=pathway_ref, guardian__has_parental_authority=True)
        .values("pk")
    )


class PathwayFacts:
    """What decides the relations of one user to one pathway, read lazily and once.

    ``row``: the pathway's programme, référent, state, archive date, and whether a holder of parental
    authority's consent is in force. Read again from the database with the organisations its consents in
    force share with (one query) — an instance the caller holds may be stale — unless the pathway was
    fetched through ``get_visible_pathway`` in this request, whose row is then used (the organisations
    are read only if a secret arm needs them). The case-team rows, EPS seats and break-glass grants of
    the user's memberships on it are read only if an arm needs them (one small query each).
    """

    def __init__(self, user, pathway_id: int, row: dict | None = None):
        self.user = user
        self.pathway_id = pathway_id
        self._row = row
        self._covered = None
        self._team = None
        self._eps = None
        self._glass = None

    def _read(self) -> None:
        rows = list(
            Pathway.objects.filter(pk=self.pathway_id)
            .annotate(authority_consent=_authority_consent(OuterRef("pk")))
            .values(
                "programme_id",
                "referent_id",
                "state",
                "archived_at",
                "authority_consent",
                "consents__care",
                "consents__withdrawn_on",
                "consents__shared_with",
            )
        )
        if rows:
            keys = ("programme_id", "referent_id", "state", "archived_at", "authority_consent")
            self._row = {k: rows[0][k] for k in keys} | {"exists": True}
        else:
            self._row = dict.fromkeys(("programme_id", "referent_id", "state", "archived_at"))
            self._row |= {"authority_consent": False, "exists": False}
        self._covered = {
            r["consents__shared_with"]
            for r in rows
            if r["consents__shared_with"] and r["consents__care"] and r["consents__withdrawn_on"] is None
        }

    @property
    def row(self) -> dict:
        if self._row is None:
            self._read()
        return self._row

    @property
    def covered_organisations(self) -> set[int]:
        """The organisations a consent in force on the pathway shares with."""
        if self._covered is None:
            if self._row is None:
                self._read()
            else:
                self._covered = set(
                    Consent.objects.valid()
                    .filter(pathway_id=self.pathway_id, shared_with__isnull=False)
                    .values_list("shared_with", flat=True)
                )
        return self._covered

    @property
    def open_with_consent(self) -> bool:
        return self.row["state"] != PathwayState.CLOSED and self.row["authority_consent"]

    def covered(self, organisation_id: int | None) -> bool:
        return organisation_id is not None and organisation_id in self.covered_organisations

    def _held_ids(self) -> list[int]:
        return [m.pk for m in held_memberships(self.user)]

    @property
    def team(self) -> set[int]:
        """Memberships of the user named in the pathway's case team, in force today."""
        if self._team is None:
            self._team = set(
                CaseTeamMember.objects.current()
                .filter(pathway_id=self.pathway_id, membership_id__in=self._held_ids())
                .values_list("membership_id", flat=True)
            )
        return self._team

    @property
    def eps(self) -> set[int]:
        """Memberships of the user seated in an EPS of the pathway's programme whose meeting lists the
        pathway, in its access window."""
        if self._eps is None:
            now = timezone.now()
            self._eps = set(
                BodyMember.objects.filter(
                    membership_id__in=self._held_ids(),
                    body__kind=BodyKind.EPS,
                    body__programme_id=self.row["programme_id"],
                    body__meetings__agenda_published_at__lte=now,
                    body__meetings__access_ends_at__gte=now,
                    body__meetings__agenda_items__pathway_id=self.pathway_id,
                ).values_list("membership_id", flat=True)
            )
        return self._eps

    @property
    def glass(self) -> set[int]:
        """Memberships with which the user opened a break-glass grant in force on the pathway."""
        if self._glass is None:
            self._glass = set(
                BreakGlass.objects.current()
                .filter(user=self.user, pathway_id=self.pathway_id, membership_id__in=self._held_ids())
                .values_list("membership_id", flat=True)
            )
        return self._glass


def _arm_holds(user, arm: Arm, facts: PathwayFacts) -> bool:
    """The arm, evaluated on one pathway: the same conditions as ``_arm_q``."""
    row = facts.row
    if arm.how == ARM_PROGRAMME:
        return row["programme_id"] in arm.programmes
    if arm.how == ARM_REFERENT:
        if row["referent_id"] != user.pk or row["programme_id"] not in arm.programmes:
            return False
        return not arm.secret or any(facts.covered(o) for o in arm.organisations)
    if arm.how == ARM_BREAK_GLASS:
        return any(m.pk in facts.glass and m.programme_id == row["programme_id"] for m in arm.memberships)
    # Case team and EPS window: a membership of the pathway's programme, named or seated, and (under the
    # secret conditions) whose own organisation the consent covers; the pathway open with a consent.
    named = facts.team if arm.how == ARM_ADDED else facts.eps
    if not any(
        m.pk in named
        and m.programme_id == row["programme_id"]
        and (not arm.secret or facts.covered(m.organisation_id))
        for m in arm.memberships
    ):
        return False
    return facts.open_with_consent


def _relation_holds(user, kind: str, facts: PathwayFacts, table: str = "read") -> bool:
    """``_relation`` for one pathway, in Python: whether ``user`` reaches it for ``kind``."""
    live, glass = relation_arms(user, kind, table)
    if not live and not glass:
        return False
    if not facts.row["exists"]:
        return False
    if facts.row["archived_at"] is None and any(_arm_holds(user, arm, facts) for arm in live):
        return True
    return any(_arm_holds(user, arm, facts) for arm in glass)


def pathways_visible_to(user) -> QuerySet[Pathway]:
    """Pathways the user may open (state, plan, objectives, actions).

    Coordinator: all of the programme. Référent: their case team. EPS member: case team or EPS
    access window, read-only, pseudonymised unless the identity is visible too. Referrer: none
    here — they follow their own referrals' status only. DPO: break-glass only.
    """
    return Pathway.objects.filter(_relation(user, PATHWAY))


def pathways_editable_by(user) -> QuerySet[Pathway]:
    """Pathways whose plan and steps the user may change: coordinator (programme), référent (team)."""
    return Pathway.objects.filter(_relation(user, PATHWAY, table="write")).exclude(state=PathwayState.CLOSED)


def referrals_visible_to(user) -> QuerySet[Referral]:
    """Referrals: coordinator and référent, those of the programme; a referrer, their own only."""
    held = held_memberships(user)
    programme_roles = roles_granting(REFERRAL, A.PROGRAMME)
    own_roles = roles_granting(REFERRAL, A.OWN)
    programme = Q(programme_id__in={m.programme_id for m in held if m.role in programme_roles})
    own = Q(submitted_by=user, programme_id__in={m.programme_id for m in held if m.role in own_roles})
    return Referral.objects.filter(programme | own).exclude(_archived_only("child__"))


def referrals_decidable_by(user) -> QuerySet[Referral]:
    """Referrals whose review the user may lead (eligibility, accept, decline, redirect)."""
    roles = [role for role in Role.values if write_access(role, REFERRAL) == A.PROGRAMME]
    return Referral.objects.filter(
        programme_id__in={m.programme_id for m in held_memberships(user) if m.role in roles}
    )


def consents_visible_to(user) -> QuerySet[Consent]:
    """Consents: coordinator (programme), référent and EPS case-team members (read the scope)."""
    return Consent.objects.filter(_bound(user, "pathway__")).filter(
        _relation(user, CONSENT, prefix="pathway__")
    )


CIRCLE_KINDS = {Circle.TEAM: ITEM_TEAM, Circle.SECRET: ITEM_SECRET, Circle.PARTNERS: ITEM_PARTNERS}


def items_readable_by(user, model) -> QuerySet:
    """Written items (``DiagnosticSection``, ``Contact``, ``Note``, ``Review``) the user may read.

    By circle: ``team`` — coordinator, the pathway's référent(s), the author; ``secret`` — the
    same plus case-team and EPS members meeting the secret conditions; ``partners`` — every
    case-team and EPS member. The author always reads what they wrote while they see the pathway.

    For the items of one pathway, ``items_readable_on`` decides the circles once and asks for
    ``pathway_id = … AND (circle IN (…) OR author = …)``.
    """
    q = Q(pk__in=[])
    for circle, kind in CIRCLE_KINDS.items():
        q |= Q(circle=circle) & _relation(user, kind, prefix="pathway__")
    q |= Q(author=user) & _relation(user, PATHWAY, prefix="pathway__")
    return model.objects.filter(_bound(user, "pathway__")).filter(q)


def plan_visible_to(user, model) -> QuerySet:
    """Objectives, plan actions and review ratings follow the pathway (``PATHWAY`` column)."""
    return model.objects.filter(_relation(user, PATHWAY, prefix="pathway__"))


def plan_texts_readable_by(user, model) -> QuerySet:
    """Objectives and plan actions whose *text* the user may read (wording, title, provider…).

    The plan itself follows the pathway (``plan_visible_to``): whoever sees the pathway sees that
    an objective or action exists, its state and dates. Its text follows its circle, exactly like
    a written item (``items_readable_by``): ``team`` — coordinator, référent(s), author; ``secret``
    — plus case-team and EPS members under the secret conditions; ``partners`` — every case-team
    and EPS member (a teacher reads « soutien en lecture », never « rendez-vous au CMP »).
    """
    return items_readable_by(user, model).filter(_relation(user, PATHWAY, prefix="pathway__"))


# --- one pathway: the same policy, decided once in Python ------------------------------------------------
#
# The pathway page and its sub-pages ask a dozen questions about one pathway. Each is the scope's
# answer for that pathway (``relation_arms`` evaluated by ``_arm_holds`` on ``PathwayFacts``), computed
# once per request; the item queries then read ``pathway_id = … AND (circle IN (…) OR author = …)``.


def _pathway_id(pathway) -> int:
    return pathway if isinstance(pathway, int) else pathway.pk


def _facts(user, pathway) -> PathwayFacts:
    pathway_id = _pathway_id(pathway)
    row = request_cache.peek(("pathway-row", pathway_id))
    return request_cache.memo(
        ("pathway-facts", user.pk, pathway_id), lambda: PathwayFacts(user, pathway_id, row=row)
    )


def get_visible_pathway(
    user, pk, *, select_related: tuple[str, ...] = (), annotate: dict | None = None
) -> Pathway:
    """``pathways_visible_to(user).select_related(…).annotate(…).get(pk=pk)`` (``Pathway.DoesNotExist``
    when out of scope or absent).

    In a request, the row just read (with whether a consent of a holder of parental authority is in
    force) spares the per-pathway decisions their own read of it.
    """
    pathway = (
        pathways_visible_to(user)
        .select_related(*select_related)
        .annotate(policy_authority_consent=_authority_consent(OuterRef("pk")), **(annotate or {}))
        .get(pk=pk)
    )
    row = {f: getattr(pathway, f) for f in ("programme_id", "referent_id", "state", "archived_at")}
    row |= {"authority_consent": pathway.policy_authority_consent, "exists": True}
    request_cache.put(("pathway-row", pathway.pk), row)
    return pathway


def reaches(user, pathway, kind: str, table: str = "read") -> bool:
    """Whether ``user`` reaches ``pathway`` (an instance or an id) for ``kind``: exactly whether the
    pathway is in ``Pathway.objects.filter(_relation(user, kind, table=table))``."""
    if not _authenticated(user):
        return False
    key = ("reaches", user.pk, _pathway_id(pathway), kind, table)
    return request_cache.memo(key, lambda: _relation_holds(user, kind, _facts(user, pathway), table))


def sees_pathway(user, pathway) -> bool:
    """Whether the pathway is in ``pathways_visible_to(user)``."""
    return reaches(user, pathway, PATHWAY)


def readable_circles(user, pathway) -> frozenset[str]:
    """The circles whose items on ``pathway`` the user reads by their relation to it (the author's own
    items apart: ``items_readable_on``)."""
    return frozenset(circle for circle, kind in CIRCLE_KINDS.items() if reaches(user, pathway, kind))


def _circle_or_author(user, pathway, author_field: str) -> Q:
    q = Q(circle__in=sorted(readable_circles(user, pathway)))
    if sees_pathway(user, pathway):
        q |= Q(**{author_field: user})
    return q


def items_readable_on(user, pathway, model) -> QuerySet:
    """``items_readable_by(user, model).filter(pathway=pathway)``, decided once for the pathway:
    ``pathway_id = … AND (circle IN (readable circles) OR author = user)`` — the author only while they
    see the pathway."""
    if not _authenticated(user):
        return model.objects.none()
    return model.objects.filter(pathway_id=_pathway_id(pathway)).filter(
        _circle_or_author(user, pathway, "author")
    )


def plan_on(user, pathway, model) -> QuerySet:
    """``plan_visible_to(user, model).filter(pathway=pathway)``: the plan's rows, if the user sees it."""
    if not sees_pathway(user, pathway):
        return model.objects.none()
    return model.objects.filter(pathway_id=_pathway_id(pathway))


def plan_text_readable(user, row) -> bool:
    """Whether ``row`` (an objective or a plan action) is in ``plan_texts_readable_by(user, type(row))``."""
    if not sees_pathway(user, row.pathway_id):
        return False
    return row.circle in readable_circles(user, row.pathway_id) or (
        row.author_id is not None and row.author_id == user.pk
    )


def consents_on(user, pathway) -> QuerySet[Consent]:
    """``consents_visible_to(user).filter(pathway=pathway)``."""
    if not reaches(user, pathway, CONSENT):
        return Consent.objects.none()
    return Consent.objects.filter(pathway_id=_pathway_id(pathway))


def decision_text_readable(user, decision) -> bool:
    """Whether ``decision`` is in ``decision_texts_readable_by(user)``; ``decision.agenda_item`` is read."""
    pathway_id = decision.agenda_item.pathway_id
    if pathway_id is None or decision.decided_by_id == user.pk:
        return True
    return decision.circle in readable_circles(user, pathway_id)


def identity_visible(user, pathway: Pathway) -> bool:
    """Whether the user may see the child's identity on this pathway, not just its pseudonym.

    The child is in ``children_visible_to(user)``: reaching this pathway for ``CHILD`` is enough (no
    query beyond the pathway's facts); otherwise another of the child's pathways, or the programme, may
    still open the identity, which the scope decides.
    """
    if reaches(user, pathway, CHILD):
        return True
    if not _authenticated(user):
        return False
    return request_cache.memo(
        ("identity", user.pk, pathway.child_id),
        lambda: children_visible_to(user).filter(pk=pathway.child_id).exists(),
    )


def circles_writable_by(user, pathway: Pathway) -> list[str]:
    """Circles the user may write in on this pathway (most restrictive first).

    Nobody writes on a pathway they cannot edit items of. A member who refuses the secret
    partagé writes ``team`` only.
    """
    if not reaches(user, pathway, ITEM_PARTNERS, table="write"):
        return []
    # The membership ``nominative_memberships(user).filter(programme=…).first()`` would return (the
    # model orders memberships by programme, then role).
    here = sorted(
        (m for m in held_memberships(user) if m.programme_id == pathway.programme_id),
        key=lambda m: (m.role, m.pk),
    )
    membership = here[0] if here else None
    if membership is not None and membership.refuses_shared_secret:
        return [Circle.TEAM]
    if membership is not None and not membership.bound_by_secrecy:
        # Not bound by secrecy (a teacher): writing in the secret circle would share what they
        # could not themselves be told; team and partners remain.
        return [Circle.TEAM, Circle.PARTNERS]
    return [c.value for c in CIRCLE_ORDER]


def can_write_items(user, pathway: Pathway) -> bool:
    """Write notes, contacts, diagnosis and bilans: coordinator, référent, case-team members."""
    return pathway.is_open and bool(circles_writable_by(user, pathway))


def can_edit_pathway(user, pathway: Pathway) -> bool:
    """Change the plan, the steps, the référent, the case team, or close: coordinator and référent.

    The pathway is in ``pathways_editable_by(user)`` (its state as stored, not as the instance says).
    """
    return reaches(user, pathway, PATHWAY, table="write") and (
        _facts(user, pathway).row["state"] != PathwayState.CLOSED
    )


def can_manage_consents(user, pathway: Pathway) -> bool:
    """Record or withdraw a family's consent: coordinator (programme) and référent (case team)."""
    return pathway.is_open and reaches(user, pathway, CONSENT, table="write")


def can_reopen_pathway(user, pathway: Pathway) -> bool:
    """Reopen a closed pathway (as a new one): the coordinator of the programme."""
    return has_role(user, pathway.programme, Role.COORDINATOR) and pathway.state == PathwayState.CLOSED


def _holds_nominative(user, programme, roles) -> bool:
    programme_id = getattr(programme, "pk", programme)
    return any(m.programme_id == programme_id and m.role in roles for m in held_memberships(user))


def can_submit_referral(user, programme: Programme) -> bool:
    """Send a fiche d'orientation: referring partners; the coordinator enters one for a family."""
    return _holds_nominative(user, programme, [Role.REFERRER, Role.COORDINATOR])


def can_break_glass(user, programme: Programme) -> bool:
    """Open a file outside one's scope for an hour, with a reason: coordinator and DPO."""
    return _holds_nominative(user, programme, [Role.COORDINATOR, Role.DPO])


# Roles that read the access journal of their programme (metadata only, read-only).
JOURNAL_ROLES = (Role.COORDINATOR, Role.DPO)


def can_read_journal(user, programme: Programme) -> bool:
    """Read the access journal of a programme (who, role, when, what; never content), read-only.

    The coordinator and the DPO of the programme, holding the membership in force with the
    current charter signed.
    """
    return _holds_nominative(user, programme, JOURNAL_ROLES)


def pseudonym(pathway: Pathway, on: datetime.date | None = None) -> str:
    """The pseudonymised form: « Situation DEMO-2026-0142 — fille, 9 ans, CE2, école REP »."""
    from django.utils.translation import gettext as _

    from maillage.people.enums import Sex
    from maillage.referrals.eligibility import age_on

    child = pathway.child
    on = on or timezone.localdate()
    parts = [
        _("fille") if child.sex == Sex.GIRL else _("garçon"),
        _("%(age)s ans") % {"age": age_on(child.birth_date, on)},
    ]
    if child.school_level and child.school_level not in {"none", "other"}:
        parts.append(child.get_school_level_display())
    if child.school_id and child.school.priority_education:
        parts.append(_("école %(kind)s") % {"kind": child.school.priority_education})
    return _("Situation %(code)s — %(details)s") % {"code": pathway.case_code, "details": ", ".join(parts)}


# --- predicates ----------------------------------------------------------------------------------


def has_role(user, programme: Programme, *roles: str) -> bool:
    """Whether the user holds, today, one of ``roles`` in ``programme`` (a programme or its id)."""
    programme_id = getattr(programme, "pk", programme)
    return any(m.programme_id == programme_id and m.role in roles for m in memberships_in_force(user))


def can_manage_members(user, programme: Programme) -> bool:
    """Open the team page (members, invitations): the manager and the coordinator.

    Which roles each may grant, propose or end is ``can_grant_role``, ``can_propose_role`` and
    ``can_end_membership`` (granting access is itself access).
    """
    return has_role(user, programme, Role.MANAGER, Role.COORDINATOR)


# --- granting access (CONFIDENTIALITY.md, « Granting access is itself access ») ---------------------


def role_reaches_names(role: str) -> bool:
    """Whether a membership in ``role`` reaches nominative data, read from the policy table.

    Coordinator, référent, EPS member, referrer, provider and DPO (break-glass) do; steering, manager and
    network see aggregates only.
    """
    return any(access(role, kind) not in (A.NONE, A.AGGREGATE) for kind in NOMINATIVE_KINDS)


NOMINATIVE_ROLES = frozenset(role for role in Role.values if role_reaches_names(role))
AGGREGATE_GRANTABLE_ROLES = frozenset({Role.STEERING, Role.MANAGER})


def has_second_factor(user) -> bool:
    """Whether the account has a second factor (TOTP or security key); recovery codes alone do not count."""
    from maillage.accounts.mfa import has_second_factor as _has

    return bool(user is not None and user.is_authenticated and user.is_active and _has(user))


def _is_platform_staff(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def _granting_facts(user, programme: Programme) -> tuple[set[str], bool, bool]:
    """Roles ``user`` holds in ``programme`` today, whether they have a second factor, whether staff."""
    if user is None or not user.is_authenticated or not user.is_active:
        return set(), False, False
    roles = set(active_memberships(user).filter(programme=programme).values_list("role", flat=True))
    return roles, has_second_factor(user), _is_platform_staff(user)


def _may_grant(role: str, facts: tuple[set[str], bool, bool]) -> bool:
    held, second_factor, staff = facts
    if role == Role.COORDINATOR:
        return second_factor and (staff or Role.COORDINATOR in held)
    if role in NOMINATIVE_ROLES:
        return second_factor and Role.COORDINATOR in held
    if role in AGGREGATE_GRANTABLE_ROLES:
        return bool(held & {Role.MANAGER, Role.COORDINATOR})
    if role == Role.NETWORK:
        return second_factor and staff
    return False


def _may_propose(role: str, facts: tuple[set[str], bool, bool]) -> bool:
    return role in NOMINATIVE_ROLES and Role.MANAGER in facts[0] and not _may_grant(role, facts)


def _may_end(role: str, facts: tuple[set[str], bool, bool]) -> bool:
    if role in NOMINATIVE_ROLES:
        return _may_grant(role, facts)
    return bool(facts[0] & {Role.MANAGER, Role.COORDINATOR})


def can_grant_role(user, programme: Programme, role: str) -> bool:
    """Grant a membership in ``role`` (send the invitation, or confirm a manager's proposal).

    * a role reaching names (référent, EPS member, referrer, provider, DPO): a coordinator of the
      programme, from an account with a second factor;
    * coordinator: another coordinator of the programme or the platform staff, with a second factor;
    * an aggregate role (steering, manager): the manager or the coordinator of the programme;
    * network: spans several programmes, granted by the platform staff only, with a second factor.
    """
    return _may_grant(role, _granting_facts(user, programme))


def can_propose_role(user, programme: Programme, role: str) -> bool:
    """Propose a membership in a role reaching names, for a coordinator to confirm: the manager of the
    programme, for a role they may not grant themselves (what one may grant, one grants)."""
    return _may_propose(role, _granting_facts(user, programme))


def can_decide_proposal(user, invitation) -> bool:
    """Confirm or decline a proposed invitation: whoever may grant its role (coordinator, second factor)."""
    return invitation.is_proposal and can_grant_role(user, invitation.programme, invitation.role)


def can_end_membership(user, membership: Membership) -> bool:
    """End ``membership`` (never one's own): the same people as may grant its role.

    A role reaching names: a coordinator of the programme with a second factor (a coordinator's
    membership: another coordinator or the platform staff). An aggregate role (steering, manager,
    network): the manager or the coordinator of the programme.
    """
    if user is None or not user.is_authenticated or membership.user_id == user.pk:
        return False
    return _may_end(membership.role, _granting_facts(user, membership.programme))


def team_abilities(user, programme: Programme) -> dict[str, set[str]]:
    """For the team page: the roles ``user`` may grant, propose, and end in ``programme`` (two queries).

    The same rules as ``can_grant_role``, ``can_propose_role`` and ``can_end_membership``.
    """
    facts = _granting_facts(user, programme)
    return {
        "grantable": {role for role in Role.values if _may_grant(role, facts)},
        "proposable": {role for role in Role.values if _may_propose(role, facts)},
        "endable": {role for role in Role.values if _may_end(role, facts)},
    }


def can_configure_programme(user, programme: Programme) -> bool:
    """Edit the programme's profile, lists and partners: the manager and the coordinator."""
    return has_role(user, programme, Role.MANAGER, Role.COORDINATOR)


def can_publish_charter(user, programme: Programme) -> bool:
    """Publish a new version of the charter: the coordinator only."""
    return has_role(user, programme, Role.COORDINATOR)


def can_sign_charter(user, membership: Membership) -> bool:
    """Sign the charter for a membership: only its holder, while the membership is in force."""
    return active_memberships(user).filter(pk=membership.pk).exists()


def can_read_directory(user, programme: Programme) -> bool:
    """Open the partner directory of a programme: every role whose table row opens it (not network)."""
    return has_role(user, programme, *roles_granting(DIRECTORY, A.PROGRAMME))


def can_list_children(user, programme: Programme) -> bool:
    """Open the list of children of a programme: roles that reach children by name in the table.

    The coordinator (every child of the programme), the référent and the EPS member (the children
    of their case team, which the journey fills). What each sees is still the scope's answer.
    """
    roles = roles_granting(CHILD, A.PROGRAMME, A.CASE_TEAM, A.CASE_TEAM_OR_EPS)
    return has_role(user, programme, *roles)


def membership_requires_charter(membership: Membership) -> bool:
    """Whether the role of ``membership`` reaches nominative data, so that it must sign the charter.

    Read from the policy table: any access other than none or aggregates to a nominative kind
    (child, referral, pathway, written items, consents, attendance). Steering, manager and network
    roles, which see aggregates only, do not need to sign.
    """
    return any(access(membership.role, kind) not in (A.NONE, A.AGGREGATE) for kind in NOMINATIVE_KINDS)


def has_signed_current_charter(membership: Membership) -> bool:
    """Whether the holder of ``membership`` signed the latest published charter of its programme.

    False when the programme has no published charter yet: there is nothing signed.
    """
    current = (
        CharterVersion.objects.published()
        .filter(programme_id=membership.programme_id)
        .order_by("-number")
        .values("pk")[:1]
    )
    return CharterSignature.objects.filter(membership=membership, version=Subquery(current)).exists()


def must_sign_charter(membership: Membership | None) -> bool:
    """Whether to ask the holder of ``membership`` to sign: required, published, not yet signed."""
    if membership is None or not membership_requires_charter(membership):
        return False
    if getattr(membership, "charter_signed", False):
        # Read with the membership (``memberships_in_force``): the current version is signed.
        return False
    published = CharterVersion.objects.published().filter(programme_id=membership.programme_id)
    return published.exists() and not has_signed_current_charter(membership)


# --- steering (indicators, dashboards, exports, barometer) ---------------------------------------


def steering_programmes_visible_to(user) -> QuerySet[Programme]:
    """Programmes whose dashboards the user opens: roles reaching ``INDICATORS`` in full or in aggregate.

    The référent (indicators of their own cases only) has no programme dashboard.
    """
    roles = roles_granting(INDICATORS, A.PROGRAMME, A.AGGREGATE)
    return Programme.objects.filter(
        Exists(active_memberships(user).filter(programme=OuterRef("pk"), role__in=roles))
    )


def indicators_unsuppressed(user, programme: Programme) -> bool:
    """Exact small counts: only the programme's team reaching every indicator (the coordinator).

    Every other audience (steering, manager, DPO, EPS members, network) sees suppressed counts.
    """
    return has_role(user, programme, *roles_granting(INDICATORS, A.PROGRAMME))


def network_levels_of(user):
    """Network levels the user works at: the level of each programme where they hold a ``network``
    membership in force (a network user is a member of one programme attached to the level)."""
    from maillage.programmes.models import NetworkLevel

    programmes = active_memberships(user).filter(role=Role.NETWORK).values("programme__network_level")
    return NetworkLevel.objects.filter(pk__in=programmes)


def network_programmes_visible_to(user) -> QuerySet[Programme]:
    """Programmes aggregated for a network user: those attached to their level or to a level below it."""
    levels = network_levels_of(user)
    return Programme.objects.filter(Q(network_level__in=levels) | Q(network_level__parent__in=levels))


def can_manage_steering(user, programme: Programme) -> bool:
    """Set yearly objectives, write the comité's highlights, send the barometer: the coordinator."""
    return has_role(user, programme, Role.COORDINATOR)


def can_edit_budget(user, programme: Programme) -> bool:
    """Enter funding lines: the coordinator and the structure's manager."""
    return has_role(user, programme, Role.COORDINATOR, Role.MANAGER)


def can_export_indicators(user, programme: Programme) -> bool:
    """Download the comité pack and the ANCT workbook (aggregates, suppressed unless coordinator)."""
    return has_role(user, programme, Role.COORDINATOR, Role.MANAGER, Role.STEERING)


def can_answer_barometer(user, barometer_round) -> bool:
    """Answer a barometer round: any member in force of its programme, while the round is open."""
    return (
        barometer_round.state == "open"
        and active_memberships(user).filter(programme_id=barometer_round.programme_id).exists()
    )


# --- abilities -----------------------------------------------------------------------------------


def abilities(user, obj) -> dict[str, bool]:
    """What the templates may offer on ``obj``: the same predicates as the views check."""
    if isinstance(obj, Programme):
        return {
            "configure": can_configure_programme(user, obj),
            "publish_charter": can_publish_charter(user, obj),
            "manage_members": can_manage_members(user, obj),
            "list_children": can_list_children(user, obj),
            "read_directory": can_read_directory(user, obj),
        }
    if isinstance(obj, Organisation):
        return {"edit": can_configure_programme(user, obj.programme)}
    return {}


def today() -> datetime.date:
    return timezone.localdate()


# --- the partnership: bodies, meetings, mission sheets, memento (issue 7) ------------------------------
#
# A table of its own, same shape as ``POLICY``: read and write cells per role for the kinds of the
# partnership. Committees (comité de pilotage, comité technique…) are non-nominative by construction:
# their minutes refuse a child's name or case code. EPS agendas list situations: whoever reads them
# sees ``pseudonym(pathway)`` unless ``identity_visible`` (case team, or the EPS window under the
# secret conditions) says otherwise.

COMMITTEES = "committees"  # bodies other than EPS, their meetings, minutes, decisions, forwardings
EPS_MEETINGS = "eps_meetings"  # EPS bodies, their meetings and agendas (situations pseudonymised)
MISSION_SHEETS = "mission_sheets"
MEMENTO = "memento"
GOVERNANCE_KINDS = [COMMITTEES, EPS_MEETINGS, MISSION_SHEETS, MEMENTO]

# BODY: the member of the body only (EPS members read the EPS they sit in; the network level reads the
# committees it sits in or animates — e.g. the intercommunal comité of its GIP — and what is forwarded to
# them, which is non-nominative by construction).
BODY = "body"

_EVERY_MEMBER = {COMMITTEES: A.PROGRAMME, MISSION_SHEETS: A.PROGRAMME, MEMENTO: A.PROGRAMME}
GOVERNANCE_READ: dict[str, dict[str, str]] = {
    Role.COORDINATOR: {**_EVERY_MEMBER, EPS_MEETINGS: A.PROGRAMME},
    Role.REFERENT: {**_EVERY_MEMBER, EPS_MEETINGS: A.PROGRAMME},
    Role.EPS_MEMBER: {**_EVERY_MEMBER, EPS_MEETINGS: BODY},
    Role.REFERRER: dict(_EVERY_MEMBER),
    Role.PROVIDER: dict(_EVERY_MEMBER),
    Role.STEERING: dict(_EVERY_MEMBER),
    Role.MANAGER: dict(_EVERY_MEMBER),
    Role.DPO: {MEMENTO: A.PROGRAMME, MISSION_SHEETS: A.PROGRAMME},
    Role.NETWORK: {COMMITTEES: BODY},
}
GOVERNANCE_WRITE: dict[str, dict[str, str]] = {
    # Create bodies, schedule meetings, minutes, decisions, attendance, forwardings, validate sheets.
    Role.COORDINATOR: {
        COMMITTEES: A.PROGRAMME,
        EPS_MEETINGS: A.PROGRAMME,
        MISSION_SHEETS: A.PROGRAMME,
        MEMENTO: A.PROGRAMME,
    },
    # Mission sheets are written together: every professional of the programme contributes.
    Role.REFERENT: {MISSION_SHEETS: A.PROGRAMME},
    Role.EPS_MEMBER: {MISSION_SHEETS: A.PROGRAMME},
    Role.PROVIDER: {MISSION_SHEETS: A.PROGRAMME},
    Role.REFERRER: {MISSION_SHEETS: A.PROGRAMME},
    Role.MANAGER: {COMMITTEES: A.PROGRAMME, MISSION_SHEETS: A.PROGRAMME, MEMENTO: A.PROGRAMME},
}


def governance_access(role: str, kind: str, table: str = "read") -> str:
    cells = GOVERNANCE_WRITE if table == "write" else GOVERNANCE_READ
    return cells.get(role, {}).get(kind, A.NONE)


def _governance_roles(kind: str, table: str, *cells: str) -> list[str]:
    return [role for role in Role.values if governance_access(role, kind, table) in cells]


def _governance_programmes(user, kind: str, table: str = "read") -> set[int]:
    """Programmes where one of the user's memberships in force opens ``kind`` programme-wide."""
    roles = _governance_roles(kind, table, A.PROGRAMME)
    return set(active_memberships(user).filter(role__in=roles).values_list("programme_id", flat=True))


def bodies_visible_to(user) -> QuerySet[Body]:
    """Bodies: committees of the user's programmes; EPS to coordinators, référents, and their members.

    A role whose committees cell is ``BODY`` (the network level) reads only the committees where one of
    its memberships in force sits (the comité it animates), never an EPS.
    """
    sitting = active_memberships(user).filter(role__in=_governance_roles(COMMITTEES, "read", BODY))
    committees = (
        Q(programme_id__in=_governance_programmes(user, COMMITTEES)) | Q(members__membership__in=sitting)
    ) & ~Q(kind=BodyKind.EPS)
    eps = Q(kind=BodyKind.EPS) & (
        Q(programme_id__in=_governance_programmes(user, EPS_MEETINGS))
        | Q(
            members__membership__in=active_memberships(user).filter(
                role__in=_governance_roles(EPS_MEETINGS, "read", BODY)
            )
        )
    )
    return Body.objects.filter(pk__in=Body.objects.filter(committees | eps).values("pk"))


def bodies_manageable_by(user) -> QuerySet[Body]:
    """Bodies whose meetings, agendas, minutes and decisions the user runs: coordinator (and manager for
    committees)."""
    committees = Q(programme_id__in=_governance_programmes(user, COMMITTEES, "write")) & ~Q(kind=BodyKind.EPS)
    eps = Q(kind=BodyKind.EPS) & Q(programme_id__in=_governance_programmes(user, EPS_MEETINGS, "write"))
    return Body.objects.filter(committees | eps)


def meetings_visible_to(user) -> QuerySet[Meeting]:
    """Meetings of the bodies the user sees."""
    return Meeting.objects.filter(body__in=bodies_visible_to(user))


def decision_texts_readable_by(user) -> QuerySet[Decision]:
    """Decisions whose text (and "who does what") the user may read.

    A committee's decision (no situation) is non-nominative: read with its meeting. On a situation,
    the text is a written item about the child and follows its circle on that pathway, as for
    ``items_readable_by``; whoever recorded it reads it. Others see that a decision exists.
    """
    q = Q(agenda_item__pathway__isnull=True) | Q(decided_by=user)
    for circle, kind in CIRCLE_KINDS.items():
        q |= Q(circle=circle) & _relation(user, kind, prefix="agenda_item__pathway__")
    return Decision.objects.filter(q)


def meeting_documents_readable_by(user) -> QuerySet[MeetingDocument]:
    """Documents of the meetings the user sees, within their circle (design: documents follow
    their circle, meeting documents included).

    About a situation (``pathway``): the circle is read on that pathway exactly as for a note
    (``team`` — coordinator, référent(s); ``secret`` — plus case-team and EPS members under the
    secret conditions, in the access window; ``partners`` — every case-team and EPS member).
    An EPS document about no situation: ``team`` — the programme's coordinators; ``secret`` — plus
    members bound by secrecy, charter signed, not refusing it; ``partners`` — whoever sees the
    meeting. Documents of other bodies are non-nominative: read with the meeting. The uploader
    always reads their own.
    """
    q = Q(uploaded_by=user) | (Q(pathway__isnull=True) & ~Q(meeting__body__kind=BodyKind.EPS))
    for circle, kind in CIRCLE_KINDS.items():
        q |= Q(pathway__isnull=False, circle=circle) & _relation(user, kind, prefix="pathway__")
    held = held_memberships(user)
    coordinators = {m.programme_id for m in held if m.role == Role.COORDINATOR}
    bound = {m.programme_id for m in _secret_holders(held)} | coordinators
    q |= Q(pathway__isnull=True) & (
        Q(circle=Circle.PARTNERS)
        | Q(circle=Circle.SECRET, meeting__body__programme_id__in=bound)
        | Q(circle=Circle.TEAM, meeting__body__programme_id__in=coordinators)
    )
    return MeetingDocument.objects.filter(meeting__in=meetings_visible_to(user)).filter(q)


def can_manage_body(user, body: Body) -> bool:
    """Schedule meetings, publish agendas, record minutes, attendance, decisions; forward: coordinator
    (every body), manager (committees)."""
    return bodies_manageable_by(user).filter(pk=body.pk).exists()


def can_put_on_agenda(user, meeting: Meeting, pathway: Pathway) -> bool:
    """Put a situation on an EPS agenda: the coordinator, or a référent of the pathway (case team)."""
    if meeting.body.kind != BodyKind.EPS or meeting.cancelled or not pathway.is_open:
        return False
    if pathway.programme_id != meeting.body.programme_id:
        return False
    if can_manage_body(user, meeting.body):
        return True
    return pathways_editable_by(user).filter(pk=pathway.pk).exists()


def mission_sheets_visible_to(user) -> QuerySet[MissionSheet]:
    return MissionSheet.objects.filter(programme_id__in=_governance_programmes(user, MISSION_SHEETS))


def can_contribute_mission_sheet(user, programme: Programme) -> bool:
    """Write a version or comment a mission sheet: every professional of the programme."""
    return programme.pk in _governance_programmes(user, MISSION_SHEETS, "write")


def can_validate_mission_sheet(user, programme: Programme) -> bool:
    """Propose a sheet at a meeting and mark it validated: the coordinator."""
    return has_role(user, programme, Role.COORDINATOR)


def memento_pages_visible_to(user) -> QuerySet[MementoPage]:
    return MementoPage.objects.filter(programme_id__in=_governance_programmes(user, MEMENTO))


def can_edit_memento(user, programme: Programme) -> bool:
    """Write the memento's pages: the coordinator and the manager."""
    return programme.pk in _governance_programmes(user, MEMENTO, "write")


def can_read_memento(user, programme: Programme) -> bool:
    return programme.pk in _governance_programmes(user, MEMENTO)


# --- actions: catalogue, groups and attendance, contracts, support fund (issue 6) --------------------
#
# A table of its own, in the shape of ``POLICY``. The catalogue (``offer``) names no one. A group's
# roster and attendance show first name, initial and age only: the coordinator reads every group of
# the programme, a provider only the groups of their organisation's actions or where they are named
# (``Access.ROSTER``), never a diagnosis, a note, a consent, a pathway or another group. Contracts,
# breach alerts and fund requests follow the pathway: coordinator (programme), référent (case team).
# Collective-only beneficiaries have no pathway and no child page: they are reached through rosters only.

OFFER = "offer"
GROUP = "group"  # groups, sessions, rosters (enrolments) and their attendance
CONTRACT = "contract"  # family contracts, breach alerts, intervention tasks
FUND_REQUEST = "fund_request"
OFFERS_KINDS = [OFFER, GROUP, CONTRACT, FUND_REQUEST]
_EVERYTHING = dict.fromkeys(OFFERS_KINDS, A.PROGRAMME)

OFFERS_READ: dict[str, dict[str, Access]] = {
    Role.COORDINATOR: _EVERYTHING,
    Role.REFERENT: {OFFER: A.PROGRAMME, CONTRACT: A.CASE_TEAM, FUND_REQUEST: A.CASE_TEAM},
    Role.EPS_MEMBER: {OFFER: A.PROGRAMME},
    Role.PROVIDER: {OFFER: A.ROSTER, GROUP: A.ROSTER},
    Role.STEERING: {OFFER: A.PROGRAMME},
    Role.MANAGER: {OFFER: A.PROGRAMME},
}
OFFERS_WRITE: dict[str, dict[str, Access]] = {
    # Catalogue, groups, sessions, enrolments: the coordinator.
    Role.COORDINATOR: _EVERYTHING,
    # Contracts and fund requests of their pathways (the decision on a request is the coordinator's).
    Role.REFERENT: {CONTRACT: A.CASE_TEAM, FUND_REQUEST: A.CASE_TEAM},
    # Roll-call of their own groups.
    Role.PROVIDER: {GROUP: A.ROSTER},
}


def offers_access(role: str, kind: str, table: str = "read") -> Access:
    cells = OFFERS_WRITE if table == "write" else OFFERS_READ
    return cells.get(role, {}).get(kind, A.NONE)


def _offers_memberships(user, kind: str, *cells: Access, table: str = "read", nominative: bool = True):
    memberships = nominative_memberships(user) if nominative else active_memberships(user)
    roles = [role for role in Role.values if offers_access(role, kind, table) in cells]
    return memberships.filter(role__in=roles)


# What a group's roster shows, in the policy table: reading it names children (``CHILD``), the roll-call
# records attendance (``ATTENDANCE``). A role reaches a group through the actions table and that cell.
ROSTER_KINDS = {"read": CHILD, "write": ATTENDANCE}


def _roster_clause(user, kind: str, table: str, prefix: str, of: str) -> Q:
    """Groups (reached through ``prefix``) of the provider's organisation's actions, or where named, for
    the roles whose ``of`` cell of ``POLICY`` is the roster."""
    roles = set(roles_granting(of, A.ROSTER))
    cells = [role for role in Role.values if offers_access(role, kind, table) == A.ROSTER]
    providers = [m for m in held_memberships(user) if m.role in roles and m.role in cells]
    if not providers:
        return Q(pk__in=[])
    by_organisation = Q(
        **{
            f"{prefix}offer__provider_id__in": [m.organisation_id for m in providers if m.organisation_id],
            f"{prefix}offer__programme_id__in": [m.programme_id for m in providers],
        }
    )
    named = Exists(
        Group.facilitators.through.objects.filter(
            group_id=OuterRef(f"{prefix}pk" if prefix else "pk"),
            membership_id__in=[m.pk for m in providers],
        )
    )
    return by_organisation | Q(named)


def offers_visible_to(user) -> QuerySet[Offer]:
    """The catalogue: every professional of the programme (not the referrer, not network); a
    provider sees only their organisation's actions and those with a group they are named in."""
    readers = _offers_memberships(user, OFFER, A.PROGRAMME, nominative=False)
    programme = Q(programme_id__in=readers.values("programme_id"))
    providers = list(_offers_memberships(user, OFFER, A.ROSTER, nominative=False))
    own = Q(
        provider_id__in=[m.organisation_id for m in providers if m.organisation_id],
        programme_id__in=[m.programme_id for m in providers],
    )
    named = Q(groups__facilitators__in=[m.pk for m in providers])
    return Offer.objects.filter(pk__in=Offer.objects.filter(programme | own | named).values("pk"))


def groups_visible_to(user, table: str = "read", of: str | None = None) -> QuerySet[Group]:
    """Groups and their rosters: coordinator (programme); provider (own organisation's actions or
    named); nobody else (a référent sees their child's attendance on the pathway, not the roster).

    ``of``: the kind of ``POLICY`` the group is opened for, the roster's names (``CHILD``, reading) or
    its roll-call and attendance (``ATTENDANCE``, writing); its cell must be ``programme`` or ``roster``.
    """
    of = of or ROSTER_KINDS[table]
    coordinators = _offers_memberships(user, GROUP, A.PROGRAMME, table=table)
    coordinators = coordinators.filter(role__in=roles_granting(of, A.PROGRAMME))
    programme = Q(offer__programme_id__in=coordinators.values("programme_id"))
    return Group.objects.filter(programme | _roster_clause(user, GROUP, table, prefix="", of=of))


def sessions_visible_to(user) -> QuerySet[Session]:
    return Session.objects.filter(group__in=groups_visible_to(user))


def enrolments_visible_to(user) -> QuerySet[Enrolment]:
    """Roster rows of the groups the user sees (first name, initial and age only on the pages)."""
    return Enrolment.objects.filter(group__in=groups_visible_to(user))


def attendances_visible_to(user) -> QuerySet[Attendance]:
    """Attendance: of the groups the user sees, and, for the case team, of the children of their
    pathways (``ATTENDANCE`` column of ``POLICY``: coordinator P, référent T, provider roster)."""
    of_groups = Q(session__group__in=groups_visible_to(user, of=ATTENDANCE))
    children = Pathway.objects.filter(_relation(user, ATTENDANCE)).values("child_id")
    return Attendance.objects.filter(of_groups | Q(enrolment__child_id__in=children))


def _offers_arms(user, kind: str, table: str = "read") -> list[Arm]:
    """Like ``relation_arms`` but read from the actions table (programme or case team, no break-glass)."""
    held = held_memberships(user)
    arms: list[Arm] = []
    for role in sorted({m.role for m in held}):
        granted = offers_access(role, kind, table)
        memberships = [m for m in held if m.role == role]
        if granted == A.PROGRAMME:
            arms.append(Arm(ARM_PROGRAMME, tuple(memberships)))
        elif granted == A.CASE_TEAM:
            arms += _case_team_arms(memberships, secret=False)
    return arms


def _offers_relation(user, kind: str, prefix: str, table: str = "read") -> Q:
    """Like ``_relation`` but read from the actions table (programme or case team)."""
    arms = _offers_arms(user, kind, table)
    if not arms:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for arm in arms:
        q |= _arm_q(user, arm, prefix)
    programmes = set().union(*(arm.programmes for arm in arms))
    return Q(**{f"{prefix}programme_id__in": programmes}) & q & Q(**{f"{prefix}archived_at__isnull": True})


def _offers_reach(user, pathway, kind: str, table: str) -> bool:
    """``_offers_relation`` for one pathway, in Python (once per request)."""
    if not _authenticated(user):
        return False

    def decide() -> bool:
        facts = _facts(user, pathway)
        if not facts.row["exists"] or facts.row["archived_at"] is not None:
            return False
        return any(_arm_holds(user, arm, facts) for arm in _offers_arms(user, kind, table))

    return request_cache.memo(("offers-reach", user.pk, _pathway_id(pathway), kind, table), decide)


def contracts_visible_to(user) -> QuerySet[FamilyContract]:
    """Family contracts: coordinator (programme), référent (case team)."""
    return FamilyContract.objects.filter(_offers_relation(user, CONTRACT, "pathway__"))


def breach_alerts_visible_to(user) -> QuerySet[BreachAlert]:
    """Breach alerts: those who see the pathway's contract."""
    return BreachAlert.objects.filter(_offers_relation(user, CONTRACT, "pathway__"))


def intervention_tasks_visible_to(user) -> QuerySet[InterventionTask]:
    """Intervention tasks: the contract's readers, and the social worker the task is assigned to."""
    assigned = Q(assignee__in=nominative_memberships(user), pathway__archived_at__isnull=True)
    return InterventionTask.objects.filter(_offers_relation(user, CONTRACT, "pathway__") | assigned)


def fund_requests_visible_to(user) -> QuerySet[FundRequest]:
    """Support-fund requests: coordinator (programme), référent (their pathways)."""
    return FundRequest.objects.filter(_offers_relation(user, FUND_REQUEST, "pathway__"))


def can_manage_offers(user, programme: Programme) -> bool:
    """Create and edit the catalogue, groups, sessions and enrolments: the coordinator."""
    return _offers_memberships(user, OFFER, A.PROGRAMME, table="write").filter(programme=programme).exists()


def can_take_attendance(user, session: Session) -> bool:
    """Record a session's roll-call: the coordinator, or a provider of the group (organisation or named)."""
    return (
        not session.cancelled and groups_visible_to(user, table="write").filter(pk=session.group_id).exists()
    )


def can_edit_contract(user, pathway: Pathway) -> bool:
    """Write a family contract, handle its breach alerts: coordinator, référent of the case team."""
    return pathway.is_open and _offers_reach(user, pathway, CONTRACT, "write")


def can_handle_alert(user, alert: BreachAlert) -> bool:
    """Escalate or close a breach alert: whoever may edit the pathway's contract."""
    return can_edit_contract(user, alert.pathway)


def can_record_task_outcome(user, task: InterventionTask) -> bool:
    """Record the outcome of an intervention: the assigned social worker, or the coordinator."""
    if nominative_memberships(user).filter(pk=task.assignee_id).exists():
        return True
    return (
        _offers_memberships(user, CONTRACT, A.PROGRAMME, table="write")
        .filter(programme=task.pathway.programme_id)
        .exists()
    )


def can_request_fund(user, pathway: Pathway) -> bool:
    """Ask the support fund for a child: coordinator, référent of the case team, on an open pathway."""
    return pathway.is_open and _offers_reach(user, pathway, FUND_REQUEST, "write")


def can_decide_fund_request(user, request_obj: FundRequest) -> bool:
    """Approve or refuse a support-fund request: the coordinator of the programme, once."""
    return (
        request_obj.state == "requested"
        and _offers_memberships(user, FUND_REQUEST, A.PROGRAMME, table="write")
        .filter(programme=request_obj.programme_id)
        .exists()
    )
