"""A pathway with everyone around it: the people who may write on it, and the people who may not."""

import datetime
import io
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, BodyMember, Meeting
from maillage.pathways import services
from maillage.pathways.models import Consent, Pathway
from maillage.people.models import Guardian
from maillage.programmes.enums import OrganisationKind, Role
from maillage.programmes.models import Membership, Organisation
from tests.factories import MembershipFactory, OrganisationFactory, open_pathway, programme_with_lists

TODAY = timezone.localdate()
SMALL_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class World:
    pathway: Pathway
    guardian: Guardian
    consent: Consent
    school: Organisation
    coordinator: Membership
    referent: Membership
    teacher: Membership  # added to the case team, not bound by secrecy
    eps: Membership  # EPS member during the access window of a meeting listing the situation
    referrer: Membership
    provider: Membership
    outsider: Membership  # coordinator of another programme

    def client(self, who: str) -> Client:
        client = Client()
        client.force_login(getattr(self, who).user)
        return client


ROLES = ["coordinator", "referent", "teacher", "eps", "referrer", "provider", "outsider"]


@pytest.fixture
def world(db) -> World:
    programme = programme_with_lists()
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    referent = MembershipFactory(programme=programme, role=Role.REFERENT)
    pathway = open_pathway(programme=programme, referent=referent.user, by=coordinator.user)
    guardian = pathway.child.household.guardians.get()
    school = OrganisationFactory(programme=programme, kind=OrganisationKind.SCHOOL, name="École Jules Ferry")
    consent = services.consent_record(
        pathway=pathway,
        guardian=guardian,
        given_on=TODAY - datetime.timedelta(days=10),
        by=referent.user,
        shared_with=[school],
        proof=ContentFile(SMALL_PDF, name="accord.pdf"),
        proof_content_type="application/pdf",
    )
    teacher = MembershipFactory(
        programme=programme, role=Role.EPS_MEMBER, organisation=school, bound_by_secrecy=False
    )
    services.case_team_add(
        pathway=pathway, membership=teacher, reason="Enseignante de CE2", by=coordinator.user
    )
    eps = MembershipFactory(programme=programme, role=Role.EPS_MEMBER, bound_by_secrecy=True)
    body = Body.objects.create(programme=programme, kind=BodyKind.EPS, name="EPS du centre")
    BodyMember.objects.create(body=body, membership=eps)
    now = timezone.now()
    meeting = Meeting.objects.create(
        body=body,
        starts_at=now + datetime.timedelta(days=2),
        agenda_published_at=now - datetime.timedelta(days=1),
        access_ends_at=now + datetime.timedelta(days=32),
    )
    AgendaItem.objects.create(meeting=meeting, pathway=pathway)
    return World(
        pathway=pathway,
        guardian=guardian,
        consent=consent,
        school=school,
        coordinator=coordinator,
        referent=referent,
        teacher=teacher,
        eps=eps,
        referrer=MembershipFactory(programme=programme, role=Role.REFERRER),
        provider=MembershipFactory(programme=programme, role=Role.PROVIDER),
        outsider=MembershipFactory(role=Role.COORDINATOR),
    )


def url(name: str, pathway, *args) -> str:
    return reverse(f"followup:{name}", args=[pathway.pk, *args])


def detail(pathway, anchor: str) -> str:
    return reverse("pathways:detail", args=[pathway.pk]) + f"#{anchor}"


def image_bytes(kind: str, *, exif_text: str = "", png_text: str = "", size=(40, 30)) -> bytes:
    """A small picture, optionally carrying metadata that must not survive the upload."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    image = Image.new("RGB", size, (200, 120, 40))
    out = io.BytesIO()
    if kind == "jpeg":
        exif = Image.Exif()
        if exif_text:
            exif[0x010F] = exif_text  # Make
            exif[0x010E] = exif_text  # ImageDescription
        image.save(out, "JPEG", exif=exif.tobytes())
    else:
        info = PngInfo()
        if png_text:
            info.add_text("Comment", png_text)
        if exif_text:
            exif = Image.Exif()
            exif[0x010E] = exif_text
            image.save(out, "PNG", pnginfo=info, exif=exif.tobytes())
            return out.getvalue()
        image.save(out, "PNG", pnginfo=info)
    return out.getvalue()
