"""Regression tests for the server errors the form fuzzer found (each was an HTTP 500)."""

import pytest
from django.urls import reverse

from maillage.programmes.enums import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ["%" * 5000, "_%" * 300 + "x", "DEMO\x00-1", "x" * 41])
def test_a_break_glass_search_with_an_impossible_code_finds_nothing_instead_of_failing(
    client, login_as, code
):
    from tests.factories import programme_with_lists

    login_as(Role.COORDINATOR, programme=programme_with_lists())

    get = client.get(reverse("journal:break_glass"), {"code": code})
    post = client.post(reverse("journal:break_glass"), {"code": code, "reason": "Vérification"})

    assert get.status_code == 200  # the search page, nothing found
    assert post.status_code == 404  # like any code of no pathway


def test_a_referral_naming_a_motif_id_no_database_can_hold_is_refused_not_a_crash(client, login_as):
    from tests.factories import programme_with_lists

    login_as(Role.COORDINATOR, programme=programme_with_lists())

    response = client.post(
        reverse("referrals:new"), {"motifs": ["99999999999999999999999999", "-99999999999999999999999999"]}
    )

    assert response.status_code == 200  # the form again, with its errors
    assert "fr-error" in response.content.decode() or "errorlist" in response.content.decode()


def test_a_passkey_sign_in_with_a_number_too_long_to_read_is_refused_not_a_crash(client):
    response = client.post("/compte/2fa/webauthn/login/", {"credential": "9" * 20_000})

    assert response.status_code < 500


def test_adding_a_passkey_with_a_number_too_long_to_read_shows_the_form_again(client, login_as):
    login_as(Role.COORDINATOR)

    response = client.post(
        "/compte/2fa/webauthn/add/", {"credential": "9" * 20_000, "name": "clé", "passwordless": "on"}
    )

    assert response.status_code < 500


@pytest.mark.parametrize("decision", ["abc", "-1", "1.5", "²", "9" * 30, "0x1"])
def test_forwarding_a_meeting_with_a_malformed_decision_id_is_a_404_not_a_crash(client, login_as, decision):
    from tests.factories import programme_with_lists
    from tests.governance.helpers import committee, committee_meeting

    programme = programme_with_lists()
    coordinator = login_as(Role.COORDINATOR, programme=programme)
    meeting = committee_meeting(committee(programme), by=coordinator.user)

    response = client.get(reverse("governance:forward", args=[meeting.pk]), {"decision": decision})

    assert response.status_code == 404


@pytest.mark.parametrize("position", [str(2**70), str(2**40), "40000"])
def test_a_memento_page_placed_beyond_what_the_database_holds_is_refused_not_a_crash(
    client, login_as, position
):
    from maillage.governance.models import MementoPage

    login_as(Role.COORDINATOR)

    response = client.post(
        reverse("governance:memento_page_create"),
        {"title": "Accueil", "slug": "accueil", "position": position, "body": "Bienvenue."},
    )

    assert response.status_code == 200  # the form again, with its error
    assert not MementoPage.objects.exists()
