"""Performance harness (not part of the test run): hot paths against hand-written SQL, as a ratio.

    make bench                       # 5,000 pathways on a scratch SQLite database under var/
    BENCH_PATHWAYS=50000 make bench  # a bigger programme
    DATABASE_URL=postgres://… make bench

Each hot path is timed (best of 5) next to the plain SQL that returns the same rows; the ratio is what
the policy layer costs. The scale is built with bulk inserts, journal entries excluded.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MAILLAGE_ENV", "test")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from maillage import permissions as perms  # noqa: E402
from maillage.pathways.models import Consent, Note, Pathway  # noqa: E402
from maillage.people.models import Child, Guardian, Household  # noqa: E402
from tests.factories import MembershipFactory, programme_with_lists  # noqa: E402

SCALE = int(os.environ.get("BENCH_PATHWAYS", "5000"))


def best_of(fn, runs: int = 5) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return min(timings)


def raw(sql: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def build():
    call_command("migrate", verbosity=0)
    programme = programme_with_lists(slug=f"bench-{int(time.time())}")
    coordinator = MembershipFactory(programme=programme, role="coordinator").user
    referents = [
        MembershipFactory(programme=programme, role="referent").user for _ in range(max(1, SCALE // 100))
    ]
    today = timezone.localdate()
    households = Household.objects.bulk_create(
        [Household(programme=programme, name=f"Foyer {i}") for i in range(SCALE)]
    )
    guardians = Guardian.objects.bulk_create(
        [
            Guardian(household=h, first_name="Prénom", last_name=f"Nom{i}", relation="mother")
            for i, h in enumerate(households)
        ]
    )
    children = Child.objects.bulk_create(
        [
            Child(
                programme=programme,
                household=h,
                first_name="Enfant",
                last_name=f"Nom{i}",
                birth_date=today.replace(year=today.year - 9),
                sex="F",
            )
            for i, h in enumerate(households)
        ]
    )
    pathways = Pathway.objects.bulk_create(
        [
            Pathway(
                programme=programme,
                child=c,
                case_code=f"B{programme.pk}-{i:07d}",
                state="active",
                referent=referents[i % len(referents)],
            )
            for i, c in enumerate(children)
        ]
    )
    Consent.objects.bulk_create(
        [
            Consent(pathway=p, guardian=g, given_on=today, recorded_by=coordinator)
            for p, g in zip(pathways, guardians, strict=True)
        ]
    )
    Note.objects.bulk_create(
        [
            Note(pathway=p, author=coordinator, body="Note", circle=("team", "secret", "partners")[i % 3])
            for i, p in enumerate(pathways)
        ]
    )
    return programme, coordinator, referents[0]


def main():
    started = time.perf_counter()
    programme, coordinator, referent = build()
    print(f"Built {SCALE} pathways in {time.perf_counter() - started:.1f} s on {connection.vendor}.")
    cases = [
        (
            "référent's caseload (pathways_visible_to)",
            lambda: list(
                perms.pathways_visible_to(referent).filter(referent=referent).values_list("pk", flat=True)
            ),
            lambda: raw(
                "SELECT id FROM pathways_pathway WHERE referent_id = %s AND archived_at IS NULL",
                [referent.pk],
            ),
        ),
        (
            "coordinator's programme list (pathways_visible_to)",
            lambda: list(
                perms.pathways_visible_to(coordinator)
                .filter(programme=programme)
                .values_list("pk", flat=True)
            ),
            lambda: raw(
                "SELECT id FROM pathways_pathway WHERE programme_id = %s AND archived_at IS NULL",
                [programme.pk],
            ),
        ),
        (
            "coordinator's readable notes (items_readable_by)",
            lambda: list(perms.items_readable_by(coordinator, Note).values_list("pk", flat=True)),
            lambda: raw(
                "SELECT n.id FROM pathways_note n JOIN pathways_pathway p ON p.id = n.pathway_id "
                "WHERE p.programme_id = %s AND p.archived_at IS NULL",
                [programme.pk],
            ),
        ),
    ]
    print(f"{'hot path':<55} {'policy':>9} {'raw SQL':>9} {'ratio':>7}")
    for label, policy, hand in cases:
        assert len(policy()) == len(hand()), label
        a, b = best_of(policy), best_of(hand)
        print(f"{label:<55} {a * 1000:>7.1f}ms {b * 1000:>7.1f}ms {a / b:>7.2f}")


if __name__ == "__main__":
    main()
