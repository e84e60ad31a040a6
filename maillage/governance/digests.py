"""Daily and weekly email digests of the in-app notifications.

A notification is sent in at most one digest: sending stamps ``digested_at``. A weekly digest
waits seven days after the previous one. Running the command twice sends nothing the second time.
"""

import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from maillage.audit.services import record
from maillage.governance.enums import DigestFrequency
from maillage.governance.models import Notification, NotificationPreference

PERIODS = {
    DigestFrequency.DAILY: datetime.timedelta(days=1),
    DigestFrequency.WEEKLY: datetime.timedelta(days=7),
}


def send_digests(*, now: datetime.datetime | None = None, base_url: str = "") -> int:
    """Send each due digest; return how many emails were sent."""
    now = now or timezone.now()
    base_url = base_url or getattr(settings, "MAILLAGE_BASE_URL", "")
    sent = 0
    connection = get_connection()
    preferences = NotificationPreference.objects.exclude(digest=DigestFrequency.NONE).select_related("user")
    for preference in preferences:
        if not preference.user.is_active or not preference.user.email:
            continue
        period = PERIODS[DigestFrequency(preference.digest)]
        # A small margin so that a daily job run a few minutes earlier than yesterday still sends.
        if preference.last_digest_at and now - preference.last_digest_at < period - datetime.timedelta(
            hours=1
        ):
            continue
        with transaction.atomic():
            pending = list(
                Notification.objects.select_for_update()
                .filter(user=preference.user, digested_at__isnull=True, created_at__lte=now)
                .order_by("created_at")
            )
            if not pending:
                continue
            lines = [
                ngettext(
                    "Bonjour, voici %(count)s nouvelle notification de Maillage :",
                    "Bonjour, voici %(count)s nouvelles notifications de Maillage :",
                    len(pending),
                )
                % {"count": len(pending)},
                "",
            ]
            for notification in pending:
                line = f"- {timezone.localtime(notification.created_at):%d/%m/%Y} {notification.message}"
                if notification.url:
                    line += f" — {base_url}{notification.url}"
                lines.append(line)
            lines += ["", _("Vous pouvez changer la fréquence de ce résumé sur la page Notifications.")]
            subject = (
                _("Maillage : votre résumé du jour")
                if preference.digest == DigestFrequency.DAILY
                else _("Maillage : votre résumé de la semaine")
            )
            EmailMessage(
                subject=subject, body="\n".join(lines), to=[preference.user.email], connection=connection
            ).send()
            Notification.objects.filter(pk__in=[n.pk for n in pending]).update(digested_at=now)
            preference.last_digest_at = now
            preference.save(update_fields=["last_digest_at", "updated_at"])
            record(
                verb="notifications.digest_sent",
                actor=None,
                target=preference.user,
                payload={"notifications": len(pending), "frequency": preference.digest},
            )
            sent += 1
    return sent
