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

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem
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
        user=user, pathway=_pathway_ref(prefix), membership_id__in=[m.pk for m in memberships]
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
    whatever its state.
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
    if table == "read" and held:
        q |= _break_glass(user, held, prefix)
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
