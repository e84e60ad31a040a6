"""Throttling: 5 failed logins in 15 minutes lock the address out for 15 minutes; no enumeration."""

import re
import time

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
RESET = reverse("account_reset_password")
THROTTLED = "Trop de tentatives de connexion infructueuses"
WRONG = "mauvais-mot-de-passe-2026"


def _normalised(response, *emails: str) -> str:
    """The body without what changes from one request to the next (CSRF token, CSP nonce, typed email)."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', body)
    body = re.sub(r'nonce="[^"]+"', 'nonce=""', body)
    body = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', body)
    for email in emails:
        body = body.replace(email, "ADRESSE")
    return body


def _fail(client, email: str, times: int = 1):
    response = None
    for _ in range(times):
        response = client.post(LOGIN, {"login": email, "password": WRONG})
        assert response.status_code == 200
    return response


def _login(client, email: str, password: str = TEST_PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def test_the_rate_limit_is_5_failures_per_15_minutes_per_address():
    assert "5/15m/key" in settings.ACCOUNT_RATE_LIMITS["login_failed"]


def test_the_failure_counts_live_in_the_cache_shared_by_all_processes():
    backend = settings.CACHES["default"]["BACKEND"]
    assert backend in {
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.redis.RedisCache",
    }, "a per-process cache would multiply the allowed attempts by the number of workers"


def test_failures_are_written_to_the_database_cache(client):
    if settings.CACHES["default"]["BACKEND"] != "django.core.cache.backends.db.DatabaseCache":
        pytest.skip("Redis cache configured")
    table = connection.ops.quote_name(settings.CACHES["default"]["LOCATION"])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 -- table name from settings
        before = cursor.fetchone()[0]
    _fail(client, "quelqu.un@exemple.test")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 -- table name from settings
        assert cursor.fetchone()[0] > before


def test_four_failures_still_let_the_right_password_in(client):
    user = UserFactory()
    _fail(client, user.email, times=4)
    response = _login(client, user.email)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_after_five_failures_even_the_right_password_is_refused_for_15_minutes(client):
    user = UserFactory()
    start = time.time()
    with time_machine.travel(start, tick=False):
        _fail(client, user.email, times=5)
        refused = _login(client, user.email)
    assert refused.status_code == 200
    assert THROTTLED in refused.content.decode()
    assert "_auth_user_id" not in client.session

    with time_machine.travel(start + 14 * 60, tick=False):
        still = _login(client, user.email)
    assert THROTTLED in still.content.decode()
    assert "_auth_user_id" not in client.session

    with time_machine.travel(start + 15 * 60 + 5, tick=False):
        allowed = _login(client, user.email)
    assert allowed.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_the_lock_concerns_the_address_not_the_other_accounts(client):
    victim = UserFactory()
    other = UserFactory()
    _fail(client, victim.email, times=5)
    assert _login(client, other.email).status_code == 302


def test_the_address_is_matched_whatever_its_case(client):
    UserFactory(email="camille.martin@exemple.test")
    _fail(client, "Camille.Martin@Exemple.test", times=5)
    assert THROTTLED in _login(client, "camille.martin@exemple.test").content.decode()


def test_an_unknown_address_and_a_wrong_password_get_the_same_page(client):
    known = UserFactory(email="connue@exemple.test")
    unknown = "inconnue@exemple.test"

    first_known = _fail(client, known.email)
    first_unknown = _fail(client, unknown)
    assert first_known.status_code == first_unknown.status_code == 200
    assert _normalised(first_known, known.email) == _normalised(first_unknown, unknown)

    throttled_known = _fail(client, known.email, times=5)
    throttled_unknown = _fail(client, unknown, times=5)
    assert THROTTLED in throttled_known.content.decode()
    assert _normalised(throttled_known, known.email) == _normalised(throttled_unknown, unknown)


def test_a_reset_request_answers_the_same_for_a_known_and_an_unknown_address(client):
    UserFactory(email="connue@exemple.test")

    known = client.post(RESET, {"email": "connue@exemple.test"})
    unknown = client.post(RESET, {"email": "inconnue@exemple.test"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    done_known = client.get(known["Location"])
    done_unknown = client.get(unknown["Location"])
    assert _normalised(done_known) == _normalised(done_unknown)
    # Each address gets a message (a reset link, or "no account here"), so the page cannot tell.
    assert len(mail.outbox) == 2


def test_reset_requests_are_rate_limited_per_address(client):
    UserFactory(email="connue@exemple.test")
    for _ in range(3):
        client.post(RESET, {"email": "connue@exemple.test"})
    sent = len(mail.outbox)
    client.post(RESET, {"email": "connue@exemple.test"})
    assert len(mail.outbox) == sent, "a fourth request within 15 minutes sends nothing"
