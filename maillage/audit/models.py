import datetime
import hashlib
import hmac
import json

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a journal entry."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The journal is append-only: entries cannot be updated.")

    def delete(self):
        raise AppendOnlyError("The journal is append-only: entries cannot be deleted.")


class AuditEvent(models.Model):
    """One entry of the access and action journal: who, in which role and programme, did what, when.

    Entries form a hash chain: each carries the hash of the previous one, and its own hash covers its
    content and that link, so that an edited, deleted or reordered entry is detected by
    ``manage.py verify_audit``. The application never updates or deletes an entry.
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

    def __str__(self) -> str:
        return f"#{self.pk} {self.verb} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("The journal is append-only: entries cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The journal is append-only: entries cannot be deleted.")

    def canonical_content(self) -> str:
        """The exact text the hash covers: every field that means something, and the chain link."""
        # The id is not hashed, so that entries can be sealed before insertion (in bulk); order is
        # protected by the chain: each entry's hash covers the previous entry's hash.
        content = {
            "occurred_at": self.occurred_at.astimezone(datetime.UTC).isoformat(),
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "membership": self.membership_id,
            "role": self.role,
            "programme": self.programme_id,
            "verb": self.verb,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "payload": self.payload,
            "request_id": self.request_id,
            "ip_address": self.ip_address,
            "previous_hash": self.previous_hash,
        }
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def compute_hash(self) -> str:
        # HMAC-SHA-256 keyed outside the database: rewriting the whole chain needs the key too.
        key = settings.MAILLAGE_AUDIT_KEY.encode()
        return hmac.new(key, self.canonical_content().encode(), hashlib.sha256).hexdigest()


class ChainHead(models.Model):
    """One row holding the hash of the last entry: locking it serialises appends to the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(null=True)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("tête de chaîne du journal")

    def __str__(self) -> str:
        return f"head → #{self.last_event_id}"
