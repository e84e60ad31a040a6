"""The charter gate: no nominative page before the current charter of confidentiality is signed.

A view classified ``@sensitive`` (``maillage.audit.access``) shows nominative data. When the
holder of the current membership must sign the programme's current charter
(``perms.must_sign_charter``), the gate answers instead of the view: the charter page, with its
text and the sign button ("programmes:charter"), and a message saying why. The view never runs, so
nothing of it is shown nor journaled, and the answer is the same whether the object asked for
exists or not (CONFIDENTIALITY.md, principle 5).

A sensitive page that deals with the unsigned charter itself (the home page: a callout, no names)
is marked ``@charter_gate_exempt``.
"""

from django.contrib import messages
from django.utils.translation import gettext as _

from maillage import permissions as perms
from maillage.audit.access import SENSITIVE


def charter_gate_exempt(view):
    """Let a sensitive view handle an unsigned charter itself (it must then show no name)."""
    view.charter_gate_exempt = True
    return view


def charter_page(request):
    """The charter page (text and sign button) in place of a nominative page."""
    from maillage.www.programmes.views import charter

    messages.warning(
        request,
        _(
            "Cette page contient des informations nominatives : signez d'abord la version en vigueur "
            "de la charte de confidentialité du programme. Vous pourrez ensuite y revenir."
        ),
    )
    return charter(request)


class CharterGateMiddleware:
    """Render the charter instead of a sensitive view while the current membership has not signed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "sensitivity", None) != SENSITIVE:
            return None
        if getattr(view_func, "charter_gate_exempt", False):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        from maillage.www.context import current_membership

        if not perms.must_sign_charter(current_membership(request)):
            return None
        return charter_page(request)
