from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from maillage.programmes.enums import Role
from maillage.programmes.models import Organisation

EMAIL_HINT = _("Format attendu : nom@domaine.fr")

# Network-level access spans several programmes: it is not granted from one programme's team page.
INVITABLE_ROLES = [(value, label) for value, label in Role.choices if value != Role.NETWORK]


class InvitationForm(forms.Form):
    """Who to invite, with which role, for which partner organisation of the programme."""

    email = forms.EmailField(label=_("Adresse électronique"), help_text=EMAIL_HINT)
    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    role = forms.ChoiceField(label=_("Rôle"), choices=[("", _("Sélectionner un rôle")), *INVITABLE_ROLES])
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("Aucune (structure porteuse)"),
    )
    job_title = forms.CharField(
        label=_("Fonction"),
        max_length=150,
        required=False,
        help_text=_("Par exemple : assistante sociale, directeur d'école, éducatrice spécialisée"),
    )
    bound_by_secrecy = forms.BooleanField(
        label=_("Soumis·e au secret professionnel"),
        required=False,
        help_text=_(
            "Par sa profession (travailleur social, infirmière, éducateur…). Les enseignants ne le sont "
            "pas à ce titre. Seules ces personnes peuvent lire les informations à secret partagé."
        ),
    )

    def __init__(self, *args, organisations, grantable=(), proposable=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        if proposable:
            # A manager grants aggregate roles; a role reaching names is only proposed to the coordination.
            self.fields["role"].choices = [
                ("", _("Sélectionner un rôle")),
                (_("Inviter directement"), [(v, lbl) for v, lbl in INVITABLE_ROLES if v in grantable]),
                (
                    _("Proposer, pour confirmation par la coordination"),
                    [(v, lbl) for v, lbl in INVITABLE_ROLES if v in proposable],
                ),
                *[(v, lbl) for v, lbl in INVITABLE_ROLES if v not in grantable and v not in proposable],
            ]
        for name in ("email", "first_name", "last_name"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class NewAccountPasswordForm(forms.Form):
    """The password of the account an invitation creates, checked by the validators."""

    password1 = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "data-password-rules": "true"}),
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password1(self) -> str:
        password = self.cleaned_data["password1"]
        password_validation.validate_password(password, user=self.user)
        return password

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password2") != cleaned["password1"]:
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))
        return cleaned

    @property
    def password(self) -> str:
        return self.cleaned_data["password1"]


class CurrentPasswordForm(forms.Form):
    """An existing account joins the programme: its owner confirms with the current password."""

    password1 = forms.CharField(
        label=_("Mot de passe actuel de votre compte"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    @property
    def password(self) -> str:
        return self.cleaned_data["password1"]


class ConfirmOnlyForm(forms.Form):
    """The owner of the account is already signed in: a button is enough."""

    password = None


class DeclineForm(forms.Form):
    """Why a coordinator declines a manager's proposal (told to the proposer and journaled)."""

    reason = forms.CharField(
        label=_("Motif du refus"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Il est communiqué à la personne qui a fait la proposition. Ne citez aucun enfant."),
    )
