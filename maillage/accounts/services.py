"""Invitations: how a person gets an account and a membership in a programme.

Nobody signs up alone. A manager or coordinator invites a person by email with a role; the email
carries a single-use link valid ``MAILLAGE_INVITATION_DAYS`` days. Only the SHA-256 of the link's
token is stored, so a copy of the database cannot be used to accept an invitation.

Every function is keyword-only, runs in one transaction, checks the policy predicate again and
writes its journal entry in the same transaction. Emails leave only once the transaction commits.
"""

import datetime
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import login, password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from maillage import permissions as perms
from maillage.accounts.models import Invitation, User
from maillage.accounts.signals import team_changed
from maillage.audit import services as audit
from maillage.programmes.enums import Role
from maillage.programmes.models import Membership, Organisation, Programme

MANAGING_ROLES = (Role.MANAGER, Role.COORDINATOR)

#: Who is told of every grant or end of a role reaching names (CONFIDENTIALITY.md).
WATCHING_ROLES = (Role.COORDINATOR, Role.DPO)


class InvitationInvalid(Exception):
    """The token matches no invitation that can still be accepted.

    ``reason`` (unknown, expired, used, revoked) is for the code and the tests; pages show the same
    explanation whatever the reason, so that a link cannot be probed.
    """

    MESSAGES = {
        "unknown": _("Ce lien d'invitation n'est pas valide."),
        "expired": _("Cette invitation a expiré : demandez-en une nouvelle à la coordination du programme."),
        "used": _("Cette invitation a déjà été utilisée : connectez-vous avec votre compte."),
        "revoked": _("Cette invitation a été annulée par la coordination du programme."),
    }

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(str(self.MESSAGES[reason]))


def _acting_membership(user: User, programme: Programme) -> Membership | None:
    """The managing membership in whose name ``user`` acts (for the journal's role column)."""
    return (
        perms.active_memberships(user)
        .filter(programme=programme, role__in=MANAGING_ROLES)
        .order_by("starts_on", "pk")
        .first()
    )


def invitation_url(token: str, request: HttpRequest | None = None) -> str:
    """The absolute link of an invitation (the request's host, or ``MAILLAGE_BASE_URL`` without one)."""
    path = reverse("accounts:invitation_accept", kwargs={"token": token})
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.MAILLAGE_BASE_URL.rstrip("/") + path


def _send_invitation_email(invitation: Invitation, url: str) -> None:
    inviter = invitation.confirmed_by or invitation.invited_by
    context: dict[str, Any] = {
        "invitation": invitation,
        "programme": invitation.programme,
        "inviter": inviter,
        "url": url,
        "site_title": settings.MAILLAGE_INSTANCE_NAME,
        "days": settings.MAILLAGE_INVITATION_DAYS,
    }
    # The invitee's language is unknown: the instance's language.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("account/email/invitation_subject.txt", context)
        text = render_to_string("account/email/invitation_message.txt", context)
        html = render_to_string("account/email/invitation_message.html", context)
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split())
    message = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [invitation.email],
        reply_to=[inviter.email],
    )
    message.attach_alternative(html, "text/html")
    message.send()


# --- telling the programme's coordinators and DPO -------------------------------------------------------


def team_watchers(programme: Programme, *, exclude: User | None = None) -> list[User]:
    """The coordinators and DPO of ``programme`` (memberships in force, active accounts), but ``exclude``."""
    memberships = (
        Membership.objects.active()
        .filter(programme=programme, role__in=WATCHING_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("user__email")
    )
    users = {m.user_id: m.user for m in memberships if exclude is None or m.user_id != exclude.pk}
    return list(users.values())


def _person(first_name: str, last_name: str, email: str) -> str:
    name = f"{first_name} {last_name}".strip()
    return f"{name} <{email}>" if name else email


def _tell_watchers(*, programme: Programme, by: User, verb: str, message: str) -> list[User]:
    """Notify the programme's coordinators and DPO of a team change: in the application at once, by
    e-mail once the transaction commits. Messages name professionals, never a child."""
    watchers = team_watchers(programme, exclude=by)
    if not watchers:
        return []
    url = reverse("accounts:team")
    team_changed.send(
        sender=Membership, programme=programme, users=watchers, verb=verb, message=message, url=url
    )
    addresses = [user.email for user in watchers]

    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + str(
                _("Équipe de %(programme)s : accès modifiés") % {"programme": programme.name}
            )
            body = "\n".join(
                [
                    str(_("Bonjour,")),
                    "",
                    message,
                    "",
                    str(
                        _(
                            "Vous recevez ce message parce que vous coordonnez ce programme ou en êtes "
                            "le ou la délégué·e à la protection des données : donner ou retirer un accès "
                            "aux dossiers est lui-même un accès."
                        )
                    ),
                    settings.MAILLAGE_BASE_URL.rstrip("/") + url,
                    "",
                    f"— {settings.MAILLAGE_INSTANCE_NAME}",
                ]
            )
        connection = get_connection()
        connection.send_messages(
            [
                EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address], connection=connection)
                for address in addresses
            ]
        )

    transaction.on_commit(send)
    return watchers


def _role_label(role: str) -> str:
    return str(Role(role).label)


def _revoke(invitation: Invitation, *, by: User, reason: str, request: HttpRequest | None = None) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at", "updated_at"])
    audit.record(
        verb="invitation.revoked",
        actor=by,
        target=invitation,
        programme=invitation.programme,
        membership=_acting_membership(by, invitation.programme),
        payload={"reason": reason},
        request=request,
    )


def _check_invitation(
    *, programme: Programme, email: str, role: str, organisation: Organisation | None
) -> str:
    """Validate what does not depend on who invites; return the normalised address."""
    if role not in Role.values:
        raise ValidationError(_("Rôle inconnu."), code="invalid_role")
    if organisation is not None and organisation.programme_id != programme.pk:
        raise ValidationError(_("Cette organisation n'est pas partenaire du programme."), code="organisation")
    email = User.objects.normalize_email(email).strip().lower()
    already = Membership.objects.active().filter(programme=programme, role=role, user__email__iexact=email)
    if already.exists():
        raise ValidationError(
            _("Cette personne est déjà membre du programme avec ce rôle."), code="already_member"
        )
    return email


def _replace_open(
    *, programme: Programme, email: str, by: User, request: HttpRequest | None
) -> list[Invitation]:
    """Revoke the open invitation of this address (only the latest link works).

    An invitation whose role ``by`` may not grant is left alone: a manager's proposal never cancels
    a coordinator's invitation, it is refused instead.
    """
    previous = list(Invitation.objects.open().select_for_update().filter(programme=programme, email=email))
    for old in previous:
        if not old.is_proposal and not perms.can_grant_role(by, programme, old.role):
            raise ValidationError(
                _("Une invitation est déjà en cours pour cette adresse : la coordination peut l'annuler."),
                code="pending",
            )
    for old in previous:
        _revoke(old, by=by, reason="replaced", request=request)
    return previous


def _send(
    invitation: Invitation, *, request: HttpRequest | None, start: datetime.datetime | None = None
) -> str:
    """Give the invitation its single-use link, valid from ``start`` (now), and send it at commit."""
    token = Invitation.new_token()
    invitation.token_hash = Invitation.hash_token(token)
    start = start or timezone.now()
    invitation.expires_at = start + datetime.timedelta(days=settings.MAILLAGE_INVITATION_DAYS)
    url = invitation_url(token, request)
    transaction.on_commit(lambda: _send_invitation_email(invitation, url))
    return token


def _tell_grant(invitation: Invitation, *, by: User) -> None:
    if invitation.role not in perms.NOMINATIVE_ROLES:
        return
    _tell_watchers(
        programme=invitation.programme,
        by=by,
        verb="team.granted",
        message=str(
            _("%(actor)s a invité %(person)s comme « %(role)s » dans %(programme)s.")
            % {
                "actor": by.get_full_name() or by.email,
                "person": _person(invitation.first_name, invitation.last_name, invitation.email),
                "role": _role_label(invitation.role),
                "programme": invitation.programme.name,
            }
        ),
    )


@transaction.atomic
def invitation_create(
    *,
    programme: Programme,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    organisation: Organisation | None = None,
    job_title: str = "",
    bound_by_secrecy: bool = False,
    by: User,
    request: HttpRequest | None = None,
) -> tuple[Invitation, str]:
    """Invite a person to ``programme`` with ``role``; return the invitation and its clear token.

    Only who may grant the role invites (``perms.can_grant_role``: a role reaching names by a
    coordinator with a second factor; a manager proposes it instead, see ``invitation_propose``).
    The token is returned for the caller's information only (it is in the email): it is never
    stored nor journaled. An open invitation of the same address to the same programme is revoked
    first, so that only the latest link works. Granting a role that reaches names is notified to
    the programme's coordinators and DPO.
    """
    if not perms.can_grant_role(by, programme, role):
        raise PermissionDenied
    email = _check_invitation(programme=programme, email=email, role=role, organisation=organisation)
    previous = _replace_open(programme=programme, email=email, by=by, request=request)

    invitation = Invitation.objects.create(
        programme=programme,
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        role=role,
        organisation=organisation,
        job_title=job_title.strip(),
        bound_by_secrecy=bound_by_secrecy,
        invited_by=by,
    )
    token = _send(invitation, request=request, start=invitation.created_at)
    invitation.save(update_fields=["token_hash", "expires_at", "updated_at"])
    audit.record(
        verb="invitation.created",
        actor=by,
        target=invitation,
        programme=programme,
        membership=_acting_membership(by, programme),
        payload={
            "role": role,
            "organisation": organisation.pk if organisation else None,
            "bound_by_secrecy": bound_by_secrecy,
            "expires_at": invitation.expires_at.isoformat(),
            "replaces": [old.pk for old in previous],
        },
        request=request,
    )
    _tell_grant(invitation, by=by)
    return invitation, token


@transaction.atomic
def invitation_propose(
    *,
    programme: Programme,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    organisation: Organisation | None = None,
    job_title: str = "",
    bound_by_secrecy: bool = False,
    by: User,
    request: HttpRequest | None = None,
) -> Invitation:
    """A manager proposes a membership in a role reaching names; a coordinator confirms or declines it.

    Nothing is sent to the person: the proposal has no link until it is confirmed. The programme's
    coordinators and DPO are told that a proposal waits.
    """
    if not perms.can_propose_role(by, programme, role):
        raise PermissionDenied
    email = _check_invitation(programme=programme, email=email, role=role, organisation=organisation)
    previous = _replace_open(programme=programme, email=email, by=by, request=request)
    invitation = Invitation.objects.create(
        programme=programme,
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        role=role,
        organisation=organisation,
        job_title=job_title.strip(),
        bound_by_secrecy=bound_by_secrecy,
        invited_by=by,
    )
    audit.record(
        verb="invitation.proposed",
        actor=by,
        target=invitation,
        programme=programme,
        membership=_acting_membership(by, programme),
        payload={
            "role": role,
            "organisation": organisation.pk if organisation else None,
            "bound_by_secrecy": bound_by_secrecy,
            "replaces": [old.pk for old in previous],
        },
        request=request,
    )
    _tell_watchers(
        programme=programme,
        by=by,
        verb="team.proposed",
        message=str(
            _(
                "%(actor)s propose d'inviter %(person)s comme « %(role)s » dans %(programme)s : "
                "une coordinatrice ou un coordinateur doit confirmer ou refuser la proposition."
            )
            % {
                "actor": by.get_full_name() or by.email,
                "person": _person(invitation.first_name, invitation.last_name, invitation.email),
                "role": _role_label(role),
                "programme": programme.name,
            }
        ),
    )
    return invitation


def _locked_proposal(invitation: Invitation, *, by: User) -> Invitation:
    if not perms.can_grant_role(by, invitation.programme, invitation.role):
        raise PermissionDenied
    # Lock the row and read its state again: another coordinator may have just decided.
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("programme", "organisation", "invited_by")
        .get(pk=invitation.pk)
    )
    if not invitation.is_proposal:
        raise ValidationError(_("Cette proposition a déjà été traitée."), code="decided")
    return invitation


@transaction.atomic
def invitation_confirm(
    *, invitation: Invitation, by: User, request: HttpRequest | None = None
) -> tuple[Invitation, str]:
    """A coordinator confirms a manager's proposal: only now is the invitation sent to the person."""
    invitation = _locked_proposal(invitation, by=by)
    _check_invitation(
        programme=invitation.programme,
        email=invitation.email,
        role=invitation.role,
        organisation=invitation.organisation,
    )
    token = _send(invitation, request=request)
    invitation.confirmed_by = by
    invitation.confirmed_at = timezone.now()
    invitation.save(update_fields=["token_hash", "expires_at", "confirmed_by", "confirmed_at", "updated_at"])
    audit.record(
        verb="invitation.confirmed",
        actor=by,
        target=invitation,
        programme=invitation.programme,
        membership=_acting_membership(by, invitation.programme),
        payload={
            "role": invitation.role,
            "proposed_by": invitation.invited_by_id,
            "expires_at": invitation.expires_at.isoformat(),
        },
        request=request,
    )
    _tell_grant(invitation, by=by)
    return invitation, token


@transaction.atomic
def invitation_decline(
    *, invitation: Invitation, by: User, reason: str, request: HttpRequest | None = None
) -> Invitation:
    """A coordinator declines a manager's proposal, with a reason; nothing is ever sent to the person."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Indiquez le motif du refus."), code="reason")
    invitation = _locked_proposal(invitation, by=by)
    invitation.revoked_at = timezone.now()
    invitation.decline_reason = reason
    invitation.save(update_fields=["revoked_at", "decline_reason", "updated_at"])
    audit.record(
        verb="invitation.declined",
        actor=by,
        target=invitation,
        programme=invitation.programme,
        membership=_acting_membership(by, invitation.programme),
        payload={"role": invitation.role, "proposed_by": invitation.invited_by_id, "reason": reason},
        request=request,
    )
    proposer = invitation.invited_by
    message = str(
        _("%(actor)s a refusé la proposition d'inviter %(person)s comme « %(role)s » : %(reason)s")
        % {
            "actor": by.get_full_name() or by.email,
            "person": _person(invitation.first_name, invitation.last_name, invitation.email),
            "role": _role_label(invitation.role),
            "reason": reason,
        }
    )
    watchers = _tell_watchers(programme=invitation.programme, by=by, verb="team.declined", message=message)
    if proposer.pk != by.pk and proposer.pk not in {w.pk for w in watchers}:
        team_changed.send(
            sender=Membership,
            programme=invitation.programme,
            users=[proposer],
            verb="team.declined",
            message=message,
            url=reverse("accounts:team"),
        )
    return invitation


def invitation_for_token(token: str, *, for_update: bool = False) -> Invitation:
    """The invitation a clear token designates, if it can still be accepted; InvitationInvalid otherwise."""
    invitations = Invitation.objects.select_related("programme", "organisation", "invited_by")
    if for_update:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(token_hash=Invitation.hash_token(token)).first() if token else None
    if invitation is None:
        raise InvitationInvalid("unknown")
    if invitation.accepted_at is not None:
        raise InvitationInvalid("used")
    if invitation.revoked_at is not None:
        raise InvitationInvalid("revoked")
    if invitation.is_expired:
        raise InvitationInvalid("expired")
    return invitation


def existing_account(invitation: Invitation) -> User | None:
    """The account that already uses the invitation's address, if any."""
    return User.objects.filter(email__iexact=invitation.email).first()


@transaction.atomic
def invitation_accept(*, token: str, password: str | None, by_request: HttpRequest | None = None) -> User:
    """Accept an invitation: create (or reuse) the account, create the membership, log the person in.

    A new account gets ``password`` after the password validators (CNIL 2022-100 rules). An
    existing account keeps its password: ``password`` must then be its current one, unless the
    request is already authenticated as that account. The link then stops working.
    """
    invitation = invitation_for_token(token, for_update=True)
    user = existing_account(invitation)
    created = user is None
    if created:
        candidate = User(
            email=invitation.email, first_name=invitation.first_name, last_name=invitation.last_name
        )
        password_validation.validate_password(password or "", user=candidate)
        user = User.objects.create_user(
            invitation.email,
            password,
            first_name=invitation.first_name,
            last_name=invitation.last_name,
        )
    else:
        signed_in_as_owner = (
            by_request is not None and by_request.user.is_authenticated and by_request.user.pk == user.pk
        )
        if not signed_in_as_owner and not (password and user.check_password(password)):
            raise ValidationError(_("Mot de passe incorrect."), code="incorrect_password")
        if not user.is_active:
            raise ValidationError(
                _("Ce compte est désactivé : contactez la coordination du programme."), code="inactive"
            )
    # The link proves the address: allauth may use it for password resets.
    EmailAddress.objects.update_or_create(
        user=user, email__iexact=invitation.email, defaults={"email": invitation.email, "verified": True}
    )
    if not EmailAddress.objects.filter(user=user, primary=True).exists():
        EmailAddress.objects.filter(user=user, email=invitation.email).update(primary=True)

    membership = Membership.objects.create(
        user=user,
        programme=invitation.programme,
        organisation=invitation.organisation,
        role=invitation.role,
        job_title=invitation.job_title,
        bound_by_secrecy=invitation.bound_by_secrecy,
        starts_on=timezone.localdate(),
    )
    invitation.accepted_at = timezone.now()
    invitation.membership = membership
    invitation.save(update_fields=["accepted_at", "membership", "updated_at"])
    audit.record(
        verb="invitation.accepted",
        actor=user,
        target=invitation,
        programme=invitation.programme,
        membership=membership,
        payload={"account_created": created, "membership": membership.pk, "role": membership.role},
        request=by_request,
    )
    if by_request is not None and _may_sign_in_without_second_factor(user, created):
        login(by_request, user, backend="django.contrib.auth.backends.ModelBackend")
    return user


def _may_sign_in_without_second_factor(user: User, created: bool) -> bool:
    # An account protected by a second factor signs in through the login page, never through a link.
    return created or not Authenticator.objects.filter(user=user).exists()


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: User, request: HttpRequest | None = None) -> Invitation:
    """Cancel an invitation that was not accepted yet: its link stops working at once."""
    if not perms.can_manage_members(by, invitation.programme):
        raise PermissionDenied
    # Lock the row and read its state again: an acceptance may have just committed.
    invitation = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise ValidationError(_("Cette invitation a déjà été acceptée ou annulée."), code="closed")
    _revoke(invitation, by=by, reason="revoked", request=request)
    return invitation


# --- sessions ----------------------------------------------------------------------------------------


def sessions_of(user: User) -> list:
    """The live sessions of ``user`` (allauth's ``UserSession``, expired ones purged), oldest first."""
    from allauth.usersessions.models import UserSession

    return sorted(UserSession.objects.purge_and_list(user), key=lambda s: s.created_at)


@transaction.atomic
def session_end(*, user: User, session_id: int, request: HttpRequest) -> bool | None:
    """End one session of ``user``: ``None`` if it is not theirs, else whether it was the current one.

    The current session is not deleted here: the caller logs the request out (a new session id).
    """
    from allauth.usersessions.models import UserSession

    user_session = UserSession.objects.filter(user=user, pk=session_id).first()
    if user_session is None:
        return None
    current = user_session.session_key == request.session.session_key
    audit.record(verb="session.ended", actor=user, target=user, payload={"current": current}, request=request)
    if not current:
        user_session.end()
    return current


@transaction.atomic
def sessions_end_others(*, user: User, request: HttpRequest) -> int:
    """End every session of ``user`` but the one of ``request``; return how many ended."""
    from allauth.usersessions.models import UserSession

    ended = 0
    for user_session in UserSession.objects.filter(user=user).exclude(
        session_key=request.session.session_key
    ):
        user_session.end()
        ended += 1
    audit.record(
        verb="session.others_ended", actor=user, target=user, payload={"ended": ended}, request=request
    )
    return ended


# --- ending a membership -------------------------------------------------------------------------------


@transaction.atomic
def membership_end(*, membership: Membership, by: User, request: HttpRequest | None = None) -> Membership:
    """End ``membership`` now: it stops giving access at once (it ends yesterday).

    A membership that started today is closed on the day before too (it never was in force).
    Sessions: ``maillage.accounts.signals`` signs the person out everywhere when no membership
    in force is left; otherwise they lose this programme at their next request.

    Who may: ``perms.can_end_membership`` (a role reaching names: a coordinator with a second factor;
    a coordinator's membership: another coordinator or the platform staff). Ending a role that
    reaches names is notified to the programme's coordinators and DPO.
    """
    if membership.user_id == by.pk:
        raise ValidationError(_("Vous ne pouvez pas mettre fin à votre propre appartenance."), code="self")
    if not perms.can_end_membership(by, membership):
        raise PermissionDenied
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    today = timezone.localdate()
    if membership.ends_on is not None and membership.ends_on < today:
        raise ValidationError(_("Cette appartenance est déjà terminée."), code="ended")
    yesterday = today - datetime.timedelta(days=1)
    fields = ["ends_on", "updated_at"]
    if membership.starts_on > yesterday:
        membership.starts_on = yesterday
        fields.append("starts_on")
    membership.ends_on = yesterday
    membership.save(update_fields=fields)
    audit.record(
        verb="membership.ended",
        actor=by,
        target=membership,
        programme=membership.programme,
        membership=_acting_membership(by, membership.programme),
        payload={"role": membership.role, "ends_on": membership.ends_on.isoformat()},
        request=request,
    )
    if membership.role in perms.NOMINATIVE_ROLES:
        user = membership.user
        _tell_watchers(
            programme=membership.programme,
            by=by,
            verb="team.ended",
            message=str(
                _("%(actor)s a mis fin à l'accès de %(person)s (« %(role)s ») à %(programme)s.")
                % {
                    "actor": by.get_full_name() or by.email,
                    "person": _person(user.first_name, user.last_name, user.email),
                    "role": _role_label(membership.role),
                    "programme": membership.programme.name,
                }
            ),
        )
    return membership


def membership_change_tell(*, membership: Membership, by: User, created: bool) -> None:
    """Tell the programme's coordinators and DPO of a membership reaching names that was created or
    changed outside the team page (the platform staff in the technical admin): given, or ended when
    its end date is today or past."""
    if membership.role not in perms.NOMINATIVE_ROLES:
        return
    user = membership.user
    values = {
        "actor": by.get_full_name() or by.email,
        "person": _person(user.first_name, user.last_name, user.email),
        "role": _role_label(membership.role),
        "programme": membership.programme.name,
    }
    ended = membership.ends_on is not None and membership.ends_on <= timezone.localdate()
    if ended:
        verb = "team.ended"
        message = _("%(actor)s a mis fin à l'accès de %(person)s (« %(role)s ») à %(programme)s.") % values
    else:
        verb = "team.granted" if created else "team.changed"
        message = (
            _(
                "%(actor)s a donné à %(person)s le rôle « %(role)s » dans %(programme)s "
                "(administration technique)."
            )
            % values
        )
    _tell_watchers(programme=membership.programme, by=by, verb=verb, message=str(message))
