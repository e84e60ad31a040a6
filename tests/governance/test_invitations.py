"""Invitations go through SMTP (a real local server) and carry a valid iCalendar attachment."""

import datetime
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from maillage.governance import invitations
from maillage.governance.models import BodyMember
from maillage.programmes.enums import Role
from tests.factories import MembershipFactory, programme_with_lists
from tests.governance.helpers import committee

pytestmark = pytest.mark.django_db


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 -- aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    collector = Collector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield collector
    controller.stop()


def parse_ics(text: str) -> dict:
    """A tiny RFC 5545 reader: checks CRLF endings, unfolds lines, unescapes TEXT values."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # no bare LF anywhere
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in physical)
    lines = []
    for line in physical:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    event, in_event = {}, False
    for line in lines:
        if line == "BEGIN:VEVENT":
            in_event = True
            continue
        if line == "END:VEVENT":
            in_event = False
            continue
        if in_event:
            name, _sep, value = line.partition(":")
            value = value.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")
            event[name.split(";")[0]] = value
    return event


def test_the_invitation_is_sent_through_smtp_with_a_valid_ics(smtp_server):
    programme = programme_with_lists()
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    body = committee(programme, name="Comité de pilotage; séance, plénière")
    BodyMember.objects.create(body=body, membership=coordinator)
    BodyMember.objects.create(
        body=body,
        person_name="Mme Préfète Déléguée",
        institution="Préfecture",
        email="prefecture@exemple.test",
    )
    starts_at = timezone.make_aware(datetime.datetime(2027, 3, 4, 18, 0))
    meeting = body.meetings.create(
        starts_at=starts_at,
        duration_minutes=90,
        place="Hôtel de ville, salle du conseil",
        video_link="https://visio.exemple.test/copil",
        agenda=(
            "1. Bilan d'étape\n"
            "2. Budget 2027 ; financements, cofinancements et appels à projets de l'année à venir"
        ),
    )

    sent = invitations.send_invitations(meeting=meeting, by=coordinator.user)

    assert sent == 2
    assert sorted(r for rcpts, _ in smtp_server.messages for r in rcpts) == sorted(
        [coordinator.user.email, "prefecture@exemple.test"]
    )
    message = email.message_from_bytes(smtp_server.messages[0][1], policy=email.policy.default)
    assert "Invitation" in message["Subject"]
    attachment = next(part for part in message.iter_attachments() if part.get_filename() == "invitation.ics")
    assert attachment.get_content_type() == "text/calendar"
    ics = attachment.get_payload(decode=True).decode()
    # SMTP carries CRLF; the text must still parse as RFC 5545.
    event = parse_ics(ics)
    assert event["DTSTART"] == starts_at.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    assert event["DTEND"] == (starts_at + datetime.timedelta(minutes=90)).astimezone(datetime.UTC).strftime(
        "%Y%m%dT%H%M%SZ"
    )
    assert event["SUMMARY"] == "Comité de pilotage; séance, plénière"
    assert event["LOCATION"] == "Hôtel de ville, salle du conseil, https://visio.exemple.test/copil"
    assert "Budget 2027 ; financements" in event["DESCRIPTION"]
    assert event["UID"] == f"meeting-{meeting.pk}@maillage.local"
    assert event["STATUS"] == "CONFIRMED"
    meeting.refresh_from_db()
    assert meeting.invitations_sent_at is not None


def test_the_ics_escapes_text_and_folds_long_lines():
    assert invitations.escape_text("a;b,c\\d\ne") == "a\\;b\\,c\\\\d\\ne"
    folded = invitations.fold("DESCRIPTION:" + "é" * 80)
    assert all(len(line.encode()) <= 75 for line in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "DESCRIPTION:" + "é" * 80


def test_an_eps_invitation_never_carries_the_agenda(smtp_server):
    from tests.governance.helpers import eps_world

    programme = programme_with_lists()
    world = eps_world(programme)

    ics = invitations.ics_for(world["meeting"])

    assert world["pathway"].case_code not in ics
    assert world["pathway"].child.last_name not in ics
