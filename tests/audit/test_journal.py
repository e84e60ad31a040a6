import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maillage.audit.models import AppendOnlyError, AuditEvent, ChainHead
from maillage.audit.services import record, verify_chain
from tests.factories import ChildFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _raw(sql: str, params: list) -> None:
    # Tampering as an attacker with database access would: straight SQL, around the application.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _chain(n: int) -> list[AuditEvent]:
    membership = MembershipFactory()
    return [
        record(verb="child.viewed", actor=membership.user, membership=membership, payload={"n": i})
        for i in range(n)
    ]


def test_record_links_each_entry_to_the_previous_one():
    first, second = _chain(2)
    assert first.previous_hash == "0" * 64
    assert second.previous_hash == first.hash
    assert (first.chain, first.sequence, second.sequence) == (first.programme_id, 1, 2)
    head = ChainHead.objects.get(chain=first.programme_id)
    assert (head.count, head.last_hash, head.last_event_id) == (2, second.hash, second.pk)


def test_record_takes_programme_and_role_from_the_membership_and_target():
    membership = MembershipFactory(role="referent")
    child = ChildFactory(programme=membership.programme)
    event = record(verb="child.viewed", actor=membership.user, membership=membership, target=child)
    event.refresh_from_db()
    assert (event.role, event.programme_id) == ("referent", membership.programme_id)
    assert (event.target_type, event.target_id) == ("people.child", str(child.pk))
    assert event.actor_label == membership.user.email


def test_an_intact_chain_verifies(capsys):
    _chain(5)
    call_command("verify_audit")
    assert "5 entries verified" in capsys.readouterr().out


def test_entries_cannot_be_updated_or_deleted_through_the_application():
    (event,) = _chain(1)
    event.verb = "something.else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(verb="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_an_edited_entry_is_named_by_verify_audit():
    events = _chain(6)
    _raw("UPDATE audit_auditevent SET payload = %s WHERE id = %s", ['{"n": 99}', events[3].pk])
    with pytest.raises(CommandError, match=f"entry #{events[3].pk}.*edited"):
        call_command("verify_audit")


def test_a_deleted_entry_is_detected_at_the_next_one():
    events = _chain(6)
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError, match=f"entry #{events[3].pk}"):
        call_command("verify_audit")


def test_a_deleted_last_entry_is_detected_by_the_chain_head():
    events = _chain(4)
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    problem = verify_chain()
    assert problem is not None and problem.event_id is None


def test_two_swapped_entries_are_detected():
    events = _chain(6)
    a, b = events[1], events[4]
    # Swap the whole content of two rows, hashes included: the order of the chain is what changes.
    columns = ["occurred_at", "verb", "payload", "previous_hash", "hash"]
    rows = {}
    with connection.cursor() as cursor:
        for event in (a, b):
            cursor.execute(f"SELECT {', '.join(columns)} FROM audit_auditevent WHERE id = %s", [event.pk])
            rows[event.pk] = cursor.fetchone()
    for target in (a, b):
        # Free the unique hash first, then write the other row's content.
        _raw("UPDATE audit_auditevent SET hash = %s WHERE id = %s", [f"tmp{target.pk}", target.pk])
    for target, source in ((a, b), (b, a)):
        assignments = ", ".join(f"{c} = %s" for c in columns)
        _raw(f"UPDATE audit_auditevent SET {assignments} WHERE id = %s", [*rows[source.pk], target.pk])
    problem = verify_chain()
    assert problem is not None
    assert problem.event_id == a.pk


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0, max_value=9), kind=st.sampled_from(["edit", "delete"]))
def test_any_single_tampering_is_detected(position, kind):
    events = _chain(10)
    victim = events[position]
    if kind == "edit":
        _raw("UPDATE audit_auditevent SET verb = %s WHERE id = %s", ["child.exported", victim.pk])
    else:
        _raw("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk])
    assert verify_chain() is not None
    # Hypothesis runs every example in the same test transaction: start the next one from scratch.
    _raw("DELETE FROM audit_auditevent", [])
    _raw("DELETE FROM audit_chainhead", [])


def test_a_whole_chain_rewritten_without_the_key_is_detected():
    # An attacker with full write access to the database edits an entry, then recomputes every hash
    # after it and the chain head — with plain SHA-256, since the HMAC key is not in the database.
    import hashlib

    events = _chain(5)
    _raw("UPDATE audit_auditevent SET payload = %s WHERE id = %s", ['{"n": 42}', events[2].pk])
    previous = events[1].hash
    for event in AuditEvent.objects.filter(pk__gte=events[2].pk).order_by("pk"):
        event.previous_hash = previous
        forged = hashlib.sha256(event.canonical_content().encode()).hexdigest()
        _raw(
            "UPDATE audit_auditevent SET previous_hash = %s, hash = %s WHERE id = %s",
            [previous, forged, event.pk],
        )
        previous = forged
    _raw("UPDATE audit_chainhead SET last_hash = %s WHERE chain = %s", [previous, events[0].chain])
    problem = verify_chain()
    assert problem is not None
    assert problem.event_id == events[2].pk


def test_the_same_chain_fails_verification_under_another_key(settings):
    _chain(3)
    assert verify_chain() is None
    settings.MAILLAGE_AUDIT_KEY = "another-key-that-the-attacker-would-have-guessed-0123"
    assert verify_chain() is not None
