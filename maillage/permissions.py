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

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from maillage.governance.enums import BodyKind
from maillage.governance.models import (
    AgendaItem,
    Body,
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
    current = (
        CharterVersion.objects.filter(published_at__isnull=False, programme=OuterRef(OuterRef("programme")))
        .order_by("-number")
        .values("pk")[:1]
    )
    signed = CharterSignature.objects.filter(membership=OuterRef("pk"), version=Subquery(current))
    return active_memberships(user).filter(Exists(signed))


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
    by_programme = Q(_in_programme_with(user, CHILD, A.PROGRAMME, nominative=True)) & ~_archived_only("")
    through_pathways = Exists(
        Pathway.objects.filter(child=OuterRef("pk")).filter(_relation(user, CHILD, prefix="")).values("pk")
    )
    return Child.objects.filter(by_programme | through_pathways)


def _archived_only(prefix: str) -> Q:
    """The child (at ``prefix``) has pathways, all of them in the intermediate archive."""
    child = OuterRef(f"{prefix}pk" if not prefix else prefix.removesuffix("__"))
    archived = Pathway.objects.filter(child=child, archived_at__isnull=False)
    live = Pathway.objects.filter(child=child, archived_at__isnull=True)
    return Q(Exists(archived)) & ~Q(Exists(live))


def households_visible_to(user) -> QuerySet[Household]:
    """Households of the children whose identity the user may see."""
    return Household.objects.filter(Exists(children_visible_to(user).filter(household=OuterRef("pk"))))


def guardians_visible_to(user) -> QuerySet[Guardian]:
    """Adults of the households the user may see."""
    return Guardian.objects.filter(Exists(households_visible_to(user).filter(pk=OuterRef("household"))))


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


def _pathway_ref(prefix: str):
    """OuterRef to the pathway's id, from a row that reaches it through ``prefix``."""
    return OuterRef("pk") if prefix == "" else OuterRef(prefix.removesuffix("__"))


def _open_with_consent(prefix: str) -> Q:
    """The pathway is open and a holder of parental authority's consent is in force."""
    consents = Consent.objects.valid().filter(
        pathway=_pathway_ref(prefix), guardian__has_parental_authority=True
    )
    return ~Q(**{f"{prefix}state": PathwayState.CLOSED}) & Q(Exists(consents.values("pk")))


def _covered_by_consent(memberships: list[Membership], prefix: str) -> Q:
    """A consent in force on the pathway shares with the organisation of one of ``memberships``."""
    consents = Consent.objects.valid().filter(
        pathway=_pathway_ref(prefix),
        shared_with__in=[m.organisation_id for m in memberships if m.organisation_id],
    )
    return Q(Exists(consents.values("pk")))


def _secret_holders(memberships: list[Membership]) -> list[Membership]:
    return [m for m in memberships if m.bound_by_secrecy and not m.refuses_shared_secret]


def _case_team(user, memberships: list[Membership], prefix: str, *, secret: bool) -> Q:
    """The user is in the case team: the accountable référent, or an added member in force.

    Added members reach the pathway only while it is open with a consent in force: after a
    withdrawal or the exit, the case team shrinks to the référent and the coordinator. Under the
    secret conditions, only memberships bound by secrecy, not refusing the secret partagé, whose
    organisation the family's consent in force covers.
    """
    if secret:
        memberships = _secret_holders(memberships)
    if not memberships:
        return Q(pk__in=[])
    pathway = _pathway_ref(prefix)
    referent = Q(
        **{f"{prefix}referent": user, f"{prefix}programme_id__in": {m.programme_id for m in memberships}}
    )
    if secret:
        referent &= _covered_by_consent(memberships, prefix)
    members = CaseTeamMember.objects.current().filter(
        pathway=pathway, membership_id__in=[m.pk for m in memberships]
    )
    if secret:
        # One filter() call: the consent must cover the organisation of that same membership.
        members = CaseTeamMember.objects.current().filter(
            pathway=pathway,
            membership_id__in=[m.pk for m in memberships],
            membership__organisation__consents__pathway=pathway,
            membership__organisation__consents__care=True,
            membership__organisation__consents__withdrawn_on__isnull=True,
        )
    # Programme isolation does not rest on the services alone: a membership of another programme added
    # to the team (which case_team_add refuses) opens nothing.
    members = members.filter(membership__programme_id=F("pathway__programme_id"))
    added = Q(Exists(members.values("pk"))) & _open_with_consent(prefix)
    return referent | added


def _eps_window(memberships: list[Membership], prefix: str, *, secret: bool) -> Q:
    """The user sits in an EPS whose meeting lists the situation, during its access window."""
    if secret:
        memberships = _secret_holders(memberships)
    if not memberships:
        return Q(pk__in=[])
    now = timezone.now()
    pathway = _pathway_ref(prefix)
    conditions = {
        "pathway": pathway,
        "meeting__agenda_published_at__lte": now,
        "meeting__access_ends_at__gte": now,
        "meeting__body__kind": BodyKind.EPS,
        "meeting__body__members__membership_id__in": [m.pk for m in memberships],
        # Programme isolation: the EPS, and the seat in it, of the pathway's programme.
        "meeting__body__programme_id": F("pathway__programme_id"),
        "meeting__body__members__membership__programme_id": F("pathway__programme_id"),
    }
    if secret:
        # In the same filter() call, so that the covered organisation is that of the user's own
        # body membership, not of any other member of the EPS.
        conditions |= {
            "meeting__body__members__membership__organisation__consents__pathway": pathway,
            "meeting__body__members__membership__organisation__consents__care": True,
            "meeting__body__members__membership__organisation__consents__withdrawn_on__isnull": True,
        }
    items = AgendaItem.objects.filter(**conditions)
    return Q(Exists(items.values("pk"))) & _open_with_consent(prefix)


def _break_glass(user, memberships: list[Membership], prefix: str) -> Q:
    grants = BreakGlass.objects.current().filter(
        user=user,
        pathway=_pathway_ref(prefix),
        membership_id__in=[m.pk for m in memberships],
        membership__programme_id=F("pathway__programme_id"),
    )
    return Q(Exists(grants.values("pk")))


def _relation(user, kind: str, prefix: str = "", table: str = "read") -> Q:
    """Rows (reached through ``prefix``) that the policy table lets ``user`` reach for ``kind``.

    The user's memberships in force with the charter signed are read first (one small query);
    then one clause per role they hold that the table opens: the programmes of the role for
    ``programme``; the case team for ``case_team``; case team or EPS window for
    ``case_team_or_eps``. Secret items need a membership bound by secrecy that does not refuse
    it, for every role; the organisation's coverage by the family's consent is required too, for
    secret items and the identity, from every role but the coordinator's and the référent's.
    Archived pathways are out of every scope; a break-glass grant (read only) opens one pathway
    whatever its state, for the kinds whose cell is ``break_glass`` or ``programme`` for the role of the
    membership it was opened with.
    """
    cell = write_access if table == "write" else access
    held = list(nominative_memberships(user))
    q = Q(pk__in=[])
    for role in {m.role for m in held}:
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
            q |= Q(**{f"{prefix}programme_id__in": {m.programme_id for m in memberships}})
        elif granted == A.CASE_TEAM:
            q |= _case_team(user, memberships, prefix, secret=secret)
        else:
            q |= _case_team(user, memberships, prefix, secret=secret)
            q |= _eps_window(memberships, prefix, secret=secret)
    q &= Q(**{f"{prefix}archived_at__isnull": True})
    # Break-glass opens the pathway to the roles whose cell for ``kind`` is break-glass (the DPO) or the
    # whole programme (the coordinator, on an archived pathway), through the membership it was opened with.
    glass = [m for m in held if access(m.role, kind) in {A.BREAK_GLASS, A.PROGRAMME}]
    if table == "read" and glass:
        q |= _break_glass(user, glass, prefix)
    return q


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
    own_roles = roles_granting(REFERRAL, A.OWN)
    programme = _in_programme_with(user, REFERRAL, A.PROGRAMME, nominative=True)
    own = Q(submitted_by=user) & Q(
        Exists(
            nominative_memberships(user)
            .filter(role__in=own_roles, programme=OuterRef("programme"))
            .values("pk")
        )
    )
    return Referral.objects.filter(Q(programme) | own).exclude(_archived_only("child__"))


def referrals_decidable_by(user) -> QuerySet[Referral]:
    """Referrals whose review the user may lead (eligibility, accept, decline, redirect)."""
    roles = [role for role in Role.values if write_access(role, REFERRAL) == A.PROGRAMME]
    memberships = nominative_memberships(user).filter(role__in=roles)
    return Referral.objects.filter(Exists(memberships.filter(programme=OuterRef("programme")).values("pk")))


def consents_visible_to(user) -> QuerySet[Consent]:
    """Consents: coordinator (programme), référent and EPS case-team members (read the scope)."""
    return Consent.objects.filter(_relation(user, CONSENT, prefix="pathway__"))


CIRCLE_KINDS = {Circle.TEAM: ITEM_TEAM, Circle.SECRET: ITEM_SECRET, Circle.PARTNERS: ITEM_PARTNERS}


def items_readable_by(user, model) -> QuerySet:
    """Written items (``DiagnosticSection``, ``Contact``, ``Note``, ``Review``) the user may read.

    By circle: ``team`` — coordinator, the pathway's référent(s), the author; ``secret`` — the
    same plus case-team and EPS members meeting the secret conditions; ``partners`` — every
    case-team and EPS member. The author always reads what they wrote while they see the pathway.
    """
    q = Q(pk__in=[])
    for circle, kind in CIRCLE_KINDS.items():
        q |= Q(circle=circle) & _relation(user, kind, prefix="pathway__")
    q |= Q(author=user) & Q(pathway__in=pathways_visible_to(user))
    return model.objects.filter(q)


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
    return items_readable_by(user, model).filter(pk__in=plan_visible_to(user, model).values("pk"))


def identity_visible(user, pathway: Pathway) -> bool:
    """Whether the user may see the child's identity on this pathway, not just its pseudonym."""
    return children_visible_to(user).filter(pk=pathway.child_id).exists()


def circles_writable_by(user, pathway: Pathway) -> list[str]:
    """Circles the user may write in on this pathway (most restrictive first).

    Nobody writes on a pathway they cannot edit items of. A member who refuses the secret
    partagé writes ``team`` only.
    """
    if (
        not Pathway.objects.filter(pk=pathway.pk)
        .filter(_relation(user, ITEM_PARTNERS, table="write"))
        .exists()
    ):
        return []
    membership = nominative_memberships(user).filter(programme=pathway.programme_id).first()
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
    """Change the plan, the steps, the référent, the case team, or close: coordinator and référent."""
    return pathways_editable_by(user).filter(pk=pathway.pk).exists()


def can_manage_consents(user, pathway: Pathway) -> bool:
    """Record or withdraw a family's consent: coordinator (programme) and référent (case team)."""
    return (
        pathway.is_open
        and Pathway.objects.filter(pk=pathway.pk).filter(_relation(user, CONSENT, table="write")).exists()
    )


def can_reopen_pathway(user, pathway: Pathway) -> bool:
    """Reopen a closed pathway (as a new one): the coordinator of the programme."""
    return has_role(user, pathway.programme, Role.COORDINATOR) and pathway.state == PathwayState.CLOSED


def can_submit_referral(user, programme: Programme) -> bool:
    """Send a fiche d'orientation: referring partners; the coordinator enters one for a family."""
    return (
        nominative_memberships(user)
        .filter(programme=programme, role__in=[Role.REFERRER, Role.COORDINATOR])
        .exists()
    )


def can_break_glass(user, programme: Programme) -> bool:
    """Open a file outside one's scope for an hour, with a reason: coordinator and DPO."""
    return (
        nominative_memberships(user)
        .filter(programme=programme, role__in=[Role.COORDINATOR, Role.DPO])
        .exists()
    )


# Roles that read the access journal of their programme (metadata only, read-only).
JOURNAL_ROLES = (Role.COORDINATOR, Role.DPO)


def can_read_journal(user, programme: Programme) -> bool:
    """Read the access journal of a programme (who, role, when, what; never content), read-only.

    The coordinator and the DPO of the programme, holding the membership in force with the
    current charter signed.
    """
    return nominative_memberships(user).filter(programme=programme, role__in=JOURNAL_ROLES).exists()


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
    """Whether the user holds, today, one of ``roles`` in ``programme``."""
    return active_memberships(user).filter(programme=programme, role__in=roles).exists()


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
    held = list(nominative_memberships(user))
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
    roles = roles_granting(of, A.ROSTER)
    providers = list(_offers_memberships(user, kind, A.ROSTER, table=table).filter(role__in=roles))
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
    pathways = Pathway.objects.filter(child=OuterRef("enrolment__child")).filter(_relation(user, ATTENDANCE))
    return Attendance.objects.filter(of_groups | Q(Exists(pathways.values("pk"))))


def _offers_relation(user, kind: str, prefix: str, table: str = "read") -> Q:
    """Like ``_relation`` but read from the actions table (programme or case team)."""
    held = list(nominative_memberships(user))
    q = Q(pk__in=[])
    for role in {m.role for m in held}:
        granted = offers_access(role, kind, table)
        memberships = [m for m in held if m.role == role]
        if granted == A.PROGRAMME:
            q |= Q(**{f"{prefix}programme_id__in": {m.programme_id for m in memberships}})
        elif granted == A.CASE_TEAM:
            q |= _case_team(user, memberships, prefix, secret=False)
    return q & Q(**{f"{prefix}archived_at__isnull": True})


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
    return (
        pathway.is_open
        and Pathway.objects.filter(pk=pathway.pk)
        .filter(_offers_relation(user, CONTRACT, "", table="write"))
        .exists()
    )


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
    return (
        pathway.is_open
        and Pathway.objects.filter(pk=pathway.pk)
        .filter(_offers_relation(user, FUND_REQUEST, "", table="write"))
        .exists()
    )


def can_decide_fund_request(user, request_obj: FundRequest) -> bool:
    """Approve or refuse a support-fund request: the coordinator of the programme, once."""
    return (
        request_obj.state == "requested"
        and _offers_memberships(user, FUND_REQUEST, A.PROGRAMME, table="write")
        .filter(programme=request_obj.programme_id)
        .exists()
    )
