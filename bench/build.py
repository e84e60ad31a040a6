"""Builds a scale of Maillage on the (empty, migrated) scratch database, by bulk inserts.

Shape, per programme: partner organisations (schools, social services, PMI, CAF, associations, clubs),
members of every role (coordinator, référents with ~30 pathways each, EPS members bound by secrecy or
not — teachers — one refusing the secret partagé, one without the charter signed, referrers,
providers, DPO, steering, manager; a network user per level), the charter, households, guardians,
children (Faker ``fr_FR`` names), referrals, pathways in every state (some closed, some archived),
consents shared with partners (some withdrawn), case teams, contacts, notes, diagnosis, bilans and
the plan in mixed circles (team, secret, partners), EPS and committees with members, meetings whose
access window is open or closed and agenda items, decisions, actions with groups, sessions, enrolments
and attendance, break-glass grants, and the journal: entries spread over the per-programme chains and
the platform chain, sealed with the project's own ``AuditEvent.compute_hash`` and ``ChainHead.reseal``
so that ``verify_audit`` verifies them.

Time-dependent rows (the open EPS window, the current break-glass grants) are moved to "now" by
``refresh_clock`` at every run, so that a cached database stays representative.
"""

import datetime
import math
import random
import time
import unicodedata

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from bench.db import Writer, reset_sequences
from maillage.audit.models import GENESIS_HASH, PLATFORM_CHAIN, AuditEvent, ChainHead
from maillage.core import crypto
from maillage.core.text import normalise_name
from maillage.governance.models import AgendaItem, Body, BodyMember, Decision, Meeting
from maillage.offers.models import Attendance, Enrolment, Group, Offer, Session
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
    ReferentAssignment,
    Review,
)
from maillage.people.models import Child, Guardian, Household
from maillage.programmes.defaults import ensure_default_lists
from maillage.programmes.models import (
    CharterSignature,
    CharterVersion,
    ListItem,
    Membership,
    NetworkLevel,
    Organisation,
    Programme,
)
from maillage.referrals.models import Referral
from maillage.territories.models import Commune, School

SCALES = {
    "smoke": {"programmes": 3, "children": 900, "big": 500, "journal": 5_000},  # checking the harness
    # programmes, children (one pathway each), contacts and notes per pathway, journal entries
    "department": {"programmes": 20, "children": 20_000, "big": 2_000, "journal": 100_000},
    "national": {"programmes": 525, "children": 100_000, "big": 2_000, "journal": 1_000_000},
}
CONTACTS_PER_PATHWAY = 8
NOTES_PER_PATHWAY = 3
CASELOAD = 30  # pathways per référent

ORGANISATIONS = [
    ("school", "École élémentaire {}"),
    ("school", "École élémentaire {}"),
    ("school", "Collège {}"),
    ("school", "École maternelle {}"),
    ("cd_social", "Maison départementale des solidarités {}"),
    ("pmi", "PMI {}"),
    ("caf", "CAF, antenne {}"),
    ("ccas", "CCAS de {}"),
    ("association", "Association {} Solidarité"),
    ("association", "Centre social {}"),
    ("association", "Les Ateliers {}"),
    ("club", "Club sportif {}"),
]
CIRCLES = ["team"] * 5 + ["secret"] * 3 + ["partners"] * 2
DIMENSIONS = ["school", "physical_health", "psychological", "family", "social", "cultural"]
HEALTH = {"physical_health", "psychological"}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


class Builder:
    def __init__(self, scale: str, seed: int = 12):
        self.scale = scale
        self.spec = SCALES[scale]
        self.rng = random.Random(seed)
        self.fake = Faker("fr_FR")
        self.fake.seed_instance(seed)
        self.w = Writer()
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.first_names_f = [self.fake.first_name_female() for _ in range(600)]
        self.first_names_m = [self.fake.first_name_male() for _ in range(600)]
        self.last_names = [self.fake.last_name() for _ in range(3000)]
        self.cities = [self.fake.city() for _ in range(800)]
        self.texts = [crypto.encrypt(self.fake.paragraph(nb_sentences=3)) for _ in range(200)]
        self.fixtures: dict = {}

    # --- helpers -------------------------------------------------------------------------------

    def text(self) -> str:
        return self.rng.choice(self.texts)

    def days_ago(self, lo: int, hi: int) -> datetime.date:
        return self.today - datetime.timedelta(days=self.rng.randint(lo, hi))

    def moment_ago(self, lo_days: int, hi_days: int) -> datetime.datetime:
        return self.now - datetime.timedelta(seconds=self.rng.randint(lo_days * 86400, hi_days * 86400))

    def sizes(self) -> list[int]:
        n, total, big = self.spec["programmes"], self.spec["children"], self.spec["big"]
        weights = [self.rng.lognormvariate(0, 0.8) for _ in range(n - 1)]
        rest = total - big
        sizes = [max(20, int(rest * w / sum(weights))) for w in weights]
        sizes[-1] += rest - sum(sizes)
        return [big, *sizes]

    # --- the build -----------------------------------------------------------------------------

    def run(self, log=print) -> dict:
        started = time.perf_counter()
        with transaction.atomic():
            self.territories()
            self.network()
            sizes = self.sizes()
            for index, size in enumerate(sizes):
                self.programme(index, size)
                if index % 25 == 0:
                    log(f"  programme {index + 1}/{len(sizes)} ({size} children), {self._elapsed(started)}")
            log(f"  programmes built, {self._elapsed(started)}; journal…")
            self.journal()
            self.logins()
            reset_sequences(apps.get_models())
        log(f"  journal sealed, {self._elapsed(started)}")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.fixtures["counts"] = dict(sorted(self.w.counts.items()))
        return self.fixtures

    @staticmethod
    def _elapsed(started: float) -> str:
        return f"{time.perf_counter() - started:.0f} s"

    def territories(self):
        communes = [
            {"id": i, "insee_code": f"{90000 + i:05d}", "name": self.cities[i % len(self.cities)]}
            for i in self.w.ids(Commune, 300)
        ]
        self.w.insert(Commune, communes)
        self.communes = [c["id"] for c in communes]
        schools = []
        for i in self.w.ids(School, 3000):
            name = f"École {self.rng.choice(self.last_names)} {i}"
            schools.append(
                {
                    "id": i,
                    "uai": f"{8000000 + i:07d}B",
                    "name": name,
                    "name_normalised": normalise_name(name),
                    "kind": self.rng.choice(["elementaire", "maternelle", "college"]),
                    "priority_education": self.rng.choice(["", "", "REP", "REP+"]),
                    "commune_id": self.rng.choice(self.communes),
                }
            )
        self.w.insert(School, schools)
        self.schools = [s["id"] for s in schools]

    def network(self):
        national = self.w.ids(NetworkLevel, 1)[0]
        levels = [{"id": national, "name": "Réseau national", "kind": "national"}]
        count = max(1, self.spec["programmes"] // 50)
        self.departments = list(self.w.ids(NetworkLevel, count))
        for i in self.departments:
            levels.append({"id": i, "name": f"Département {i}", "kind": "departement", "parent_id": national})
        self.w.insert(NetworkLevel, levels)

    def user(self, users: list, first: str, last: str) -> int:
        uid = self.w.ids(apps.get_model("accounts", "User"), 1)[0]
        users.append(
            {
                "id": uid,
                "email": f"{_ascii(first)}.{_ascii(last)}.{uid}@bench.test",
                "first_name": first,
                "last_name": last,
                "password": "!bench-unusable",
                "is_active": True,
                "date_joined": self.now - datetime.timedelta(days=500),
            }
        )
        return uid

    def programme(self, index: int, size: int):  # noqa: C901 -- one programme, in order
        rng, w = self.rng, self.w
        User = apps.get_model("accounts", "User")
        pid = w.ids(Programme, 1)[0]
        city = self.cities[index % len(self.cities)]
        level = self.departments[index % len(self.departments)]
        w.insert(
            Programme,
            [
                {
                    "id": pid,
                    "slug": f"bench-{pid}",
                    "name": f"PRE de {city} ({pid})",
                    "case_code_prefix": f"B{pid}",
                    "lead_body_type": rng.choice(["ccas", "caisse_des_ecoles", "gip", "commune"]),
                    "network_level_id": level,
                }
            ],
        )
        programme = Programme.objects.get(pk=pid)
        ensure_default_lists(programme)
        lists = {}
        for item_id, kind in ListItem.objects.filter(programme=programme).values_list("id", "kind"):
            lists.setdefault(kind, []).append(item_id)
        through = Programme.schools.through
        w.insert(
            through,
            [
                {"id": i, "programme_id": pid, "school_id": s}
                for i, s in zip(w.ids(through, 12), rng.sample(self.schools, 12), strict=True)
            ],
        )

        # Partners.
        orgs = []
        for i, (kind, pattern) in zip(w.ids(Organisation, len(ORGANISATIONS)), ORGANISATIONS, strict=True):
            name = pattern.format(rng.choice(self.last_names)) + f" ({i})"
            orgs.append(
                {
                    "id": i,
                    "programme_id": pid,
                    "name": name,
                    "name_normalised": normalise_name(name),
                    "kind": kind,
                    "school_id": rng.choice(self.schools) if kind == "school" else None,
                }
            )
        w.insert(Organisation, orgs)
        by_kind: dict[str, list[int]] = {}
        for o in orgs:
            by_kind.setdefault(o["kind"], []).append(o["id"])

        # Members of every role.
        users, members = [], []
        open_estimate = int(size * 0.88)
        n_referents = max(2, math.ceil(open_estimate / CASELOAD))
        starts = self.today - datetime.timedelta(days=400)

        def member(role, org, *, bound=False, refuses=False, job=""):
            sex = rng.random() < 0.6
            first = rng.choice(self.first_names_f if sex else self.first_names_m)
            uid = self.user(users, first, rng.choice(self.last_names))
            mid = w.ids(Membership, 1)[0]
            members.append(
                {
                    "id": mid,
                    "user_id": uid,
                    "programme_id": pid,
                    "organisation_id": org,
                    "role": role,
                    "job_title": job,
                    "bound_by_secrecy": bound,
                    "refuses_shared_secret": refuses,
                    "starts_on": starts,
                }
            )
            return {"id": mid, "user": uid, "org": org, "role": role, "bound": bound, "refuses": refuses}

        coordinator = member("coordinator", by_kind["ccas"][0], bound=True, job="Coordinatrice")
        referent_orgs = by_kind["cd_social"] + by_kind["ccas"] + by_kind["association"][:2]
        referents = [
            member("referent", rng.choice(referent_orgs), bound=True, job="Référente de parcours")
            for _ in range(n_referents)
        ]
        eps = []
        for j in range(10):
            if j < 4:
                org, bound = by_kind["school"][j % len(by_kind["school"])], False  # teachers
            else:
                org, bound = rng.choice(by_kind["cd_social"] + by_kind["pmi"] + by_kind["caf"]), True
            eps.append(member("eps_member", org, bound=bound, refuses=(j == 9), job="Membre de l'EPS"))
        referrers = [member("referrer", rng.choice(by_kind["school"] + by_kind["caf"])) for _ in range(6)]
        providers = [
            member("provider", rng.choice(by_kind["association"] + by_kind["club"])) for _ in range(3)
        ]
        dpo = member("dpo", by_kind["ccas"][0], bound=True)
        member("steering", None)
        member("manager", by_kind["ccas"][0])
        network = member("network", None) if index < len(self.departments) else None
        w.insert(User, users)
        w.insert(Membership, members)

        # The charter, signed by everyone but one EPS member.
        version = w.ids(CharterVersion, 1)[0]
        w.insert(
            CharterVersion,
            [
                {
                    "id": version,
                    "programme_id": pid,
                    "number": 1,
                    "title": "Charte de confidentialité",
                    "body": "Texte de la charte.",
                    "published_at": self.now - datetime.timedelta(days=420),
                    "published_by_id": coordinator["user"],
                }
            ],
        )
        unsigned = eps[8]["id"]
        signed = [m["id"] for m in members if m["id"] != unsigned]
        w.insert(
            CharterSignature,
            [
                {"id": i, "version_id": version, "membership_id": m}
                for i, m in zip(w.ids(CharterSignature, len(signed)), signed, strict=True)
            ],
        )

        # Households, guardians, children, referrals, pathways.
        households, guardians, children, referrals, pathways, assignments = [], [], [], [], [], []
        household_guardians: dict[int, list[int]] = {}
        child_ids = list(w.ids(Child, size))
        pathway_ids = list(w.ids(Pathway, size))
        referral_ids = list(w.ids(Referral, size + size // 10))
        household = None
        for k, cid in enumerate(child_ids):
            if household is None or rng.random() < 0.75:
                household = w.ids(Household, 1)[0]
                last = rng.choice(self.last_names)
                households.append(
                    {
                        "id": household,
                        "programme_id": pid,
                        "name": f"Famille {last}",
                        "address": f"{rng.randint(1, 120)} rue {rng.choice(self.last_names)}",
                        "postcode": f"{rng.randint(10, 95):02d}{rng.randint(0, 999):03d}",
                        "commune_id": rng.choice(self.communes),
                    }
                )
                gids = list(w.ids(Guardian, 2 if rng.random() < 0.6 else 1))
                for n, gid in enumerate(gids):
                    first = rng.choice(self.first_names_f if n == 0 else self.first_names_m)
                    guardians.append(
                        {
                            "id": gid,
                            "household_id": household,
                            "first_name": first,
                            "last_name": last,
                            "first_name_normalised": normalise_name(first),
                            "last_name_normalised": normalise_name(last),
                            "relation": "mother" if n == 0 else "father",
                            "has_parental_authority": True,
                        }
                    )
                household_guardians[household] = gids
            girl = rng.random() < 0.5
            first = rng.choice(self.first_names_f if girl else self.first_names_m)
            birth = self.today - datetime.timedelta(days=rng.randint(3 * 365, 15 * 365))
            children.append(
                {
                    "id": cid,
                    "programme_id": pid,
                    "household_id": household,
                    "first_name": first,
                    "last_name": last,
                    "first_name_normalised": normalise_name(first),
                    "last_name_normalised": normalise_name(last),
                    "birth_date": birth,
                    "sex": "F" if girl else "M",
                    "school_id": rng.choice(self.schools),
                    "school_level": rng.choice(["CP", "CE1", "CE2", "CM1", "CM2", "6e", "5e"]),
                    "commune_id": rng.choice(self.communes),
                    "in_priority_area": rng.random() < 0.8,
                }
            )
            submitted = self.moment_ago(30, 700)
            referrals.append(
                {
                    "id": referral_ids[k],
                    "programme_id": pid,
                    "submitted_by_id": rng.choice(referrers)["user"],
                    "submitted_at": submitted,
                    "referrer_type_id": rng.choice(lists["referrer_type"]),
                    "child_id": cid,
                    "child_first_name": first,
                    "child_last_name": last,
                    "child_first_name_normalised": normalise_name(first),
                    "child_last_name_normalised": normalise_name(last),
                    "child_birth_date": birth,
                    "child_sex": "F" if girl else "M",
                    "guardian_name": f"Mme {last}",
                    "family_informed": True,
                    "state": "accepted",
                    "state_changed_at": submitted,
                    "context": self.text(),
                }
            )
            roll = rng.random()
            opened = submitted.date() + datetime.timedelta(days=7)
            row = {
                "id": pathway_ids[k],
                "programme_id": pid,
                "child_id": cid,
                "referral_id": referral_ids[k],
                "case_code": f"B{pid}-{opened.year}-{k + 1:05d}",
                "opened_on": opened,
                "referent_id": referents[k % n_referents]["user"],
                "state_changed_at": submitted,
                "next_review_on": self.today + datetime.timedelta(days=rng.randint(-20, 80)),
                "last_contact_on": self.days_ago(0, 60),
            }
            if roll < 0.04:  # closed long ago, in the intermediate archive
                row |= {
                    "state": "closed",
                    "closed_on": opened + datetime.timedelta(days=20),
                    "exit_reason_id": rng.choice(lists["exit_reason"]),
                    "archived_at": self.now - datetime.timedelta(days=30),
                }
            elif roll < 0.12:
                row |= {
                    "state": "closed",
                    "closed_on": opened + datetime.timedelta(days=20),
                    "exit_reason_id": rng.choice(lists["exit_reason"]),
                }
            else:
                row["state"] = rng.choice(
                    ["engagement", "diagnostic", "eps_review", "active", "active", "active"]
                )
            pathways.append(row)
            assignments.append(
                {
                    "id": w.ids(ReferentAssignment, 1)[0],
                    "pathway_id": row["id"],
                    "referent_id": row["referent_id"],
                    "assigned_by_id": coordinator["user"],
                    "starts_at": submitted,
                }
            )
        for j, rid in enumerate(referral_ids[size:]):  # referrals still under review
            first, last = rng.choice(self.first_names_f), rng.choice(self.last_names)
            referrals.append(
                {
                    "id": rid,
                    "programme_id": pid,
                    "submitted_by_id": referrers[j % 6]["user"],
                    "referrer_type_id": rng.choice(lists["referrer_type"]),
                    "child_first_name": first,
                    "child_last_name": last,
                    "child_first_name_normalised": normalise_name(first),
                    "child_last_name_normalised": normalise_name(last),
                    "child_birth_date": self.today - datetime.timedelta(days=3000),
                    "child_sex": "F",
                    "guardian_name": f"Mme {last}",
                    "family_informed": True,
                    "state": rng.choice(["submitted", "under_review"]),
                    "context": self.text(),
                }
            )
        w.insert(Household, households)
        w.insert(Guardian, guardians)
        w.insert(Child, children)
        w.insert(Referral, referrals)
        w.insert(Pathway, pathways)
        w.insert(ReferentAssignment, assignments)

        # Consents (one holder of parental authority per pathway, shared with some partners).
        consents, shares = [], []
        eps_orgs = [m["org"] for m in eps if m["bound"]]
        consent_ids = w.ids(Consent, size)
        share_through = Consent.shared_with.through
        household_of = {c["id"]: c["household_id"] for c in children}
        share_pool = sorted(set(eps_orgs + by_kind["school"][:2]))
        for p, consent_id in zip(pathways, consent_ids, strict=True):
            gid = household_guardians[household_of[p["child_id"]]][0]
            consents.append(
                {
                    "id": consent_id,
                    "pathway_id": p["id"],
                    "guardian_id": gid,
                    "given_on": p["opened_on"],
                    "recorded_by_id": p["referent_id"],
                    "care": True,
                    "withdrawn_on": p["opened_on"] + datetime.timedelta(days=30)
                    if rng.random() < 0.03
                    else None,
                    "withdrawn_by_id": None,
                }
            )
            if consents[-1]["withdrawn_on"]:
                consents[-1]["withdrawn_by_id"] = p["referent_id"]
            for org in rng.sample(share_pool, min(3, len(share_pool))):
                shares.append({"consent_id": consent_id, "organisation_id": org})
        for s, i in zip(shares, w.ids(share_through, len(shares)), strict=True):
            s["id"] = i
        w.insert(Consent, consents)
        w.insert(share_through, shares)

        # Case teams: a quarter of the open pathways add an EPS member or another référent.
        open_pathways = [p for p in pathways if p["state"] != "closed"]
        team = []
        for p in rng.sample(open_pathways, len(open_pathways) // 4):
            who = rng.choice(eps[4:8] + referents)
            team.append(
                {
                    "id": w.ids(CaseTeamMember, 1)[0],
                    "pathway_id": p["id"],
                    "membership_id": who["id"],
                    "starts_on": p["opened_on"],
                    "reason": "Suivi partagé",
                    "added_by_id": p["referent_id"],
                    "ends_on": self.today - datetime.timedelta(days=5) if rng.random() < 0.1 else None,
                }
            )
        w.insert(CaseTeamMember, team)
        team_by_pathway: dict[int, list[int]] = {}
        user_of = {m["id"]: m["user"] for m in [*eps, *referents]}
        for t in team:
            team_by_pathway.setdefault(t["pathway_id"], []).append(user_of[t["membership_id"]])

        # Written items and the plan.
        contacts, notes, sections, reviews, objectives, actions = [], [], [], [], [], []
        for p in pathways:
            authors = [p["referent_id"]] * 6 + team_by_pathway.get(p["id"], []) + [coordinator["user"]]
            for _ in range(CONTACTS_PER_PATHWAY):
                contacts.append(
                    {
                        "pathway_id": p["id"],
                        "author_id": rng.choice(authors),
                        "circle": rng.choice(CIRCLES),
                        "kind": rng.choice(
                            ["home_visit", "phone", "school_meeting", "office_meeting", "partner"]
                        ),
                        "occurred_on": self.days_ago(0, 400),
                        "duration_minutes": rng.choice([15, 30, 60]),
                        "summary": self.text(),
                        "missed": rng.random() < 0.05,
                    }
                )
            for _ in range(NOTES_PER_PATHWAY):
                circle = rng.choice(CIRCLES)
                notes.append(
                    {
                        "pathway_id": p["id"],
                        "author_id": rng.choice(authors),
                        "circle": circle,
                        "body": self.text(),
                        "health_related": circle != "partners" and rng.random() < 0.2,
                    }
                )
            for dim in rng.sample(DIMENSIONS, 2):
                circle = rng.choice(["team", "secret"] if dim in HEALTH else CIRCLES)
                sections.append(
                    {
                        "pathway_id": p["id"],
                        "author_id": p["referent_id"],
                        "circle": circle,
                        "dimension": dim,
                        "difficulties": self.text(),
                        "resources": self.text(),
                        "written_on": self.days_ago(0, 300),
                    }
                )
                objectives.append(
                    {
                        "pathway_id": p["id"],
                        "dimension": dim,
                        "wording": "Objectif " + dim,
                        "author_id": p["referent_id"],
                        "circle": circle,
                        "status": rng.choice(["open", "open", "achieved"]),
                    }
                )
            if rng.random() < 0.4:
                reviews.append(
                    {
                        "pathway_id": p["id"],
                        "author_id": p["referent_id"],
                        "circle": rng.choice(CIRCLES),
                        "kind": "intermediate",
                        "held_on": self.days_ago(0, 200),
                        "summary": self.text(),
                    }
                )
        for rows, model in [
            (contacts, Contact),
            (notes, Note),
            (sections, DiagnosticSection),
            (reviews, Review),
            (objectives, Objective),
        ]:
            for row, i in zip(rows, w.ids(model, len(rows)), strict=True):
                row["id"] = i
            w.insert(model, rows)
        for o in objectives:
            actions.append(
                {
                    "id": w.ids(PlanAction, 1)[0],
                    "pathway_id": o["pathway_id"],
                    "objective_id": o["id"],
                    "kind": "individual",
                    "title": "Soutien " + o["dimension"],
                    "author_id": o["author_id"],
                    "circle": o["circle"],
                    "health_related": o["dimension"] in HEALTH,
                    "provider_id": rng.choice(by_kind["association"]),
                }
            )
        w.insert(PlanAction, actions)

        # Bodies: a steering committee and two EPS; the first EPS has a meeting in its access window.
        bodies = [
            {"id": i, "programme_id": pid, "kind": kind, "name": name}
            for i, (kind, name) in zip(
                w.ids(Body, 3),
                [("steering", "Comité de pilotage"), ("eps", "EPS Nord"), ("eps", "EPS Sud")],
                strict=True,
            )
        ]
        w.insert(Body, bodies)
        body_members = []
        seats = {
            bodies[0]["id"]: [coordinator, dpo],
            bodies[1]["id"]: [coordinator, *eps[:5], *referents[:2]],
            bodies[2]["id"]: [coordinator, *eps[5:], *referents[2:4]],
        }
        for body, seated in seats.items():
            for m in seated:
                body_members.append(
                    {"id": w.ids(BodyMember, 1)[0], "body_id": body, "membership_id": m["id"]}
                )
        w.insert(BodyMember, body_members)
        meetings, items, decisions = [], [], []
        eligible = [p for p in open_pathways if p["state"] in {"eps_review", "active", "diagnostic"}]
        open_meeting = None
        for b, body in enumerate(bodies):
            for month in range(10, -1, -1):
                mid = w.ids(Meeting, 1)[0]
                starts = self.now - datetime.timedelta(days=30 * month - 2)
                row = {"id": mid, "body_id": body["id"], "starts_at": starts, "place": "Salle du conseil"}
                if body["kind"] == "eps" and month > 0:
                    published = starts - datetime.timedelta(days=10)
                    row |= {
                        "agenda_published_at": published,
                        "access_ends_at": published + datetime.timedelta(days=30),
                    }
                if body["kind"] == "eps" and month > 1:
                    row["access_ends_at"] = starts + datetime.timedelta(days=3)  # closed windows
                if b == 1 and month == 1:
                    open_meeting = mid  # refresh_clock keeps its window open
                meetings.append(row)
                if body["kind"] == "eps":
                    for pos, p in enumerate(rng.sample(eligible, min(6, len(eligible)))):
                        iid = w.ids(AgendaItem, 1)[0]
                        items.append(
                            {
                                "id": iid,
                                "meeting_id": mid,
                                "pathway_id": p["id"],
                                "position": pos,
                                "title": "",
                            }
                        )
                        if month > 1:
                            decisions.append(
                                {
                                    "id": w.ids(Decision, 1)[0],
                                    "agenda_item_id": iid,
                                    "text": "Orientation vers un soutien scolaire.",
                                    "decided_by_id": coordinator["user"],
                                    "circle": rng.choice(CIRCLES),
                                }
                            )
        w.insert(Meeting, meetings)
        w.insert(AgendaItem, items)
        w.insert(Decision, decisions)

        # Actions, groups, sessions, enrolments, attendance.
        offers, groups, facilitators, sessions, enrolments, attendance = [], [], [], [], [], []
        fac_through = Group.facilitators.through
        enrollable = children
        for o in range(4):
            oid = w.ids(Offer, 1)[0]
            provider = providers[o % len(providers)]
            offers.append(
                {
                    "id": oid,
                    "programme_id": pid,
                    "title": f"Atelier {['lecture', 'théâtre', 'sport', 'sciences'][o]}",
                    "kind": "collective",
                    "provider_id": provider["org"],
                    "capacity": 12,
                    "dimensions": ["school"],
                }
            )
            for g in range(2):
                gid = w.ids(Group, 1)[0]
                groups.append(
                    {
                        "id": gid,
                        "offer_id": oid,
                        "name": f"Groupe {g + 1}",
                        "starts_on": self.today - datetime.timedelta(days=60),
                        "ends_on": self.today + datetime.timedelta(days=120),
                    }
                )
                facilitators.append(
                    {"id": w.ids(fac_through, 1)[0], "group_id": gid, "membership_id": provider["id"]}
                )
                roster = []
                for c in rng.sample(enrollable, min(8, len(enrollable))):
                    eid = w.ids(Enrolment, 1)[0]
                    roster.append(eid)
                    enrolments.append(
                        {
                            "id": eid,
                            "group_id": gid,
                            "child_id": c["id"],
                            "status": "enrolled",
                            "enrolled_on": self.today - datetime.timedelta(days=60),
                        }
                    )
                for s in range(12):
                    sid = w.ids(Session, 1)[0]
                    starts = self.now + datetime.timedelta(days=7 * (s - 8))
                    sessions.append(
                        {
                            "id": sid,
                            "group_id": gid,
                            "starts_at": starts,
                            "ends_at": starts + datetime.timedelta(hours=2),
                        }
                    )
                    if s < 8:
                        for eid in roster:
                            attendance.append(
                                {
                                    "id": w.ids(Attendance, 1)[0],
                                    "session_id": sid,
                                    "enrolment_id": eid,
                                    "status": rng.choice(["present"] * 8 + ["excused", "unexcused"]),
                                    "recorded_by_id": provider["user"],
                                }
                            )
        w.insert(Offer, offers)
        w.insert(Group, groups)
        w.insert(fac_through, facilitators)
        w.insert(Session, sessions)
        w.insert(Enrolment, enrolments)
        w.insert(Attendance, attendance)

        # Break-glass: the DPO's current grant and expired ones; the coordinator's on an archived pathway.
        archived = [p for p in pathways if p.get("archived_at")]
        grants = []
        for n, p in enumerate(rng.sample(pathways, 4)):
            grants.append(
                {
                    "id": w.ids(BreakGlass, 1)[0],
                    "pathway_id": p["id"],
                    "user_id": dpo["user"],
                    "membership_id": dpo["id"],
                    "reason": "Demande d'accès d'une famille",
                    "expires_at": self.now + datetime.timedelta(hours=1)
                    if n == 0
                    else self.now - datetime.timedelta(days=n),
                }
            )
        if archived:
            grants.append(
                {
                    "id": w.ids(BreakGlass, 1)[0],
                    "pathway_id": archived[0]["id"],
                    "user_id": coordinator["user"],
                    "membership_id": coordinator["id"],
                    "reason": "Recours de la famille",
                    "expires_at": self.now + datetime.timedelta(hours=1),
                }
            )
        w.insert(BreakGlass, grants)

        self.chains = getattr(self, "chains", [])
        self.chains.append((pid, size, [coordinator, *referents, *eps[:4]], pathways))
        if index == 0:
            referent = referents[0]
            self.fixtures.update(
                programme=pid,
                coordinator=coordinator["user"],
                referent=referent["user"],
                eps_in=eps[4]["user"],  # bound by secrecy, sits in EPS Nord (window open)
                eps_out=eps[6]["user"],  # bound by secrecy, sits in EPS Sud (every window closed)
                eps_teacher=eps[0]["user"],  # not bound by secrecy, EPS Nord
                dpo=dpo["user"],
                referrer=referrers[0]["user"],
                provider=providers[0]["user"],
                open_meeting=open_meeting,
                grants=[g["id"] for g in grants if g["expires_at"] > self.now],
                referent_pathway=next(
                    p["id"]
                    for p in pathways
                    if p["referent_id"] == referent["user"] and p["state"] != "closed"
                ),
                session=sessions[7]["id"],
                loaders=[r["user"] for r in referents[:50]],
                misspelt=_misspell(children[10]["last_name"]),
            )
        if network is not None and "network" not in self.fixtures:
            self.fixtures["network"] = network["user"]
        self.fixtures.setdefault("all_grants", []).extend(
            g["id"] for g in grants if g["expires_at"] > self.now
        )

    def journal(self):
        """Entries over the chains (each programme's size, plus 5 % on the platform chain), in id order."""
        total = self.spec["journal"]
        weights = [size for _pid, size, _who, _p in self.chains]
        platform = total // 20
        chains = [pid for pid, *_ in self.chains]
        picks = self.rng.choices(range(len(chains)), weights=weights, k=total - platform)
        picks += [-1] * platform
        self.rng.shuffle(picks)
        heads = {PLATFORM_CHAIN: [0, GENESIS_HASH, None]}
        for pid in chains:
            heads[pid] = [0, GENESIS_HASH, None]
        # The migrations may have opened the platform chain already: continue it.
        for head in ChainHead.objects.all():
            heads[head.chain] = [head.count, head.last_hash, head.last_event_id]
        ChainHead.objects.all().delete()
        ids = self.w.ids(AuditEvent, total)
        start = self.now - datetime.timedelta(days=360)
        step = datetime.timedelta(days=359) / total
        rows = []
        verbs = [
            "pathway.viewed",
            "pathway.viewed",
            "pathway.listed",
            "child.viewed",
            "note.created",
            "contact.created",
            "consent.recorded",
        ]
        for n, (eid, pick) in enumerate(zip(ids, picks, strict=True)):
            at = start + step * n
            if pick < 0:
                event = AuditEvent(
                    id=eid,
                    occurred_at=at,
                    actor_label="",
                    verb="account.login",
                    target_type="accounts.user",
                    target_id=str(self.rng.randint(1, 1000)),
                    payload={},
                    request_id=f"r{eid}",
                    ip_address="127.0.0.1",
                    chain=PLATFORM_CHAIN,
                )
            else:
                pid, _size, who, pathways = self.chains[pick]
                actor = self.rng.choice(who)
                p = self.rng.choice(pathways)
                event = AuditEvent(
                    id=eid,
                    occurred_at=at,
                    actor_id=actor["user"],
                    actor_label=f"u{actor['user']}@bench.test",
                    membership_id=actor["id"],
                    role=actor["role"],
                    programme_id=pid,
                    verb=self.rng.choice(verbs),
                    target_type="pathways.pathway",
                    target_id=str(p["id"]),
                    payload={"circles": ["team"]},
                    request_id=f"r{eid}",
                    ip_address="127.0.0.1",
                    chain=pid,
                )
            head = heads[event.chain]
            head[0] += 1
            event.sequence = head[0]
            event.previous_hash = head[1]
            event.hash = head[1] = event.compute_hash()  # the project's own sealing
            head[2] = eid
            rows.append({f.attname: getattr(event, f.attname) for f in AuditEvent._meta.concrete_fields})
            if len(rows) == 50_000:
                self.w.insert(AuditEvent, rows)
                rows = []
        self.w.insert(AuditEvent, rows)
        head_rows = []
        for chain, (count, last_hash, last_id) in heads.items():
            head = ChainHead(
                chain=chain,
                count=count,
                last_hash=last_hash,
                last_event_id=last_id,
                chains=len(chains) if chain == PLATFORM_CHAIN else 0,
            )
            head.reseal()
            head_rows.append({f.attname: getattr(head, f.attname) for f in ChainHead._meta.concrete_fields})
        self.w.insert(ChainHead, head_rows)

    def logins(self):
        """A second factor (TOTP) for the accounts the harness logs in with, as the login enforces."""
        from allauth.mfa.totp.internal.auth import TOTP

        User = apps.get_model("accounts", "User")
        wanted = {
            v
            for k, v in self.fixtures.items()
            if k
            in {
                "coordinator",
                "referent",
                "eps_in",
                "eps_out",
                "eps_teacher",
                "dpo",
                "referrer",
                "provider",
                "network",
            }
        }
        wanted |= set(self.fixtures["loaders"])
        for user in User.objects.filter(pk__in=wanted):
            TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")


def _misspell(name: str) -> str:
    """Two letters swapped and the accents dropped: « Lefèvre » → « Lefvere »."""
    plain = normalise_name(name)
    if len(plain) < 4:
        return plain + "e"
    i = len(plain) // 2
    return plain[: i - 1] + plain[i] + plain[i - 1] + plain[i + 1 :]


def refresh_clock(fixtures: dict) -> None:
    """Keep the time-dependent rows of a cached database current: the open EPS window, the grants."""
    now = timezone.now()
    Meeting.objects.filter(pk=fixtures["open_meeting"]).update(
        starts_at=now + datetime.timedelta(days=2),
        agenda_published_at=now - datetime.timedelta(days=3),
        access_ends_at=now + datetime.timedelta(days=27),
    )
    BreakGlass.objects.filter(pk__in=fixtures["all_grants"]).update(
        expires_at=now + datetime.timedelta(hours=2)
    )
