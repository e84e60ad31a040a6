"""One sealed head per chain, built from the re-chained entries; (chain, sequence) unique."""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations, models
from django.db.models import Max

GENESIS_HASH = "0" * 64


def _seal(head) -> str:
    content = {
        "chain": head.chain,
        "count": head.count,
        "last_event_id": head.last_event_id,
        "last_hash": head.last_hash,
        "purged": head.purged,
        "anchor_hash": head.anchor_hash,
        "chains": head.chains,
    }
    text = json.dumps({"head": content}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(settings.MAILLAGE_AUDIT_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


def build_heads(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ChainHead = apps.get_model("audit", "ChainHead")
    heads = {0: ChainHead(chain=0)}
    for row in AuditEvent.objects.values("chain").annotate(count=Max("sequence")):
        last = AuditEvent.objects.only("pk", "hash").get(chain=row["chain"], sequence=row["count"])
        heads[row["chain"]] = ChainHead(
            chain=row["chain"], count=row["count"], last_event_id=last.pk, last_hash=last.hash
        )
    heads[0].chains = len(heads) - 1
    for head in heads.values():
        head.seal = _seal(head)
    ChainHead.objects.bulk_create(heads.values())


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_rechain_per_programme")]

    operations = [
        migrations.DeleteModel(name="ChainHead"),
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("chain", models.BigIntegerField(primary_key=True, serialize=False)),
                ("count", models.BigIntegerField(default=0)),
                ("last_event_id", models.BigIntegerField(null=True)),
                ("last_hash", models.CharField(default=GENESIS_HASH, max_length=64)),
                ("purged", models.BigIntegerField(default=0)),
                ("anchor_hash", models.CharField(default=GENESIS_HASH, max_length=64)),
                ("chains", models.BigIntegerField(default=0)),
                ("seal", models.CharField(default="", max_length=64)),
            ],
            options={"verbose_name": "tête de chaîne du journal"},
        ),
        migrations.RunPython(build_heads, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=("chain", "sequence"), name="audit_chain_sequence"),
        ),
    ]
