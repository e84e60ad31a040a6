"""Step-up authentication: sensitive operations need an authentication less than 10 minutes old.

Usage (on a function view, outermost or under ``@sensitive``/``@not_sensitive``)::

    from maillage.accounts.stepup import recent_auth_required

    @recent_auth_required
    @sensitive("export")
    def export_view(request, ...): ...

When the last authentication of the session (the login itself, or a later re-authentication by
password or by a second factor) is older than ``MAILLAGE_STEPUP_SECONDS`` (600 s), the request is
suspended and the user is sent to allauth's re-authentication page; once they have confirmed,
they come back to the page they asked for (a suspended POST is replayed by allauth).

The time of the login is recorded in the session by a ``user_logged_in`` receiver (see
``record_login_time``) so it also holds for ``client.force_login`` in tests; re-authentications
are read from allauth's authentication records in the session.
"""

from __future__ import annotations

import time
from functools import wraps

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.http import urlencode

#: Session key holding the UNIX time of the login (also used by the absolute session timeout).
LOGIN_AT_SESSION_KEY = "maillage_login_at"

#: allauth authentication methods that prove the user was present (a reset email does not log in).
_PROOF_METHODS = frozenset({"password", "mfa", "socialaccount", "code"})


def max_age() -> int:
    return int(getattr(settings, "MAILLAGE_STEPUP_SECONDS", 10 * 60))


def record_login_time(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: remember when this session was authenticated."""
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT_SESSION_KEY] = time.time()


def last_authenticated_at(request: HttpRequest) -> float | None:
    """UNIX time of the latest authentication proof of this session, or ``None``."""
    from allauth.account.internal.flows.login import get_authentication_records

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    times: list[float] = []
    login_at = request.session.get(LOGIN_AT_SESSION_KEY)
    if isinstance(login_at, int | float):
        times.append(float(login_at))
    for record in get_authentication_records(request, user):
        at = record.get("at")
        if record.get("method") in _PROOF_METHODS and isinstance(at, int | float):
            times.append(float(at))
    return max(times) if times else None


def is_recently_authenticated(request: HttpRequest, *, seconds: int | None = None) -> bool:
    at = last_authenticated_at(request)
    if at is None:
        return False
    return time.time() - at < (max_age() if seconds is None else seconds)


def _htmx_reauthentication(request: HttpRequest) -> HttpResponse:
    """An htmx request cannot follow a redirect to a full page: tell htmx to load the page itself,
    coming back to the page the request was made from."""
    from allauth.account.adapter import get_adapter

    methods = get_adapter().get_reauthentication_methods(request.user)
    if not methods:
        raise PermissionDenied
    back = request.htmx.current_url_abs_path or "/"
    response = HttpResponse(status=204)
    response["HX-Redirect"] = f"{methods[0]['url']}?{urlencode({REDIRECT_FIELD_NAME: back})}"
    return response


def recent_auth_required(view_func=None, *, seconds: int | None = None):
    """View decorator: require an authentication less than ``seconds`` (default 10 minutes) old.

    Anonymous users go to the login page. Otherwise, when the authentication is too old,
    allauth's ``ReauthenticationRequired`` is raised: ``AccountMiddleware`` suspends the request
    and redirects to the re-authentication page, then resumes it.
    """

    def decorator(func):
        @wraps(func)
        def _wrapped(request: HttpRequest, *args, **kwargs):
            from allauth.core.exceptions import ReauthenticationRequired

            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), redirect_field_name=REDIRECT_FIELD_NAME)
            if not is_recently_authenticated(request, seconds=seconds):
                if getattr(request, "htmx", False):
                    return _htmx_reauthentication(request)
                raise ReauthenticationRequired()
            return func(request, *args, **kwargs)

        _wrapped.recent_auth_required = True  # type: ignore[attr-defined]
        return _wrapped

    if view_func is not None:
        return decorator(view_func)
    return decorator


# --- documents -------------------------------------------------------------------------------------

#: ``serves_document`` of a view that serves a nominative document (a PDF naming a child or a family,
#: an uploaded file): it asks for a recent authentication.
NOMINATIVE = "nominative"
#: ``serves_document`` of a view that serves a document without names (the memento's booklet,
#: aggregate exports); aggregate exports still ask for step-up on their own (``recent_auth_required``).
NON_NOMINATIVE = "non_nominative"


def nominative_document(view_func):
    """View decorator for EVERY view that serves a nominative document — a generated PDF that names
    a child or a family (agreement, notices, plan, contract, consultations) or an uploaded file
    (signed agreement, invoice, meeting document): one rule, step-up authentication
    (``recent_auth_required``). Put it under ``@login_required``/``@sensitive``.

    tests/accounts/test_document_stepup.py finds every view that serves a file and checks that it
    is marked, then downloads each marked one with and without a recent authentication.
    """
    wrapped = recent_auth_required(view_func)
    wrapped.serves_document = NOMINATIVE  # type: ignore[attr-defined]
    return wrapped


def non_nominative_document(view_func):
    """Mark a view that serves a document naming nobody (it is then left out of the step-up rule
    for nominative documents; say in the view's docstring why it names nobody)."""
    view_func.serves_document = NON_NOMINATIVE
    return view_func
