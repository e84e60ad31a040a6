"""Writing to and checking the journal."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from maillage.audit.models import (
    GENESIS_HASH,
    HASHED_COLUMNS,
    PLATFORM_CHAIN,
    AuditEvent,
    ChainHead,
    canonical,
    chain_of,
    entry_content,
    sealer,
)


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


def _locked_head(chain: int) -> ChainHead:
    """The head of ``chain``, locked FOR UPDATE until the end of the transaction.

    Only that chain's row is locked: two programmes' writes never wait for each other. A programme's
    first entry opens its chain: the platform head is locked then (once per programme, ever) to
    count the new chain and to serialise two first entries of the same programme.
    """
    head = ChainHead.objects.select_for_update().filter(chain=chain).first()
    if head is not None:
        return head
    platform = ChainHead.objects.select_for_update().filter(chain=PLATFORM_CHAIN).first()
    if platform is None:
        platform = ChainHead(chain=PLATFORM_CHAIN)
        platform.reseal()
        platform.save(force_insert=True)
    if chain == PLATFORM_CHAIN:
        return platform
    head = ChainHead.objects.select_for_update().filter(chain=chain).first()  # opened meanwhile?
    if head is None:
        head = ChainHead(chain=chain)
        head.reseal()
        head.save(force_insert=True)
        platform.chains += 1
        platform.reseal()
        platform.save(update_fields=["chains", "seal"])
    return head


def _append(events: list[AuditEvent]) -> list[AuditEvent]:
    """Seal ``events`` onto their chains and insert them, in the caller's transaction.

    One lock per chain written (its head row), taken in chain order so that two writers never
    deadlock; a few queries per chain, whatever the number of entries.
    """
    if not events:
        return events
    by_chain: dict[int, list[AuditEvent]] = {}
    for event in events:
        event.chain = chain_of(event.programme_id)
        by_chain.setdefault(event.chain, []).append(event)
    with transaction.atomic():
        heads = {chain: _locked_head(chain) for chain in sorted(by_chain)}
        for chain, head in heads.items():
            previous, sequence = head.last_hash, head.count
            for event in by_chain[chain]:
                sequence += 1
                event.sequence = sequence
                event.previous_hash = previous
                event.hash = previous = event.compute_hash()
        AuditEvent.objects.bulk_create(events)
        for chain, head in heads.items():
            last = by_chain[chain][-1]
            head.count, head.last_hash, head.last_event_id = last.sequence, last.hash, last.pk
            head.reseal()
            head.save(update_fields=["count", "last_hash", "last_event_id", "seal"])
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
    chain: int | None = None

    def __str__(self) -> str:
        if self.event_id is not None:
            where = f"entry #{self.event_id}"
        elif self.chain is not None:
            where = f"the head of {chain_label(self.chain)}"
        else:
            where = "the chain heads"
        return f"{where}: {self.reason}"


def chain_label(chain: int) -> str:
    return "the platform chain" if chain == PLATFORM_CHAIN else f"the chain of programme {chain}"


# Read by ``verify_journal``: the place of each entry, then what its hash covers.
WALKED = ("pk", "chain", "sequence", "previous_hash", "hash", "programme_id", *HASHED_COLUMNS)


def iter_chain(batch_size: int = 5000) -> Iterator[tuple]:
    """Every entry as a tuple of ``WALKED`` values, in id order, in batches (no model instances)."""
    last_id = 0
    while True:
        rows = models.QuerySet(model=AuditEvent).filter(pk__gt=last_id).order_by("pk").values_list(*WALKED)
        batch = list(rows[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1][0]


# Verb of the summary entry that ``maillage.audit.purge`` appends to the platform chain.
PURGE_VERB = "journal.purged"


@dataclass
class ChainReport:
    """What verification found on one chain."""

    chain: int
    entries: int = 0
    purged: int = 0
    problem: Problem | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


@dataclass
class _Walk:
    expected_sequence: int
    previous_hash: str
    last_id: int | None = None
    report: ChainReport | None = None


def verify_journal() -> tuple[list[ChainReport], list[Problem]]:
    """Check every chain and every head; return one report per chain and every problem found.

    One pass over the entries in id order (ids grow with the sequence within a chain), keeping the
    state of each chain: each entry must carry the next sequence number of its chain, link to the
    hash of the previous entry of its chain (or, after a purge, to the anchor its head records) and
    hash to its stored hash under the key. Then each chain must end where its sealed head says
    (sequence number and hash of the last entry), each head's seal must hold, the platform head must
    exist and count the programme chains. The first problem of each chain is reported.
    """
    heads = {head.chain: head for head in ChainHead.objects.all()}
    problems: list[Problem] = []
    walks: dict[int, _Walk] = {}
    for chain, head in heads.items():
        report = ChainReport(chain=chain, purged=head.purged)
        walks[chain] = _Walk(
            head.purged + 1, head.anchor_hash if head.purged else GENESIS_HASH, report=report
        )
    orphans: dict[int, ChainReport] = {}
    keyed = sealer()
    for row in iter_chain():
        pk, chain, sequence, previous_hash, stored_hash, programme_id = row[:6]
        walk = walks.get(chain)
        if walk is None:
            report = orphans.setdefault(chain, ChainReport(chain=chain))
            report.entries += 1
            if report.problem is None:
                report.problem = Problem(pk, "its chain has no head: the head was deleted", chain)
            continue
        report = walk.report
        report.entries += 1
        if report.problem is not None:
            continue
        after = f" (#{walk.last_id})" if walk.last_id else ""
        mac = keyed.copy()
        mac.update(canonical(entry_content(row[6:])))
        if chain != chain_of(programme_id):
            report.problem = Problem(pk, "it was moved to another chain", chain)
        elif sequence != walk.expected_sequence or previous_hash != walk.previous_hash:
            report.problem = Problem(
                pk,
                f"its link does not match the entry before it{after}: "
                "an entry was deleted, inserted or moved",
                chain,
            )
        elif mac.hexdigest() != stored_hash:
            report.problem = Problem(pk, "its content does not match its hash: it was edited", chain)
        walk.expected_sequence, walk.previous_hash, walk.last_id = sequence + 1, stored_hash, pk
    for chain, walk in walks.items():
        head, report = heads[chain], walk.report
        if report.problem is None and head.compute_seal() != head.seal:
            reason = "its seal does not match its content: it was rewritten without the key"
            report.problem = Problem(None, reason, chain)
        if report.problem is None and (
            walk.expected_sequence - 1 != head.count or walk.previous_hash != head.last_hash
        ):
            report.problem = Problem(
                None,
                f"the chain ends at entry {walk.expected_sequence - 1}, its head records {head.count}"
                + (f" (the last #{head.last_event_id})" if head.last_event_id else "")
                + ": entries were removed from the end, or the head was rewound",
                chain,
            )
    reports = sorted([w.report for w in walks.values()] + list(orphans.values()), key=lambda r: r.chain)
    problems = [r.problem for r in reports if r.problem is not None]
    platform = heads.get(PLATFORM_CHAIN)
    if platform is None:
        problems.insert(
            0,
            Problem(None, "the platform chain head is missing: the journal was emptied or its heads deleted"),
        )
    elif len(heads) - 1 != platform.chains:
        problems.insert(
            0,
            Problem(
                None,
                f"{len(heads) - 1} programme chains found, the platform head counts {platform.chains}: "
                "a chain was removed with its head, or the platform head was rewound",
            ),
        )
    return reports, problems


def verify_chain() -> Problem | None:
    """The first problem ``verify_journal`` finds, or None when every chain and head is intact."""
    _reports, problems = verify_journal()
    return problems[0] if problems else None
