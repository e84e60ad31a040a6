"""verify_audit on a 10,000-entry journal of four programmes' chains (2,500 entries each, interleaved
as pages of different programmes are): 100 trials, each making four random tamperings at once — an
edit, a deletion, a reordering and a truncation of the last 1 to 50 entries, each in a different
chain (the assignment rotates) — every one of which must be reported on its own chain."""

import random

import pytest
from django.db import connection, transaction

from maillage.audit.models import AuditEvent
from maillage.audit.services import record_many, verify_chain, verify_journal
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ENTRIES = 10_000
CHAINS = 4
TRIALS = 100


@pytest.fixture
def chains() -> dict[int, list[int]]:
    """chain → ids of its entries in order."""
    memberships = [MembershipFactory() for _ in range(CHAINS)]
    for start in range(0, ENTRIES, 50):
        record_many(
            [
                {
                    "verb": "child.viewed",
                    "actor": memberships[n % CHAINS].user,
                    "membership": memberships[n % CHAINS],
                    "target_type": "people.child",
                    "target_id": n,
                    "payload": {"n": n},
                }
                for n in range(start, start + 50)
            ]
        )
    ids: dict[int, list[int]] = {}
    for pk, chain in AuditEvent.objects.order_by("pk").values_list("pk", "chain"):
        ids.setdefault(chain, []).append(pk)
    assert sum(map(len, ids.values())) == ENTRIES and len(ids) == CHAINS and verify_chain() is None
    return ids


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _swap(a: int, b: int) -> None:
    """Move two entries: each takes the other's place in the order (their ids are exchanged)."""
    spare = -1
    _sql("UPDATE audit_auditevent SET id = %s WHERE id = %s", [spare, a])
    _sql("UPDATE audit_auditevent SET id = %s WHERE id = %s", [a, b])
    _sql("UPDATE audit_auditevent SET id = %s WHERE id = %s", [b, spare])


TAMPERINGS = {
    "edit": lambda ids, rng: _sql(
        "UPDATE audit_auditevent SET verb = %s WHERE id = %s", ["child.exported", rng.choice(ids)]
    ),
    "delete": lambda ids, rng: _sql("DELETE FROM audit_auditevent WHERE id = %s", [rng.choice(ids)]),
    "reorder": lambda ids, rng: _swap(*rng.sample(ids, 2)),
    "truncate": lambda ids, rng: _sql(
        "DELETE FROM audit_auditevent WHERE id >= %s AND chain = (SELECT chain FROM audit_auditevent "
        "WHERE id = %s)",
        [ids[-rng.randint(1, 50)], ids[0]],
    ),
}


def test_verify_audit_detects_every_one_of_a_hundred_random_tamperings_of_each_kind(chains):
    rng = random.Random("journal-2026")
    order = sorted(chains)
    missed: dict[str, list[int]] = {kind: [] for kind in TAMPERINGS}
    for trial in range(TRIALS):
        with transaction.atomic():
            tampered = {}
            for i, kind in enumerate(TAMPERINGS):
                chain = order[(i + trial) % CHAINS]  # every kind visits every chain
                TAMPERINGS[kind](chains[chain], rng)
                tampered[chain] = kind
            reports, _problems = verify_journal()
            broken = {report.chain for report in reports if not report.intact}
            for chain, kind in tampered.items():
                if chain not in broken:
                    missed[kind].append(trial)
            transaction.set_rollback(True)
    for kind in TAMPERINGS:
        print(f"{kind}: {TRIALS - len(missed[kind])} of {TRIALS} detected in a {ENTRIES}-entry journal")
    assert missed == {kind: [] for kind in TAMPERINGS}
    assert verify_chain() is None  # every tampering was rolled back
