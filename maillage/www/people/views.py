"""Children and households: read-only for now (the journey issue adds referrals, pathways…).

Every object comes through a scope of ``maillage.permissions``; every detail page is journaled.
"""

import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from maillage import permissions as perms
from maillage.audit import services as audit
from maillage.audit.access import record_access_many, sensitive
from maillage.people.search import search_children
from maillage.programmes.models import Membership
from maillage.www.context import active_memberships, current_membership
from maillage.www.people.forms import ChildSearchForm

PAGE_SIZE = 25


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _acting_membership(request, programme_id: int) -> Membership | None:
    """The membership through which the user reads an object of ``programme_id`` (for the journal)."""
    current = current_membership(request)
    if current is not None and current.programme_id == programme_id:
        return current
    return next((m for m in active_memberships(request) if m.programme_id == programme_id), None)


@sensitive("child.listed")
@login_required
def children(request):
    membership = current_membership(request)
    if membership is None or not perms.can_list_children(request.user, membership.programme):
        raise Http404
    rows = (
        perms.children_visible_to(request.user)
        .filter(programme=membership.programme_id)
        .select_related("household", "school")
    )
    form = ChildSearchForm(request.GET or None)
    if form.is_valid() and form.cleaned_data["q"].strip():
        # Ranked, best match first; the search runs once, the page reads its rows by id.
        rows = search_children(rows, form.cleaned_data["q"])
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for child in page:
        child.age = age_on(child.birth_date, today)
    record_access_many(request, page.object_list, verb="child.listed")
    context = {
        "programme": membership.programme,
        "form": form,
        "page_obj": page,
        "searched": bool(request.GET.get("q")),
        "truncated": getattr(rows, "truncated", False),
    }
    return render(request, "people/child_list.html", context)


@sensitive("child.viewed")
@login_required
def child_detail(request, pk: int):
    child = get_object_or_404(
        perms.children_visible_to(request.user).select_related(
            "household", "household__commune", "school", "commune", "programme"
        ),
        pk=pk,
    )
    guardians = perms.guardians_visible_to(request.user).filter(household=child.household_id)
    siblings = (
        perms.children_visible_to(request.user).filter(household=child.household_id).exclude(pk=child.pk)
    )
    pathways = perms.pathways_visible_to(request.user).filter(child=child).order_by("-opened_on", "-pk")
    audit.record(
        verb="child.viewed",
        actor=request.user,
        target=child,
        membership=_acting_membership(request, child.programme_id),
        request=request,
    )
    child.age = age_on(child.birth_date, timezone.localdate())
    context = {
        "child": child,
        "household": child.household,
        "guardians": guardians,
        "siblings": siblings,
        "pathways": pathways,
    }
    return render(request, "people/child_detail.html", context)


@sensitive("household.viewed")
@login_required
def household_detail(request, pk: int):
    household = get_object_or_404(
        perms.households_visible_to(request.user).select_related("commune", "programme"), pk=pk
    )
    guardians = perms.guardians_visible_to(request.user).filter(household=household)
    members = list(
        perms.children_visible_to(request.user).filter(household=household).select_related("school")
    )
    today = timezone.localdate()
    for child in members:
        child.age = age_on(child.birth_date, today)
    audit.record(
        verb="household.viewed",
        actor=request.user,
        target=household,
        membership=_acting_membership(request, household.programme_id),
        request=request,
    )
    context = {"household": household, "guardians": guardians, "children": members}
    return render(request, "people/household_detail.html", context)
