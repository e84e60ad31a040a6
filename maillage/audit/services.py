"""Writing to and checking the journal."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from maillage.audit.models import GENESIS_HASH, AuditEvent, ChainHead


def _json_safe(payload: dict[str, Any] | None) -> dict[str, Any]:
    # Store exactly what will be hashed again later: JSON-native types only.
    return json.loads(json.dumps(payload or {}, default=str, sort_keys=True))


def _event(
    *,
    verb: str,
    actor=None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    programme=None,
    membership=None,
    payload: dict[str, Any] | None = None,
    request=None,
) -> AuditEvent:
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
        if programme is None and hasattr(target, "programme_id"):
            programme = target.programme_id
    if membership is not None and programme is None:
        programme = membership.programme_id
    actor_label = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_label = actor.email
    else:
        actor = None
    return AuditEvent(
        occurred_at=timezone.now(),
        actor=actor,
        actor_label=actor_label,
        membership=membership,
        role=membership.role if membership is not None else "",
        programme_id=programme.pk if isinstance(programme, models.Model) else programme,
        verb=verb,
        target_type=target_type,
        target_id=str(target_id) if target_id != "" else "",
        payload=_json_safe(payload),
        request_id=getattr(request, "request_id", "") if request is not None else "",
        ip_address=getattr(request, "client_ip", "") if request is not None else "",
    )


def _append(events: list[AuditEvent]) -> list[AuditEvent]:
    """Seal ``events`` onto the chain and insert them: three queries, whatever their number."""
    if not events:
        return events
    with transaction.atomic():
        head, _created = ChainHead.objects.select_for_update().get_or_create(id=1)
        previous = head.last_hash
        for event in events:
            event.previous_hash = previous
            event.hash = previous = event.compute_hash()
        AuditEvent.objects.bulk_create(events)
        head.last_hash = previous
        head.last_event_id = events[-1].pk
        head.save(update_fields=["last_event_id", "last_hash"])
    return events


def record(**kwargs) -> AuditEvent:
    """Append one entry to the journal, in the caller's transaction.

    Call it from inside the service that performs the operation, so that the entry and the
    operation commit or roll back together. Arguments: ``verb``, and optionally ``actor``,
    ``target`` (or ``target_type``/``target_id``), ``programme``, ``membership``, ``payload``,
    ``request`` (for its id and client address).
    """
    return _append([_event(**kwargs)])[0]


def record_many(entries: list[dict[str, Any]]) -> list[AuditEvent]:
    """Append several entries at once (one per object shown on a list page), in constant queries."""
    return _append([_event(**entry) for entry in entries])


@dataclass
class Problem:
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"entry #{self.event_id}" if self.event_id is not None else "the chain head"
        return f"{where}: {self.reason}"


def iter_chain(batch_size: int = 2000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        batch = list(models.QuerySet(model=AuditEvent).filter(pk__gt=last_id).order_by("pk")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].pk


# Verb of the summary entry left by ``maillage.audit.purge``: its payload's ``last_hash`` (the hash of
# the last purged entry) is the link the first remaining entry must carry.
PURGE_VERB = "journal.purged"


def purge_anchor() -> str | None:
    """The hash the oldest remaining entry links to after the latest purge (None: never purged)."""
    summary = models.QuerySet(model=AuditEvent).filter(verb=PURGE_VERB).order_by("-pk").first()
    return summary.payload.get("last_hash") if summary is not None else None


def verify_chain() -> Problem | None:
    """Walk the chain from the start; return the first problem found, or None when it is intact.

    After a retention purge the chain starts at the oldest remaining entry, whose link must be the
    hash recorded in the latest ``journal.purged`` summary (itself an entry of the chain, so its
    record cannot be edited unnoticed): removing more entries by hand is still detected.
    """
    previous_hash = purge_anchor() or GENESIS_HASH
    previous_id = None
    last = None
    for event in iter_chain():
        if event.previous_hash != previous_hash:
            return Problem(
                event.pk,
                "its link does not match the entry before it"
                + (f" (#{previous_id})" if previous_id else "")
                + ": an entry was deleted, inserted or moved",
            )
        if event.compute_hash() != event.hash:
            return Problem(event.pk, "its content does not match its hash: it was edited")
        previous_hash = event.hash
        previous_id = event.pk
        last = event
    head = ChainHead.objects.filter(id=1).first()
    if head is not None and head.last_hash != (last.hash if last else GENESIS_HASH):
        return Problem(
            None,
            "the last entry is not the one the chain head recorded"
            + (f" (#{head.last_event_id})" if head.last_event_id else "")
            + ": entries were removed from the end",
        )
    return None
