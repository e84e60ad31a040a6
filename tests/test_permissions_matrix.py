"""The access policy as a generated matrix: role × object × action × relation.

``EXPECTED`` below is the policy table of design/CONFIDENTIALITY.md, transcribed on its own — it does
not read ``maillage.permissions.POLICY``. Every case builds a user in one relation to one pathway and
checks what the code lets them reach against what the table says. A change to the code's table,
or to a scope, that disagrees with the document makes cases fail (see the flip tests at the end).
"""

import dataclasses
import datetime
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from maillage import permissions as perms
from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, BodyMember, Meeting
from maillage.pathways.enums import Circle, Dimension, PathwayState, ReviewKind
from maillage.pathways.models import (
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
from maillage.programmes.models import ListItem
from maillage.referrals.models import Referral
from tests.factories import (
    ChildFactory,
    GuardianFactory,
    MembershipFactory,
    OrganisationFactory,
    programme_with_lists,
)

pytestmark = pytest.mark.django_db

# --- the document's table ---------------------------------------------------------------------------
# P: all in programme · T: case team · TE: case team or EPS in window · R: own · X: nothing by name
# (aggregates, rosters, break-glass only). "s" after T/TE: only under the secret conditions.
EXPECTED = {
    #                  child  referral pathway team  secret partners consent
    Role.COORDINATOR: ("P", "P", "P", "P", "P", "P", "P"),
    Role.REFERENT: ("T", "P", "T", "T", "T", "T", "T"),
    Role.EPS_MEMBER: ("TEs", "X", "TE", "X", "TEs", "TE", "T"),
    Role.REFERRER: ("X", "R", "X", "X", "X", "X", "X"),
    Role.PROVIDER: ("X", "X", "X", "X", "X", "X", "X"),
    Role.STEERING: ("X", "X", "X", "X", "X", "X", "X"),
    Role.MANAGER: ("X", "X", "X", "X", "X", "X", "X"),
    Role.DPO: ("X", "X", "X", "X", "X", "X", "X"),
    Role.NETWORK: ("X", "X", "X", "X", "X", "X", "X"),
}
COLUMNS = ("child", "referral", "pathway", "item_team", "item_secret", "item_partners", "consent")

# Who may change things: pathway (plan, steps), consents (record, withdraw), written items, referral
# decisions, referral creation.
EXPECTED_WRITE = {
    "pathway": {Role.COORDINATOR: "P", Role.REFERENT: "T"},
    "consent": {Role.COORDINATOR: "P", Role.REFERENT: "T"},
    "items": {Role.COORDINATOR: "P", Role.REFERENT: "T", Role.EPS_MEMBER: "T"},
    "referral_decide": {Role.COORDINATOR: "P"},
    "referral_create": {Role.COORDINATOR: "P", Role.REFERRER: "P"},
}

RELATIONS = [
    "case_team",  # T, bound by secrecy, organisation covered by the consent
    "case_team_unbound",  # T, not bound by secrecy (a teacher)
    "eps_in_window",  # E, bound, covered
    "eps_unbound_in_window",  # E, not bound
    "eps_out_of_window",  # EPS member whose meeting's window has closed
    "same_programme",  # P, no link
    "other_programme",  # O: in the case team of a pathway of another programme
    "author",  # wrote the items and the referral, no other link
    "consent_withdrawn",  # was T; the consent was withdrawn and the pathway closed
    "charter_unsigned",  # T, but has not signed the current charter
]

OBJECTS = [
    # (object name, column of EXPECTED, scope)
    ("child", "child", lambda u: perms.children_visible_to(u)),
    ("household", "child", lambda u: perms.households_visible_to(u)),
    ("guardian", "child", lambda u: perms.guardians_visible_to(u)),
    ("referral", "referral", lambda u: perms.referrals_visible_to(u)),
    ("pathway", "pathway", lambda u: perms.pathways_visible_to(u)),
    ("objective", "pathway", lambda u: perms.plan_visible_to(u, Objective)),
    ("plan_action", "pathway", lambda u: perms.plan_visible_to(u, PlanAction)),
    ("consent", "consent", lambda u: perms.consents_visible_to(u)),
    *[
        (
            f"{model.__name__.lower()}_{circle}",
            f"item_{circle}",
            lambda u, m=model: perms.items_readable_by(u, m),
        )
        for model in (DiagnosticSection, Contact, Note, Review)
        for circle in ("team", "secret", "partners")
    ],
]


def expected_read(role: str, column: str, relation: str) -> bool:
    cell = EXPECTED[role][COLUMNS.index(column)]
    if relation in {"other_programme", "charter_unsigned"} or cell == "X":
        return False
    if column == "item_secret" and relation in {"case_team_unbound", "eps_unbound_in_window"}:
        return False  # the secret partagé is for the bound only, whatever the role
    if cell == "P":
        return True
    if cell == "R":
        return relation == "author"
    secret = cell.endswith("s")
    team = relation in {"case_team", "case_team_unbound"}
    if relation == "consent_withdrawn":
        # After a withdrawal the case team shrinks to the référent (and the coordinator).
        return role == Role.REFERENT
    eps = cell.startswith("TE") and relation in {"eps_in_window", "eps_unbound_in_window"}
    if role == Role.REFERENT and team:
        return True  # the accountable référent reads the whole file
    if not (team or eps):
        return False
    return not secret or relation in {"case_team", "eps_in_window"}


def expected_write(action: str, role: str, relation: str) -> bool:
    cell = EXPECTED_WRITE[action].get(role)
    if cell is None or relation in {"other_programme", "charter_unsigned"}:
        return False
    if cell == "P":
        return action.startswith("referral") or relation != "consent_withdrawn"
    if relation == "consent_withdrawn":
        return False  # a closed pathway is not edited
    return relation in {"case_team", "case_team_unbound"}


# --- the world ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class Case:
    user: object
    pathway: Pathway
    objects: dict


def _items(pathway, author):
    items = {}
    for circle in ("team", "secret", "partners"):
        items[f"diagnosticsection_{circle}"] = DiagnosticSection.objects.create(
            pathway=pathway,
            author=author,
            circle=circle,
            dimension=Dimension.SCHOOL,
            facts=f"SENTINEL-diag-{circle}",
        )
        items[f"contact_{circle}"] = Contact.objects.create(
            pathway=pathway,
            author=author,
            circle=circle,
            kind="phone",
            occurred_on=timezone.localdate(),
            summary=f"SENTINEL-contact-{circle}",
        )
        items[f"note_{circle}"] = Note.objects.create(
            pathway=pathway, author=author, circle=circle, body=f"SENTINEL-note-{circle}"
        )
        items[f"review_{circle}"] = Review.objects.create(
            pathway=pathway,
            author=author,
            circle=circle,
            kind=ReviewKind.INTERMEDIATE,
            held_on=timezone.localdate(),
            summary=f"SENTINEL-review-{circle}",
        )
    return items


def build_case(role: str, relation: str) -> Case:
    programme = programme_with_lists()
    shared_org = OrganisationFactory(programme=programme, kind=OrganisationKind.CD_SOCIAL)
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR).user
    target_programme = programme
    if relation == "other_programme":
        # The user works in another programme (even in a case team there); the target is here.
        programme = programme_with_lists()
        shared_org = OrganisationFactory(programme=programme, kind=OrganisationKind.CD_SOCIAL)
    bound = relation not in {"case_team_unbound", "eps_unbound_in_window"}
    membership = MembershipFactory(
        programme=programme,
        role=role,
        organisation=shared_org,
        bound_by_secrecy=bound,
        signed_charter=relation != "charter_unsigned",
    )
    user = membership.user
    target = _pathway(target_programme, coordinator, OrganisationFactory(programme=target_programme))
    own = target if relation != "other_programme" else _pathway(programme, coordinator, shared_org)
    # The family's consent covers the organisation of the user, on the pathway they are linked to.
    own.consents.get().shared_with.add(shared_org)
    if relation in {
        "case_team",
        "case_team_unbound",
        "consent_withdrawn",
        "charter_unsigned",
        "other_programme",
    }:
        if role == Role.REFERENT:
            Pathway.objects.filter(pk=own.pk).update(referent=user)
        else:
            CaseTeamMember.objects.create(
                pathway=own, membership=membership, reason="Suivi", added_by=coordinator
            )
    if relation in {"eps_in_window", "eps_unbound_in_window", "eps_out_of_window"}:
        now = timezone.now()
        body = Body.objects.create(programme=programme, kind=BodyKind.EPS, name="EPS Nord")
        BodyMember.objects.create(body=body, membership=membership)
        meeting_day = now - datetime.timedelta(days=40 if relation == "eps_out_of_window" else 2)
        meeting = Meeting.objects.create(
            body=body,
            starts_at=meeting_day,
            agenda_published_at=meeting_day - datetime.timedelta(days=7),
            access_ends_at=meeting_day + datetime.timedelta(days=30),
        )
        AgendaItem.objects.create(meeting=meeting, pathway=own)
    author = user if relation == "author" else coordinator
    objects = {
        "pathway": target,
        "child": target.child,
        "household": target.child.household,
        "guardian": target.child.household.guardians.first(),
        "consent": target.consents.get(),
        "objective": Objective.objects.create(pathway=target, dimension=Dimension.SCHOOL, wording="Lire"),
        "plan_action": PlanAction.objects.create(pathway=target, title="Aide aux devoirs"),
        "referral": Referral.objects.get(pk=target.referral_id),
        **_items(target, author),
    }
    if relation == "author":
        Referral.objects.filter(pk=target.referral_id).update(submitted_by=user)
    if relation == "consent_withdrawn":
        consent = target.consents.get()
        Consent.objects.filter(pk=consent.pk).update(withdrawn_on=timezone.localdate())
        reason = ListItem.objects.get(
            programme=target_programme, kind=ListKind.EXIT_REASON, code="retrait_consentement"
        )
        Pathway.objects.filter(pk=target.pk).update(
            state=PathwayState.CLOSED, closed_on=timezone.localdate(), exit_reason=reason
        )
    target.refresh_from_db()
    return Case(user=user, pathway=target, objects=objects)


def _pathway(programme, coordinator, organisation) -> Pathway:
    child = ChildFactory(programme=programme, first_name="Zélie", last_name="SENTINEL-Quillebœuf")
    guardian = GuardianFactory(household=child.household)
    referral = Referral.objects.create(
        programme=programme,
        submitted_by=coordinator,
        referrer_type=ListItem.objects.of_kind(ListKind.REFERRER_TYPE).filter(programme=programme).first(),
        child_first_name=child.first_name,
        child_last_name=child.last_name,
        child_birth_date=child.birth_date,
        child_sex=child.sex,
        guardian_name="Parent",
        family_informed=True,
        context="SENTINEL-referral-context",
        state="accepted",
        child=child,
    )
    pathway = Pathway.objects.create(
        programme=programme,
        child=child,
        referral=referral,
        case_code=f"{programme.case_code_prefix}-2026-{child.pk:04d}",
        state=PathwayState.ACTIVE,
        referent=coordinator,
    )
    consent = Consent.objects.create(
        pathway=pathway, guardian=guardian, given_on=timezone.localdate(), recorded_by=coordinator
    )
    consent.shared_with.add(organisation)
    return pathway


# --- the matrix ---------------------------------------------------------------------------------------

ROLES = list(EXPECTED)
WRITE_CHECKS = {
    "pathway": lambda u, p: perms.can_edit_pathway(u, p),
    "consent": lambda u, p: perms.can_manage_consents(u, p),
    "items": lambda u, p: perms.can_write_items(u, p),
    "referral_decide": lambda u, p: perms.referrals_decidable_by(u).filter(pk=p.referral_id).exists(),
    "referral_create": lambda u, p: perms.can_submit_referral(u, p.programme),
}


ITEM_SENTINELS = [
    f"SENTINEL-{kind}-{circle}" for kind in ("diag", "contact", "note", "review") for circle in Circle.values
]


def _text(response) -> str:
    if response.get("Content-Type", "").startswith("application/pdf"):
        reader = PdfReader(io.BytesIO(response.content))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    return response.content.decode()


def check_http(role: str, relation: str, case: Case) -> tuple[int, list[str]]:
    """The pages and the export, as the user: status, and no sentinel where the table says no."""
    client = Client()
    client.force_login(case.user)
    pathway = case.pathway
    read = {column: expected_read(role, column, relation) for column in COLUMNS}
    pages = [
        ("child page", reverse("people:child", args=[pathway.child_id]), read["child"]),
        ("household page", reverse("people:household", args=[pathway.child.household_id]), read["child"]),
        # Referrers follow their referrals on their own list, never on the review page.
        (
            "referral page",
            reverse("referrals:detail", args=[pathway.referral_id]),
            read["referral"] and role != Role.REFERRER,
        ),
        ("pathway page", reverse("pathways:detail", args=[pathway.pk]), read["pathway"]),
        (
            "plan summary export",
            reverse("documents:plan_summary", args=[pathway.pk]),
            read["child"] and expected_write("pathway", role, relation),
        ),
    ]
    checked, failures = 0, []
    for label, url, allowed in pages:
        response = client.get(url)
        body = _text(response)
        checked += 1
        if allowed and response.status_code != 200:
            failures.append(f"{role} {relation} {label}: status {response.status_code}, table says allowed")
        if not allowed:
            # Out of scope is a 404; an unsigned charter may show the charter instead (200, no data).
            if response.status_code not in ({404, 200} if relation == "charter_unsigned" else {404}):
                failures.append(f"{role} {relation} {label}: status {response.status_code}, table says 404")
            if "sentinel" in body.lower():
                failures.append(f"{role} {relation} {label}: a sentinel leaked in a denied response")
            continue
        checked += 1
        # Pages may print the last name in capitals: compare without case. The referral carries the
        # identity its author typed: whoever may read the referral reads that name.
        name_allowed = True if label == "referral page" else read["child"]
        if ("sentinel-quillebœuf" in body.lower()) != name_allowed:
            failures.append(f"{role} {relation} {label}: child name shown={not name_allowed}")
        if label == "pathway page":
            for sentinel in ITEM_SENTINELS:
                circle = sentinel.rsplit("-", 1)[1]
                checked += 1
                if (sentinel in body) != read[f"item_{circle}"]:
                    failures.append(f"{role} {relation} {label}: {sentinel} shown={sentinel in body}")
        if label == "plan summary export":
            checked += 1
            if any(sentinel in body for sentinel in ITEM_SENTINELS) or "SENTINEL-referral" in body:
                failures.append(f"{role} {relation} {label}: a written item leaked into the family's export")
    return checked, failures


def run_matrix(role: str, http: bool = True) -> tuple[int, list[str]]:
    """Check every object × action × relation for ``role``; return (cases checked, failures)."""
    checked, failures = 0, []
    for relation in RELATIONS:
        case = build_case(role, relation)
        if http:
            http_checked, http_failures = check_http(role, relation, case)
            checked += http_checked
            failures += http_failures
        for name, column, scope in OBJECTS:
            obj = case.objects[name]
            want = expected_read(role, column, relation)
            visible = scope(case.user)
            for action, got in (
                ("list", visible.filter(pk=obj.pk).exists()),
                ("view", visible.filter(pk=obj.pk).count() == 1),
            ):
                checked += 1
                if got != want:
                    failures.append(f"{role} {relation} {action} {name}: got {got}, table says {want}")
        for action, check in WRITE_CHECKS.items():
            checked += 1
            got, want = check(case.user, case.pathway), expected_write(action, role, relation)
            if got != want:
                failures.append(f"{role} {relation} {action}: got {got}, table says {want}")
    return checked, failures


@pytest.mark.parametrize("role", ROLES)
def test_the_code_follows_the_policy_table_for(role):
    checked, failures = run_matrix(role)
    print(f"{role}: {checked} cases checked")
    assert not failures, f"{len(failures)} of {checked} cases disagree:\n" + "\n".join(failures)


def test_the_matrix_has_more_than_two_thousand_cases():
    per_role = len(RELATIONS) * (len(OBJECTS) * 2 + len(WRITE_CHECKS))
    assert per_role * len(ROLES) >= 2000, per_role * len(ROLES)


def test_the_code_table_matches_the_document():
    letters = {
        perms.A.PROGRAMME: "P",
        perms.A.CASE_TEAM: "T",
        perms.A.CASE_TEAM_OR_EPS: "TE",
        perms.A.OWN: "R",
    }
    code = {role: tuple(letters.get(perms.access(role, kind), "X") for kind in COLUMNS) for role in ROLES}
    # The secret conditions ("s") are rules of the scopes, not cells of the code's table; and the
    # referrer's "R" on the child and the pathway means the status of what they sent, shown through
    # their referrals only, never the file itself.
    document = {role: tuple(cell.removesuffix("s") for cell in row) for role, row in EXPECTED.items()}
    document[Role.REFERRER] = ("R", "R", "R", "X", "X", "X", "X")
    assert code == document


@pytest.mark.parametrize(
    ("role", "kind", "flipped_to"),
    [
        (Role.EPS_MEMBER, perms.ITEM_TEAM, perms.A.CASE_TEAM_OR_EPS),  # teachers would read team notes
        (Role.REFERENT, perms.CHILD, perms.A.PROGRAMME),  # every référent would see every child
        (Role.COORDINATOR, perms.ITEM_SECRET, perms.A.NONE),  # the coordinator would lose secret items
    ],
)
def test_flipping_one_cell_of_the_code_table_makes_the_matrix_fail(monkeypatch, role, kind, flipped_to):
    policy = {r: dict(cells) for r, cells in perms.POLICY.items()}
    policy[role][kind] = flipped_to
    monkeypatch.setattr(perms, "POLICY", policy)
    _checked, failures = run_matrix(role, http=False)
    assert failures, "a flipped cell went unnoticed"


# --- steering pages (issue 8): aggregate roles reach no name, and their dashboards are suppressed ---------

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
    "steering:structuring",
    "steering:structuring_export",
]


@pytest.mark.parametrize("role", [Role.STEERING, Role.NETWORK])
def test_steering_and_network_users_reach_no_name_on_any_steering_page_and_see_suppressed_counts(role):
    from maillage.programmes.models import NetworkLevel

    level = NetworkLevel.objects.create(name="Niveau de test", kind="intercommunal")
    programme = programme_with_lists(network_level=level)
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    for _ in range(2):
        child = ChildFactory(programme=programme, last_name="SENTINEL-Quillebœuf")
        Pathway.objects.create(
            programme=programme, child=child, case_code=f"SENT-{child.pk}", referent=coordinator.user
        )
    client = Client()
    client.force_login(MembershipFactory(programme=programme, role=role).user)
    for name in STEERING_PAGES:
        response = client.get(reverse(name))
        if name.startswith("steering:network") or name.startswith("steering:structuring"):
            assert response.status_code == (200 if role == Role.NETWORK else 404), name
        assert response.status_code in (200, 403, 404), name
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            body = _text(response)
            assert "sentinel" not in body.lower(), name
            if name in ("steering:dashboard", "steering:network", "steering:diagnosis"):
                assert "&lt; 5" in body, f"{name} is not suppressed for {role}"
        elif response.status_code == 200 and response.get("Content-Type", "").startswith("application/pdf"):
            assert "sentinel" not in _text(response).lower(), name
    # And no nominative page of the journey opens.
    pathway = Pathway.objects.filter(programme=programme).first()
    child_page = reverse("people:child", args=[pathway.child_id])
    for url in [child_page, reverse("pathways:detail", args=[pathway.pk])]:
        assert client.get(url).status_code == 404


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
    other_pathway = _pathway(programme, coordinator, other_org)
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
