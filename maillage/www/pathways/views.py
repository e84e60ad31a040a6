"""Pathway pages: the pathway (what the user may read of it, and its steps), the caseload, the list.

Every pathway comes through ``perms.pathways_visible_to`` (out of scope: 404); every written item
through ``perms.items_readable_by``, consents through ``perms.consents_visible_to``, the plan through
``perms.plan_visible_to``. The child's name is shown only when ``perms.identity_visible`` says so,
the pseudonym otherwise. Writes go through ``maillage.pathways.services``; a form carries the
version of the pathway the user saw, so that a concurrent change is detected instead of overwritten.
"""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from maillage import permissions as perms
from maillage.audit.access import record_access, record_access_many, sensitive
from maillage.core.pagination import Ranked
from maillage.offers import queries as offer_queries
from maillage.pathways import services
from maillage.pathways.enums import TRANSITIONS, Circle, Dimension, PathwayState, ReviewKind
from maillage.pathways.models import (
    Contact,
    DiagnosticSection,
    Note,
    Objective,
    Pathway,
    PlanAction,
    Review,
    ReviewRating,
)
from maillage.pathways.plan_text import redact_plan
from maillage.pathways.search import search_pathways
from maillage.programmes.enums import ListKind, Role
from maillage.programmes.models import ListItem, Organisation
from maillage.www.context import current_membership
from maillage.www.pathways import forms
from maillage.www.pathways.links import item_link, pathway_links

PAGE_SIZE = 25
CASELOAD_PAGE_SIZE = 50
DUE_SOON_DAYS = 14

STEPS = [
    PathwayState.ENGAGEMENT,
    PathwayState.DIAGNOSTIC,
    PathwayState.EPS_REVIEW,
    PathwayState.ACTIVE,
    PathwayState.CLOSED,
]

# Short badge of each circle: the label of the enum is the long explanation (shown as a title).
CIRCLE_BADGES = {
    Circle.TEAM: (gettext_lazy("Équipe"), "fr-badge--blue-cumulus"),
    Circle.SECRET: (gettext_lazy("Secret partagé"), "fr-badge--pink-tuile"),
    Circle.PARTNERS: (gettext_lazy("Partenaires"), "fr-badge--green-emeraude"),
}

STALE_MESSAGE = gettext_lazy(
    "Ce parcours a été modifié par quelqu'un d'autre pendant que vous remplissiez le formulaire. "
    "Voici la page à jour : vérifiez-la, puis recommencez si c'est toujours nécessaire."
)


class StaleVersion(Exception):
    """The pathway changed since the user loaded the form."""


# --- helpers -------------------------------------------------------------------------------------


def _pathway_or_404(request, pk: int, *, with_steps: bool = False) -> Pathway:
    """The pathway, through the scope (404 when out of it); ``with_steps``: with the conditions of its
    steps read along (``services.transition_checks``)."""
    try:
        return perms.get_visible_pathway(
            request.user,
            pk,
            select_related=("programme", "child", "child__school", "referent", "exit_reason", "previous"),
            annotate=services.transition_check_annotations() if with_steps else None,
        )
    except Pathway.DoesNotExist:
        raise Http404 from None


def _editable_or_403(request, pathway: Pathway) -> None:
    if not perms.can_edit_pathway(request.user, pathway):
        raise PermissionDenied


def _heading(user, pathway: Pathway) -> tuple[bool, str]:
    """Whether the identity is visible, and the title to show: the child's name or the pseudonym."""
    identity = perms.identity_visible(user, pathway)
    if identity:
        return True, f"{pathway.child.first_name} {pathway.child.last_name.upper()}"
    return False, perms.pseudonym(pathway)


@contextmanager
def _at_version(request, pathway: Pathway, version: int):
    """Run the write only if the pathway is still at ``version`` (row locked until the end)."""
    with transaction.atomic():
        current = (
            perms.pathways_visible_to(request.user)
            .select_for_update()
            .filter(pk=pathway.pk)
            .values_list("version", flat=True)
            .first()
        )
        if current != version:
            raise StaleVersion
        yield


def _step_page(request, pathway: Pathway, template: str, context: dict, page: str):
    """Render a step page (it shows the child's name or pseudonym): journaled like the pathway page."""
    identity, title = _heading(request.user, pathway)
    record_access(request, pathway, verb="pathway.viewed", identity=identity, page=page)
    return render(request, template, {"pathway": pathway, "title": title, "identity": identity, **context})


def _journey_errors(form, error: services.JourneyError) -> None:
    for message in error.messages:
        form.add_error(None, message)


def _person(user) -> str:
    return (user.get_full_name() or user.email) if user is not None else ""


def _badge(circle: str) -> dict:
    label, css = CIRCLE_BADGES[Circle(circle)]
    return {"label": label, "css": css, "title": Circle(circle).label}


def _today() -> datetime.date:
    return timezone.localdate()


# --- the pathway page ----------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    day: datetime.date
    at: datetime.datetime
    title: str
    detail: str = ""
    circle: dict | None = None
    kind: str = ""


def _timeline(
    *, transitions, assignments, consents, objectives, actions, items, extra=()
) -> list[TimelineEntry]:
    """Everything that happened on the pathway that the reader may read, newest first.

    ``extra``: (day, at, title, detail, kind) rows from other apps (attendance at collective actions).
    """
    entries = [TimelineEntry(day, at, title, detail, kind=kind) for day, at, title, detail, kind in extra]
    for t in transitions:
        if t.from_state:
            title = _("Étape « %(state)s »") % {"state": PathwayState(t.to_state).label}
        else:
            title = _("Ouverture du parcours")
        detail = _("par %(person)s") % {"person": _person(t.by)}
        if t.note:
            detail = f"{detail} — {t.note}"
        entries.append(TimelineEntry(timezone.localdate(t.at), t.at, title, detail, kind="transition"))
    for a in assignments:
        entries.append(
            TimelineEntry(
                timezone.localdate(a.starts_at),
                a.starts_at,
                _("Référent·e : %(person)s") % {"person": _person(a.referent)},
                _("désigné·e par %(person)s") % {"person": _person(a.assigned_by)},
                kind="referent",
            )
        )
    for c in consents:
        who = c.guardian_label
        entries.append(
            TimelineEntry(
                c.given_on, c.created_at, _("Accord de la famille (%(who)s)") % {"who": who}, kind="consent"
            )
        )
        if c.withdrawn_on:
            entries.append(
                TimelineEntry(
                    c.withdrawn_on,
                    c.updated_at,
                    _("Retrait de l'accord (%(who)s)") % {"who": who},
                    kind="consent",
                )
            )
    for o in objectives:
        entries.append(
            TimelineEntry(
                timezone.localdate(o.created_at),
                o.created_at,
                _("Objectif ajouté : %(wording)s") % {"wording": o.wording},
                kind="plan",
            )
        )
    for a in actions:
        entries.append(
            TimelineEntry(
                timezone.localdate(a.created_at),
                a.created_at,
                _("Action ajoutée au plan : %(title)s") % {"title": a.title},
                kind="plan",
            )
        )
    for item in items:
        if isinstance(item, Contact):
            day, title = item.occurred_on, _("Contact : %(kind)s") % {"kind": item.get_kind_display()}
        elif isinstance(item, Note):
            day, title = timezone.localdate(item.created_at), _("Note écrite")
        elif isinstance(item, Review):
            day, title = item.held_on, item.get_kind_display()
        else:
            day = item.written_on
            title = _("Diagnostic : %(dimension)s") % {"dimension": item.get_dimension_display()}
        entries.append(
            TimelineEntry(
                day,
                item.created_at,
                title,
                _("par %(person)s") % {"person": _person(item.author)},
                circle=_badge(item.circle),
                kind="item",
            )
        )
    entries.sort(key=lambda e: (e.day, e.at), reverse=True)
    return entries


def _next_steps(pathway: Pathway) -> list[dict]:
    """Each step the pathway may move to (closing apart), with what it still needs in plain French."""
    if not pathway.is_open:
        return []
    targets = sorted(TRANSITIONS[PathwayState(pathway.state)] - {PathwayState.CLOSED}, key=STEPS.index)
    checks = services.transition_checks(pathway) if targets else None
    return [
        {
            "state": target.value,
            "label": target.label,
            "forward": STEPS.index(target) > STEPS.index(PathwayState(pathway.state)),
            "problems": services.transition_problems(pathway, target, checks),
        }
        for target in targets
    ]


def _stepper(pathway: Pathway) -> dict:
    state = PathwayState(pathway.state)
    index = STEPS.index(state)
    following = STEPS[index + 1] if index + 1 < len(STEPS) else None
    return {
        "current": index + 1,
        "total": len(STEPS),
        "title": state.label,
        "next": following.label if following else "",
        "steps": [{"label": s.label, "done": i < index, "current": i == index} for i, s in enumerate(STEPS)],
    }


@login_required
@sensitive("pathway.viewed")
def detail(request, pk: int):
    user = request.user
    pathway = _pathway_or_404(request, pk, with_steps=True)
    identity, title = _heading(user, pathway)
    edit = perms.can_edit_pathway(user, pathway)
    write_items = perms.can_write_items(user, pathway)
    manage_consents = perms.can_manage_consents(user, pathway)
    reopen = perms.can_reopen_pathway(user, pathway)
    today = _today()

    consents = list(
        perms.consents_on(user, pathway)
        .select_related("guardian")
        .prefetch_related(Prefetch("shared_with", queryset=Organisation.objects.order_by("name")))
    )
    for position, consent in enumerate(consents, start=1):
        guardian = consent.guardian
        consent.guardian_label = (
            f"{guardian.first_name} {guardian.last_name}"
            if identity
            else _("%(relation)s, titulaire de l'autorité parentale n° %(n)s")
            % {"relation": guardian.get_relation_display(), "n": position}
        )
        consent.withdraw_url = item_link(
            manage_consents and consent.is_valid, "followup:consent_withdraw", pathway.pk, consent.pk
        )
        documents = (edit or manage_consents) and identity
        consent.form_url = item_link(documents, "documents:consent_form", pathway.pk, guardian.pk)
        # The signed paper names the family: only for those who see the identity.
        consent.proof_url = item_link(
            identity and bool(consent.proof), "followup:consent_proof", pathway.pk, consent.pk
        )

    # The readable circles are decided once for this pathway; each query is then
    # ``pathway_id = … AND (circle IN (…) OR author = …)`` on the (pathway, circle) index.
    sections = list(perms.items_readable_on(user, pathway, DiagnosticSection).select_related("author"))
    contacts = list(perms.items_readable_on(user, pathway, Contact).select_related("author"))
    notes = list(perms.items_readable_on(user, pathway, Note).select_related("author"))
    reviews = list(
        perms.items_readable_on(user, pathway, Review)
        .select_related("author")
        .prefetch_related(Prefetch("ratings", queryset=ReviewRating.objects.select_related("objective")))
        .order_by("-held_on", "-pk")
    )
    items = [*sections, *contacts, *notes, *reviews]
    for item in items:
        item.badge = _badge(item.circle)

    dimensions = []
    for dimension in Dimension:
        dimension_sections = [s for s in sections if s.dimension == dimension]
        dimensions.append(
            {
                "value": dimension.value,
                "label": dimension.label,
                "sections": dimension_sections,
                "edit_url": item_link(write_items, "followup:diagnostic_edit", pathway.pk, dimension.value),
            }
        )

    objectives = list(perms.plan_on(user, pathway, Objective))
    actions = list(perms.plan_on(user, pathway, PlanAction).select_related("provider", "objective"))
    # Whoever sees the pathway sees the plan's rows; each one's text only within its circle.
    ratings = [rating for review in reviews for rating in review.ratings.all()]
    redact_plan(
        user,
        [
            *objectives,
            *actions,
            *(a.objective for a in actions if a.objective is not None),
            *(r.objective for r in ratings),
        ],
    )
    for row in [*objectives, *actions]:
        row.badge = None if row.text_hidden else _badge(row.circle)
    for rating in ratings:
        if rating.objective.text_hidden:
            # A bilan's comment on an objective the reader may not read would tell its content.
            rating.comment = ""
    for objective in objectives:
        objective.plan_actions = [a for a in actions if a.objective_id == objective.pk]
        objective.status_url = item_link(
            edit and pathway.is_open, "followup:objective_status", pathway.pk, objective.pk
        )
    loose_actions = [a for a in actions if a.objective_id is None]
    # Attendance at collective actions: in the timeline, and the progress of each plan action.
    attendances = perms.attendances_visible_to(user)
    progress = offer_queries.progress_by_plan_action(attendances, [a.pk for a in actions])
    for action in actions:
        action.attendance = progress.get(action.pk)
    attendance_rows = offer_queries.timeline_rows(attendances, pathway)

    transitions = list(pathway.transitions.select_related("by"))
    assignments = list(pathway.referent_assignments.select_related("referent", "assigned_by"))
    team = list(
        pathway.team_members.select_related(
            "membership__user", "membership__organisation", "added_by"
        ).order_by("-starts_on", "-pk")
    )
    for member in team:
        member.is_current = member.starts_on <= today and (member.ends_on is None or member.ends_on >= today)
        member.is_future = member.starts_on > today

    # The pathway this one reopened (read with it) and the one that reopened it, each if visible.
    previous = (
        pathway.previous if pathway.previous_id and perms.sees_pathway(user, pathway.previous) else None
    )
    # Only a closed pathway is ever reopened: an open one has no following pathway to look for.
    following = (
        None if pathway.is_open else perms.pathways_visible_to(user).filter(previous=pathway.pk).first()
    )

    circles = sorted({item.circle for item in items})
    record_access(request, pathway, verb="pathway.viewed", circles=circles, identity=identity)
    context = {
        "pathway": pathway,
        "title": title,
        "identity": identity,
        "abilities": {
            "edit": edit,
            "write_items": write_items,
            "manage_consents": manage_consents,
            "reopen": reopen,
        },
        "links": pathway_links(
            pathway, edit=edit, write_items=write_items, manage_consents=manage_consents, identity=identity
        ),
        "stepper": _stepper(pathway),
        "next_steps": _next_steps(pathway) if edit else [],
        "overdue": pathway.is_open and pathway.next_review_on is not None and pathway.next_review_on < today,
        "consents": consents,
        "has_valid_consent": any(c.is_valid for c in consents),
        "dimensions": dimensions,
        "has_diagnosis": bool(sections),
        "objectives": objectives,
        "loose_actions": loose_actions,
        "contacts": contacts,
        "notes": notes,
        "reviews": reviews,
        "team": team,
        "assignments": assignments,
        "previous": previous,
        "following": following,
        # Read again by "since your last visit" (governance/_pathway_since.html) instead of re-querying.
        "pathway_rows": {
            "transitions": transitions,
            "objectives": objectives,
            "actions": actions,
            "items": items,
        },
        "timeline": _timeline(
            transitions=transitions,
            assignments=assignments,
            consents=consents,
            objectives=objectives,
            actions=actions,
            items=items,
            extra=attendance_rows,
        ),
    }
    return render(request, "pathways/detail.html", context)


# --- steps ---------------------------------------------------------------------------------------


@login_required
@sensitive("pathway.viewed")
def transition(request, pk: int):
    pathway = _pathway_or_404(request, pk)
    _editable_or_403(request, pathway)
    steps = _next_steps(pathway)
    targets = [PathwayState(step["state"]) for step in steps]
    form = forms.TransitionForm(
        request.POST or None,
        targets=targets,
        initial={"version": pathway.version, "to_state": request.GET.get("vers")},
    )
    if request.method == "POST" and form.is_valid():
        to_state = form.cleaned_data["to_state"]
        try:
            with _at_version(request, pathway, form.cleaned_data["version"]):
                services.pathway_transition(
                    pathway=pathway, to_state=to_state, by=request.user, note=form.cleaned_data["note"]
                )
        except StaleVersion:
            messages.error(request, STALE_MESSAGE)
            return redirect("pathways:detail", pk=pathway.pk)
        except services.JourneyError as error:
            _journey_errors(form, error)
        else:
            messages.success(
                request,
                _("Le parcours est passé à l'étape « %(state)s ».") % {"state": PathwayState(to_state).label},
            )
            return redirect("pathways:detail", pk=pathway.pk)
    return _step_page(
        request, pathway, "pathways/transition.html", {"form": form, "next_steps": steps}, page="transition"
    )


def _referent_candidates(user, pathway: Pathway) -> QuerySet:
    memberships = (
        perms.memberships_visible_to(user)
        .active()
        .filter(programme=pathway.programme_id, role__in=[Role.REFERENT, Role.COORDINATOR])
    )
    return (
        get_user_model()
        .objects.filter(Exists(memberships.filter(user=OuterRef("pk"))))
        .order_by("last_name", "first_name", "pk")
    )


@login_required
@sensitive("pathway.viewed")
def referent(request, pk: int):
    pathway = _pathway_or_404(request, pk)
    _editable_or_403(request, pathway)
    candidates = _referent_candidates(request.user, pathway)
    if pathway.referent_id:
        candidates = candidates.exclude(pk=pathway.referent_id)
    form = forms.ReferentForm(
        request.POST or None, candidates=candidates, initial={"version": pathway.version}
    )
    if request.method == "POST" and form.is_valid():
        new = form.cleaned_data["referent"]
        try:
            with _at_version(request, pathway, form.cleaned_data["version"]):
                services.referent_assign(pathway=pathway, referent=new, by=request.user)
        except StaleVersion:
            messages.error(request, STALE_MESSAGE)
            return redirect("pathways:detail", pk=pathway.pk)
        except services.JourneyError as error:
            _journey_errors(form, error)
        else:
            messages.success(
                request, _("%(person)s est désormais référent·e de ce parcours.") % {"person": _person(new)}
            )
            return redirect("pathways:detail", pk=pathway.pk)
    return _step_page(request, pathway, "pathways/referent.html", {"form": form}, page="referent")


def _team_candidates(user, pathway: Pathway) -> QuerySet:
    """Members of the programme, in force, whose role a case team opens the pathway to."""
    roles = perms.roles_granting(perms.PATHWAY, perms.Access.CASE_TEAM, perms.Access.CASE_TEAM_OR_EPS)
    current = pathway.team_members.current().values("membership")
    candidates = (
        perms.memberships_visible_to(user)
        .active()
        .filter(programme=pathway.programme_id, role__in=roles)
        .exclude(pk__in=current)
        .select_related("user", "organisation")
        .order_by("user__last_name", "user__first_name", "pk")
    )
    if pathway.referent_id:
        candidates = candidates.exclude(user=pathway.referent_id)
    return candidates


@login_required
@sensitive("pathway.viewed")
def team_add(request, pk: int):
    pathway = _pathway_or_404(request, pk)
    _editable_or_403(request, pathway)
    form = forms.CaseTeamAddForm(request.POST or None, candidates=_team_candidates(request.user, pathway))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = services.case_team_add(
                pathway=pathway,
                membership=data["membership"],
                reason=data["reason"],
                by=request.user,
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
            )
        except services.JourneyError as error:
            _journey_errors(form, error)
        else:
            messages.success(
                request,
                _("%(person)s rejoint l'équipe du parcours.") % {"person": _person(member.membership.user)},
            )
            return redirect(reverse("pathways:detail", args=[pathway.pk]) + "#equipe")
    return _step_page(request, pathway, "pathways/team_add.html", {"form": form}, page="team_add")


@login_required
@sensitive("pathway.viewed")
def team_remove(request, pk: int, member_pk: int):
    pathway = _pathway_or_404(request, pk)
    _editable_or_403(request, pathway)
    member = get_object_or_404(
        pathway.team_members.select_related("membership__user", "membership__organisation"), pk=member_pk
    )
    if member.ends_on is not None and member.ends_on < _today():
        messages.info(request, _("Cette personne ne fait déjà plus partie de l'équipe du parcours."))
        return redirect("pathways:detail", pk=pathway.pk)
    form = forms.CaseTeamRemoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.case_team_remove(member=member, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(
            request,
            _("%(person)s ne fait plus partie de l'équipe du parcours.")
            % {"person": _person(member.membership.user)},
        )
        return redirect("pathways:detail", pk=pathway.pk)
    return _step_page(
        request,
        pathway,
        "pathways/team_remove.html",
        {"form": form, "member": member, "person": _person(member.membership.user)},
        page="team_remove",
    )


@login_required
@sensitive("pathway.viewed")
def close(request, pk: int):
    pathway = _pathway_or_404(request, pk)
    _editable_or_403(request, pathway)
    exit_reasons = ListItem.objects.of_kind(ListKind.EXIT_REASON).filter(programme=pathway.programme_id)
    form = forms.CloseForm(
        request.POST or None, exit_reasons=exit_reasons, initial={"version": pathway.version}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with _at_version(request, pathway, data["version"]):
                services.pathway_close(
                    pathway=pathway,
                    exit_reason=data["exit_reason"],
                    closed_on=data["closed_on"],
                    by=request.user,
                    relay_partner=data["relay_partner"],
                    note=data["note"],
                )
        except StaleVersion:
            messages.error(request, STALE_MESSAGE)
            return redirect("pathways:detail", pk=pathway.pk)
        except services.JourneyError as error:
            _journey_errors(form, error)
        else:
            messages.success(request, _("Le parcours est clôturé."))
            return redirect("pathways:detail", pk=pathway.pk)
    has_final_review = pathway.reviews.filter(kind=ReviewKind.FINAL).exists()
    return _step_page(
        request,
        pathway,
        "pathways/close.html",
        {"form": form, "has_final_review": has_final_review},
        page="close",
    )


@login_required
@sensitive("pathway.viewed")
def reopen(request, pk: int):
    pathway = _pathway_or_404(request, pk)
    if not perms.can_reopen_pathway(request.user, pathway):
        raise PermissionDenied
    form = forms.ReopenForm(
        request.POST or None,
        candidates=_referent_candidates(request.user, pathway),
        initial={"version": pathway.version, "referent": pathway.referent_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            with _at_version(request, pathway, form.cleaned_data["version"]):
                new = services.pathway_reopen(
                    pathway=pathway, by=request.user, referent=form.cleaned_data["referent"]
                )
        except StaleVersion:
            messages.error(request, STALE_MESSAGE)
            return redirect("pathways:detail", pk=pathway.pk)
        except services.JourneyError as error:
            _journey_errors(form, error)
        else:
            messages.success(
                request,
                _("Un nouveau parcours (%(code)s) est ouvert, lié au parcours %(previous)s.")
                % {"code": new.case_code, "previous": pathway.case_code},
            )
            return redirect("pathways:detail", pk=new.pk)
    return _step_page(request, pathway, "pathways/reopen.html", {"form": form}, page="reopen")


# --- lists ---------------------------------------------------------------------------------------


def _with_identity(rows: QuerySet, named: QuerySet) -> QuerySet:
    """Annotate each pathway with whether its child is one of ``named`` (the children whose identity
    the user may see: ``perms.children_visible_to``)."""
    return rows.annotate(identity=Exists(named.filter(pk=OuterRef("child_id")))).select_related(
        "child", "child__school", "referent", "programme"
    )


def _decorate(rows: list[Pathway], today: datetime.date) -> list[Pathway]:
    soon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    for row in rows:
        row.label = (
            f"{row.child.last_name.upper()} {row.child.first_name}" if row.identity else perms.pseudonym(row)
        )
        row.overdue = row.is_open and row.next_review_on is not None and row.next_review_on < today
        row.due_soon = row.is_open and row.next_review_on is not None and today <= row.next_review_on <= soon
    return rows


def _journal_rows(request, rows: list[Pathway]) -> None:
    """One entry per row shown, saying whether the row showed the name."""
    for identity in (True, False):
        shown = [row for row in rows if row.identity == identity]
        if shown:
            record_access_many(request, shown, verb="pathway.listed", identity=identity)


def _apply_filters(rows: QuerySet, form, today: datetime.date, *, default_open: bool = True) -> QuerySet:
    state = form.cleaned_data.get("state") if form.is_valid() else ""
    if state == forms.STATE_ALL:
        pass
    elif state:
        rows = rows.filter(state=state)
    elif default_open:
        rows = rows.exclude(state=PathwayState.CLOSED)
    if form.is_valid():
        if form.cleaned_data.get("overdue"):
            rows = rows.exclude(state=PathwayState.CLOSED).filter(next_review_on__lt=today)
        if form.cleaned_data.get("referent"):
            rows = rows.filter(referent=form.cleaned_data["referent"])
    return rows


def _ordered(rows: QuerySet) -> QuerySet:
    return rows.order_by(F("next_review_on").asc(nulls_last=True), "case_code", "pk")


def _searched(rows: QuerySet, form, named: QuerySet, programme_id: int) -> QuerySet | Ranked:
    """The list's rows in their order, or, with a search term, the rows it finds, best match first.

    By case code, or by name among ``named`` (the children whose identity the user may see) of the
    programme. The search runs once; the page reads its rows by id.
    """
    term = form.cleaned_data.get("q", "") if form.is_valid() else ""
    if not term.strip():
        return _ordered(rows)
    return search_pathways(rows, term, children=named.filter(programme=programme_id))


@login_required
@sensitive("pathway.listed")
def caseload(request):
    """The référent's caseload: the open pathways they are accountable for, in the current programme."""
    membership = current_membership(request)
    if membership is None or not perms.has_role(
        request.user, membership.programme, Role.REFERENT, Role.COORDINATOR
    ):
        raise Http404
    today = _today()
    base = perms.pathways_visible_to(request.user).filter(
        referent=request.user, programme=membership.programme_id
    )
    form = forms.CaseloadFilterForm(request.GET or None)
    # One scope of the children named, for the identity of the rows and for the search by name.
    named = perms.children_visible_to(request.user)
    rows = _apply_filters(_with_identity(base, named), form, today)
    rows = _searched(rows, form, named, membership.programme_id)
    # Pages of CASELOAD_PAGE_SIZE: a référent follows about 100 children; every row shown is journaled
    # in one insert, which keeps the page's query count the same whatever the caseload.
    page = Paginator(rows, CASELOAD_PAGE_SIZE).get_page(request.GET.get("page"))
    shown = _decorate(list(page.object_list), today)
    _journal_rows(request, shown)
    context = {
        "programme": membership.programme,
        "form": form,
        "page_obj": page,
        "rows": shown,
        "filtered": any(request.GET.get(k) for k in ("q", "state", "overdue")),
        "truncated": getattr(rows, "truncated", False),
        "overdue_count": base.filter(next_review_on__lt=today).exclude(state=PathwayState.CLOSED).count(),
    }
    return render(request, "pathways/caseload.html", context)


@login_required
@sensitive("pathway.listed")
def pathway_list(request):
    """Every pathway of the current programme, for its coordination."""
    membership = current_membership(request)
    if membership is None or not perms.has_role(request.user, membership.programme, Role.COORDINATOR):
        raise Http404
    programme = membership.programme
    today = _today()
    referents = (
        get_user_model()
        .objects.filter(
            Q(pathways_as_referent__programme=programme)
            | Q(memberships__programme=programme, memberships__role=Role.REFERENT)
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )
    form = forms.ProgrammeFilterForm(request.GET or None, referents=referents)
    base = perms.pathways_visible_to(request.user).filter(programme=programme)
    named = perms.children_visible_to(request.user)
    rows = _apply_filters(_with_identity(base, named), form, today)
    rows = _searched(rows, form, named, programme.pk)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = _decorate(list(page.object_list), today)
    _journal_rows(request, shown)
    context = {
        "programme": programme,
        "form": form,
        "page_obj": page,
        "rows": shown,
        "filtered": any(request.GET.get(k) for k in ("q", "state", "overdue", "referent")),
        "truncated": getattr(rows, "truncated", False),
    }
    return render(request, "pathways/list.html", context)
