"""Step-up: exports, break-glass and team changes need an authentication less than 10 minutes old."""

import time
from urllib.parse import urlsplit

import pytest
import time_machine
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from maillage.accounts.models import Invitation
from maillage.accounts.stepup import (
    LOGIN_AT_SESSION_KEY,
    is_recently_authenticated,
    last_authenticated_at,
    recent_auth_required,
)
from maillage.programmes.enums import Role
from tests.factories import TEST_PASSWORD, MembershipFactory, totp_code
from tests.www.journal.conftest import client_for, world  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db

ELEVEN_MINUTES = 11 * 60
REAUTHENTICATE = reverse("account_reauthenticate")


def _consultations_pdf(world) -> str:  # noqa: F811
    return reverse("journal:consultations_pdf", args=[world.pathway.child_id])


def _later(seconds: int):
    return time_machine.travel(time.time() + seconds, tick=False)


def _reauthenticate(client, location: str):
    """Confirm the password on the page ``location`` points at; return allauth's answer."""
    split = urlsplit(location)
    assert split.path == REAUTHENTICATE
    page = client.get(location)
    assert page.status_code == 200
    return client.post(location, {"password": TEST_PASSWORD})


def test_an_export_right_after_the_login_needs_no_new_authentication(world):  # noqa: F811
    response = client_for(world.coordinator.user).get(_consultations_pdf(world))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_an_export_ten_minutes_after_the_login_asks_for_the_password_then_comes_back(world):  # noqa: F811
    client = client_for(world.coordinator.user)
    url = _consultations_pdf(world)

    with _later(ELEVEN_MINUTES):
        asked = client.get(url)
        assert asked.status_code == 302
        assert urlsplit(asked["Location"]).path == REAUTHENTICATE
        assert "next=" in asked["Location"]

        wrong = client.post(asked["Location"], {"password": "pas-le-bon-mot-de-passe"})
        assert wrong.status_code == 200, "a wrong password does not let the export through"
        assert client.get(url).status_code == 302

        confirmed = _reauthenticate(client, asked["Location"])
        assert confirmed.status_code == 302
        assert confirmed["Location"] == url

        export = client.get(url)
        assert export.status_code == 200
        assert export["Content-Type"] == "application/pdf"


def test_a_re_authentication_is_itself_valid_ten_minutes(world):  # noqa: F811
    client = client_for(world.coordinator.user)
    url = _consultations_pdf(world)
    with _later(ELEVEN_MINUTES):
        _reauthenticate(client, client.get(url)["Location"])
    with _later(ELEVEN_MINUTES + 9 * 60):
        assert client.get(url).status_code == 200
    with _later(ELEVEN_MINUTES + 11 * 60):
        assert client.get(url).status_code == 302


def test_the_second_factor_also_confirms_the_person(world):  # noqa: F811
    client = client_for(world.coordinator.user)
    url = _consultations_pdf(world)
    with _later(ELEVEN_MINUTES):
        client.get(url)
        mfa_page = reverse("mfa_reauthenticate") + "?" + urlsplit(client.get(url)["Location"]).query
        confirmed = client.post(mfa_page, {"code": totp_code()})
        assert confirmed.status_code == 302
        assert client.get(url).status_code == 200


def test_break_glass_asks_for_a_recent_authentication(world):  # noqa: F811
    client = client_for(world.dpo.user)
    page = reverse("journal:break_glass")
    assert client.get(page).status_code == 200
    with _later(ELEVEN_MINUTES):
        response = client.get(page)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == REAUTHENTICATE


def test_an_invitation_sent_after_ten_minutes_is_held_then_sent_once_the_password_is_confirmed(client):
    coordinator = MembershipFactory(role=Role.COORDINATOR)
    client.force_login(coordinator.user)
    data = {
        "email": "nouvelle.personne@exemple.test",
        "first_name": "Camille",
        "last_name": "Nouvel",
        "role": Role.EPS_MEMBER,
        "organisation": coordinator.organisation_id,
        "job_title": "Infirmière scolaire",
    }
    with _later(ELEVEN_MINUTES):
        held = client.post(reverse("accounts:invite"), data)
        assert held.status_code == 302
        assert urlsplit(held["Location"]).path == REAUTHENTICATE
        assert not Invitation.objects.exists(), "nothing happens before the password is confirmed"

        replayed = _reauthenticate(client, held["Location"])

    assert replayed.status_code == 302
    assert Invitation.objects.filter(email="nouvelle.personne@exemple.test").count() == 1


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, world):  # noqa: F811
    response = client.get(_consultations_pdf(world))
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("account_login")


def test_the_login_time_is_kept_in_the_session_and_read_back(client):
    membership = MembershipFactory(role=Role.REFERENT)
    before = time.time()
    client.force_login(membership.user)
    login_at = client.session[LOGIN_AT_SESSION_KEY]
    assert before <= login_at <= time.time()


def test_the_decorator_keeps_the_view_classification_and_marks_the_view():
    def view(request):
        return HttpResponse("ok")

    view.sensitivity = "sensitive"
    wrapped = recent_auth_required(view)
    assert wrapped.sensitivity == "sensitive"
    assert wrapped.recent_auth_required is True
    assert recent_auth_required(seconds=60)(view).recent_auth_required is True


def test_a_request_without_any_authentication_record_is_not_recent():
    request = RequestFactory().get("/")
    request.session = {}

    class _User:
        is_authenticated = False

    request.user = _User()
    assert last_authenticated_at(request) is None
    assert not is_recently_authenticated(request)


def test_an_htmx_request_is_told_to_load_the_confirmation_page_then_come_back(world):  # noqa: F811
    client = client_for(world.dpo.user)
    page = reverse("journal:break_glass")
    with _later(ELEVEN_MINUTES):
        response = client.get(
            page, headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}?code=X"}
        )
    assert response.status_code == 204
    target = urlsplit(response["HX-Redirect"])
    assert target.path == REAUTHENTICATE
    assert "next=%2Fjournal%2F" in target.query


def test_an_htmx_request_from_another_site_comes_back_home(world):  # noqa: F811
    client = client_for(world.dpo.user)
    with _later(ELEVEN_MINUTES):
        response = client.get(
            reverse("journal:break_glass"),
            headers={"HX-Request": "true", "HX-Current-URL": "https://ailleurs.example/piege"},
        )
    assert urlsplit(response["HX-Redirect"]).query == "next=%2F"
