"""Forms of the journal pages: the search filters and the break-glass request."""

from django import forms
from django.utils.translation import gettext_lazy as _

from maillage.audit.queries import verb_choices
from maillage.www.programmes.forms import DsfrForm

REASON_MIN_LENGTH = 10


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class JournalSearchForm(DsfrForm):
    child = forms.CharField(
        label=_("Enfant"),
        help_text=_("Nom, prénom ou code de situation (par exemple DEMO-2026-0142)."),
        required=False,
        max_length=100,
    )
    email = forms.CharField(
        label=_("Professionnel·le"),
        help_text=_("Adresse électronique de son compte, ou une partie."),
        required=False,
        max_length=254,
    )
    date_from = forms.DateField(label=_("Du"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("Au"), required=False, widget=DateInput())
    verb = forms.ChoiceField(label=_("Action"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verb"].choices = [("", _("Toutes les actions"))] + verb_choices()

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("La date de fin doit être postérieure ou égale à la date de début."))
        return data

    @property
    def filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


class BreakGlassSearchForm(DsfrForm):
    code = forms.CharField(
        label=_("Code de situation"),
        help_text=_("Tel qu'il figure sur les documents du parcours, par exemple DEMO-2026-0142."),
        max_length=40,
    )


class BreakGlassForm(DsfrForm):
    code = forms.CharField(widget=forms.HiddenInput, max_length=40)
    reason = forms.CharField(
        label=_("Motif de l'accès exceptionnel"),
        help_text=_(
            "Pourquoi devez-vous consulter ce dossier ? Par exemple : demande d'accès de la famille "
            "reçue le 12 mars, réclamation à instruire. Ce motif est enregistré dans le journal et "
            "lu par le ou la délégué·e à la protection des données."
        ),
        min_length=REASON_MIN_LENGTH,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Indiquez le motif de cet accès exceptionnel : il est obligatoire."),
            "min_length": _("Décrivez le motif en une phrase (au moins %(limit_value)d caractères)."),
        },
    )
    confirm = forms.BooleanField(
        label=_(
            "Je confirme avoir besoin de ce dossier pour le motif indiqué. L'accès dure une heure, en "
            "lecture seule ; il est journalisé et signalé au ou à la délégué·e à la protection des données."
        ),
        error_messages={"required": _("Cochez la case pour confirmer l'accès exceptionnel.")},
    )
