"""Hand-written SQL returning exactly the rows of each scope of ``maillage/permissions.py``.

This is the reference the policy is measured against: the same rules (design/CONFIDENTIALITY.md, the
policy table), written by hand the way one would for speed — the user's memberships read first (one small
query, as the policy does), then a ``UNION`` of indexed arms, each bounded by the programmes or the
memberships it concerns, with no correlated sub-plan over every pathway. It depends on nothing in
``maillage.permissions``: when the policy's internals change, the rows compared stay the same.

Each arm selects pathway ids from ``pathways_pathway p``; ``extra`` is a predicate on ``p`` (a narrowing
filter: one référent, one programme, one pathway) pushed into every arm.
"""

from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

COORDINATOR, REFERENT, EPS, REFERRER, PROVIDER, DPO = (
    "coordinator",
    "referent",
    "eps_member",
    "referrer",
    "provider",
    "dpo",
)
# The policy table's cells for the kinds that reach pathways (P: programme, T: case team, TE: case team or
# EPS window) and the roles whose break-glass grant opens them.
READ = {
    "pathway": {COORDINATOR: "P", REFERENT: "T", EPS: "TE"},
    "child": {COORDINATOR: "P", REFERENT: "T", EPS: "TE"},
    "consent": {COORDINATOR: "P", REFERENT: "T", EPS: "T"},
    "item_team": {COORDINATOR: "P", REFERENT: "T"},
    "item_secret": {COORDINATOR: "P", REFERENT: "T", EPS: "TE"},
    "item_partners": {COORDINATOR: "P", REFERENT: "T", EPS: "TE"},
}
WRITE = {"pathway": {COORDINATOR: "P", REFERENT: "T"}}
GLASS = {
    "pathway": {COORDINATOR, DPO},
    "child": {COORDINATOR, DPO},
    "consent": {COORDINATOR},
    "item_team": {COORDINATOR, DPO},
    "item_secret": {COORDINATOR, DPO},
    "item_partners": {COORDINATOR, DPO},
}
SECRET_KINDS = {"child", "item_secret"}


@dataclass
class M:
    id: int
    programme: int
    role: str
    organisation: int | None
    bound: bool
    refuses: bool
    signed: bool


def _in(values) -> str:
    return "(" + ", ".join(["%s"] * len(values)) + ")"


class Ctx:
    """The user's memberships in force (with whether the programme's current charter is signed)."""

    SQL = """
        SELECT m.id, m.programme_id, m.role, m.organisation_id, m.bound_by_secrecy, m.refuses_shared_secret,
               EXISTS (SELECT 1 FROM programmes_chartersignature s
                        WHERE s.membership_id = m.id
                          AND s.version_id = (SELECT v.id FROM programmes_charterversion v
                                               WHERE v.programme_id = m.programme_id
                                                 AND v.published_at IS NOT NULL
                                               ORDER BY v.number DESC LIMIT 1))
          FROM programmes_membership m JOIN accounts_user u ON u.id = m.user_id
         WHERE m.user_id = %s AND u.is_active = %s AND m.starts_on <= %s
           AND (m.ends_on IS NULL OR m.ends_on >= %s)
    """

    def __init__(self, user_id: int):
        self.user = user_id
        self.today = timezone.localdate()
        self.now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(self.SQL, [user_id, True, self.today, self.today])
            self.active = [M(*row[:6], bool(row[6])) for row in cursor.fetchall()]
        self.held = [m for m in self.active if m.signed]

    def of(self, *roles, nominative=True) -> list[M]:
        return [m for m in (self.held if nominative else self.active) if m.role in roles]

    # --- pathway arms ------------------------------------------------------------------------------

    def _consent_in_force(self) -> tuple[str, list]:
        sql = (
            "EXISTS (SELECT 1 FROM pathways_consent c JOIN people_guardian g ON g.id = c.guardian_id"
            " WHERE c.pathway_id = p.id AND c.care = %s AND c.withdrawn_on IS NULL"
            " AND g.has_parental_authority = %s)"
        )
        return sql, [True, True]

    def _covered(self, organisations_sql: str, params: list) -> tuple[str, list]:
        """A consent in force on ``p`` shares with one of the organisations."""
        return (
            "EXISTS (SELECT 1 FROM pathways_consent c JOIN pathways_consent_shared_with sw ON"
            " sw.consent_id = c.id"
            " WHERE c.pathway_id = p.id AND c.care = %s AND c.withdrawn_on IS NULL AND sw.organisation_id"
            f" {organisations_sql})",
            [True, *params],
        )

    def _case_team(self, ms: list[M], secret: bool, extra: str, xp: list) -> list[tuple[str, list]]:
        if secret:
            ms = [m for m in ms if m.bound and not m.refuses]
        if not ms:
            return []
        programmes = sorted({m.programme for m in ms})
        arms = []
        sql = (
            f"SELECT p.id FROM pathways_pathway p WHERE p.referent_id = %s"
            f" AND p.programme_id IN {_in(programmes)} AND p.archived_at IS NULL{extra}"
        )
        params = [self.user, *programmes, *xp]
        orgs = sorted({m.organisation for m in ms if m.organisation})
        if secret:
            if not orgs:
                sql = None
            else:
                cov, cp = self._covered(f"IN {_in(orgs)}", orgs)
                sql += f" AND {cov}"
                params += cp
        if sql:
            arms.append((sql, params))
        ids = [m.id for m in ms]
        consent, cparams = self._consent_in_force()
        sql = (
            "SELECT p.id FROM pathways_caseteammember t JOIN programmes_membership m ON m.id ="
            " t.membership_id"
            " JOIN pathways_pathway p ON p.id = t.pathway_id"
            f" WHERE t.membership_id IN {_in(ids)} AND t.starts_on <= %s AND (t.ends_on IS NULL OR"
            " t.ends_on >= %s)"
            " AND m.programme_id = p.programme_id AND p.state <> 'closed' AND p.archived_at IS NULL"
            f" AND {consent}{extra}"
        )
        params = [*ids, self.today, self.today, *cparams, *xp]
        if secret:
            cov, cp = self._covered("= m.organisation_id", [])
            sql += f" AND {cov}"
            params += cp
        arms.append((sql, params))
        return arms

    def _eps_window(self, ms: list[M], secret: bool, extra: str, xp: list) -> list[tuple[str, list]]:
        if secret:
            ms = [m for m in ms if m.bound and not m.refuses]
        if not ms:
            return []
        ids = [m.id for m in ms]
        consent, cparams = self._consent_in_force()
        sql = (
            "SELECT p.id FROM governance_meeting mt JOIN governance_body b ON b.id = mt.body_id"
            " JOIN governance_bodymember bm ON bm.body_id = b.id JOIN programmes_membership m ON m.id ="
            " bm.membership_id"
            " JOIN governance_agendaitem a ON a.meeting_id = mt.id JOIN pathways_pathway p ON p.id ="
            " a.pathway_id"
            f" WHERE mt.agenda_published_at <= %s AND mt.access_ends_at >= %s AND b.kind = 'eps'"
            f" AND bm.membership_id IN {_in(ids)} AND b.programme_id = p.programme_id AND m.programme_id ="
            " p.programme_id"
            f" AND p.state <> 'closed' AND p.archived_at IS NULL AND {consent}{extra}"
        )
        params = [self.now, self.now, *ids, *cparams, *xp]
        if secret:
            cov, cp = self._covered("= m.organisation_id", [])
            sql += f" AND {cov}"
            params += cp
        return [(sql, params)]

    def pathway_arms(self, kind: str, extra: str = "", xp: list | None = None, table: str = "read"):
        """The arms of the pathways ``kind`` reaches, as (sql, params) selecting ``p.id``."""
        xp = xp or []
        cells = (WRITE if table == "write" else READ)[kind]
        arms = []
        for role in sorted({m.role for m in self.held}):
            granted = cells.get(role)
            if granted is None:
                continue
            ms = [m for m in self.held if m.role == role]
            if kind == "item_secret":
                ms = [m for m in ms if m.bound and not m.refuses]
            secret = kind in SECRET_KINDS and role not in {COORDINATOR, REFERENT}
            if granted == "P":
                programmes = sorted({m.programme for m in ms})
                if programmes:
                    arms.append(
                        (
                            f"SELECT p.id FROM pathways_pathway p WHERE p.programme_id IN {_in(programmes)}"
                            f" AND p.archived_at IS NULL{extra}",
                            [*programmes, *xp],
                        )
                    )
            else:
                arms += self._case_team(ms, secret, extra, xp)
                if granted == "TE":
                    arms += self._eps_window(ms, secret, extra, xp)
        glass = [m.id for m in self.held if m.role in GLASS.get(kind, set())]
        if table == "read" and glass:
            arms.append(
                (
                    "SELECT p.id FROM pathways_breakglass bg JOIN programmes_membership m ON m.id ="
                    " bg.membership_id"
                    " JOIN pathways_pathway p ON p.id = bg.pathway_id"
                    f" WHERE bg.user_id = %s AND bg.expires_at > %s AND bg.membership_id IN {_in(glass)}"
                    f" AND m.programme_id = p.programme_id{extra}",
                    [self.user, self.now, *glass, *xp],
                )
            )
        return arms


EMPTY = "SELECT p.id FROM pathways_pathway p WHERE 1 = 0"  # typed: PostgreSQL compares it with ids


def union(arms) -> tuple[str, list]:
    if not arms:
        return EMPTY, []
    return " UNION ".join(sql for sql, _ in arms), [p for _, params in arms for p in params]


# --- the scopes, by hand -------------------------------------------------------------------------


def pathways(ctx: Ctx, extra="", xp=None):
    return union(ctx.pathway_arms("pathway", extra, xp))


def pathways_editable(ctx: Ctx, extra="", xp=None):
    sql, params = union(ctx.pathway_arms("pathway", extra + " AND p.state <> 'closed'", xp, table="write"))
    return sql, params


def children(ctx: Ctx, extra="", xp=None):
    """``extra`` applies to children here (alias ``ch``) as well as to pathways (``p``)."""
    xp = xp or []
    arms = []
    programmes = sorted({m.programme for m in ctx.of(COORDINATOR)})
    if programmes:
        arms.append(
            (
                f"SELECT ch.id FROM people_child ch WHERE ch.programme_id IN {_in(programmes)}"
                f"{extra.replace('p.', 'ch.')}"
                " AND NOT (EXISTS (SELECT 1 FROM pathways_pathway a WHERE a.child_id = ch.id AND"
                " a.archived_at IS NOT NULL)"
                " AND NOT EXISTS (SELECT 1 FROM pathways_pathway l WHERE l.child_id = ch.id AND"
                " l.archived_at IS NULL))",
                [*programmes, *xp],
            )
        )
    inner, params = union(ctx.pathway_arms("child", extra, xp))
    if inner != EMPTY:
        arms.append((f"SELECT p.child_id FROM pathways_pathway p WHERE p.id IN ({inner})", params))
    return union(arms)


def consents(ctx: Ctx, extra="", xp=None):
    inner, params = union(ctx.pathway_arms("consent", extra, xp))
    return f"SELECT c.id FROM pathways_consent c WHERE c.pathway_id IN ({inner})", params


CIRCLE_KINDS = {"team": "item_team", "secret": "item_secret", "partners": "item_partners"}


def items(ctx: Ctx, table: str, extra="", xp=None):
    arms = []
    for circle, kind in CIRCLE_KINDS.items():
        inner, params = union(ctx.pathway_arms(kind, extra, xp))
        if inner != EMPTY:
            arms.append(
                (
                    f"SELECT i.id FROM {table} i WHERE i.circle = '{circle}' AND i.pathway_id IN ({inner})",
                    params,
                )
            )
    inner, params = union(ctx.pathway_arms("pathway", extra, xp))
    if inner != EMPTY:
        arms.append(
            (
                f"SELECT i.id FROM {table} i WHERE i.author_id = %s AND i.pathway_id IN ({inner})",
                [ctx.user, *params],
            )
        )
    return union(arms)


def plan(ctx: Ctx, table: str, extra="", xp=None):
    inner, params = union(ctx.pathway_arms("pathway", extra, xp))
    return f"SELECT i.id FROM {table} i WHERE i.pathway_id IN ({inner})", params


def referrals(ctx: Ctx, extra="", xp=None):
    """Coordinator and référent: the programme's; a referrer: their own; never a child wholly archived."""
    xp = xp or []
    arms = []
    programmes = sorted({m.programme for m in ctx.of(COORDINATOR, REFERENT)})
    extra = extra.replace("p.", "r.")
    if programmes:
        arms.append(
            (
                f"SELECT r.id FROM referrals_referral r WHERE r.programme_id IN {_in(programmes)}{extra}",
                [*programmes, *xp],
            )
        )
    own = sorted({m.programme for m in ctx.of(REFERRER)})
    if own:
        arms.append(
            (
                f"SELECT r.id FROM referrals_referral r WHERE r.submitted_by_id = %s"
                f" AND r.programme_id IN {_in(own)}{extra}",
                [ctx.user, *own, *xp],
            )
        )
    sql, params = union(arms)
    return (
        f"SELECT r.id FROM referrals_referral r WHERE r.id IN ({sql}) AND NOT ("
        " EXISTS (SELECT 1 FROM pathways_pathway a WHERE a.child_id = r.child_id AND a.archived_at IS NOT"
        " NULL)"
        " AND NOT EXISTS (SELECT 1 FROM pathways_pathway l WHERE l.child_id = r.child_id AND l.archived_at"
        " IS NULL))",
        params,
    )


# Governance: every member of the programme reads its committees; coordinators and référents its EPS; an
# EPS member the EPS they sit in; the network level the committees it sits in. Memberships in force
# (the charter is not a condition: agendas are pseudonymised).
COMMITTEE_READERS = {COORDINATOR, REFERENT, EPS, REFERRER, PROVIDER, "steering", "manager"}


def meetings(ctx: Ctx, extra="", xp=None):
    xp = xp or []
    extra = extra.replace("p.", "b.")
    arms = []
    committees = sorted({m.programme for m in ctx.of(*COMMITTEE_READERS, nominative=False)})
    if committees:
        arms.append(
            (
                "SELECT b.id FROM governance_body b WHERE b.kind <> 'eps' AND b.programme_id IN"
                f" {_in(committees)}{extra}",
                [*committees, *xp],
            )
        )
    sitting = [m.id for m in ctx.of("network", nominative=False)]
    if sitting:
        arms.append(
            (
                "SELECT b.id FROM governance_body b JOIN governance_bodymember bm ON bm.body_id = b.id"
                f" WHERE b.kind <> 'eps' AND bm.membership_id IN {_in(sitting)}{extra}",
                [*sitting, *xp],
            )
        )
    eps = sorted({m.programme for m in ctx.of(COORDINATOR, REFERENT, nominative=False)})
    if eps:
        arms.append(
            (
                "SELECT b.id FROM governance_body b WHERE b.kind = 'eps' AND b.programme_id IN"
                f" {_in(eps)}{extra}",
                [*eps, *xp],
            )
        )
    seats = [m.id for m in ctx.of(EPS, nominative=False)]
    if seats:
        arms.append(
            (
                "SELECT b.id FROM governance_body b JOIN governance_bodymember bm ON bm.body_id = b.id"
                f" WHERE b.kind = 'eps' AND bm.membership_id IN {_in(seats)}{extra}",
                [*seats, *xp],
            )
        )
    sql, params = union(arms)
    return f"SELECT mt.id FROM governance_meeting mt WHERE mt.body_id IN ({sql})", params


# Actions: the coordinator reads every group of the programme; a provider the groups of their organisation's
# actions in their programmes, and those where they are named facilitator (the roster: names, never a file).


def groups(ctx: Ctx, extra="", xp=None):
    xp = xp or []
    extra = extra.replace("p.", "o.")
    arms = []
    programmes = sorted({m.programme for m in ctx.of(COORDINATOR)})
    if programmes:
        arms.append(
            (
                "SELECT g.id FROM offers_group g JOIN offers_offer o ON o.id = g.offer_id"
                f" WHERE o.programme_id IN {_in(programmes)}{extra}",
                [*programmes, *xp],
            )
        )
    providers = ctx.of(PROVIDER)
    orgs = sorted({m.organisation for m in providers if m.organisation})
    if orgs:
        own = sorted({m.programme for m in providers})
        arms.append(
            (
                "SELECT g.id FROM offers_group g JOIN offers_offer o ON o.id = g.offer_id"
                f" WHERE o.provider_id IN {_in(orgs)} AND o.programme_id IN {_in(own)}{extra}",
                [*orgs, *own, *xp],
            )
        )
    if providers:
        ids = [m.id for m in providers]
        arms.append(
            (
                "SELECT g.id FROM offers_group g JOIN offers_offer o ON o.id = g.offer_id"
                " JOIN offers_group_facilitators gf ON gf.group_id = g.id"
                f" WHERE gf.membership_id IN {_in(ids)}{extra}",
                [*ids, *xp],
            )
        )
    return union(arms) if arms else ("SELECT g.id FROM offers_group g WHERE 1 = 0", [])


def sessions(ctx: Ctx, extra="", xp=None):
    sql, params = groups(ctx, extra, xp)
    return f"SELECT s.id FROM offers_session s WHERE s.group_id IN ({sql})", params


def enrolments(ctx: Ctx, extra="", xp=None):
    sql, params = groups(ctx, extra, xp)
    return f"SELECT e.id FROM offers_enrolment e WHERE e.group_id IN ({sql})", params
