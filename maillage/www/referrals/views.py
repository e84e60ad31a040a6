"""Referral screens: the fiche d'orientation, the referrer's own list, the programme's list and the review.

Referrals come only through ``perms.referrals_visible_to``; children and households shown as duplicate
or sibling candidates only through ``perms.children_visible_to`` / ``households_visible_to``. Every
write goes through ``maillage.referrals.services``; every page showing names is journaled.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Exists, IntegerField, OuterRef, Prefetch, Q, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage import permissions as perms
from maillage.audit.access import not_sensitive, record_access, record_access_many, sensitive
from maillage.core.text import normalise_name
from maillage.pathways.enums import PathwayState
from maillage.pathways.models import Pathway
from maillage.programmes.enums import Role
from maillage.programmes.models import ListItem, Membership
from maillage.referrals import services
from maillage.referrals.duplicates import child_candidates, sibling_households
from maillage.referrals.eligibility import age_on
from maillage.referrals.enums import OPEN_STATES, ReferralState
from maillage.referrals.models import Referral
from maillage.www.context import active_memberships, current_membership
from maillage.www.referrals.forms import (
    AcceptForm,
    DeclineForm,
    RedirectForm,
    ReferralFilterForm,
    ReferralForm,
)

PAGE_SIZE = 25
A = perms.Access

# Roles that submit a fiche (as ``perms.can_submit_referral``), that follow their own referrals, and
# that review the programme's referrals — read from the policy table.
SUBMITTING_ROLES = (Role.COORDINATOR, Role.REFERRER)
OWN_ROLES = tuple(perms.roles_granting(perms.REFERRAL, A.OWN))
REVIEW_ROLES = tuple(perms.roles_granting(perms.REFERRAL, A.PROGRAMME))

BADGES = {
    ReferralState.SUBMITTED: "fr-badge--new",
    ReferralState.UNDER_REVIEW: "fr-badge--info",
    ReferralState.ACCEPTED: "fr-badge--success",
    ReferralState.DECLINED: "",
    ReferralState.REDIRECTED: "fr-badge--warning",
}


def _current_programme_membership(request) -> Membership:
    membership = current_membership(request)
    if membership is None:
        raise Http404
    return membership


def _membership_with_role(request, programme_id: int, roles) -> Membership | None:
    """The user's membership in force in ``programme_id`` with one of ``roles`` (current one first)."""
    current = current_membership(request)
    if current is not None and current.programme_id == programme_id and current.role in roles:
        return current
    return next(
        (m for m in active_memberships(request) if m.programme_id == programme_id and m.role in roles), None
    )


def _reviewable_referrals(user):
    """Referrals the user reviews: the scope, narrowed to the programmes where they read all referrals.

    A referring partner reaches their own referrals through the scope too, but only on « Mes
    orientations »: the review page is not theirs.
    """
    programmes = perms.active_memberships(user).filter(role__in=REVIEW_ROLES).values("programme")
    return perms.referrals_visible_to(user).filter(programme__in=programmes)


def _pathway_url(pathway_pk: int) -> str | None:
    try:
        return reverse("pathways:detail", args=[pathway_pk])
    except NoReverseMatch:  # the pathway pages are not installed
        return None


def _badge(referral: Referral) -> str:
    return BADGES.get(referral.state, "")


# --- the fiche d'orientation -------------------------------------------------------------------------


@not_sensitive
@login_required
def referral_new(request):
    """The form shows nothing of any child: duplicates are looked for at review, by the coordination."""
    membership = _current_programme_membership(request)
    programme = membership.programme
    if not perms.can_submit_referral(request.user, programme):
        raise Http404
    membership = _membership_with_role(request, programme.pk, SUBMITTING_ROLES)
    if membership is None:
        raise Http404
    as_coordinator = membership.role == Role.COORDINATOR
    form = ReferralForm(
        request.POST if request.method == "POST" else None,
        programme=programme,
        user=request.user,
        as_coordinator=as_coordinator,
    )
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_submit(
                programme=programme, by=request.user, **form.submission(membership=membership)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if as_coordinator:
                messages.success(request, _("La fiche d'orientation est enregistrée."))
                return redirect("referrals:detail", pk=referral.pk)
            messages.success(
                request,
                _(
                    "Votre fiche d'orientation est transmise à la coordination du programme. Vous "
                    "suivrez ici où en est l'orientation."
                ),
            )
            return redirect("referrals:mine")
    context = {"programme": programme, "form": form, "as_coordinator": as_coordinator}
    return render(request, "referrals/referral_form.html", context)


# --- the referrer's own referrals -----------------------------------------------------------------


def referrer_status(referral: Referral) -> str:
    """What a referring partner may know: the referral's state and, once accepted, whether the
    pathway is still open — nothing else of it."""
    if referral.state == ReferralState.SUBMITTED:
        return _("Transmise, en attente d'examen")
    if referral.state == ReferralState.UNDER_REVIEW:
        return _("En cours d'examen par la coordination")
    if referral.state == ReferralState.ACCEPTED:
        return (
            _("Acceptée — Parcours en cours")
            if referral.has_open_pathway
            else _("Acceptée — Parcours terminé")
        )
    if referral.state == ReferralState.DECLINED:
        return _("Non retenue")
    return _("Réorientée vers un autre partenaire")


@sensitive("referral.listed_own")
@login_required
def referral_mine(request):
    membership = _current_programme_membership(request)
    programme = membership.programme
    if _membership_with_role(request, programme.pk, OWN_ROLES) is None:
        raise Http404
    # Only whether a pathway opened from the referral is still open: a boolean, never the pathway.
    open_pathway = Pathway.objects.filter(referral=OuterRef("pk")).exclude(state=PathwayState.CLOSED)
    rows = (
        perms.referrals_visible_to(request.user)
        .filter(programme=programme.pk, submitted_by=request.user)
        .annotate(has_open_pathway=Exists(open_pathway.values("pk")))
        .only(
            "pk",
            "programme_id",
            "child_first_name",
            "child_last_name",
            "submitted_at",
            "state",
            "state_changed_at",
        )
        .order_by("-submitted_at", "-pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for referral in page:
        referral.child_label = f"{referral.child_first_name} {referral.child_last_name[:1].upper()}."
        referral.status = referrer_status(referral)
        referral.badge = _badge(referral)
    record_access_many(request, page.object_list, verb="referral.listed_own")
    context = {
        "programme": programme,
        "page_obj": page,
        "can_submit": perms.can_submit_referral(request.user, programme),
    }
    return render(request, "referrals/referral_mine.html", context)


# --- the programme's referrals --------------------------------------------------------------------


@sensitive("referral.listed")
@login_required
def referral_list(request):
    membership = _current_programme_membership(request)
    programme = membership.programme
    if not perms.has_role(request.user, programme, *REVIEW_ROLES):
        raise Http404
    rows = (
        perms.referrals_visible_to(request.user)
        .filter(programme=programme.pk)
        .select_related("referrer_type", "referrer_organisation", "school")
        .prefetch_related(Prefetch("motifs", queryset=ListItem.objects.order_by("position", "label")))
        .annotate(
            open_rank=Case(
                When(state__in=[s.value for s in OPEN_STATES], then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_rank", "-submitted_at", "-pk")
    )
    form = ReferralFilterForm(request.GET or None, programme=programme)
    if form.is_valid():
        data = form.cleaned_data
        for term in normalise_name(data["q"]).split():
            rows = rows.filter(
                Q(child_first_name_normalised__contains=term) | Q(child_last_name_normalised__contains=term)
            )
        if data["state"]:
            rows = rows.filter(state=data["state"])
        if data["motif"]:
            rows = rows.filter(motifs=data["motif"])
        if data["referrer_type"]:
            rows = rows.filter(referrer_type=data["referrer_type"])
    filtered = any(request.GET.get(name) for name in ("q", "state", "motif", "referrer_type"))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for referral in page:
        submitted_on = timezone.localdate(referral.submitted_at)
        referral.is_open = referral.state in OPEN_STATES
        referral.waiting_days = (today - submitted_on).days
        referral.decision_days = (timezone.localdate(referral.state_changed_at) - submitted_on).days
        referral.age = age_on(referral.child_birth_date, today)
        referral.badge = _badge(referral)
    record_access_many(request, page.object_list, verb="referral.listed")
    context = {
        "programme": programme,
        "form": form,
        "page_obj": page,
        "filtered": filtered,
        "can_submit": perms.can_submit_referral(request.user, programme),
    }
    return render(request, "referrals/referral_list.html", context)


# --- review ---------------------------------------------------------------------------------------


def _sibling_suggestions(user, referral: Referral) -> list:
    """Households of the programme that may be this family's, from the guardian's name, phone, address."""
    households = perms.households_visible_to(user).filter(programme=referral.programme_id)
    _first, _sep, guardian_last = referral.guardian_name.strip().partition(" ")
    found = {}
    for last_name in dict.fromkeys([guardian_last or referral.child_last_name, referral.child_last_name]):
        for household in sibling_households(
            households=households,
            guardian_last_name=last_name,
            phone=referral.guardian_phone,
            address=referral.address,
        ).order_by("name"):
            found.setdefault(household.pk, household)
    return list(found.values())


def _review_forms(request, referral: Referral, *, candidates, households, eligible: bool, data=None):
    """The decision forms open in the referral's state, bound to ``data`` when it is the one posted."""
    posted = data.get("decision") if data is not None else None
    forms = {}
    if referral.state in OPEN_STATES:
        forms["decline"] = DeclineForm(data if posted == "decline" else None)
        forms["redirect"] = RedirectForm(data if posted == "redirect" else None)
    if referral.state == ReferralState.UNDER_REVIEW:
        referents = (
            perms.memberships_visible_to(request.user)
            .active()
            .filter(programme=referral.programme_id, role=Role.REFERENT)
            .select_related("user", "organisation")
            .order_by("user__last_name", "user__first_name", "pk")
        )
        initial = {}
        if referral.derogation_reason:
            initial = {"derogation": True, "derogation_reason": referral.derogation_reason}
        forms["accept"] = AcceptForm(
            data if posted == "accept" else None,
            initial=initial,
            candidates=candidates,
            households=households,
            referents=referents,
            eligible=eligible,
        )
    return forms


def _decide(request, referral: Referral, forms: dict):
    """Apply the posted decision; a redirect when done, ``None`` to show the page again with errors."""
    decision = request.POST.get("decision")
    by = request.user
    detail = reverse("referrals:detail", args=[referral.pk])
    try:
        if decision == "review" and referral.state == ReferralState.SUBMITTED:
            services.referral_transition(referral=referral, to_state=ReferralState.UNDER_REVIEW, by=by)
            messages.success(request, _("L'orientation est à l'examen : vous pouvez maintenant l'accepter."))
            return redirect(detail)
        form = forms.get(decision)
        if form is None:
            messages.error(
                request, _("Cette décision n'est pas possible dans l'état actuel de l'orientation.")
            )
            return redirect(detail)
        if not form.is_valid():
            return None
        if decision == "decline":
            services.referral_transition(
                referral=referral, to_state=ReferralState.DECLINED, by=by, reason=form.cleaned_data["reason"]
            )
            messages.success(
                request,
                _("L'orientation n'est pas retenue. L'orienteur verra ce nouvel état dans ses orientations."),
            )
            return redirect(detail)
        if decision == "redirect":
            services.referral_transition(
                referral=referral,
                to_state=ReferralState.REDIRECTED,
                by=by,
                reason=form.cleaned_data["reason"],
                redirected_to=form.cleaned_data["redirected_to"],
            )
            messages.success(
                request,
                _("L'orientation est réorientée. L'orienteur verra ce nouvel état dans ses orientations."),
            )
            return redirect(detail)
        pathway = services.referral_accept(referral=referral, by=by, **form.acceptance())
    except ValidationError as error:
        target = forms.get(decision)
        if target is None:
            for message in error.messages:
                messages.error(request, message)
            return redirect(detail)
        target.add_error(None, error)
        return None
    messages.success(
        request,
        _("L'orientation est acceptée : le parcours %(code)s est ouvert.") % {"code": pathway.case_code},
    )
    return redirect(_pathway_url(pathway.pk) or detail)


@sensitive("referral.viewed")
@login_required
def referral_detail(request, pk: int):
    referral = get_object_or_404(
        _reviewable_referrals(request.user).select_related(
            "programme",
            "submitted_by",
            "referrer_type",
            "referrer_organisation",
            "school",
            "commune",
            "priority_area",
            "child",
        ),
        pk=pk,
    )
    user = request.user
    can_decide = perms.referrals_decidable_by(user).filter(pk=referral.pk).exists()
    if request.method == "POST" and not can_decide:
        raise Http404

    if referral.state == ReferralState.ACCEPTED and referral.eligibility:
        eligible, reasons = referral.eligibility.get("eligible"), referral.eligibility.get("reasons", [])
    else:
        eligibility = services.referral_eligibility(referral)
        eligible, reasons = eligibility.eligible, eligibility.reasons

    candidates, households = [], []
    if referral.state in OPEN_STATES:
        candidates = child_candidates(
            children=perms.children_visible_to(user).filter(programme=referral.programme_id),
            first_name=referral.child_first_name,
            last_name=referral.child_last_name,
            birth_date=referral.child_birth_date,
        )
        households = _sibling_suggestions(user, referral)

    forms = {}
    if can_decide:
        forms = _review_forms(
            request,
            referral,
            candidates=candidates,
            households=households,
            eligible=eligible,
            data=request.POST if request.method == "POST" else None,
        )
        if request.method == "POST":
            response = _decide(request, referral, forms)
            if response is not None:
                return response

    today = timezone.localdate()
    for candidate in candidates:
        candidate.age = age_on(candidate.child.birth_date, today)
    pathways = []
    if referral.state == ReferralState.ACCEPTED:
        for pathway in perms.pathways_visible_to(user).filter(referral=referral).order_by("opened_on", "pk"):
            pathway.url = _pathway_url(pathway.pk)
            pathways.append(pathway)
    child_visible = (
        referral.child_id is not None
        and perms.children_visible_to(user).filter(pk=referral.child_id).exists()
    )

    record_access(request, referral, verb="referral.viewed")
    if candidates:
        record_access_many(request, [c.child for c in candidates], verb="child.duplicate_candidate")
    if households:
        record_access_many(request, households, verb="household.sibling_candidate")

    posted = request.POST.get("decision") if request.method == "POST" else None
    context = {
        "referral": referral,
        "badge": _badge(referral),
        "age": age_on(referral.child_birth_date, today),
        "motifs": referral.motifs.order_by("position", "label"),
        "transitions": referral.transitions.select_related("by"),
        "eligible": eligible,
        "eligibility_reasons": reasons,
        "candidates": candidates,
        "households": households,
        "can_decide": can_decide,
        "forms": forms,
        "open_panel": posted,
        "pathways": pathways,
        "child_visible": child_visible,
        "waiting_days": (today - timezone.localdate(referral.submitted_at)).days,
        "is_open": referral.state in OPEN_STATES,
    }
    return render(request, "referrals/referral_detail.html", context)
