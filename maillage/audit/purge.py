"""Retention of the journal: entries older than their programme's ``log_retention_months`` go.

An entry written on 15 March 2025 is due, with 12 months, from 15 March 2026 (local time, whatever
the hour): a deadline is due on its day, as for pathways.

CNIL délibération 2021-122 keeps access logs 6 months to 1 year (up to 3 years for a documented
internal-control need): each programme sets its own period (6–36 months, 12 by default); entries
attached to no programme (sign-ins, for instance) follow ``settings.MAILLAGE_LOG_RETENTION_MONTHS``
(12 by default).

The journal is one hash chain, so only its oldest part can go: the purge deletes the longest run of
entries, from the start, that are all due, and appends ONE summary entry (``journal.purged``) whose
payload records the hash of the last deleted entry. ``verify_chain`` then starts from the oldest
remaining entry and accepts its link only if it equals that recorded hash, so removing more entries
by hand is still detected. An entry kept longer (a programme with a longer period) holds back the
due entries behind it; the result counts them.

This module is the only place where journal rows are deleted, with a raw SQL ``DELETE``: the model
refuses deletion by design.
"""

import calendar
import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from maillage.audit.models import AuditEvent, ChainHead
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
    """What a purge removed (or would remove, in a dry run)."""

    count: int = 0
    first_id: int | None = None
    last_id: int | None = None
    first_at: datetime.datetime | None = None
    last_at: datetime.datetime | None = None
    last_hash: str = ""
    held_back: int = 0  # due entries kept because a not-yet-due entry precedes them in the chain
    summary: AuditEvent | None = field(default=None, repr=False)


def _not_due(now: datetime.datetime) -> Q:
    """Entries still within their retention period at ``now``."""
    from maillage.programmes.models import Programme

    by_months: dict[int, list[int]] = {}
    for pk, months in Programme.objects.values_list("pk", "log_retention_months"):
        by_months.setdefault(months, []).append(pk)
    q = Q(programme__isnull=True, occurred_at__gte=kept_from(now, default_log_retention_months()))
    for months, programme_ids in by_months.items():
        q |= Q(programme_id__in=programme_ids, occurred_at__gte=kept_from(now, months))
    return q


def _events() -> models.QuerySet:
    return models.QuerySet(model=AuditEvent)


def purge_journal(*, now: datetime.datetime | None = None, dry_run: bool = False) -> PurgeResult:
    """Delete the journal entries past their retention period and leave one summary entry.

    Idempotent: with nothing due, nothing is deleted and no summary is written.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the chain head: no entry is appended while the start of the chain is cut.
        ChainHead.objects.select_for_update().get_or_create(id=1)
        not_due = _not_due(now)
        first_kept = _events().filter(not_due).order_by("pk").values_list("pk", flat=True).first()
        due = _events() if first_kept is None else _events().filter(pk__lt=first_kept)
        result = PurgeResult()
        if first_kept is not None:
            result.held_back = _events().filter(pk__gt=first_kept).exclude(not_due).count()
        bounds = due.aggregate(count=models.Count("pk"), first=models.Min("pk"), last=models.Max("pk"))
        if not bounds["count"]:
            return result
        first = _events().only("pk", "occurred_at").get(pk=bounds["first"])
        last = _events().only("pk", "occurred_at", "hash").get(pk=bounds["last"])
        result.count = bounds["count"]
        result.first_id, result.first_at = first.pk, first.occurred_at
        result.last_id, result.last_at, result.last_hash = last.pk, last.occurred_at, last.hash
        if dry_run:
            return result
        _delete_up_to(result.first_id, result.last_id)
        result.summary = record(
            verb=PURGE_VERB,
            target_type="audit.auditevent",
            payload={
                "count": result.count,
                "first_id": result.first_id,
                "last_id": result.last_id,
                "first_at": result.first_at.astimezone(datetime.UTC).isoformat(),
                "last_at": result.last_at.astimezone(datetime.UTC).isoformat(),
                "last_hash": result.last_hash,
                "held_back": result.held_back,
            },
        )
    return result


def _delete_up_to(first_id: int, last_id: int) -> None:
    """The raw ``DELETE`` of entries ``first_id``..``last_id``, in id ranges to keep statements short."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    sql = f"DELETE FROM {table} WHERE id >= %s AND id <= %s"  # noqa: S608 -- quoted model table  # nosec B608
    with connection.cursor() as cursor:
        start = first_id
        while start <= last_id:
            end = min(start + DELETE_BATCH_SIZE - 1, last_id)
            cursor.execute(sql, [start, end])
            start = end + 1
