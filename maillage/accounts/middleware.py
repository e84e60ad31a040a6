"""Session lifetime: 30 minutes idle, 10 hours at most after the login, whatever the activity.

The idle limit is Django's own ``SESSION_COOKIE_AGE``: the stored session expires 30 minutes after
it was last saved, and an expired one is no longer loaded. Saving it at every request (Django's
``SESSION_SAVE_EVERY_REQUEST``) cost a write transaction on every page, read-only ones included; the
session is renewed instead by ``SessionHeartbeatMiddleware`` at most once a minute (a request in the
minute after a renewal does not renew it again: the idle limit is between 29 and 30 minutes). The same
heartbeat records the session's activity in allauth's session list (``USERSESSIONS_TRACK_ACTIVITY``),
which otherwise writes at every request too.

The absolute limit needs the time of the login, kept in the session by
``maillage.accounts.stepup.record_login_time``.
"""

from __future__ import annotations

import time

from allauth.usersessions.internal import usersessionkit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from maillage.accounts.stepup import LOGIN_AT_SESSION_KEY

HEARTBEAT_SESSION_KEY = "maillage_heartbeat_at"


def absolute_limit() -> int:
    return int(getattr(settings, "MAILLAGE_SESSION_ABSOLUTE_SECONDS", 10 * 60 * 60))


def heartbeat_interval() -> int:
    return int(getattr(settings, "MAILLAGE_SESSION_HEARTBEAT_SECONDS", 60))


class SessionHeartbeatMiddleware:
    """Renew the stored session and record its activity, at most once per heartbeat interval.

    Takes the place of allauth's ``UserSessionsMiddleware`` (same position: after the authentication).
    Anonymous sessions are left to Django: they are saved when something is put in them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        due = False
        if session is not None and user is not None and user.is_authenticated and session.session_key:
            last = session.get(HEARTBEAT_SESSION_KEY)
            now = time.time()
            due = not isinstance(last, int | float) or not 0 <= now - last < heartbeat_interval()
            if due:
                usersessionkit.track_activity(request, user=user, session=session)
        response = self.get_response(request)
        if due and session.session_key and request.user.is_authenticated:  # not after a logout
            # Marks the session modified: SessionMiddleware saves it, which renews its expiry.
            session[HEARTBEAT_SESSION_KEY] = time.time()
        return response


class SessionLifetimeMiddleware:
    """Log out a session whose login is more than ``MAILLAGE_SESSION_ABSOLUTE_SECONDS`` old."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            login_at = request.session.get(LOGIN_AT_SESSION_KEY)
            if not isinstance(login_at, int | float):
                # A session opened before this rule: its clock starts now.
                request.session[LOGIN_AT_SESSION_KEY] = time.time()
            elif time.time() - login_at >= absolute_limit():
                logout(request)
                messages.info(request, _("Votre session a expiré après 10 heures : reconnectez-vous."))
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)
