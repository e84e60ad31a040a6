"""EPS meeting documents follow their circle, like every written item (design/CONFIDENTIALITY.md).

A ``secret`` document about a situation reaches the coordinator and the case team's members under
the secret conditions (the bound social worker in the window); the teacher and a référent who is
not in the situation's case team neither see its title nor download it (404). Without a choice, a
document takes the most restrictive circle.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from maillage.governance.models import MeetingDocument
from maillage.pathways.enums import Circle
from maillage.programmes.enums import Role
from tests.factories import MembershipFactory, programme_with_lists
from tests.governance.helpers import eps_world
from tests.governance.registries import SMALL_PDF

pytestmark = pytest.mark.django_db

SECRET_TITLE = "Bilan-orthophonique-secret"
TEAM_TITLE = "Note-sociale-equipe"
PARTNERS_TITLE = "Emploi-du-temps-partenaires"


def client_for(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _upload(world, title: str, **data):
    return client_for(world["coordinator"]).post(
        reverse("governance:document_add", args=[world["meeting"].pk]),
        {"title": title, "file": SimpleUploadedFile("x.pdf", SMALL_PDF, "application/pdf"), **data},
    )


@pytest.fixture
def world():
    world = eps_world(programme_with_lists())
    pathway = world["pathway"].pk
    for title, circle in ((SECRET_TITLE, Circle.SECRET), (PARTNERS_TITLE, Circle.PARTNERS)):
        assert _upload(world, title, circle=circle, pathway=pathway).status_code == 302
    assert _upload(world, TEAM_TITLE, pathway=pathway).status_code == 302  # no circle chosen
    world["outside_referent"] = MembershipFactory(programme=world["body"].programme, role=Role.REFERENT)
    world["documents"] = {d.title: d for d in MeetingDocument.objects.all()}
    return world


def _reads(world, who: str) -> dict[str, tuple[bool, int]]:
    """Title → (title on the meeting page, status of the download), for ``who``."""
    client = client_for(world[who])
    page = client.get(reverse("governance:meeting", args=[world["meeting"].pk])).content.decode()
    return {
        title: (title in page, client.get(reverse("governance:document", args=[document.pk])).status_code)
        for title, document in world["documents"].items()
    }


def test_the_author_chooses_the_circle_and_team_is_the_default(world):
    documents = world["documents"]
    assert documents[SECRET_TITLE].circle == Circle.SECRET
    assert documents[TEAM_TITLE].circle == Circle.TEAM
    assert documents[SECRET_TITLE].pathway == world["pathway"]


def test_the_teacher_sees_and_downloads_the_partners_document_only(world):
    assert _reads(world, "teacher") == {
        SECRET_TITLE: (False, 404),
        TEAM_TITLE: (False, 404),
        PARTNERS_TITLE: (True, 200),
    }


def test_a_referent_outside_the_case_team_sees_no_document_of_the_situation(world):
    assert _reads(world, "outside_referent") == {
        SECRET_TITLE: (False, 404),
        TEAM_TITLE: (False, 404),
        PARTNERS_TITLE: (False, 404),
    }


def test_the_bound_member_in_the_window_reads_the_secret_document_not_the_team_one(world):
    assert _reads(world, "bound") == {
        SECRET_TITLE: (True, 200),
        TEAM_TITLE: (False, 404),
        PARTNERS_TITLE: (True, 200),
    }


def test_the_coordinator_reads_every_document(world):
    assert set(_reads(world, "coordinator").values()) == {(True, 200)}


def test_a_document_cannot_name_a_situation_off_the_agenda(world):
    from tests.governance.helpers import eps_pathway

    other = eps_pathway(world["body"].programme, coordinator=world["coordinator"].user)
    response = _upload(world, "Autre", circle=Circle.PARTNERS, pathway=other.pk)
    assert response.status_code == 200
    assert not MeetingDocument.objects.filter(title="Autre").exists()


def test_a_download_is_journaled_on_the_situation_with_its_circle(world):
    """A document about a situation is nominative: its download appears in « who consulted this file »."""
    from maillage.audit.models import AuditEvent

    document = world["documents"][PARTNERS_TITLE]
    before = AuditEvent.objects.filter(verb="meeting.document_downloaded").count()
    response = client_for(world["teacher"]).get(reverse("governance:document", args=[document.pk]))
    assert response.status_code == 200
    entries = AuditEvent.objects.filter(verb="meeting.document_downloaded")
    assert entries.count() == before + 1
    entry = entries.latest("pk")
    assert entry.actor == world["teacher"].user
    assert (entry.target_type, entry.target_id) == ("pathways.pathway", str(world["pathway"].pk))
    assert entry.payload["circles"] == [Circle.PARTNERS]
    # Nothing is journaled for a refused download.
    client_for(world["teacher"]).get(
        reverse("governance:document", args=[world["documents"][SECRET_TITLE].pk])
    )
    assert entries.count() == before + 1
