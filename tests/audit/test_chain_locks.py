"""Two programmes' journal writes never wait for each other (issue #12, 4: no national lock).

PostgreSQL only (SQLite locks the whole database on write). Deterministic: one thread writes a
journal entry of programme A and keeps its transaction open (as a slow page would) until told to let
go; meanwhile, with a short ``lock_timeout``, a write to programme B's chain (and to the platform's)
must go through, and a write to programme A's own chain must time out — proof that the writer holds
A's head, and only it.
"""

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from maillage.audit.models import PLATFORM_CHAIN, AuditEvent
from maillage.audit.services import record, record_many, verify_chain
from tests.factories import MembershipFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def _write(membership, *, timeout_ms: int) -> AuditEvent:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(timeout_ms)}ms'")
        return record(verb="child.viewed", actor=membership.user, membership=membership)


class HeldWrite:
    """A second connection that journals one entry of ``membership``'s programme and keeps its
    transaction (and so whatever locks the write took) open until ``release``."""

    def __init__(self, membership):
        self.membership = membership
        self.locked = threading.Event()
        self.release = threading.Event()
        self.errors: list[Exception] = []
        self.thread = threading.Thread(target=self._hold)

    def _hold(self):
        try:
            with transaction.atomic():
                record(verb="child.viewed", actor=self.membership.user, membership=self.membership)
                self.locked.set()
                self.release.wait(timeout=60)
        except Exception as error:  # noqa: BLE001 -- reported by the test
            self.errors.append(error)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(timeout=20), "the holder never got the lock"
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(timeout=30)
        assert not self.errors


def test_a_write_to_programme_b_does_not_wait_for_programme_as_head():
    a, b = MembershipFactory(), MembershipFactory()
    _write(a, timeout_ms=5000)  # both chains opened before the race
    _write(b, timeout_ms=5000)

    with HeldWrite(a):
        written = _write(b, timeout_ms=1000)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '1000ms'")
            sign_in = record(verb="account.logged_in")
        with pytest.raises(OperationalError, match="lock timeout"):
            _write(a, timeout_ms=200)

    assert (written.chain, written.sequence) == (b.programme_id, 2)
    assert sign_in.chain == PLATFORM_CHAIN
    assert _write(a, timeout_ms=5000).sequence == 3  # A writes again once its head is free
    assert verify_chain() is None


def test_a_list_page_locks_only_the_heads_of_the_programmes_it_shows():
    a, b, c = MembershipFactory(), MembershipFactory(), MembershipFactory()
    for membership in (a, b, c):
        _write(membership, timeout_ms=5000)

    with HeldWrite(c):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '1000ms'")
            events = record_many(
                [{"verb": "child.viewed", "actor": m.user, "membership": m} for m in (a, b, a)]
            )
    assert [(e.chain, e.sequence) for e in events] == [
        (a.programme_id, 2),
        (b.programme_id, 2),
        (a.programme_id, 3),
    ]
    assert verify_chain() is None
