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
from enum import StrEnum

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from maillage.people.models import Child, Guardian, Household
from maillage.programmes.enums import Role
from maillage.programmes.models import CharterSignature, CharterVersion, Membership, Organisation, Programme


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


def _in_programme_with(user, kind: str, *accesses: Access, programme_field: str = "programme"):
    return Exists(
        _programmes_where(user, kind, *accesses).filter(programme=OuterRef(programme_field)).values("pk")
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
    """Children whose identity the user may see.

    Coordinators: every child of their programme. Case-team roles (référent, EPS member) reach a
    child through a pathway, which the journey adds; until then they reach none. Everyone else:
    none. Never a child of a programme where the user holds no active membership.
    """
    return Child.objects.filter(_in_programme_with(user, CHILD, A.PROGRAMME))


def households_visible_to(user) -> QuerySet[Household]:
    """Households of the children the user may see (same rule as ``children_visible_to``)."""
    return Household.objects.filter(_in_programme_with(user, CHILD, A.PROGRAMME))


def guardians_visible_to(user) -> QuerySet[Guardian]:
    """Adults of the households the user may see (same rule as ``children_visible_to``)."""
    return Guardian.objects.filter(
        _in_programme_with(user, CHILD, A.PROGRAMME, programme_field="household__programme")
    )


def charter_versions_visible_to(user) -> QuerySet[CharterVersion]:
    """Published charter versions of the user's programmes: every member reads the charter."""
    return CharterVersion.objects.published().filter(_in_programme_with(user, CHARTER, A.PROGRAMME))


# --- predicates ----------------------------------------------------------------------------------


def has_role(user, programme: Programme, *roles: str) -> bool:
    """Whether the user holds, today, one of ``roles`` in ``programme``."""
    return active_memberships(user).filter(programme=programme, role__in=roles).exists()


def can_manage_members(user, programme: Programme) -> bool:
    """Invite people, change roles and end memberships: the manager and the coordinator."""
    return has_role(user, programme, Role.MANAGER, Role.COORDINATOR)


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
    published = CharterVersion.objects.published().filter(programme_id=membership.programme_id)
    return published.exists() and not has_signed_current_charter(membership)


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
