"""Re-partition the single journal chain into one chain per programme (plus the platform's).

The existing chain is verified first, with the algorithm that sealed it (frozen below): a journal
that does not verify is NOT re-sealed — the migration stops, so that re-chaining never launders a
tampering (run the previous release's ``verify_audit``, investigate, restore from a backup). Then,
in id order, each entry gets its chain (its programme, or 0 for the platform), its sequence number
in that chain, the hash of the previous entry of that chain and a new HMAC under the same key.
A purge made before (its ``journal.purged`` summary stays, re-sealed) is checked through its anchor,
and the re-chained chains start at the oldest remaining entry.
"""

import datetime
import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations

GENESIS_HASH = "0" * 64
BATCH = 2000
FIELDS = [
    "id",
    "occurred_at",
    "actor_id",
    "actor_label",
    "membership_id",
    "role",
    "programme_id",
    "verb",
    "target_type",
    "target_id",
    "payload",
    "request_id",
    "ip_address",
    "previous_hash",
    "hash",
]


def _content(event) -> dict:
    return {
        "occurred_at": event.occurred_at.astimezone(datetime.UTC).isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "membership": event.membership_id,
        "role": event.role,
        "programme": event.programme_id,
        "verb": event.verb,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "payload": event.payload,
        "request_id": event.request_id,
        "ip_address": event.ip_address,
        "previous_hash": event.previous_hash,
    }


def _hmac(content: dict) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(settings.MAILLAGE_AUDIT_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


def _batches(AuditEvent):
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(pk__gt=last_id).order_by("pk").only(*FIELDS)[:BATCH])
        if not batch:
            return
        yield batch
        last_id = batch[-1].pk


def _verify_single_chain(AuditEvent, ChainHead) -> None:
    """The check of the single chain as it was (purge anchor, links, HMAC, head); raise if broken."""
    summary = AuditEvent.objects.filter(verb="journal.purged").order_by("-pk").first()
    previous = (summary.payload.get("last_hash") if summary is not None else None) or GENESIS_HASH
    for batch in _batches(AuditEvent):
        for event in batch:
            if event.previous_hash != previous or _hmac(_content(event)) != event.hash:
                raise RuntimeError(
                    f"The journal does not verify at entry #{event.pk}: it is not re-chained. Run "
                    "verify_audit with the previous release, investigate, and restore the journal from a "
                    "backup before migrating."
                )
            previous = event.hash
    head = ChainHead.objects.filter(id=1).first()
    if head is not None and head.last_hash != previous:
        raise RuntimeError("The journal's last entries were removed (its chain head disagrees): not re-chained.")


def rechain(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ChainHead = apps.get_model("audit", "ChainHead")
    _verify_single_chain(AuditEvent, ChainHead)
    ends: dict[int, tuple[int, str]] = {}  # chain → (last sequence, last hash)
    for batch in _batches(AuditEvent):
        for event in batch:
            chain = event.programme_id or 0
            sequence, previous = ends.get(chain, (0, GENESIS_HASH))
            event.chain, event.sequence, event.previous_hash = chain, sequence + 1, previous
            content = {**_content(event), "chain": event.chain, "sequence": event.sequence}
            event.hash = _hmac(content)
            ends[chain] = (event.sequence, event.hash)
        AuditEvent.objects.bulk_update(batch, ["chain", "sequence", "previous_hash", "hash"])


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chains_per_programme")]

    operations = [migrations.RunPython(rechain, migrations.RunPython.noop)]
