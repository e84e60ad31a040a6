"""Retention of the journal: the oldest entries go, one summary keeps the chain verifiable."""

import datetime
import hashlib
import json
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from maillage.audit.models import PLATFORM_CHAIN, AppendOnlyError, AuditEvent, ChainHead
from maillage.audit.purge import months_before, purge_journal
from maillage.audit.services import record, verify_chain, verify_journal
from tests.factories import MembershipFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
WRITTEN = datetime.datetime(2025, 3, 15, 10, 0, tzinfo=PARIS)
DAY = datetime.timedelta(days=1)


def _raw(sql: str, params: list) -> None:
    # Tampering as an attacker with database access would: straight SQL, around the application.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def entry_at(moment: datetime.datetime, programme=None, verb: str = "child.viewed") -> AuditEvent:
    with time_machine.travel(moment, tick=False):
        return record(verb=verb, programme=programme, payload={"at": moment.isoformat()})


def purge_at(moment: datetime.datetime, **kwargs):
    with time_machine.travel(moment, tick=False):
        return purge_journal(**kwargs)


@pytest.fixture
def programme():
    return ProgrammeFactory()  # 12 months by default


def test_entries_go_on_the_day_their_retention_ends_and_not_a_day_before(programme):
    overdue = entry_at(WRITTEN - DAY, programme)
    on_the_day = entry_at(WRITTEN, programme)
    not_yet = entry_at(WRITTEN + DAY, programme)

    result = purge_at(WRITTEN + datetime.timedelta(days=365))  # 15 March 2026, 12 months on

    remaining = set(AuditEvent.objects.values_list("pk", flat=True))
    assert overdue.pk not in remaining and on_the_day.pk not in remaining
    assert not_yet.pk in remaining
    assert result.count == 2


def test_nothing_goes_a_day_before_the_deadline(programme):
    entry = entry_at(WRITTEN, programme)
    result = purge_at(WRITTEN + datetime.timedelta(days=364))
    assert result.count == 0
    assert AuditEvent.objects.filter(pk=entry.pk).exists()
    assert not AuditEvent.objects.filter(verb="journal.purged").exists()


def test_one_summary_records_what_was_purged_and_the_hash_of_the_last_entry(programme):
    first = entry_at(WRITTEN - 2 * DAY, programme)
    last = entry_at(WRITTEN - DAY, programme)
    kept = entry_at(WRITTEN + 30 * DAY, programme)

    result = purge_at(WRITTEN + datetime.timedelta(days=365))

    summary = AuditEvent.objects.get(verb="journal.purged")
    assert summary.pk == result.summary.pk and summary.pk > kept.pk
    assert summary.payload["count"] == 2
    assert (summary.payload["first_id"], summary.payload["last_id"]) == (first.pk, last.pk)
    assert summary.payload["first_at"] == first.occurred_at.astimezone(datetime.UTC).isoformat()
    assert summary.payload["last_at"] == last.occurred_at.astimezone(datetime.UTC).isoformat()
    cut = summary.payload["chains"][str(programme.pk)]
    assert cut["last_hash"] == last.hash == kept.previous_hash
    assert (cut["count"], cut["purged_through"]) == (2, last.sequence)
    head = ChainHead.objects.get(chain=programme.pk)
    assert (head.purged, head.anchor_hash, head.count) == (2, last.hash, 3)
    assert summary.chain == PLATFORM_CHAIN
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk, summary.pk]


def test_the_chain_still_verifies_after_a_purge(programme, capsys):
    for day in range(5):
        entry_at(WRITTEN + day * DAY, programme)
    purge_at(WRITTEN + datetime.timedelta(days=367))
    entry_at(WRITTEN + datetime.timedelta(days=368), programme)  # life goes on after the purge

    assert verify_chain() is None
    call_command("verify_audit")
    assert "entries verified" in capsys.readouterr().out


def test_an_entry_edited_after_a_purge_is_detected(programme):
    for day in range(6):
        entry_at(WRITTEN + day * DAY, programme)
    purge_at(WRITTEN + datetime.timedelta(days=367))
    victim = AuditEvent.objects.exclude(verb="journal.purged").order_by("pk")[1]
    _raw("UPDATE audit_auditevent SET payload = %s WHERE id = %s", ['{"at": "hier"}', victim.pk])
    with pytest.raises(CommandError, match=f"entry #{victim.pk}.*edited"):
        call_command("verify_audit")


def test_deleting_more_entries_by_hand_after_a_purge_is_detected(programme):
    for day in range(6):
        entry_at(WRITTEN + day * DAY, programme)
    purge_at(WRITTEN + datetime.timedelta(days=367))
    first_remaining, second = AuditEvent.objects.order_by("pk")[:2]
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [first_remaining.pk])
    problem = verify_chain()
    assert problem is not None and problem.event_id == second.pk


def test_deleting_the_summary_itself_is_detected(programme):
    for day in range(4):
        entry_at(WRITTEN + day * DAY, programme)
    purge_at(WRITTEN + datetime.timedelta(days=366))
    entry_at(WRITTEN + datetime.timedelta(days=370), programme)
    summary = AuditEvent.objects.get(verb="journal.purged")
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [summary.pk])
    assert verify_chain() is not None


def test_rewriting_the_anchor_of_the_summary_is_detected(programme):
    for day in range(4):
        entry_at(WRITTEN + day * DAY, programme)
    purge_at(WRITTEN + datetime.timedelta(days=366))
    # An attacker removes one more entry and points the summary at the new start.
    first_remaining = AuditEvent.objects.order_by("pk").first()
    summary = AuditEvent.objects.get(verb="journal.purged")
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [first_remaining.pk])
    cuts = {**summary.payload["chains"], str(programme.pk): {"last_hash": first_remaining.hash}}
    payload = {**summary.payload, "chains": cuts}
    _raw("UPDATE audit_auditevent SET payload = %s WHERE id = %s", [json.dumps(payload), summary.pk])
    problems = verify_journal()[1]
    assert any(p.event_id == summary.pk and "edited" in p.reason for p in problems)
    assert any(p.chain == programme.pk for p in problems)  # the head's anchor is not the new start


def test_a_second_purge_with_nothing_due_changes_nothing(programme):
    entry_at(WRITTEN, programme)
    entry_at(WRITTEN + 100 * DAY, programme)
    purge_at(WRITTEN + datetime.timedelta(days=365))
    before = list(AuditEvent.objects.values_list("pk", "hash"))

    result = purge_at(WRITTEN + datetime.timedelta(days=366))

    assert result.count == 0 and result.summary is None
    assert list(AuditEvent.objects.values_list("pk", "hash")) == before


def test_successive_purges_each_leave_a_verifiable_chain(programme):
    for day in range(0, 400, 20):
        entry_at(WRITTEN + day * DAY, programme)
    purge_at(WRITTEN + datetime.timedelta(days=400))
    assert verify_chain() is None
    entry_at(WRITTEN + datetime.timedelta(days=500), programme)
    second = purge_at(WRITTEN + datetime.timedelta(days=800))  # the first summary goes too
    assert second.count > 0
    assert AuditEvent.objects.filter(verb="journal.purged").count() == 1
    assert verify_chain() is None


def test_each_programme_keeps_its_journal_for_its_own_period():
    six = ProgrammeFactory(log_retention_months=6)
    entry = entry_at(WRITTEN, six)
    assert purge_at(WRITTEN + datetime.timedelta(days=183)).count == 0  # 14 September: one day early
    assert purge_at(WRITTEN + datetime.timedelta(days=184)).count == 1  # 15 September
    assert not AuditEvent.objects.filter(pk=entry.pk).exists()


def test_each_programme_is_purged_on_its_own_chain_a_longer_period_holds_back_nothing_of_another():
    long_kept = ProgrammeFactory(log_retention_months=36)
    usual = ProgrammeFactory(log_retention_months=12)
    kept = entry_at(WRITTEN, long_kept)
    due = entry_at(WRITTEN + DAY, usual)

    result = purge_at(WRITTEN + datetime.timedelta(days=400))

    assert result.count == 1 and result.held_back == 0
    assert AuditEvent.objects.filter(pk=kept.pk).exists()
    assert not AuditEvent.objects.filter(pk=due.pk).exists()
    assert verify_chain() is None


def test_a_due_entry_behind_a_kept_one_of_the_same_chain_is_held_back(programme):
    entry_at(WRITTEN + 30 * DAY, programme)
    behind = entry_at(WRITTEN, programme)  # written later, dated earlier (a clock set back)
    result = purge_at(WRITTEN + datetime.timedelta(days=370))
    assert result.count == 0 and result.held_back == 1
    assert AuditEvent.objects.filter(pk=behind.pk).exists()
    assert verify_chain() is None


def test_the_platform_and_programme_chains_are_purged_together_with_one_summary(programme):
    entry_at(WRITTEN, programme)
    entry_at(WRITTEN, None, verb="account.logged_in")
    other = ProgrammeFactory()
    entry_at(WRITTEN, other)
    result = purge_at(WRITTEN + datetime.timedelta(days=400))
    assert result.count == 3
    assert set(result.summary.payload["chains"]) == {str(PLATFORM_CHAIN), str(programme.pk), str(other.pk)}
    assert AuditEvent.objects.filter(verb="journal.purged").count() == 1
    entry_at(WRITTEN + datetime.timedelta(days=401), programme)
    assert verify_chain() is None


def test_a_purged_chains_anchor_rewritten_without_the_key_is_detected(programme):
    for day in range(4):
        entry_at(WRITTEN + day * DAY, programme)
    entry_at(WRITTEN + 100 * DAY, programme)
    purge_at(WRITTEN + datetime.timedelta(days=367))
    # An attacker deletes the oldest remaining entry and moves the anchor to it (no key: SHA-256).
    first_remaining = AuditEvent.objects.filter(chain=programme.pk).order_by("sequence").first()
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [first_remaining.pk])
    head = ChainHead.objects.get(chain=programme.pk)
    head.purged, head.anchor_hash = first_remaining.sequence, first_remaining.hash
    text = json.dumps({"head": head.content()}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    _raw(
        "UPDATE audit_chainhead SET purged = %s, anchor_hash = %s, seal = %s WHERE chain = %s",
        [head.purged, head.anchor_hash, hashlib.sha256(text.encode()).hexdigest(), programme.pk],
    )
    problem = verify_chain()
    assert problem is not None and problem.chain == programme.pk and "seal" in problem.reason


def test_the_last_entries_removed_after_a_purge_are_detected(programme):
    for day in range(6):
        entry_at(WRITTEN + day * DAY, programme)
    entry_at(WRITTEN + 100 * DAY, programme)
    entry_at(WRITTEN + 101 * DAY, programme)
    purge_at(WRITTEN + datetime.timedelta(days=370))
    last = AuditEvent.objects.filter(chain=programme.pk).order_by("-sequence").first()
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [last.pk])
    problem = verify_chain()
    assert problem is not None and problem.chain == programme.pk and problem.event_id is None


def test_entries_of_no_programme_follow_the_instance_setting(settings):
    settings.MAILLAGE_LOG_RETENTION_MONTHS = 6
    sign_in = entry_at(WRITTEN, None, verb="account.logged_in")
    assert purge_at(WRITTEN + datetime.timedelta(days=184)).count == 1
    assert not AuditEvent.objects.filter(pk=sign_in.pk).exists()


def test_a_dry_run_counts_but_deletes_nothing(programme):
    entry_at(WRITTEN, programme)
    result = purge_at(WRITTEN + datetime.timedelta(days=400), dry_run=True)
    assert result.count == 1
    assert AuditEvent.objects.count() == 1


def test_the_application_still_cannot_delete_an_entry(programme):
    entry = entry_at(WRITTEN, programme)
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=entry.pk).delete()


def test_months_are_calendar_months():
    assert months_before(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 2, 28)
    assert months_before(datetime.date(2028, 3, 31), 1) == datetime.date(2028, 2, 29)
    assert months_before(datetime.date(2026, 3, 15), 12) == datetime.date(2025, 3, 15)
    assert months_before(datetime.date(2026, 1, 10), 36) == datetime.date(2023, 1, 10)


def test_an_entry_is_due_on_its_day_whatever_the_hour(programme):
    late = entry_at(WRITTEN.replace(hour=23, minute=50), programme)
    assert purge_at(datetime.datetime(2026, 3, 15, 0, 5, tzinfo=PARIS)).count == 1
    assert not AuditEvent.objects.filter(pk=late.pk).exists()


def test_purging_needs_no_actor_and_records_none(programme):
    MembershipFactory(programme=programme)
    entry_at(WRITTEN, programme)
    result = purge_at(WRITTEN + datetime.timedelta(days=400))
    assert result.summary.actor_id is None and result.summary.verb == "journal.purged"
