"""Forms of the pathway pages: filters of the lists, and the steps (transition, référent, case team, exit).

The choices offered come from the caller (scopes of ``maillage.permissions``); the forms only check
what a form can check (dates in order, confirmation ticked). The rules of the journey stay in
``maillage.pathways.services``.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.pathways.enums import PathwayState
from maillage.www.programmes.forms import DsfrForm


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class VersionedForm(DsfrForm):
    """A form acting on a pathway carries the version the user saw, to detect a concurrent change."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.email


class MembershipChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        person = obj.user.get_full_name() or obj.user.email
        details = [str(obj.get_role_display())]
        if obj.job_title:
            details.append(obj.job_title)
        if obj.organisation_id:
            details.append(obj.organisation.name)
        return f"{person} — {', '.join(details)}"


class ExitReasonChoiceField(forms.ModelChoiceField):
    """Each exit reason says whether a final bilan is needed before closing with it."""

    def label_from_instance(self, obj) -> str:
        if obj.needs_final_review:
            return _("%(label)s (bilan final requis)") % {"label": obj.label}
        return obj.label


# --- lists ---------------------------------------------------------------------------------------

OPEN_STATES = [s for s in PathwayState if s != PathwayState.CLOSED]


class CaseloadFilterForm(DsfrForm):
    q = forms.CharField(
        label=_("Rechercher"),
        help_text=_("Nom, prénom ou code de situation."),
        required=False,
        max_length=100,
    )
    state = forms.ChoiceField(
        label=_("Étape"),
        required=False,
        choices=[("", _("Toutes les étapes en cours"))] + [(s.value, s.label) for s in OPEN_STATES],
    )
    overdue = forms.BooleanField(label=_("Bilan en retard seulement"), required=False)


STATE_ALL = "all"


class ProgrammeFilterForm(CaseloadFilterForm):
    state = forms.ChoiceField(
        label=_("Étape"),
        required=False,
        choices=[("", _("Parcours en cours (toutes étapes)"))]
        + [(s.value, s.label) for s in PathwayState]
        + [(STATE_ALL, _("Tous, clôturés compris"))],
    )
    referent = UserChoiceField(
        label=_("Référent·e"), required=False, queryset=None, empty_label=_("Tous les référent·es")
    )
    field_order = ["q", "state", "referent", "overdue"]

    def __init__(self, *args, referents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referent"].queryset = referents


# --- steps ---------------------------------------------------------------------------------------


class TransitionForm(VersionedForm):
    to_state = forms.ChoiceField(label=_("Nouvelle étape"), choices=())
    note = forms.CharField(
        label=_("Commentaire (facultatif)"),
        help_text=_(
            "Visible par toutes les personnes qui voient ce parcours : n'y écrivez rien de confidentiel."
        ),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_state"].choices = [(s.value, s.label) for s in targets]


class ReferentForm(VersionedForm):
    referent = UserChoiceField(label=_("Nouveau ou nouvelle référent·e"), queryset=None, empty_label=None)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referent"].queryset = candidates


class CaseTeamAddForm(DsfrForm):
    membership = MembershipChoiceField(
        label=_("Professionnel·le"),
        help_text=_(
            "Membres du programme en activité qui peuvent rejoindre l'équipe d'un parcours (référent·es "
            "et membres d'équipe pluridisciplinaire)."
        ),
        queryset=None,
        empty_label=_("Choisir une personne"),
    )
    starts_on = forms.DateField(label=_("À partir du"), widget=DateInput, initial=timezone.localdate)
    ends_on = forms.DateField(
        label=_("Jusqu'au (facultatif)"),
        help_text=_("Sans date de fin, la personne reste dans l'équipe jusqu'à ce qu'on l'en retire."),
        widget=DateInput,
        required=False,
    )
    reason = forms.CharField(
        label=_("Raison"),
        help_text=_(
            "Pourquoi cette personne rejoint l'équipe. Exemple : enseignante de la classe de l'enfant."
        ),
        max_length=255,
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = candidates

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("La date de fin ne peut pas précéder la date de début."))
        return cleaned


class CaseTeamRemoveForm(DsfrForm):
    reason = forms.CharField(
        label=_("Raison du retrait (facultatif)"),
        required=False,
        max_length=255,
    )


class CloseForm(VersionedForm):
    exit_reason = ExitReasonChoiceField(
        label=_("Motif de sortie"), queryset=None, empty_label=_("Choisir un motif")
    )
    closed_on = forms.DateField(label=_("Date de sortie"), widget=DateInput, initial=timezone.localdate)
    relay_partner = forms.CharField(
        label=_("Relais (facultatif)"),
        help_text=_("Le partenaire ou le dispositif qui prend le relais. Exemple : CLAS du centre social."),
        required=False,
        max_length=255,
    )
    note = forms.CharField(
        label=_("Précisions (facultatif)"),
        help_text=_(
            "Visibles par les personnes qui voient ce parcours après sa clôture : la coordination et le ou "
            "la référent·e."
        ),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_("Je confirme la clôture de ce parcours"),
        help_text=_(
            "Après la clôture, l'équipe du parcours se réduit au ou à la référent·e et à la coordination. "
            "Un parcours clôturé ne se modifie plus : seule la coordination peut en ouvrir un nouveau."
        ),
    )

    def __init__(self, *args, exit_reasons, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exit_reason"].queryset = exit_reasons


class ReopenForm(VersionedForm):
    referent = UserChoiceField(
        label=_("Référent·e du nouveau parcours"),
        queryset=None,
        required=False,
        empty_label=_("À désigner plus tard"),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referent"].queryset = candidates
