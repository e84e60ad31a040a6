"""Retention of the journal: entries older than their programme's ``log_retention_months`` go.

An entry written on 15 March 2025 is due, with 12 months, from 15 March 2026 (local time, whatever
the hour): a deadline is due on its day, as for pathways.

CNIL délibération 2021-122 keeps access logs 6 months to 1 year (up to 3 years for a documented
internal-control need): each programme sets its own period (6–36 months, 12 by default); entries
attached to no programme (sign-ins, for instance) follow ``settings.MAILLAGE_LOG_RETENTION_MONTHS``
(12 by default).

The journal is one hash chain per programme (plus the platform's), so only the oldest part of each
chain can go: for each chain, the purge deletes the longest run of entries, from the start, that are
all due (with the chain's own period: a programme's period never holds back another's entries), and
records in the chain's sealed head how many entries were purged and the hash of the last one (the
anchor). ``verify_journal`` then starts each chain at the next sequence number and accepts its link
only if it equals that anchor, so removing more entries by hand is still detected, and a head cannot
be edited to hide it without the key. One summary entry (``journal.purged``), on the platform chain,
says what went from which chain. A due entry behind a not-yet-due one of the same chain (clocks set
back) is held back; the result counts them.

This module is the only place where journal rows are deleted, with a raw SQL ``DELETE``: the model
refuses deletion by design.
"""

import calendar
import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from maillage.audit.models import PLATFORM_CHAIN, AuditEvent, ChainHead
from maillage.audit.services import PURGE_VERB, record

DEFAULT_LOG_RETENTION_MONTHS = 12
DELETE_BATCH_SIZE = 5000


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same date ``months`` calendar months earlier (the 31st falls back to the month's last day)."""
    year, month_index = divmod(day.year * 12 + (day.month - 1) - months, 12)
    month = month_index + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def kept_from(now: datetime.datetime, months: int) -> datetime.datetime:
    """The first instant still kept at ``now``: entries of the day ``months`` ago (local time) are due."""
    last_due_day = months_before(timezone.localdate(now), months)
    start = datetime.datetime.combine(last_due_day + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(start)


def default_log_retention_months() -> int:
    return int(getattr(settings, "MAILLAGE_LOG_RETENTION_MONTHS", DEFAULT_LOG_RETENTION_MONTHS))


@dataclass
class PurgeResult:
    """What a purge removed (or would remove, in a dry run), over every chain."""

    count: int = 0
    first_id: int | None = None
    last_id: int | None = None
    first_at: datetime.datetime | None = None
    last_at: datetime.datetime | None = None
    held_back: int = 0  # due entries kept because a not-yet-due entry precedes them in their chain
    chains: dict[int, dict] = field(default_factory=dict)  # chain → what went from it
    summary: AuditEvent | None = field(default=None, repr=False)

    def add(self, chain: int, count: int, first: AuditEvent, last: AuditEvent, through: int) -> None:
        self.count += count
        if self.first_id is None or first.pk < self.first_id:
            self.first_id = first.pk
        if self.last_id is None or last.pk > self.last_id:
            self.last_id = last.pk
        if self.first_at is None or first.occurred_at < self.first_at:
            self.first_at = first.occurred_at
        if self.last_at is None or last.occurred_at > self.last_at:
            self.last_at = last.occurred_at
        self.chains[chain] = {
            "count": count,
            "first_id": first.pk,
            "last_id": last.pk,
            "purged_through": through,
            "last_hash": last.hash,
        }


def _retention_by_chain() -> dict[int, int]:
    """Months kept, per chain: each programme's period, the instance setting for the platform."""
    from maillage.programmes.models import Programme

    months = dict(Programme.objects.values_list("pk", "log_retention_months"))
    months[PLATFORM_CHAIN] = default_log_retention_months()
    return months


def _events() -> models.QuerySet:
    return models.QuerySet(model=AuditEvent)


def _purge_chain(head: ChainHead, kept_since: datetime.datetime, result: PurgeResult, dry_run: bool) -> None:
    """Cut the due prefix of ``head``'s chain (its head locked by the caller) and move its anchor."""
    events = _events().filter(chain=head.chain)
    first_kept = (
        events.filter(occurred_at__gte=kept_since)
        .order_by("sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    if first_kept is not None:
        result.held_back += events.filter(sequence__gt=first_kept, occurred_at__lt=kept_since).count()
    due = events if first_kept is None else events.filter(sequence__lt=first_kept)
    bounds = due.aggregate(
        count=models.Count("pk"), first=models.Min("sequence"), last=models.Max("sequence")
    )
    if not bounds["count"]:
        return
    fields = ("pk", "occurred_at", "hash", "sequence")
    first = events.only(*fields).get(sequence=bounds["first"])
    last = events.only(*fields).get(sequence=bounds["last"])
    result.add(head.chain, bounds["count"], first, last, last.sequence)
    if dry_run:
        return
    _delete_chain_prefix(head.chain, first.sequence, last.sequence)
    head.purged, head.anchor_hash = last.sequence, last.hash
    head.reseal()
    head.save(update_fields=["purged", "anchor_hash", "seal"])


def purge_journal(*, now: datetime.datetime | None = None, dry_run: bool = False) -> PurgeResult:
    """Delete the journal entries past their retention period, chain by chain; leave one summary.

    Each chain is cut with only its own head locked. Idempotent: with nothing due, nothing is
    deleted and no summary is written.
    """
    now = now or timezone.now()
    months = _retention_by_chain()
    result = PurgeResult()
    for chain in ChainHead.objects.order_by("chain").values_list("chain", flat=True):
        # One short transaction per chain: the other chains are written to meanwhile.
        with transaction.atomic():
            head = ChainHead.objects.select_for_update().get(chain=chain)
            _purge_chain(
                head, kept_from(now, months.get(chain, default_log_retention_months())), result, dry_run
            )
    if result.count and not dry_run:
        result.summary = record(
            verb=PURGE_VERB,
            target_type="audit.auditevent",
            payload={
                "count": result.count,
                "first_id": result.first_id,
                "last_id": result.last_id,
                "first_at": result.first_at.astimezone(datetime.UTC).isoformat(),
                "last_at": result.last_at.astimezone(datetime.UTC).isoformat(),
                "held_back": result.held_back,
                "chains": {str(chain): cut for chain, cut in result.chains.items()},
            },
        )
    return result


def _delete_chain_prefix(chain: int, first: int, last: int) -> None:
    """The raw ``DELETE`` of ``chain``'s entries numbered ``first``..``last``, in short statements."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    sql = f"DELETE FROM {table} WHERE chain = %s AND sequence >= %s AND sequence <= %s"  # noqa: S608 -- quoted model table  # nosec B608
    with connection.cursor() as cursor:
        start = first
        while start <= last:
            end = min(start + DELETE_BATCH_SIZE - 1, last)
            cursor.execute(sql, [chain, start, end])
            start = end + 1
