"""Every free text that leaves the case team goes through the one detector (``nominative_problems``):
minutes, meeting document titles, comité highlights, mission sheets and their comments, memento pages.
The evasions the review used (« Nicolas S. », a parent's name, « DEMO 2026 0003 », a non-breaking hyphen,
a zero-width space) are refused everywhere, with a French message quoting what was found."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maillage.governance import services
from maillage.governance.models import MeetingDocument, MementoPage, MissionSheetComment
from maillage.governance.services import GovernanceError
from maillage.programmes.enums import Role
from maillage.steering import services as steering_services
from maillage.steering.models import CopilNote
from tests.factories import ChildFactory, GuardianFactory, MembershipFactory, programme_with_lists
from tests.governance.helpers import child_named, committee, committee_meeting, mission_sheet

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def programme():
    return programme_with_lists()


@pytest.fixture
def coordinator(programme):
    return MembershipFactory(programme=programme, role=Role.COORDINATOR)


@pytest.fixture
def world(programme):
    child = child_named(programme, "Nicolas", "Sauvageot")
    GuardianFactory(household=child.household, first_name="Corinne", last_name="Lemarchal")
    return child


def evasions(programme):
    prefix = programme.case_code_prefix
    return [
        "Nicolas S. est suivi par le CMP.",
        "Mme Lemarchal a été reçue.",
        "Corinne L. a été reçue.",
        f"Point sur {prefix} 2026 0003 : RAS.",
        f"Point sur {prefix.lower()}20260003 : RAS.",
        f"Point sur {prefix}\u20112026\u20110003 : RAS.",
        "Nico\u200blas\u00a0Sauvageot est suivi.",
    ]


def _writes(programme, coordinator):
    user = coordinator.user
    meeting = committee_meeting(committee(programme), by=user)
    sheet = mission_sheet(programme, by=user)
    other = committee(programme, name="Autre comité")
    return {
        "minutes": lambda text: services.minutes_save(meeting=meeting, text=text, by=user),
        "document title": lambda text: services.document_add(
            meeting=meeting,
            title=text,
            upload=SimpleUploadedFile("ordre.pdf", PDF, content_type="application/pdf"),
            by=user,
        ),
        "comité highlights": lambda text: steering_services.save_copil_note(
            programme=programme, year=2026, highlights=text, by=user
        ),
        "mission sheet": lambda text: services.mission_sheet_revise(sheet=sheet, body=text, by=user),
        "mission sheet title": lambda text: services.mission_sheet_create(
            programme=programme, title=text[:60], body="Texte.", by=user
        ),
        "mission-sheet comment": lambda text: services.mission_sheet_comment(sheet=sheet, body=text, by=user),
        "memento page": lambda text: services.memento_page_save(
            programme=programme, title="Accueil", slug="accueil", body=text, by=user
        ),
        "agenda item": lambda text: services.agenda_item_add(meeting=meeting, title=text, by=user),
        "forwarding": lambda text: services.forward(meeting=meeting, to_body=other, summary=text, by=user),
    }


WRITES = [
    "minutes",
    "document title",
    "comité highlights",
    "mission sheet",
    "mission sheet title",
    "mission-sheet comment",
    "memento page",
    "agenda item",
    "forwarding",
]


@pytest.mark.parametrize("where", WRITES)
def test_every_free_text_refuses_every_evasion(programme, coordinator, world, where):
    write = _writes(programme, coordinator)[where]
    for text in evasions(programme):
        with pytest.raises(GovernanceError) as error:
            write(text)
        assert "non nominatif" in error.value.messages[0], (where, text)
    assert not MeetingDocument.objects.exists()
    assert not CopilNote.objects.filter(highlights__contains="RAS").exists()
    assert not MissionSheetComment.objects.exists()
    assert not MementoPage.objects.exists()


@pytest.mark.parametrize("where", WRITES)
def test_every_free_text_accepts_a_text_without_names(programme, coordinator, world, where):
    _writes(programme, coordinator)[where]("Nicolas, animateur, présente le bilan du petit groupe.")


def test_the_message_quotes_what_was_written_and_says_a_parent_is_a_parent(programme, world):
    problems = services.nominative_problems(programme, "Mme LEMARCHAL et Nicolas S. sont venus.")
    assert any("« LEMARCHAL »" in p and "parent" in p for p in problems)
    assert any("« Nicolas S. »" in p and "enfant" in p for p in problems)
    code = services.nominative_problems(programme, f"{programme.case_code_prefix.lower()} 2026 3")
    assert code == []  # a number too short to be a case code
    code = services.nominative_problems(programme, f"{programme.case_code_prefix.lower()} 2026 0003")
    assert f"« {programme.case_code_prefix}-2026-0003 »" in code[0]


def test_children_and_guardians_of_another_programme_are_not_candidates(programme, world):
    other = programme_with_lists()
    child = ChildFactory(programme=other, first_name="Hugo", last_name="Kerbrat")
    GuardianFactory(household=child.household, first_name="Anne", last_name="Quémeneur")
    assert services.nominative_problems(programme, "Hugo Kerbrat et Mme Quémeneur.") == []


def test_the_check_costs_two_queries_however_many_children(programme):
    for _ in range(30):
        GuardianFactory(household=ChildFactory(programme=programme).household)
    with CaptureQueriesContext(connection) as queries:
        services.nominative_problems(programme, "Un texte ordinaire.")
    assert len(queries) == 2


def test_the_copil_page_shows_the_refusal_on_the_highlights_field_and_keeps_nothing(
    client, login_as, programme, world
):
    import html

    from django.urls import reverse

    login_as(Role.COORDINATOR, programme=programme)

    response = client.post(
        reverse("steering:copil"), {"highlights": "Bravo à Nicolas\u00a0S. pour ses progrès."}
    )

    assert response.status_code == 200
    assert "« Nicolas S. »" in html.unescape(response.content.decode())
    assert not CopilNote.objects.filter(highlights__contains="Bravo").exists()
