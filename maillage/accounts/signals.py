"""End every session of a person at once when their account is deactivated or a membership ends.

Sessions are found through allauth's ``UserSession`` (one row per session, written at login), so
ending them does not scan the whole session table. A replayed cookie then lands on the login page.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal
from django.utils import timezone

#: Sent when access to a programme is granted, proposed, declined or ended: ``programme``, ``users`` (who
#: to tell), ``verb``, ``message`` (names professionals only), ``url``. The partnership app turns it into
#: in-app notifications (accounts sits below it and does not import it).
team_changed = Signal()


def end_all_sessions(user, *, reason: str = "") -> int:
    """Delete every session of ``user``; return how many there were (journaled when some were)."""
    from allauth.usersessions.models import UserSession

    from maillage.audit.services import record

    count = 0
    for user_session in UserSession.objects.filter(user_id=user.pk):
        user_session.end()
        count += 1
    if count:
        record(
            verb="session.ended_by_deactivation",
            target=user,
            payload={"sessions": count, "reason": reason},
        )
    return count


def _user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    if created or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    end_all_sessions(instance, reason="account_deactivated")


def _no_membership_left(membership) -> bool:
    from maillage.programmes.models import Membership

    return (
        not Membership.objects.active().filter(user_id=membership.user_id).exclude(pk=membership.pk).exists()
    )


def _membership_saved(sender, instance, created, **kwargs) -> None:
    # Only an update ends a membership; creating a past one changes nothing for live sessions.
    # Access is computed again at every request from the memberships in force, so a person who keeps
    # another membership loses the ended programme at their next click and keeps working in the
    # other one; a person left without any membership in force is signed out everywhere at once.
    if created or instance.ends_on is None or instance.ends_on > timezone.localdate():
        return
    if _no_membership_left(instance):
        end_all_sessions(instance.user, reason="membership_ended")


def _membership_deleted(sender, instance, **kwargs) -> None:
    if _no_membership_left(instance):
        end_all_sessions(instance.user, reason="membership_deleted")


def _factor_added(sender, request, user, authenticator, **kwargs) -> None:
    from maillage.audit.services import record

    record(
        verb="mfa.factor_added",
        actor=user,
        target=user,
        payload={"type": authenticator.type},
        request=request,
    )


def _factor_removed(sender, request, user, authenticator, **kwargs) -> None:
    from maillage.accounts.mfa import forget_second_factor
    from maillage.audit.services import record

    if request is not None:
        forget_second_factor(request)

    record(
        verb="mfa.factor_removed",
        actor=user,
        target=user,
        payload={"type": authenticator.type},
        request=request,
    )


def connect() -> None:
    from allauth.mfa import signals as mfa_signals

    from maillage.accounts.models import User
    from maillage.programmes.models import Membership

    post_save.connect(_user_saved, sender=User, dispatch_uid="maillage_end_sessions_user")
    post_save.connect(_membership_saved, sender=Membership, dispatch_uid="maillage_end_sessions_membership")
    mfa_signals.authenticator_added.connect(_factor_added, dispatch_uid="maillage_mfa_factor_added")
    mfa_signals.authenticator_removed.connect(_factor_removed, dispatch_uid="maillage_mfa_factor_removed")
    post_delete.connect(
        _membership_deleted, sender=Membership, dispatch_uid="maillage_end_sessions_membership_del"
    )
