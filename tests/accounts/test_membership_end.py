"""Ending a membership from the team page: access and sessions close at once; a step-up is asked."""

import time

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from maillage import permissions as perms
from maillage.audit.models import AuditEvent
from maillage.programmes.enums import Role
from maillage.programmes.models import Membership
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _url(membership) -> str:
    return reverse("accounts:membership_end", args=[membership.pk])


@pytest.fixture
def team():
    coordinator = MembershipFactory(role=Role.COORDINATOR)
    referent = MembershipFactory(role=Role.REFERENT, programme=coordinator.programme)
    return coordinator, referent


def _browser_of(user) -> Client:
    browser = Client()
    browser.force_login(user)
    browser.get(reverse("legal"))
    return browser


def test_the_team_page_offers_to_remove_others_but_not_oneself(client, team):
    coordinator, referent = team
    client.force_login(coordinator.user)
    body = client.get(reverse("accounts:team")).content.decode()
    assert _url(referent) in body
    assert _url(coordinator) not in body
    assert client.get(_url(coordinator)).status_code == 404


def test_ending_a_membership_closes_access_and_sessions_at_once(client, team):
    coordinator, referent = team
    referent_browser = _browser_of(referent.user)
    assert referent_browser.get(reverse("home")).status_code == 200
    client.force_login(coordinator.user)

    assert client.get(_url(referent)).status_code == 200
    response = client.post(_url(referent))

    assert response.status_code == 302
    referent.refresh_from_db()
    assert referent.ends_on < timezone.localdate()
    assert not perms.active_memberships(referent.user).exists()
    home = referent_browser.get(reverse("home"))
    assert home.status_code == 302 and home["Location"].startswith(reverse("account_login"))
    entry = AuditEvent.objects.get(verb="membership.ended")
    assert entry.actor_id == coordinator.user_id
    assert entry.payload["role"] == Role.REFERENT


def test_a_membership_that_started_today_ends_too(client, team):
    coordinator, _ = team
    newcomer = MembershipFactory(
        role=Role.REFERENT, programme=coordinator.programme, starts_on=timezone.localdate()
    )
    client.force_login(coordinator.user)
    client.post(_url(newcomer))
    assert not Membership.objects.active().filter(pk=newcomer.pk).exists()


def test_ending_a_membership_ten_minutes_after_the_login_asks_for_the_password_first(client, team):
    coordinator, referent = team
    client.force_login(coordinator.user)
    with time_machine.travel(time.time() + 11 * 60, tick=False):
        response = client.post(_url(referent))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    referent.refresh_from_db()
    assert referent.ends_on is None


def test_a_referent_cannot_end_memberships(client, team):
    coordinator, referent = team
    client.force_login(referent.user)
    assert client.post(_url(coordinator)).status_code == 404
    coordinator.refresh_from_db()
    assert coordinator.ends_on is None
    assert settings.MAILLAGE_STEPUP_SECONDS == 600
