"""allauth's forms with the wording of the DSFR (settings.ACCOUNT_FORMS).

The DSFR shows a visible label and a hint above each field (templates/allauth/dsfr/field.html drops
placeholders). The new-password fields carry ``data-password-rules`` so that the templates show the
rules of the password validators (CNIL 2022-100) next to them.
"""

from allauth.account import forms as allauth_forms
from django.utils.translation import gettext_lazy as _

EMAIL_HINT = _("Format attendu : nom@domaine.fr")


class DsfrFieldsMixin:
    """Labels and hints in French; the page shows its own "forgotten password" link."""

    labels: dict = {}
    hints: dict = {}
    rules_on: tuple[str, ...] = ()

    def _dsfr(self) -> None:
        for name, field in self.fields.items():
            if name in self.labels:
                field.label = self.labels[name]
            if name in self.hints:
                field.help_text = self.hints[name]
            elif getattr(field.widget, "input_type", "") == "password":
                # allauth's default help (a reset link, or the validators' HTML list) is replaced by
                # the page's own link and by the rules shown with data-password-rules.
                field.help_text = ""
            if name in self.rules_on:
                field.widget.attrs["data-password-rules"] = "true"


class LoginForm(DsfrFieldsMixin, allauth_forms.LoginForm):
    labels = {"login": _("Adresse électronique"), "password": _("Mot de passe")}
    hints = {"login": EMAIL_HINT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._dsfr()


class ResetPasswordForm(DsfrFieldsMixin, allauth_forms.ResetPasswordForm):
    labels = {"email": _("Adresse électronique")}
    hints = {"email": EMAIL_HINT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._dsfr()


NEW_PASSWORD_LABELS = {
    "password1": _("Nouveau mot de passe"),
    "password2": _("Confirmation du nouveau mot de passe"),
}


class ResetPasswordKeyForm(DsfrFieldsMixin, allauth_forms.ResetPasswordKeyForm):
    labels = NEW_PASSWORD_LABELS
    rules_on = ("password1",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._dsfr()


class ChangePasswordForm(DsfrFieldsMixin, allauth_forms.ChangePasswordForm):
    labels = {"oldpassword": _("Mot de passe actuel"), **NEW_PASSWORD_LABELS}
    rules_on = ("password1",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._dsfr()


class SetPasswordForm(DsfrFieldsMixin, allauth_forms.SetPasswordForm):
    labels = NEW_PASSWORD_LABELS
    rules_on = ("password1",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._dsfr()
