"""Writing to and checking the journal."""

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from maillage.audit.models import GENESIS_HASH, AuditEvent, ChainHead


def _json_safe(payload: dict[str, Any] | None) -> dict[str, Any]:
    # Store exactly what will be hashed again later: JSON-native types only.
    return json.loads(json.dumps(payload or {}, default=str, sort_keys=True))


def record(
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
    """Append one entry to the journal, in the caller's transaction.

    Call it from inside the service that performs the operation, so that the entry and the
    operation commit or roll back together.
    """
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
        if programme is None and hasattr(target, "programme_id"):
            programme = target.programme_id
    if membership is not None:
        programme = programme if programme is not None else membership.programme_id
    actor_label = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_label = actor.email
    else:
        actor = None
    with transaction.atomic():
        head, _created = ChainHead.objects.select_for_update().get_or_create(id=1)
        event = AuditEvent(
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
            previous_hash=head.last_hash,
        )
        # The id is part of the hashed content: insert to take it, then seal the entry with its hash.
        event.hash = secrets.token_hex(32)
        event.save(force_insert=True)
        _seal(event, event.compute_hash())
        head.last_event_id = event.pk
        head.last_hash = event.hash
        head.save(update_fields=["last_event_id", "last_hash"])
    return event


def _seal(event: AuditEvent, sealed: str) -> None:
    # The only write to an existing entry: filling in its own hash within the inserting transaction.
    models.QuerySet(model=AuditEvent).filter(pk=event.pk).update(hash=sealed)
    event.hash = sealed


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


def verify_chain() -> Problem | None:
    """Walk the chain from the start; return the first problem found, or None when it is intact."""
    previous_hash = GENESIS_HASH
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
