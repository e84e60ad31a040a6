"""Small blocks that other pages include: the dashboard's alerts and tasks, a pathway's action links."""

from django import template
from django.db.models import Count

from maillage import permissions as perms
from maillage.offers.enums import AlertState, TaskState

register = template.Library()


@register.inclusion_tag("offers/_dashboard.html", takes_context=True)
def offers_dashboard(context):
    """Counts of breach alerts and intervention tasks by state (no names: the list page journals)."""
    request = context.get("request")
    membership = context.get("membership") or context.get("current_membership")
    if request is None or membership is None:
        return {"show": False}
    user = request.user
    programme_id = membership.programme_id
    alerts = dict(
        perms.breach_alerts_visible_to(user)
        .filter(pathway__programme_id=programme_id)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    tasks = dict(
        perms.intervention_tasks_visible_to(user)
        .filter(pathway__programme_id=programme_id)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    rows = [
        {"label": label, "value": alerts.get(state, 0), "kind": "alert"}
        for state, label in AlertState.choices
        if state in (AlertState.OPEN, AlertState.ESCALATED)
    ] + [
        {"label": label, "value": tasks.get(state, 0), "kind": "task"}
        for state, label in TaskState.choices
        if state in (TaskState.OPEN, TaskState.IN_PROGRESS)
    ]
    return {"show": bool(alerts or tasks), "rows": rows}


@register.inclusion_tag("offers/_pathway_links.html", takes_context=True)
def offers_pathway_links(context, pathway):
    """Links of a pathway to the catalogue, the family contract and the support fund, as allowed."""
    request = context.get("request")
    if request is None:
        return {}
    user = request.user
    contracts = list(
        perms.contracts_visible_to(user).filter(pathway=pathway).order_by("-starts_on", "-pk")[:3]
    )
    fund = list(perms.fund_requests_visible_to(user).filter(pathway=pathway).order_by("-created_at")[:5])
    return {
        "pathway": pathway,
        "plan_add": perms.can_edit_pathway(user, pathway) and pathway.is_open,
        "parent_add": perms.can_edit_pathway(user, pathway)
        and pathway.is_open
        and perms.identity_visible(user, pathway),
        "contract_add": perms.can_edit_contract(user, pathway),
        "fund_add": perms.can_request_fund(user, pathway),
        "contracts": contracts,
        "fund_requests": fund,
    }
