"""Session lifetime: 10 hours at most after the login, whatever the activity.

The idle limit (30 minutes) is Django's own: ``SESSION_COOKIE_AGE`` with
``SESSION_SAVE_EVERY_REQUEST`` renews the stored session at every request, and an expired one is
no longer loaded. The absolute limit needs the time of the login, kept in the session by
``maillage.accounts.stepup.record_login_time``.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from maillage.accounts.stepup import LOGIN_AT_SESSION_KEY


def absolute_limit() -> int:
    return int(getattr(settings, "MAILLAGE_SESSION_ABSOLUTE_SECONDS", 10 * 60 * 60))


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
