"""Accepting an invitation, and the programme's team page where managers invite and revoke.

The login, logout and password pages are allauth's (templates in templates/account/).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from maillage import permissions as perms
from maillage.accounts import services
from maillage.accounts.models import Invitation, User
from maillage.accounts.stepup import recent_auth_required
from maillage.audit.access import not_sensitive
from maillage.programmes.models import Programme
from maillage.www.accounts.forms import (
    ConfirmOnlyForm,
    CurrentPasswordForm,
    DeclineForm,
    InvitationForm,
    NewAccountPasswordForm,
)
from maillage.www.context import SESSION_KEY, current_membership

# --- accepting an invitation ----------------------------------------------------------------------


def _invalid_invitation(request: HttpRequest) -> HttpResponse:
    # One page and one status for unknown, expired, used and revoked links: nothing to probe.
    return render(request, "account/invitation_invalid.html", status=404)


def _password_form(request: HttpRequest, invitation: Invitation, account: User | None):
    data = request.POST if request.method == "POST" else None
    if account is None:
        candidate = User(
            email=invitation.email, first_name=invitation.first_name, last_name=invitation.last_name
        )
        return NewAccountPasswordForm(data, user=candidate)
    if request.user.is_authenticated and request.user.pk == account.pk:
        return ConfirmOnlyForm(data)
    return CurrentPasswordForm(data)


@not_sensitive
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_for_token(token)
    except services.InvitationInvalid:
        return _invalid_invitation(request)
    account = services.existing_account(invitation)
    context = {"invitation": invitation, "account": account}
    if request.user.is_authenticated and request.user.email.lower() != invitation.email:
        # Accepting would sign this browser in as someone else: ask to sign out first.
        return render(request, "account/invitation_accept.html", {**context, "other_account": True})

    form = _password_form(request, invitation, account)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(token=token, password=form.password, by_request=request)
        except services.InvitationInvalid:
            return _invalid_invitation(request)
        except ValidationError as error:
            form.add_error("password1" if "password1" in form.fields else None, error)
        else:
            membership_id = (
                Invitation.objects.filter(pk=invitation.pk).values_list("membership_id", flat=True).first()
            )
            programme = invitation.programme.name
            if request.user.is_authenticated and request.user.pk == user.pk:
                request.session[SESSION_KEY] = membership_id
                messages.success(
                    request,
                    _("Bienvenue ! Vous avez rejoint %(programme)s en tant que %(role)s.")
                    % {"programme": programme, "role": invitation.get_role_display()},
                )
                return redirect("home")
            messages.success(
                request,
                _("Vous avez rejoint %(programme)s. Connectez-vous pour continuer.")
                % {"programme": programme},
            )
            return redirect("account_login")
    return render(request, "account/invitation_accept.html", {**context, "form": form})


# --- the team page ---------------------------------------------------------------------------------


def _managed_programme(request: HttpRequest) -> Programme:
    """The current programme, if the user may manage its members; 404 otherwise (never 403)."""
    membership = current_membership(request)
    if membership is None or not perms.can_manage_members(request.user, membership.programme):
        raise Http404
    return membership.programme


def _organisations(request: HttpRequest, programme: Programme):
    return perms.organisations_visible_to(request.user).filter(programme=programme, is_active=True)


def _team_abilities(request: HttpRequest, programme: Programme) -> dict:
    """What the current user may do on the team page, per role (a constant number of queries)."""
    return perms.team_abilities(request.user, programme)


def _invitation_form(
    request: HttpRequest, programme: Programme, abilities: dict, data=None
) -> InvitationForm:
    return InvitationForm(
        data,
        organisations=_organisations(request, programme),
        grantable=abilities["grantable"],
        proposable=abilities["proposable"],
    )


def _render_team(
    request: HttpRequest, programme: Programme, form: InvitationForm, abilities: dict, status: int = 200
) -> HttpResponse:
    members = (
        perms.memberships_visible_to(request.user)
        .filter(programme=programme)
        .active()
        .select_related("user", "organisation")
        .order_by("user__last_name", "user__first_name", "role")
    )
    invitations = list(
        Invitation.objects.open()
        .filter(programme=programme)
        .select_related("organisation", "invited_by")
        .order_by("-created_at")
    )
    members = list(members)
    for member in members:
        member.can_end = member.role in abilities["endable"] and member.user_id != request.user.pk
    for invitation in invitations:
        invitation.can_decide = invitation.is_proposal and invitation.role in abilities["grantable"]
    return render(
        request,
        "account/team.html",
        {
            "programme": programme,
            "members": members,
            "proposals": [i for i in invitations if i.is_proposal],
            "invitations": [i for i in invitations if not i.is_proposal],
            "form": form,
            "proposes": bool(abilities["proposable"]),
            "invitation_days": settings.MAILLAGE_INVITATION_DAYS,
        },
        status=status,
    )


@not_sensitive
@login_required
@require_http_methods(["GET"])
def team(request: HttpRequest) -> HttpResponse:
    programme = _managed_programme(request)
    abilities = _team_abilities(request, programme)
    return _render_team(request, programme, _invitation_form(request, programme, abilities), abilities)


@not_sensitive
@login_required
@recent_auth_required
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    programme = _managed_programme(request)
    if request.method == "GET":
        return redirect("accounts:team")
    abilities = _team_abilities(request, programme)
    # The form offers every role: one the user may neither grant nor propose is refused by the
    # service, which decides again (the form is a convenience, not the policy).
    form = _invitation_form(request, programme, abilities, data=request.POST)
    if form.is_valid():
        data = form.cleaned_data
        fields = {
            "programme": programme,
            "email": data["email"],
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "role": data["role"],
            "organisation": data["organisation"],
            "job_title": data["job_title"],
            "bound_by_secrecy": data["bound_by_secrecy"],
            "by": request.user,
            "request": request,
        }
        propose = perms.can_propose_role(request.user, programme, data["role"])
        try:
            if propose:
                invitation = services.invitation_propose(**fields)
            else:
                invitation, _token = services.invitation_create(**fields)
        except PermissionDenied:
            form.add_error(
                "role",
                _(
                    "Votre compte ne peut pas donner ce rôle : seule la coordination du programme, "
                    "connectée avec une double authentification, donne un accès aux dossiers nominatifs."
                ),
            )
            return _render_team(request, programme, form, abilities, status=403)
        except ValidationError as error:
            field = {"organisation": "organisation", "invalid_role": "role"}.get(error.code, None)
            form.add_error(field, error)
        else:
            if propose:
                messages.success(
                    request,
                    _(
                        "Proposition enregistrée pour %(email)s. Une coordinatrice ou un coordinateur du "
                        "programme doit la confirmer : l'invitation ne part qu'après sa confirmation."
                    )
                    % {"email": invitation.email},
                )
                return redirect("accounts:team")
            days = settings.MAILLAGE_INVITATION_DAYS
            messages.success(
                request,
                ngettext(
                    "Invitation envoyée à %(email)s. Le lien est valable %(days)s jour.",
                    "Invitation envoyée à %(email)s. Le lien est valable %(days)s jours.",
                    days,
                )
                % {"email": invitation.email, "days": days},
            )
            return redirect("accounts:team")
    return _render_team(request, programme, form, abilities)


def _proposal_or_404(request: HttpRequest, pk: int) -> Invitation:
    programme = _managed_programme(request)
    invitation = get_object_or_404(
        Invitation.objects.proposals()
        .filter(programme=programme)
        .select_related("organisation", "invited_by", "programme"),
        pk=pk,
    )
    if not perms.can_decide_proposal(request.user, invitation):
        raise PermissionDenied
    return invitation


@not_sensitive
@login_required
@recent_auth_required
@require_http_methods(["GET", "POST"])
def proposal_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm a manager's proposal (after a confirmation page): the invitation leaves now."""
    invitation = _proposal_or_404(request, pk)
    if request.method == "POST":
        try:
            services.invitation_confirm(invitation=invitation, by=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Proposition confirmée : l'invitation est envoyée à %(email)s.")
                % {"email": invitation.email},
            )
        return redirect("accounts:team")
    return render(request, "account/proposal_confirm.html", {"invitation": invitation})


@not_sensitive
@login_required
@recent_auth_required
@require_http_methods(["GET", "POST"])
def proposal_decline(request: HttpRequest, pk: int) -> HttpResponse:
    """Decline a manager's proposal, with a reason (after a confirmation page)."""
    invitation = _proposal_or_404(request, pk)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_decline(
                invitation=invitation, by=request.user, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Proposition refusée : aucune invitation n'est envoyée à %(email)s.")
                % {"email": invitation.email},
            )
        return redirect("accounts:team")
    return render(request, "account/proposal_decline.html", {"invitation": invitation, "form": form})


@not_sensitive
@login_required
@recent_auth_required
@require_http_methods(["GET", "POST"])
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _managed_programme(request)
    invitation = get_object_or_404(
        Invitation.objects.open().filter(programme=programme).select_related("organisation"), pk=pk
    )
    if request.method == "POST":
        try:
            services.invitation_revoke(invitation=invitation, by=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("L'invitation de %(email)s est annulée : son lien ne fonctionne plus.")
                % {"email": invitation.email},
            )
        return redirect("accounts:team")
    return render(request, "account/invitation_revoke.html", {"invitation": invitation})


# --- account security: second factor and sessions --------------------------------------------------


@not_sensitive
@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def sessions(request: HttpRequest) -> HttpResponse:
    """One's open sessions (browser, address, start, last activity), to end one or all the others."""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "end_others":
            ended = services.sessions_end_others(user=request.user, request=request)
            messages.success(
                request,
                ngettext(
                    "%(count)s autre session a été fermée.",
                    "%(count)s autres sessions ont été fermées.",
                    ended,
                )
                % {"count": ended},
            )
            return redirect("accounts:sessions")
        if action == "end":
            try:
                session_id = int(request.POST.get("session", ""))
            except ValueError:
                session_id = 0
            current = services.session_end(user=request.user, session_id=session_id, request=request)
            if current:
                logout(request)
                return redirect("account_login")
            if current is False:
                messages.success(request, _("La session a été fermée."))
        return redirect("accounts:sessions")
    from maillage.accounts.mfa import FACTOR_TYPES, mfa_required

    factors = list(request.user.authenticator_set.filter(type__in=FACTOR_TYPES).order_by("created_at"))
    return render(
        request,
        "account/sessions.html",
        {
            "sessions": services.sessions_of(request.user),
            "current_key": request.session.session_key,
            "factors": factors,
            "mfa_required": mfa_required(request.user),
        },
    )


@not_sensitive
@login_required
@recent_auth_required
@require_http_methods(["GET", "POST"])
def membership_end(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then end a member's membership of the current programme (a team change: step-up)."""
    programme = _managed_programme(request)
    membership = get_object_or_404(
        perms.memberships_visible_to(request.user)
        .filter(programme=programme)
        .active()
        .exclude(user=request.user)
        .select_related("user", "organisation", "programme"),
        pk=pk,
    )
    if not perms.can_end_membership(request.user, membership):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.membership_end(membership=membership, by=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(name)s ne fait plus partie de l'équipe : ses accès au programme sont fermés.")
                % {"name": membership.user.get_full_name() or membership.user.email},
            )
        return redirect("accounts:team")
    return render(request, "account/membership_end.html", {"membership": membership})
