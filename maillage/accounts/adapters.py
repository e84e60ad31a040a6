from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.utils.translation import gettext_lazy as _


class AccountAdapter(DefaultAccountAdapter):
    """Accounts come from invitations only: nobody signs up alone."""

    # The same words whether the address has an account or not (no enumeration).
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": _(
            "Trop de tentatives de connexion infructueuses pour cette adresse : "
            "réessayez dans 15 minutes, ou réinitialisez votre mot de passe."
        ),
    }

    def is_open_for_signup(self, request) -> bool:
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth's own sensitive pages (second factor, sessions) follow the step-up rule.

        allauth only counts an explicit re-authentication; here a login of less than
        ``MAILLAGE_STEPUP_SECONDS`` is enough, as for ``recent_auth_required`` — so that a person
        who just signed in can enrol their second factor without typing their password again.
        """
        required = super().is_reauthentication_required(app=app, **kwargs)
        request = getattr(context, "request", None)
        if required and request is not None:
            from maillage.accounts.stepup import is_recently_authenticated

            return not is_recently_authenticated(request)
        return required


class MFAAdapter(DefaultMFAAdapter):
    """TOTP and recovery-code seeds are stored encrypted with the application keys (AES-GCM)."""

    def encrypt(self, text: str) -> str:
        from maillage.core import crypto

        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        from maillage.core import crypto

        if crypto.key_id_of(encrypted_text) is None:
            return encrypted_text  # written before seeds were encrypted
        return crypto.decrypt(encrypted_text)

    def can_delete_authenticator(self, authenticator) -> bool:
        """A person who must have a second factor cannot remove their last one."""
        from maillage.accounts.mfa import FACTOR_TYPES, mfa_required

        if authenticator.type not in FACTOR_TYPES or not mfa_required(authenticator.user):
            return True
        return (
            authenticator.user.authenticator_set.filter(type__in=FACTOR_TYPES)
            .exclude(pk=authenticator.pk)
            .exists()
        )
