"""The programme a user is currently working in, and the navigation that follows from it.

Access decisions never depend on this: scopes in ``maillage.permissions`` look at every active
membership. The current membership only chooses what the pages show first.
"""

from django.http import HttpRequest

from maillage import permissions as perms
from maillage.programmes.models import Membership

SESSION_KEY = "maillage_membership_id"


def current_membership(request: HttpRequest) -> Membership | None:
    if hasattr(request, "_maillage_membership"):
        return request._maillage_membership
    membership = None
    if request.user.is_authenticated:
        memberships = perms.active_memberships(request.user).select_related("programme", "organisation")
        wanted = request.session.get(SESSION_KEY)
        if wanted:
            membership = memberships.filter(pk=wanted).first()
        if membership is None:
            membership = memberships.order_by("starts_on", "pk").first()
    request._maillage_membership = membership
    return membership


def navigation(request: HttpRequest) -> dict:
    """Template context: the current membership and the role-aware main menu."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    from maillage.www.navigation import menu_for

    membership = current_membership(request)
    return {"current_membership": membership, "navigation": menu_for(request, membership)}
