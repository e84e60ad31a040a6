"""Second factor: who must have one, and the gate that makes them enrol at their first login.

Every role that can see nominative data must sign in with a second factor (TOTP with recovery
codes, or a security key / passkey through WebAuthn). The aggregate roles (steering, manager,
network) see figures only: for them it is the programme's choice
(``Programme.mfa_for_aggregate_roles``). Technical staff (Django admin) always need one.

``MFAEnrolmentMiddleware``: while a signed-in user who must have a second factor has none, every
page answers with a redirect to the TOTP activation page, except the pages needed to get there
(allauth's MFA pages, re-authentication, logout) and the public pages (legal notices, accessibility,
health check, language switch). Once a factor exists, allauth asks for it at every login.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from maillage.programmes.enums import Role

#: Roles that see aggregated figures only: a second factor is the programme's choice.
AGGREGATE_ROLES = frozenset({Role.STEERING, Role.MANAGER, Role.NETWORK})

#: Second factors that count (recovery codes are a fallback, never a factor on their own).
FACTOR_TYPES = ("totp", "webauthn")

# Session flag: this session's user has a second factor (saves two queries on every page).
_HAS_FACTOR_SESSION_KEY = "maillage_has_second_factor"

# URL names a user without a second factor may still open.
_EXEMPT_URL_NAMES = (
    "account_logout",
    "account_reauthenticate",
    "account_login",
    "accessibility",
    "legal",
    "privacy",
    "health",
    "set_language",
)


def membership_requires_mfa(membership) -> bool:
    if membership.role in AGGREGATE_ROLES:
        return bool(membership.programme.mfa_for_aggregate_roles)
    return True


def mfa_required(user, memberships=None) -> bool:
    """Must ``user`` sign in with a second factor? ``memberships``: their active memberships (optional)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    if memberships is None:
        from maillage import permissions as perms

        memberships = perms.active_memberships(user).select_related("programme")
    return any(membership_requires_mfa(m) for m in memberships)


def has_second_factor(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user_id=user.pk, type__in=FACTOR_TYPES).exists()


def must_enrol(request: HttpRequest) -> bool:
    """The signed-in user must have a second factor and has none yet."""
    user = request.user
    if not user.is_authenticated or request.session.get(_HAS_FACTOR_SESSION_KEY):
        return False
    from maillage.www.context import active_memberships

    if not mfa_required(user, active_memberships(request)):
        return False
    if has_second_factor(user):
        request.session[_HAS_FACTOR_SESSION_KEY] = True
        return False
    return True


def forget_second_factor(request: HttpRequest) -> None:
    """After a factor is removed: check again at the next request whether one is still needed."""
    if hasattr(request, "session"):
        request.session.pop(_HAS_FACTOR_SESSION_KEY, None)


def _exempt_paths() -> tuple[str, ...]:
    paths = []
    for name in _EXEMPT_URL_NAMES:
        try:
            paths.append(reverse(name))
        except NoReverseMatch:
            continue
    return tuple(paths)


def _mfa_prefix() -> str:
    # allauth's MFA pages (index, TOTP, recovery codes, WebAuthn, reauthenticate) share one prefix.
    return reverse("mfa_index")


def enrolment_url(request: HttpRequest) -> str:
    # allauth's activation page then shows the recovery codes; the user goes on from there.
    return reverse("mfa_activate_totp")


class MFAEnrolmentMiddleware:
    """Send a signed-in user who must have a second factor and has none to the TOTP activation page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._applies(request) and must_enrol(request):
            url = enrolment_url(request)
            if getattr(request, "htmx", False):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return HttpResponseRedirect(url)
        return self.get_response(request)

    @staticmethod
    def _applies(request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        path = request.path
        if path.startswith(settings.STATIC_URL or "/static/"):
            return False
        if path.startswith(_mfa_prefix()):
            return False
        return path not in _exempt_paths()
