"""Putting a situation on an EPS agenda (issue #13, point 19): a direct action from the pathway page, with
a DSFR select of the programme's upcoming EPS meetings and nothing preselected; on the meeting side, the
situation selector has an empty first choice too and is DSFR-styled."""

import datetime
import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from maillage.governance import services
from maillage.governance.enums import BodyKind
from maillage.programmes.enums import Role
from tests.factories import MembershipFactory, programme_with_lists
from tests.governance.helpers import committee, eps_body, eps_pathway

pytestmark = pytest.mark.django_db


def client_for(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _select(text: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>.*?</select>', text, re.S)
    assert match, text
    return match.group()


@pytest.fixture
def world():
    programme = programme_with_lists()
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    referent = MembershipFactory(programme=programme, role=Role.REFERENT)
    pathway = eps_pathway(programme, coordinator=coordinator.user, referent=referent.user)
    other = eps_pathway(programme, coordinator=coordinator.user)
    eps = eps_body(programme)

    def meeting(days, body=eps, cancelled=False):
        made = services.meeting_schedule(
            body=body,
            starts_at=timezone.now() + datetime.timedelta(days=days),
            by=coordinator.user,
            publish=True,
        )
        if cancelled:
            services.meeting_cancel(meeting=made, by=coordinator.user)
        return made

    elsewhere = programme_with_lists()
    return {
        "programme": programme,
        "coordinator": coordinator,
        "referent": referent,
        "pathway": pathway,
        "other": other,
        "soon": meeting(5),
        "later": meeting(20),
        "past": meeting(-3),
        "cancelled": meeting(8, cancelled=True),
        "committee": meeting(6, body=committee(programme, kind=BodyKind.TECHNICAL_COMMITTEE, name="CT")),
        "elsewhere": services.meeting_schedule(
            body=eps_body(elsewhere, name="EPS d'ailleurs"),
            starts_at=timezone.now() + datetime.timedelta(days=4),
            by=MembershipFactory(programme=elsewhere, role=Role.COORDINATOR).user,
        ),
    }


def test_the_pathway_page_offers_the_direct_action(world):
    page = client_for(world["referent"]).get(reverse("pathways:detail", args=[world["pathway"].pk]))
    url = reverse("governance:pathway_to_eps", args=[world["pathway"].pk])
    assert url in page.content.decode()
    assert "Inscrire à l'ordre du jour d'une EPS" in html.unescape(page.content.decode())


def test_the_form_lists_the_upcoming_eps_meetings_of_the_programme_nothing_preselected(world):
    url = reverse("governance:pathway_to_eps", args=[world["pathway"].pk])

    text = client_for(world["referent"]).get(url).content.decode()

    select = _select(text, "meeting")
    assert 'class="fr-select' in select
    options = re.findall(r'<option value="([^"]*)"([^>]*)>([^<]*)</option>', select)
    assert options[0][0] == "" and options[0][2] == "Choisir une réunion"
    # Only the empty choice may be marked selected: no meeting is chosen for the person.
    assert not any("selected" in attributes for _v, attributes, _l in options[1:])
    assert [int(v) for v, _a, _l in options[1:]] == [world["soon"].pk, world["later"].pk]
    assert world["pathway"].case_code in text


def test_choosing_a_meeting_puts_the_situation_on_its_agenda_and_returns_to_the_pathway(world):
    url = reverse("governance:pathway_to_eps", args=[world["pathway"].pk])
    client = client_for(world["referent"])

    empty = client.post(url, {"meeting": ""})
    wrong = client.post(url, {"meeting": world["committee"].pk})
    response = client.post(url, {"meeting": world["later"].pk})

    assert empty.status_code == 200 and wrong.status_code == 200  # the form says what is missing
    assert response.status_code == 302
    assert response["Location"] == reverse("pathways:detail", args=[world["pathway"].pk])
    assert list(world["later"].agenda_items.values_list("pathway", flat=True)) == [world["pathway"].pk]
    assert not world["soon"].agenda_items.exists() and not world["committee"].agenda_items.exists()
    # Once on that agenda, the meeting is no longer offered.
    text = client.get(url).content.decode()
    assert f'value="{world["later"].pk}"' not in _select(text, "meeting")


def test_a_referent_of_another_pathway_gets_a_404(world):
    url = reverse("governance:pathway_to_eps", args=[world["other"].pk])
    assert client_for(world["referent"]).get(url).status_code == 404
    assert client_for(world["referent"]).post(url, {"meeting": world["soon"].pk}).status_code == 404
    assert not world["soon"].agenda_items.exists()


def test_the_meeting_side_selector_has_an_empty_first_choice_and_is_dsfr_styled(world):
    url = reverse("governance:situation_add", args=[world["soon"].pk])

    text = client_for(world["coordinator"]).get(url).content.decode()

    select = _select(text, "pathway")
    assert 'class="fr-select' in select
    options = re.findall(r'<option value="([^"]*)"([^>]*)>', select)
    assert options[0][0] == ""
    assert "Choisir une situation" in select
    assert not any("selected" in attributes for _v, attributes in options[1:])
