"""The end of each chain and its sealed head: truncation, a head deleted, rewound or re-sealed
without the key, the journal emptied, an entry deleted and the next one relinked (issue #13, 3).

Tampering is done as an attacker with write access to the database would: straight SQL, around the
application, without the HMAC key (which lives outside the database).
"""

import hashlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from maillage.audit.models import PLATFORM_CHAIN, AuditEvent, ChainHead
from maillage.audit.services import record, verify_chain, verify_journal
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

HEAD_COLUMNS = ["chain", "count", "last_event_id", "last_hash", "purged", "anchor_hash", "chains", "seal"]


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _chain(n: int, membership=None) -> list[AuditEvent]:
    membership = membership or MembershipFactory()
    return [
        record(verb="child.viewed", actor=membership.user, membership=membership, payload={"n": i})
        for i in range(n)
    ]


def _head_row(chain: int) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(HEAD_COLUMNS)} FROM audit_chainhead WHERE chain = %s", [chain])
        return list(cursor.fetchone())


def _restore_head(row: list) -> None:
    """Put a copy of an old head row back, as from a backup or a saved SELECT."""
    _raw("DELETE FROM audit_chainhead WHERE chain = %s", [row[0]])
    placeholders = ", ".join(["%s"] * len(HEAD_COLUMNS))
    _raw(f"INSERT INTO audit_chainhead ({', '.join(HEAD_COLUMNS)}) VALUES ({placeholders})", row)


def _sha256_seal(head: ChainHead) -> str:
    """A seal recomputed by someone without the key: the same content, plain SHA-256."""
    text = json.dumps({"head": head.content()}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _reseal_without_key(chain: int, **changes) -> None:
    head = ChainHead.objects.get(chain=chain)
    for name, value in changes.items():
        setattr(head, name, value)
    assignments = ", ".join(f"{name} = %s" for name in [*changes, "seal"])
    _raw(
        f"UPDATE audit_chainhead SET {assignments} WHERE chain = %s",
        [*changes.values(), _sha256_seal(head), chain],
    )


def _tail_problem(chain: int):
    _reports, problems = verify_journal()
    return next((p for p in problems if p.chain == chain), None)


# --- an intact journal ------------------------------------------------------------------------


def test_two_programmes_have_two_chains_each_numbered_from_one():
    a = _chain(3)
    b = _chain(2)
    assert [e.sequence for e in a] == [1, 2, 3] and [e.sequence for e in b] == [1, 2]
    assert b[0].previous_hash == "0" * 64  # not linked to programme A's last entry
    assert {h.chain: h.count for h in ChainHead.objects.all()} == {
        PLATFORM_CHAIN: 0,
        a[0].chain: 3,
        b[0].chain: 2,
    }
    assert ChainHead.objects.get(chain=PLATFORM_CHAIN).chains == 2
    assert verify_chain() is None


def test_verify_audit_reports_each_chain(capsys):
    a = _chain(3)
    _chain(2)
    record(verb="account.logged_in")
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "the platform chain: 1 entries, intact" in out
    assert f"the chain of programme {a[0].chain}: 3 entries, intact" in out
    assert "Journal intact: 6 entries verified in 3 chains" in out


def test_an_entry_of_no_programme_goes_to_the_platform_chain():
    event = record(verb="account.logged_in")
    assert (event.chain, event.sequence) == (PLATFORM_CHAIN, 1)
    assert ChainHead.objects.get(chain=PLATFORM_CHAIN).last_hash == event.hash


# --- the tail ----------------------------------------------------------------------------------


@pytest.mark.parametrize("removed", [1, 3])
def test_the_last_entries_removed_are_detected(removed, capsys):
    events = _chain(6)
    for event in events[-removed:]:
        _raw("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    problem = _tail_problem(events[0].chain)
    assert problem is not None and problem.event_id is None
    assert f"ends at entry {6 - removed}, its head records 6" in problem.reason
    with pytest.raises(CommandError, match="Journal check failed"):
        call_command("verify_audit")
    assert "BROKEN" in capsys.readouterr().out


def test_the_last_entry_removed_and_the_head_rewritten_without_the_key_is_detected():
    events = _chain(4)
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    _reseal_without_key(events[0].chain, count=3, last_hash=events[-2].hash, last_event_id=events[-2].pk)
    problem = _tail_problem(events[0].chain)
    assert problem is not None and "seal" in problem.reason


def test_a_head_whose_count_is_changed_and_resealed_without_the_key_is_detected():
    events = _chain(4)
    _reseal_without_key(events[0].chain, count=40)
    assert _tail_problem(events[0].chain) is not None


def test_a_head_whose_count_alone_is_changed_is_detected():
    events = _chain(4)
    _raw("UPDATE audit_chainhead SET count = 3 WHERE chain = %s", [events[0].chain])
    assert _tail_problem(events[0].chain) is not None


def test_a_deleted_head_is_detected():
    events = _chain(4)
    _raw("DELETE FROM audit_chainhead WHERE chain = %s", [events[0].chain])
    assert verify_chain() is not None


def test_a_deleted_platform_head_is_detected():
    _chain(2)
    _raw("DELETE FROM audit_chainhead WHERE chain = %s", [PLATFORM_CHAIN])
    problem = verify_chain()
    assert problem is not None and "platform chain head is missing" in problem.reason


def test_a_head_rewound_to_an_earlier_copy_is_detected():
    membership = MembershipFactory()
    events = _chain(3, membership)
    old_head = _head_row(events[0].chain)  # a genuine, correctly sealed head of three entries
    events += _chain(2, membership)
    _restore_head(old_head)
    problem = _tail_problem(events[0].chain)
    assert problem is not None and "head records 3" in problem.reason


def test_a_head_rewound_and_the_entries_after_it_removed_is_detected_by_a_later_chain():
    # The rewound head agrees with the shortened chain; the platform head, sealed when programme
    # B's chain was opened later, still counts its chain.
    membership = MembershipFactory()
    events = _chain(3, membership)
    platform_before = _head_row(PLATFORM_CHAIN)
    _chain(2)  # another programme opens its chain
    _restore_head(platform_before)
    problem = verify_chain()
    assert problem is not None and "programme chains found" in problem.reason
    assert events  # programme A untouched


def test_the_journal_and_its_heads_emptied_is_detected(capsys):
    _chain(3)
    record(verb="account.logged_in")
    _raw("DELETE FROM audit_auditevent", [])
    _raw("DELETE FROM audit_chainhead", [])
    assert verify_chain() is not None
    with pytest.raises(CommandError, match="platform chain head is missing"):
        call_command("verify_audit")


def test_a_whole_programme_chain_removed_with_its_head_is_detected():
    _chain(3)
    events = _chain(3)
    _raw("DELETE FROM audit_auditevent WHERE chain = %s", [events[0].chain])
    _raw("DELETE FROM audit_chainhead WHERE chain = %s", [events[0].chain])
    problem = verify_chain()
    assert problem is not None and "1 programme chains found, the platform head counts 2" in problem.reason


# --- the middle: deletion with relinking, edits, order ------------------------------------------


@pytest.mark.parametrize("forge", ["sha256", "other_key"])
def test_an_entry_deleted_and_the_next_relinked_without_the_key_is_detected(forge, settings):
    events = _chain(6)
    victim, after, before = events[2], events[3], events[1]
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk])
    # The attacker relinks the next entry to the one before the deleted entry, and recomputes its
    # hash — without the key: plain SHA-256, or an HMAC under a key of their own.
    after = AuditEvent.objects.get(pk=after.pk)
    after.previous_hash = before.hash
    if forge == "sha256":
        forged = hashlib.sha256(after.canonical_content().encode()).hexdigest()
    else:
        key, settings.MAILLAGE_AUDIT_KEY = (
            settings.MAILLAGE_AUDIT_KEY,
            "a-key-of-the-attackers-own-0123456789",
        )
        forged = after.compute_hash()
        settings.MAILLAGE_AUDIT_KEY = key
    _raw(
        "UPDATE audit_auditevent SET previous_hash = %s, hash = %s WHERE id = %s",
        [before.hash, forged, after.pk],
    )
    # ... and the entry after it, so that every link agrees.
    _raw("UPDATE audit_auditevent SET previous_hash = %s WHERE id = %s", [forged, events[4].pk])
    problem = verify_chain()
    assert problem is not None and problem.event_id in {after.pk, events[4].pk}


def test_an_entry_deleted_and_every_later_entry_renumbered_without_the_key_is_detected():
    events = _chain(5)
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    previous = events[0].hash
    for event in AuditEvent.objects.filter(pk__gt=events[1].pk, chain=events[0].chain).order_by("pk"):
        event.sequence -= 1
        event.previous_hash = previous
        previous = hashlib.sha256(event.canonical_content().encode()).hexdigest()
        _raw(
            "UPDATE audit_auditevent SET sequence = %s, previous_hash = %s, hash = %s WHERE id = %s",
            [event.sequence, event.previous_hash, previous, event.pk],
        )
    _reseal_without_key(events[0].chain, count=4, last_hash=previous)
    problems = verify_journal()[1]
    assert problems and any(p.event_id == events[2].pk and "edited" in p.reason for p in problems)


def test_an_edited_entry_is_detected():
    events = _chain(5)
    _raw(
        "UPDATE audit_auditevent SET actor_label = %s WHERE id = %s", ["quelqu.un@exemple.test", events[2].pk]
    )
    problem = verify_chain()
    assert problem is not None and problem.event_id == events[2].pk and "edited" in problem.reason


def test_two_entries_exchanging_their_places_are_detected():
    events = _chain(5)
    a, b = events[1].pk, events[3].pk
    _raw("UPDATE audit_auditevent SET id = %s WHERE id = %s", [-1, a])
    _raw("UPDATE audit_auditevent SET id = %s WHERE id = %s", [a, b])
    _raw("UPDATE audit_auditevent SET id = %s WHERE id = %s", [b, -1])
    problem = verify_chain()
    assert problem is not None and problem.event_id == a


def test_an_entry_moved_to_another_programmes_chain_is_detected():
    a = _chain(3)
    b = _chain(1)
    # Move A's last entry to the end of B's chain: chain, programme, sequence and link rewritten.
    _raw(
        "UPDATE audit_auditevent SET chain = %s, programme_id = %s, sequence = 2, previous_hash = %s "
        "WHERE id = %s",
        [b[0].chain, b[0].programme_id, b[0].hash, a[-1].pk],
    )
    _reseal_without_key(b[0].chain, count=2, last_hash=a[-1].hash, last_event_id=a[-1].pk)
    _, problems = verify_journal()
    assert {p.chain for p in problems} >= {a[0].chain, b[0].chain}


# --- what the seals cover ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("previous_hash", "f" * 64),
        ("chain", 999),
        ("sequence", 99),
        ("verb", "child.exported"),
        ("payload", {"n": 1}),
        ("actor_label", "autre@exemple.test"),
    ],
)
def test_an_entrys_hash_covers_its_link_its_place_and_its_content(name, value):
    (event,) = _chain(1)
    sealed = event.compute_hash()
    setattr(event, name, value)
    assert event.compute_hash() != sealed


@pytest.mark.parametrize(
    ("name", "value"),
    [("chain", 999), ("count", 99), ("last_event_id", 99), ("last_hash", "f" * 64), ("purged", 1)]
    + [("anchor_hash", "e" * 64), ("chains", 7)],
)
def test_a_heads_seal_covers_every_field(name, value):
    (event,) = _chain(1)
    head = ChainHead.objects.get(chain=event.chain)
    assert head.compute_seal() == head.seal
    setattr(head, name, value)
    assert head.compute_seal() != head.seal
