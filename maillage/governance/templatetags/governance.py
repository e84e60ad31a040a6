"""Template tags of the partnership: the pathway page's "since your last visit" block, the header's bell."""

from django import template
from django.utils.translation import gettext

from maillage import permissions as perms
from maillage.governance import queries, services
from maillage.governance.models import Decision, Notification

register = template.Library()


@register.simple_tag(takes_context=True)
def pathway_since(context, pathway) -> dict:
    """What changed on ``pathway`` since the reader's last visit, and records this visit.

    Called from the pathway page, which has already checked through the scopes that the reader
    may open the pathway; changes are listed through the same scopes (written items by circle).
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    previous = services.pathway_visit(user=user, pathway=pathway)
    # Every decision on the pathway (a few per EPS meeting that examined it): the last ten are shown,
    # and those since the last visit are among the changes.
    every = list(
        Decision.objects.filter(agenda_item__pathway=pathway)
        .select_related("agenda_item__meeting__body")
        .order_by("-agenda_item__meeting__starts_at", "-pk")
    )
    decisions = every[:10]
    # The rows the pathway page read through the same scopes (``pathway_rows``), filtered instead of
    # read again; without them, the changes are read through the scopes.
    loaded = context.get("pathway_rows")
    if loaded is not None:
        loaded = {**loaded, "decisions": every}
    changes = queries.pathway_changes(user, pathway, previous, loaded=loaded) if previous else []
    for decision in decisions:
        # Outside the decision's circle: that the EPS decided, not what (decided once for the pathway).
        decision.text_hidden = not perms.decision_text_readable(user, decision)
        if decision.text_hidden:
            decision.text = gettext("Décision (contenu réservé)")
            decision.who_does_what = ""
    return {
        "previous": previous,
        "changes": changes,
        "decisions": decisions,
    }


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
