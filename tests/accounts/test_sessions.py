"""Sessions: new id at login, 30 min idle, 10 h at most, one's session list, cut-off on deactivation."""

import datetime
import runpy
import time
from pathlib import Path

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from maillage.audit.models import AuditEvent
from maillage.programmes.enums import Role
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HOME = reverse("home")
LOGIN = reverse("account_login")
SESSIONS = reverse("accounts:sessions")
SETTINGS_FILE = Path(__file__).resolve().parents[2] / "config" / "settings.py"


def _signed_in(client, user) -> str:
    """Log in and open a first page, as a browser does (allauth lists a session from its first request)."""
    client.force_login(user)
    client.get(reverse("legal"))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _lands_on_login(response) -> bool:
    return response.status_code == 302 and response["Location"].split("?")[0] == LOGIN


def _replay(cookie_value: str) -> Client:
    stranger = Client()
    stranger.cookies[settings.SESSION_COOKIE_NAME] = cookie_value
    return stranger


# --- login ---------------------------------------------------------------------------------------------


def test_the_login_gives_a_new_session_id_and_drops_the_old_one(client):
    user = UserFactory()
    anonymous = client.session
    anonymous["remember"] = "avant la connexion"
    anonymous.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = anonymous.session_key
    before = anonymous.session_key

    response = client.post(LOGIN, {"login": user.email, "password": TEST_PASSWORD})

    assert response.status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert int(client.session["_auth_user_id"]) == user.pk


# --- idle and absolute limits ------------------------------------------------------------------------


def test_a_session_without_activity_for_30_minutes_ends(client):
    membership = MembershipFactory(role=Role.REFERENT)
    start = time.time()
    with time_machine.travel(start, tick=False):
        _signed_in(client, membership.user)
    with time_machine.travel(start + 29 * 60, tick=False):
        assert client.get(HOME).status_code == 200
    with time_machine.travel(start + 58 * 60, tick=False):
        assert client.get(HOME).status_code == 200, "each request renews the 30 minutes"
    with time_machine.travel(start + 58 * 60 + 31 * 60, tick=False):
        assert _lands_on_login(client.get(HOME))


def test_the_cookie_dies_with_the_browser_and_the_stored_session_lasts_30_minutes(client):
    membership = MembershipFactory(role=Role.REFERENT)
    _signed_in(client, membership.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]
    stored = Session.objects.get(session_key=cookie.value)
    remaining = (stored.expire_date - timezone.now()).total_seconds()
    assert 29 * 60 < remaining <= 30 * 60


def test_an_active_session_still_ends_10_hours_after_the_login(client):
    membership = MembershipFactory(role=Role.REFERENT)
    start = time.time()
    with time_machine.travel(start, tick=False):
        cookie = _signed_in(client, membership.user)
    for minutes in range(20, 600, 20):
        with time_machine.travel(start + minutes * 60, tick=False):
            assert client.get(HOME).status_code == 200, minutes
    with time_machine.travel(start + 600 * 60 + 60, tick=False):
        response = client.get(HOME)
        assert _lands_on_login(response)
        assert not Session.objects.filter(session_key=cookie).exists()
        assert _lands_on_login(_replay(cookie).get(HOME))


def test_a_read_only_page_writes_nothing_and_the_session_is_renewed_once_a_minute(client):
    membership = MembershipFactory(role=Role.REFERENT)
    start = time.time()
    with time_machine.travel(start, tick=False):
        cookie = _signed_in(client, membership.user)
        client.get(HOME)  # the first visit remembers, once, that the second factor was checked
        first_expiry = Session.objects.get(session_key=cookie).expire_date
        first_seen = UserSession.objects.get(session_key=cookie).last_seen_at
    with time_machine.travel(start + 50, tick=False), CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    assert not writes, writes
    assert Session.objects.get(session_key=cookie).expire_date == first_expiry
    with time_machine.travel(start + 61, tick=False):
        assert client.get(HOME).status_code == 200
    assert Session.objects.get(session_key=cookie).expire_date > first_expiry
    assert UserSession.objects.get(session_key=cookie).last_seen_at > first_seen


# --- production cookies -------------------------------------------------------------------------------


def test_production_cookies_are_host_only_secure_http_only_and_same_site(monkeypatch):
    monkeypatch.setenv("MAILLAGE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 30 + "-only-for-this-test-of-the-settings-module-" + "t" * 20)
    monkeypatch.setenv("MAILLAGE_ENCRYPTION_KEYS", "k1:c29tZS1vdGhlci1rZXktZm9yLXRoZS10ZXN0LTMyYnl0ZXM=")
    monkeypatch.setenv("MAILLAGE_AUDIT_KEY", "audit-key-only-for-this-test-of-the-settings-module")
    production = runpy.run_path(str(SETTINGS_FILE))

    assert production["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert production["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SESSION_COOKIE_HTTPONLY"]
    assert production["SESSION_COOKIE_SAMESITE"] in {"Lax", "Strict"}
    assert production.get("SESSION_COOKIE_DOMAIN") is None, "__Host- cookies carry no Domain"
    assert production["SESSION_COOKIE_AGE"] == 30 * 60
    assert 0 < production["MAILLAGE_SESSION_HEARTBEAT_SECONDS"] <= 60
    assert production["MAILLAGE_SESSION_ABSOLUTE_SECONDS"] == 10 * 60 * 60


# --- deactivation and end of membership ----------------------------------------------------------------


def test_deactivating_an_account_ends_its_live_sessions(client):
    membership = MembershipFactory(role=Role.REFERENT)
    cookie = _signed_in(client, membership.user)
    other_browser = Client()
    other_cookie = _signed_in(other_browser, membership.user)
    assert client.get(HOME).status_code == 200

    user = membership.user
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert not Session.objects.filter(session_key__in=[cookie, other_cookie]).exists()
    assert _lands_on_login(_replay(cookie).get(HOME))
    assert _lands_on_login(_replay(other_cookie).get(HOME))
    entry = AuditEvent.objects.get(verb="session.ended_by_deactivation")
    assert entry.payload == {"sessions": 2, "reason": "account_deactivated"}


def test_ending_the_last_membership_ends_the_live_sessions(client):
    membership = MembershipFactory(role=Role.REFERENT)
    cookie = _signed_in(client, membership.user)

    membership.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    membership.save(update_fields=["ends_on"])

    assert _lands_on_login(_replay(cookie).get(HOME))


def test_ending_one_of_two_memberships_cuts_that_programme_at_the_next_request(client):
    kept = MembershipFactory(role=Role.REFERENT)
    ended = MembershipFactory(role=Role.COORDINATOR, user=kept.user)
    cookie = _signed_in(client, kept.user)

    ended.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    ended.save(update_fields=["ends_on"])

    response = _replay(cookie).get(HOME)
    assert response.status_code == 200
    assert response.context["current_membership"] == kept


def test_other_saves_of_an_account_leave_its_sessions_alone(client):
    membership = MembershipFactory(role=Role.REFERENT)
    cookie = _signed_in(client, membership.user)
    membership.user.first_name = "Renommée"
    membership.user.save()
    assert _replay(cookie).get(HOME).status_code == 200


# --- one's own session list --------------------------------------------------------------------------------


def test_the_session_page_lists_ones_sessions_in_french_and_is_linked_from_the_header(client):
    membership = MembershipFactory(role=Role.REFERENT)
    _signed_in(Client(), membership.user)
    _signed_in(client, membership.user)
    someone_else = MembershipFactory(role=Role.REFERENT)
    _signed_in(Client(), someone_else.user)

    response = client.get(SESSIONS)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'lang="fr"' in body
    assert body.count('data-testid="session-row"') == 2
    assert "Cette session" in body
    assert "Fermer toutes les autres sessions" in body
    assert f'href="{SESSIONS}"' in client.get(HOME).content.decode()


def test_ending_another_session_signs_that_browser_out(client):
    membership = MembershipFactory(role=Role.REFERENT)
    other_browser = Client()
    other_cookie = _signed_in(other_browser, membership.user)
    _signed_in(client, membership.user)
    other = UserSession.objects.get(session_key=other_cookie)

    response = client.post(SESSIONS, {"action": "end", "session": other.pk})

    assert response.status_code == 302
    assert _lands_on_login(other_browser.get(HOME))
    assert client.get(HOME).status_code == 200, "this session goes on"
    assert AuditEvent.objects.filter(verb="session.ended", actor=membership.user).exists()


def test_ending_this_session_signs_out_with_a_new_session_id(client):
    membership = MembershipFactory(role=Role.REFERENT)
    cookie = _signed_in(client, membership.user)
    mine = UserSession.objects.get(session_key=cookie)

    response = client.post(SESSIONS, {"action": "end", "session": mine.pk})

    assert _lands_on_login(response)
    assert not Session.objects.filter(session_key=cookie).exists()
    assert _lands_on_login(_replay(cookie).get(HOME))


def test_someone_elses_session_cannot_be_ended(client):
    victim = MembershipFactory(role=Role.REFERENT)
    victim_browser = Client()
    victim_cookie = _signed_in(victim_browser, victim.user)
    attacker = MembershipFactory(role=Role.REFERENT)
    _signed_in(client, attacker.user)

    client.post(SESSIONS, {"action": "end", "session": UserSession.objects.get(session_key=victim_cookie).pk})

    assert victim_browser.get(HOME).status_code == 200


def test_ending_all_other_sessions_keeps_only_this_one(client):
    membership = MembershipFactory(role=Role.REFERENT)
    others = [Client(), Client()]
    for browser in others:
        _signed_in(browser, membership.user)
    _signed_in(client, membership.user)

    client.post(SESSIONS, {"action": "end_others"})

    assert all(_lands_on_login(browser.get(HOME)) for browser in others)
    assert client.get(HOME).status_code == 200
    assert UserSession.objects.filter(user=membership.user).count() == 1
