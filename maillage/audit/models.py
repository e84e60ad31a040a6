import datetime
import hashlib
import hmac
import json

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64
# The chain of platform-level events (sign-ins, account changes): entries attached to no programme.
PLATFORM_CHAIN = 0


def chain_of(programme_id: int | None) -> int:
    """The chain an entry belongs to: its programme's, or the platform's."""
    return programme_id or PLATFORM_CHAIN


def canonical(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sealer():
    """A keyed HMAC-SHA-256 to ``.copy()`` per message (the key is set up once)."""
    return hmac.new(settings.MAILLAGE_AUDIT_KEY.encode(), digestmod=hashlib.sha256)


def seal(content: dict) -> str:
    """HMAC-SHA-256 of ``content`` (canonical JSON) keyed outside the database."""
    mac = sealer()
    mac.update(canonical(content))
    return mac.hexdigest()


# What an entry's hash covers: (name in the hashed text, model attribute). The id is not hashed, so
# that entries can be sealed before insertion (in bulk); order is protected by the chain: each
# entry's hash covers its chain, its sequence number in it and the previous entry's hash.
HASHED = (
    ("occurred_at", "occurred_at"),
    ("actor", "actor_id"),
    ("actor_label", "actor_label"),
    ("membership", "membership_id"),
    ("role", "role"),
    ("programme", "programme_id"),
    ("verb", "verb"),
    ("target_type", "target_type"),
    ("target_id", "target_id"),
    ("payload", "payload"),
    ("request_id", "request_id"),
    ("ip_address", "ip_address"),
    ("chain", "chain"),
    ("sequence", "sequence"),
    ("previous_hash", "previous_hash"),
)
HASHED_NAMES = tuple(name for name, _column in HASHED)
HASHED_COLUMNS = tuple(column for _name, column in HASHED)


def entry_content(values: tuple) -> dict:
    """The hashed content of an entry from its ``HASHED_COLUMNS`` values, in that order."""
    content = dict(zip(HASHED_NAMES, values, strict=True))
    content["occurred_at"] = content["occurred_at"].astimezone(datetime.UTC).isoformat()
    return content


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a journal entry."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The journal is append-only: entries cannot be updated.")

    def delete(self):
        raise AppendOnlyError("The journal is append-only: entries cannot be deleted.")


class AuditEvent(models.Model):
    """One entry of the access and action journal: who, in which role and programme, did what, when.

    Entries form one hash chain per programme (plus one for platform-level events): each carries
    its chain, its sequence number in it and the hash of the previous entry of its chain, and its
    own hash (an HMAC keyed outside the database) covers its content, its place and that link, so
    that an edited, deleted or reordered entry is detected by ``manage.py verify_audit``. The end of
    each chain is recorded in its sealed ``ChainHead``. The application never updates or deletes an
    entry.
    """

    occurred_at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("auteur"), max_length=255, blank=True)
    membership = models.ForeignKey(
        "programmes.Membership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    role = models.CharField(_("rôle"), max_length=20, blank=True)
    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verb = models.CharField(_("action"), max_length=80)
    target_type = models.CharField(_("type d'objet"), max_length=80, blank=True)
    target_id = models.CharField(_("identifiant d'objet"), max_length=64, blank=True)
    payload = models.JSONField(_("détails"), default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.CharField(_("adresse IP"), max_length=45, blank=True)
    chain = models.BigIntegerField(editable=False, default=PLATFORM_CHAIN)
    sequence = models.BigIntegerField(editable=False, default=0)
    previous_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("entrée du journal")
        verbose_name_plural = _("journal")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["programme", "occurred_at"], name="audit_programme_time"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time"),
            models.Index(fields=["verb", "occurred_at"], name="audit_verb_time"),
        ]
        constraints = [models.UniqueConstraint(fields=["chain", "sequence"], name="audit_chain_sequence")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.verb} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("The journal is append-only: entries cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The journal is append-only: entries cannot be deleted.")

    def content(self) -> dict:
        """What the hash covers: every field that means something, the entry's place and its link."""
        return entry_content(tuple(getattr(self, column) for column in HASHED_COLUMNS))

    def canonical_content(self) -> str:
        """The exact text the hash covers."""
        return canonical(self.content()).decode()

    def compute_hash(self) -> str:
        # HMAC-SHA-256 keyed outside the database: rewriting the whole chain needs the key too.
        return seal(self.content())


class ChainHead(models.Model):
    """The sealed end of one chain: locking it serialises appends to that chain only.

    ``count`` is the sequence number of the last entry ever appended (entries are numbered from 1),
    ``last_hash`` its hash; ``purged`` entries were removed from the start by the retention purge,
    the last of them hashing to ``anchor_hash``. The platform head also counts the programme chains
    opened (``chains``), so that a whole chain removed with its head is missed. ``seal`` is an HMAC
    of all of this with the journal's key: a head rewritten, rewound to older values or re-sealed
    without the key fails verification.
    """

    chain = models.BigIntegerField(primary_key=True)
    count = models.BigIntegerField(default=0)
    last_event_id = models.BigIntegerField(null=True)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    purged = models.BigIntegerField(default=0)
    anchor_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    chains = models.BigIntegerField(default=0)
    seal = models.CharField(max_length=64, default="")

    class Meta:
        verbose_name = _("tête de chaîne du journal")

    def __str__(self) -> str:
        return f"chain {self.chain}: {self.count} → #{self.last_event_id}"

    def content(self) -> dict:
        return {
            "chain": self.chain,
            "count": self.count,
            "last_event_id": self.last_event_id,
            "last_hash": self.last_hash,
            "purged": self.purged,
            "anchor_hash": self.anchor_hash,
            "chains": self.chains,
        }

    def compute_seal(self) -> str:
        return seal({"head": self.content()})

    def reseal(self) -> None:
        self.seal = self.compute_seal()
