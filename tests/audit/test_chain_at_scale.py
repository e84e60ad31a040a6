"""verify_audit on a 10,000-entry chain: 100 random edits, deletions, reorderings and truncations of
its end (the last 1 to 50 entries), each detected."""

import random

import pytest
from django.db import connection, transaction

from maillage.audit.models import AuditEvent
from maillage.audit.services import record_many, verify_chain
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ENTRIES = 10_000
TRIALS = 100


@pytest.fixture
def chain():
    membership = MembershipFactory()
    for start in range(0, ENTRIES, 50):
        record_many(
            [
                {
                    "verb": "child.viewed",
                    "actor": membership.user,
                    "membership": membership,
                    "target_type": "people.child",
                    "target_id": n,
                    "payload": {"n": n},
                }
                for n in range(start, start + 50)
            ]
        )
    ids = list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) == ENTRIES and verify_chain() is None
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
        "DELETE FROM audit_auditevent WHERE id >= %s", [ids[-rng.randint(1, 50)]]
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERINGS))
def test_verify_audit_detects_every_one_of_a_hundred_random(chain, kind):
    rng = random.Random(f"{kind}-2026")
    missed = []
    for trial in range(TRIALS):
        with transaction.atomic():
            TAMPERINGS[kind](chain, rng)
            if verify_chain() is None:
                missed.append(trial)
            transaction.set_rollback(True)
    print(f"{kind}: {TRIALS - len(missed)} of {TRIALS} detected on a {ENTRIES}-entry chain")
    assert not missed
    assert verify_chain() is None  # every tampering was rolled back
