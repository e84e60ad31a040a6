"""The programme a user is currently working in, and the navigation that follows from it.

Access decisions never depend on this: scopes in ``maillage.permissions`` look at every active
membership. The current membership only chooses what the pages show first.
"""

from django.http import HttpRequest

from maillage import permissions as perms
from maillage.programmes.models import Membership

SESSION_KEY = "maillage_membership_id"


def active_memberships(request: HttpRequest) -> list[Membership]:
    """The user's memberships in force today, fetched once per request (programme and organisation joined)."""
    if not hasattr(request, "_maillage_memberships"):
        memberships: list[Membership] = []
        if request.user.is_authenticated:
            # The policy's own read of them (one query per request), oldest first.
            memberships = sorted(perms.memberships_in_force(request.user), key=lambda m: (m.starts_on, m.pk))
        request._maillage_memberships = memberships
    return request._maillage_memberships


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership chosen with the programme switcher, or else the oldest one in force."""
    memberships = active_memberships(request)
    if not memberships:
        return None
    wanted = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.pk == wanted:
            return membership
    return memberships[0]


def set_current_membership(request: HttpRequest, membership: Membership) -> None:
    """Remember the chosen membership; the caller has checked it is one of the user's, in force."""
    request.session[SESSION_KEY] = membership.pk


def navigation(request: HttpRequest) -> dict:
    """Template context: the current membership, the switcher's choices and the role-aware main menu."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    from maillage.www.navigation import menu_for, menu_sections

    membership = current_membership(request)
    memberships = active_memberships(request)
    navigation = menu_for(request, membership)
    return {
        "current_membership": membership,
        "switchable_memberships": memberships if len(memberships) > 1 else [],
        "navigation": navigation,
        "navigation_sections": menu_sections(navigation),
    }
