"""The charter gate: no nominative page before the current charter of confidentiality is signed.

For a view classified ``@sensitive``, a member whose current membership must sign the programme's
current charter gets the charter page (text and sign button) instead — a 200, whatever the object
asked for, so that the gate says nothing of what exists — and the view never runs: nothing shown,
nothing journaled, nothing written.
"""

import html

import pytest
from django.test import Client
from django.urls import reverse

from maillage.audit.models import AuditEvent
from maillage.pathways.enums import PathwayState
from maillage.programmes.enums import Role
from maillage.programmes.models import CharterSignature
from maillage.www.context import SESSION_KEY
from tests.factories import CharterVersionFactory, ChildFactory, MembershipFactory, ProgrammeFactory
from tests.www.journal.sensitive_urls import SENSITIVE_URLS, new_world

pytestmark = pytest.mark.django_db

NEW_CHARTER = "Article premier : ne partager que le strictement nécessaire, version révisée."
GATE_MESSAGE = "signez d'abord la version en vigueur de la charte de confidentialité"

# The home page shows an unsigned member a callout and no names: it handles the charter itself.
GATED_URLS = sorted(name for name in SENSITIVE_URLS if name != "home")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _is_charter_page(response) -> bool:
    body = html.unescape(response.content.decode())
    return (
        response.status_code == 200
        and "programmes/charter.html" in [t.name for t in response.templates]
        and NEW_CHARTER in body
        and f'action="{reverse("programmes:charter_sign")}"' in body
        and GATE_MESSAGE in body
    )


@pytest.mark.parametrize("url_name", GATED_URLS)
def test_a_member_who_has_not_signed_the_new_charter_gets_the_charter_instead_of_any_nominative_page(
    url_name,
):
    world = new_world()
    case = SENSITIVE_URLS[url_name](world)
    user = case.user or world.coordinator.user
    CharterVersionFactory(programme=world.programme, number=99, body=NEW_CHARTER)
    before = _last_event_id()

    response = _client(user).get(reverse(url_name, kwargs=case.kwargs), case.query)

    assert _is_charter_page(response), f"{url_name} answered {response.status_code} without the charter"
    assert not AuditEvent.objects.filter(pk__gt=before).exists()


def test_once_signed_the_page_asked_for_is_shown():
    world = new_world()
    child = ChildFactory(programme=world.programme, last_name="Sentinelle-Charte")
    CharterVersionFactory(programme=world.programme, number=2, body=NEW_CHARTER)
    client = _client(world.coordinator.user)
    url = reverse("people:child", args=[child.pk])

    gated = client.get(url)
    assert _is_charter_page(gated)
    assert "SENTINELLE-CHARTE" not in gated.content.decode().upper()

    signed = client.post(reverse("programmes:charter_sign"), {"accept": "on"})
    assert signed.status_code == 302
    assert CharterSignature.objects.filter(membership=world.coordinator, version__number=2).exists()

    shown = client.get(url)
    assert shown.status_code == 200
    assert "people/child_detail.html" in [t.name for t in shown.templates]
    assert AuditEvent.objects.filter(verb="child.viewed", target_id=str(child.pk)).count() == 1


def test_the_gate_gives_the_same_answer_for_an_object_that_does_not_exist():
    world = new_world()
    CharterVersionFactory(programme=world.programme, number=2, body=NEW_CHARTER)
    client = _client(world.coordinator.user)

    assert _is_charter_page(client.get(reverse("people:child", args=[987654])))
    assert _is_charter_page(client.get(reverse("pathways:detail", args=[987654])))


def test_a_write_is_not_carried_out_behind_the_gate():
    world = new_world()
    pathway = world.pathway()
    CharterVersionFactory(programme=world.programme, number=2, body=NEW_CHARTER)
    before = _last_event_id()

    response = _client(world.coordinator.user).post(
        reverse("pathways:close", args=[pathway.pk]), {"version": pathway.version, "confirm": "on"}
    )

    assert _is_charter_page(response)
    pathway.refresh_from_db()
    assert pathway.state != PathwayState.CLOSED
    assert not AuditEvent.objects.filter(pk__gt=before).exists()


@pytest.mark.parametrize("url_name", ["programmes:profile", "programmes:organisations", "programmes:charter"])
def test_pages_without_nominative_data_are_not_gated(url_name):
    world = new_world()
    CharterVersionFactory(programme=world.programme, number=2, body=NEW_CHARTER)

    response = _client(world.coordinator.user).get(reverse(url_name))

    assert response.status_code == 200
    assert GATE_MESSAGE not in html.unescape(response.content.decode())


def test_the_home_page_asks_for_the_signature_itself_and_shows_no_reminder():
    world = new_world()
    CharterVersionFactory(programme=world.programme, number=2, body=NEW_CHARTER)

    response = _client(world.coordinator.user).get(reverse("home"))

    assert response.status_code == 200
    assert "pages/home.html" in [t.name for t in response.templates]
    assert 'data-testid="charter-callout"' in response.content.decode()


def test_a_role_that_needs_no_signature_is_never_gated():
    programme = ProgrammeFactory()
    steering = MembershipFactory(programme=programme, role=Role.STEERING, signed_charter=False)
    CharterVersionFactory(programme=programme, number=2, body=NEW_CHARTER)

    response = _client(steering.user).get(reverse("people:children"))

    assert response.status_code == 404  # the page's own answer: this role lists no children
    assert GATE_MESSAGE not in html.unescape(response.content.decode())


def test_the_gate_follows_the_programme_one_works_in():
    signed_world, unsigned_world = new_world(), new_world()
    user = signed_world.coordinator.user
    other = MembershipFactory(programme=unsigned_world.programme, role=Role.COORDINATOR, user=user)
    CharterVersionFactory(programme=unsigned_world.programme, number=2, body=NEW_CHARTER)
    client = _client(user)
    url = reverse("people:children")

    assert client.get(url).status_code == 200
    assert not _is_charter_page(client.get(url))

    session = client.session
    session[SESSION_KEY] = other.pk
    session.save()
    assert _is_charter_page(client.get(url))


def test_visitors_who_are_not_signed_in_are_sent_to_the_login_page():
    response = Client().get(reverse("people:children"))

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
