"""Review reminders for the home page: overdue bilans and bilans due soon.

The home page (``maillage/www/pages``) shows them; it must journal the rows it displays, like any
list of nominative rows::

    reminders = reminders_for(request.user, programme=membership.programme)
    record_access_many(request, reminders["overdue"] + reminders["due_soon"], verb="pathway.listed")
"""

import datetime

from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from maillage import permissions as perms
from maillage.pathways.enums import PathwayState
from maillage.programmes.enums import Role

DUE_SOON_DAYS = 14
FIRST = 5


def accountable_pathways(user, programme=None):
    """Open pathways the user answers for: those they are the référent of, and for a coordinator,
    every pathway of the programmes they coordinate. Always within ``perms.pathways_visible_to``."""
    coordinated = perms.active_memberships(user).filter(role=Role.COORDINATOR).values("programme")
    rows = (
        perms.pathways_visible_to(user)
        .exclude(state=PathwayState.CLOSED)
        .filter(Q(referent=user) | Q(programme__in=coordinated))
    )
    if programme is not None:
        rows = rows.filter(programme=programme)
    return rows


def _rows(user, queryset) -> list:
    rows = list(
        queryset.annotate(identity=Exists(perms.children_visible_to(user).filter(pk=OuterRef("child_id"))))
        .select_related("child", "child__school", "referent")
        .order_by(F("next_review_on").asc(), "case_code", "pk")[:FIRST]
    )
    for row in rows:
        row.label = (
            f"{row.child.first_name} {row.child.last_name.upper()}" if row.identity else perms.pseudonym(row)
        )
        row.url = reverse("pathways:detail", args=[row.pk])
    return rows


def reminders_for(user, programme=None, *, today: datetime.date | None = None) -> dict:
    """Bilans overdue and due within 14 days on the pathways ``user`` answers for.

    Returns ``{"overdue_count", "overdue", "due_soon_count", "due_soon", "due_soon_until"}``: counts,
    and the first five pathways of each (soonest first), each with ``label`` (the child's name when
    the user may see it, the pseudonym otherwise), ``identity``, ``next_review_on`` and ``url``.
    ``programme`` narrows to one programme (the current one on the home page). Constant queries.
    """
    today = today or timezone.localdate()
    until = today + datetime.timedelta(days=DUE_SOON_DAYS)
    rows = accountable_pathways(user, programme).filter(next_review_on__isnull=False)
    overdue = rows.filter(next_review_on__lt=today)
    due_soon = rows.filter(next_review_on__gte=today, next_review_on__lte=until)
    return {
        "overdue_count": overdue.count(),
        "overdue": _rows(user, overdue),
        "due_soon_count": due_soon.count(),
        "due_soon": _rows(user, due_soon),
        "due_soon_until": until,
    }
