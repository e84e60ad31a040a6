"""Two people enrolling into the last place at the same time.

On PostgreSQL the group row is locked (``select_for_update``) while the places are counted. The test
holds the first enrolment's transaction open and proves that the second one waits for it: first with a
lock timeout (the second attempt must fail while the first holds the lock), then without one (the second
attempt is seen waiting on the lock in ``pg_locks`` before the first commits). No sleep decides anything:
the outcome is the same on an idle or a loaded machine, and removing the lock fails it every time.

On SQLite, writers are serialised by the database: every transaction starts with ``BEGIN IMMEDIATE``
(``transaction_mode`` in the settings), which takes the write lock before anything is read. The SQLite
guard checks that ``enrol`` counts the places inside such a transaction. A two-thread test is not run on
SQLite: the test database is a shared-cache in-memory database, where a second writer gets "table is
locked" at once instead of waiting, which says nothing about the file database used in production.
"""

import os
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from maillage.offers import services
from maillage.offers.models import Enrolment
from tests.offers.helpers import active_pathway, world

ON_POSTGRESQL = connection.vendor == "postgresql"
WAIT = 60  # seconds; only a safety net against a hung test, never reached when the code is right

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_postgresql_tests_run_whenever_database_url_names_postgresql():
    # The PostgreSQL-only tests below are skipped on the vendor Django connected to: if DATABASE_URL
    # names PostgreSQL, the connection must be PostgreSQL, so that `make test` never skips them silently.
    url = os.environ.get("DATABASE_URL", "")
    assert ON_POSTGRESQL == url.startswith(("postgres://", "postgresql://", "pgsql://"))


def _two_children(w):
    by = w["coordinator"].user
    return by, [active_pathway(w["programme"], by).child for _ in range(2)]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="row locks need PostgreSQL")
def test_a_second_enrolment_into_the_last_place_waits_for_the_first_to_commit():
    w = world(capacity=1)
    by, (first_child, second_child) = _two_children(w)
    first_holds_the_lock = threading.Event()
    first_may_commit = threading.Event()
    first_errors = []

    def first():
        try:
            with transaction.atomic():
                services.enrol(group=w["group"], by=by, child=first_child)
                first_holds_the_lock.set()
                assert first_may_commit.wait(WAIT)
        except Exception as error:  # noqa: BLE001 -- reported below
            first_errors.append(error)
        finally:
            first_holds_the_lock.set()
            connections.close_all()

    holder = threading.Thread(target=first)
    holder.start()
    try:
        assert first_holds_the_lock.wait(WAIT)
        assert not first_errors

        # 1. While the first transaction is open, the second cannot even count the places.
        outcome = {}

        def second_with_lock_timeout():
            try:
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = '300ms'")
                    outcome["enrolment"] = services.enrol(group=w["group"], by=by, child=second_child)
            except OperationalError as error:
                outcome["error"] = error
            finally:
                connections.close_all()

        attempt = threading.Thread(target=second_with_lock_timeout)
        attempt.start()
        attempt.join(WAIT)
        assert "enrolment" not in outcome, "the second enrolment did not wait for the first one's lock"
        assert "lock timeout" in str(outcome["error"])

        # 2. Without a timeout, the second waits on the lock (seen in pg_locks) until the first commits.
        result = {}

        def second():
            try:
                result["pid"] = connection.cursor().connection.info.backend_pid
                result["enrolment"] = services.enrol(group=w["group"], by=by, child=second_child)
            except Exception as error:  # noqa: BLE001 -- reported below
                result["error"] = error
            finally:
                connections.close_all()

        waiter = threading.Thread(target=second)
        waiter.start()
        assert _waits_on_a_lock(lambda: result.get("pid"), waiter), result
        assert "enrolment" not in result
    finally:
        first_may_commit.set()
        holder.join(WAIT)
    waiter.join(WAIT)

    assert not first_errors
    assert "error" not in result, result
    assert result["enrolment"].status == "waiting"
    statuses = sorted(Enrolment.objects.filter(group=w["group"]).values_list("status", flat=True))
    assert statuses == ["enrolled", "waiting"]


def _waits_on_a_lock(pid, thread) -> bool:
    """True as soon as the backend ``pid()`` waits for a lock; False if its thread ends first."""

    deadline = time.monotonic() + WAIT
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline and thread.is_alive():
            if pid() is not None:
                cursor.execute("SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", [pid()])
                if cursor.fetchone():
                    return True
            time.sleep(0.01)  # polling only: the answer does not depend on how long this takes
    return False


@pytest.mark.skipif(ON_POSTGRESQL, reason="the SQLite guard; PostgreSQL has the lock tests above")
def test_on_sqlite_places_are_counted_inside_an_immediate_write_transaction():
    w = world(capacity=1)
    by, (first_child, second_child) = _two_children(w)
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        services.enrol(group=w["group"], by=by, child=first_child)
    # The write lock is taken before the first read: no other writer can enrol in between.
    assert statements[0] == "BEGIN IMMEDIATE", statements[:3]
    assert connection.get_autocommit()

    second = services.enrol(group=w["group"], by=by, child=second_child)
    assert second.status == "waiting"
    statuses = sorted(Enrolment.objects.filter(group=w["group"]).values_list("status", flat=True))
    assert statuses == ["enrolled", "waiting"]
