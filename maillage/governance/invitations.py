"""Invitations to a meeting: an email per member with an iCalendar (RFC 5545) attachment, written by hand.

The calendar uses CRLF line endings, escapes text values (backslash, semicolon, comma, newlines) and
folds lines longer than 75 octets. Times are in UTC (``…Z``). The agenda of an EPS is never in the
invitation: only the body, date, place and link (situations are read in the application).
"""

import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.audit.services import record
from maillage.governance.enums import BodyKind
from maillage.governance.models import Meeting


def escape_text(value: str) -> str:
    """TEXT value escaping of RFC 5545 §3.3.11."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets (continuation lines start with a space), never inside a character."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        limit = 75 if not parts else 74
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def ics_for(meeting: Meeting, *, method: str = "REQUEST", base_url: str = "") -> str:
    body = meeting.body
    url = base_url + reverse("governance:meeting", args=[meeting.pk])
    description = _("Réunion de l'instance « %(body)s ». Ordre du jour et documents : %(url)s") % {
        "body": body.name,
        "url": url,
    }
    if meeting.body.kind != BodyKind.EPS and meeting.agenda:
        description += "\n\n" + meeting.agenda
    location = ", ".join(part for part in (meeting.place, meeting.video_link) if part)
    domain = getattr(settings, "MAILLAGE_ICS_DOMAIN", "maillage.local")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Maillage//Instances du partenariat//FR",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:meeting-{meeting.pk}@{domain}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART:{_utc(meeting.starts_at)}",
        f"DTEND:{_utc(meeting.ends_at)}",
        f"SUMMARY:{escape_text(str(body.name))}",
        f"DESCRIPTION:{escape_text(description)}",
    ]
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if meeting.video_link:
        lines.append(f"URL:{meeting.video_link}")
    lines.append("STATUS:CANCELLED" if meeting.cancelled else "STATUS:CONFIRMED")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)


@transaction.atomic
def send_invitations(*, meeting: Meeting, by, base_url: str = "") -> int:
    """Email each member of the body with an address (members of the programme and outside people)."""
    members = meeting.body.members.select_related("membership__user", "membership__organisation")
    recipients = sorted({m.contact_email for m in members if m.contact_email})
    when = timezone.localtime(meeting.starts_at)
    subject = _("Invitation : %(body)s, le %(day)s à %(hour)s") % {
        "body": meeting.body.name,
        "day": when.strftime("%d/%m/%Y"),
        "hour": when.strftime("%H:%M"),
    }
    text = "\n".join(
        line
        for line in [
            _("Bonjour,"),
            "",
            _("Vous êtes invité·e à la réunion de l'instance « %(body)s ».") % {"body": meeting.body.name},
            _("Date : %(day)s à %(hour)s")
            % {"day": when.strftime("%d/%m/%Y"), "hour": when.strftime("%H:%M")},
            _("Lieu : %(place)s") % {"place": meeting.place} if meeting.place else "",
            _("Visioconférence : %(link)s") % {"link": meeting.video_link} if meeting.video_link else "",
            "",
            _("L'invitation est jointe pour votre agenda."),
        ]
        if line is not None
    )
    ics = ics_for(meeting, base_url=base_url)
    connection = get_connection()
    messages = []
    for address in recipients:
        message = EmailMessage(subject=subject, body=text, to=[address], connection=connection)
        message.attach("invitation.ics", ics, "text/calendar")
        messages.append(message)
    sent = connection.send_messages(messages) if messages else 0
    meeting.invitations_sent_at = timezone.now()
    meeting.save(update_fields=["invitations_sent_at", "updated_at"])
    record(
        verb="meeting.invitations_sent",
        actor=by,
        target=meeting,
        programme=meeting.body.programme_id,
        payload={"recipients": len(recipients)},
    )
    return sent or 0
