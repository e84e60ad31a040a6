"""Forms of the actions pages: catalogue, groups, enrolment, contracts, alerts, support fund."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from maillage.core.uploads import MAX_UPLOAD_BYTES, validate_upload
from maillage.offers.enums import AgeBand, BeneficiarySex, FundPurpose, TaskOutcome
from maillage.offers.models import Offer
from maillage.pathways.enums import ActionKind, Circle, Dimension
from maillage.programmes.models import Membership
from maillage.www.programmes.forms import DsfrForm, DsfrModelForm

DATE = {"type": "date"}


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs=DATE, format="%Y-%m-%d")


class CatalogueFilterForm(DsfrForm):
    q = forms.CharField(label=_("Rechercher"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("Tous")), *ActionKind.choices])
    dimension = forms.ChoiceField(
        label=_("Dimension"), required=False, choices=[("", _("Toutes")), *Dimension.choices]
    )
    provider = forms.ModelChoiceField(
        label=_("Intervenant"), required=False, queryset=None, empty_label=_("Tous")
    )
    with_places = forms.BooleanField(label=_("Avec des places libres"), required=False)
    inactive = forms.BooleanField(label=_("Inclure les actions qui ne sont plus proposées"), required=False)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = organisations


class OfferForm(DsfrModelForm):
    dimensions = forms.MultipleChoiceField(
        label=_("Dimensions"),
        choices=Dimension.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Offer
        fields = [
            "title",
            "kind",
            "dimensions",
            "description_for_families",
            "provider",
            "capacity",
            "schedule",
            "unit_cost",
            "funding_line",
            "starts_on",
            "ends_on",
            "is_active",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "starts_on": date_input(),
            "ends_on": date_input(),
            "description_for_families": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, organisations, funding_lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = organisations
        self.fields["funding_line"].queryset = funding_lines

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("La fin ne peut pas précéder le début."))
        return cleaned


WEEKDAYS = [
    (0, _("Lundi")),
    (1, _("Mardi")),
    (2, _("Mercredi")),
    (3, _("Jeudi")),
    (4, _("Vendredi")),
    (5, _("Samedi")),
    (6, _("Dimanche")),
]


class GroupForm(DsfrForm):
    name = forms.CharField(
        label=_("Nom du groupe"), max_length=150, help_text=_("Exemple : groupe du mercredi.")
    )
    starts_on = forms.DateField(label=_("Début"), widget=date_input())
    ends_on = forms.DateField(label=_("Fin"), widget=date_input())
    capacity = forms.IntegerField(
        label=_("Places"),
        required=False,
        min_value=1,
        max_value=999,
        help_text=_("Laisser vide : celles de l'action."),
    )
    place = forms.CharField(label=_("Lieu"), max_length=200, required=False)
    facilitators = forms.ModelMultipleChoiceField(
        label=_("Animateur·rices nommé·es"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Les intervenant·es de la structure de l'action voient déjà ce groupe."),
    )
    weekday = forms.TypedChoiceField(
        label=_("Jour des séances"), choices=WEEKDAYS, coerce=int, required=False, empty_value=None
    )
    start_time = forms.TimeField(
        label=_("Heure de début"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    duration_minutes = forms.IntegerField(
        label=_("Durée d'une séance (minutes)"), required=False, min_value=15, max_value=600, initial=90
    )

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitators"].queryset = memberships
        self.fields["facilitators"].label_from_instance = lambda m: m.user.get_full_name() or m.user.email

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("La fin ne peut pas précéder le début."))
        if cleaned.get("weekday") is not None and not cleaned.get("start_time"):
            self.add_error("start_time", _("Indiquez l'heure des séances."))
        return cleaned


class BeneficiaryForm(DsfrForm):
    """A collective-only participant: nothing more than the minimal data."""

    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    initial = forms.CharField(label=_("Initiale du nom"), max_length=1)
    is_parent = forms.BooleanField(label=_("C'est un parent"), required=False)
    age_band = forms.ChoiceField(label=_("Tranche d'âge"), choices=AgeBand.choices)
    sex = forms.ChoiceField(label=_("Sexe"), choices=BeneficiarySex.choices, widget=forms.RadioSelect)
    in_qpv = forms.BooleanField(label=_("Réside en quartier prioritaire"), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_parent") and cleaned.get("age_band") != AgeBand.ADULT:
            self.add_error("age_band", _("Un parent est dans la tranche « Adulte »."))
        return cleaned


class ParentEnrolForm(DsfrForm):
    group = forms.ModelChoiceField(label=_("Groupe"), queryset=None)
    guardians = forms.ModelMultipleChoiceField(
        label=_("Parents à inscrire"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("L'intervenant ne verra que le prénom et l'initiale du nom."),
    )

    def __init__(self, *args, groups, guardians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups
        self.fields["group"].label_from_instance = lambda g: GroupChoiceField.label_from_instance(None, g)
        self.fields["guardians"].queryset = guardians
        self.fields["guardians"].label_from_instance = lambda g: f"{g.first_name} {g.last_name}"


class GroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        left = obj.places_left
        places = (
            _("places illimitées")
            if left is None
            else ngettext("%(n)s place libre", "%(n)s places libres", left) % {"n": left}
        )
        if left == 0:
            places = _("complet : liste d'attente")
        return f"{obj.offer.title} — {obj.name} ({places})"


class PlanFromCatalogueForm(DsfrForm):
    offer = forms.ModelChoiceField(label=_("Action du catalogue"), queryset=None)
    group = GroupChoiceField(
        label=_("Groupe (action collective)"),
        queryset=None,
        required=False,
        help_text=_("L'intervenant ne verra que le prénom, l'initiale du nom et l'âge de l'enfant."),
    )
    objective = forms.ModelChoiceField(
        label=_("Objectif visé"),
        queryset=None,
        required=False,
        empty_label=_("Aucun objectif en particulier"),
    )
    circle = forms.ChoiceField(
        label=_("Qui pourra lire ?"),
        help_text=_("Choisissez le cercle le plus restreint qui suffit."),
        choices=Circle.choices,
        initial=Circle.TEAM,
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, offers, groups, objectives, circles=None, **kwargs):
        super().__init__(*args, **kwargs)
        if circles is not None:
            self.fields["circle"].choices = [(c, Circle(c).label) for c in circles]
        self.fields["offer"].queryset = offers
        self.fields["offer"].label_from_instance = self._offer_label
        self.fields["group"].queryset = groups
        self.fields["objective"].queryset = objectives
        self.fields["objective"].label_from_instance = lambda o: o.wording

    @staticmethod
    def _offer_label(offer) -> str:
        left = getattr(offer, "places_left", None)
        if offer.kind == ActionKind.COLLECTIVE:
            places = (
                _("places illimitées")
                if left is None
                else ngettext("%(n)s place libre", "%(n)s places libres", left) % {"n": left}
            )
        else:
            places = _("individuelle")
        return f"{offer.title} ({places})"

    def clean(self):
        cleaned = super().clean()
        offer, group = cleaned.get("offer"), cleaned.get("group")
        if offer and offer.kind == ActionKind.COLLECTIVE and group is None:
            self.add_error("group", _("Choisissez le groupe dans lequel inscrire l'enfant."))
        if offer and group and group.offer_id != offer.pk:
            self.add_error("group", _("Ce groupe n'appartient pas à l'action choisie."))
        cleaned["circle"] = cleaned.get("circle") or Circle.TEAM  # the most restrictive by default
        return cleaned


class ContractForm(DsfrForm):
    child_commitments = forms.CharField(
        label=_("Engagements de l'enfant"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Exemple : venir à l'aide aux devoirs chaque mardi et jeudi."),
    )
    family_commitments = forms.CharField(
        label=_("Engagements de la famille"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Exemple : prévenir en cas d'absence, venir aux rendez-vous de bilan."),
    )
    team_commitments = forms.CharField(
        label=_("Engagements de l'équipe"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Exemple : trouver un club de sport, faire le point chaque trimestre."),
    )
    starts_on = forms.DateField(label=_("Début"), widget=date_input(), initial=timezone.localdate)
    review_on = forms.DateField(label=_("À revoir le"), widget=date_input(), required=False)

    def clean(self):
        cleaned = super().clean()
        starts_on, review_on = cleaned.get("starts_on"), cleaned.get("review_on")
        if starts_on and review_on and review_on < starts_on:
            self.add_error("review_on", _("La révision suit le début du contrat."))
        return cleaned


class SignForm(DsfrForm):
    signed_on = forms.DateField(label=_("Signé le"), widget=date_input(), initial=timezone.localdate)

    def clean_signed_on(self):
        value = self.cleaned_data["signed_on"]
        if value > timezone.localdate():
            raise ValidationError(_("La date de signature ne peut pas être dans le futur."))
        return value


class EscalateForm(DsfrForm):
    assignee = forms.ModelChoiceField(label=_("Travailleur·se social·e de l'équipe"), queryset=None)
    instructions = forms.CharField(
        label=_("Ce qui est demandé"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, social_workers, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = Membership.objects.filter(pk__in=[m.pk for m in social_workers]).select_related(
            "user", "organisation"
        )
        field.label_from_instance = lambda m: " — ".join(
            str(part)
            for part in (m.user.get_full_name() or m.user.email, m.job_title or m.organisation)
            if part
        )


class CloseAlertForm(DsfrForm):
    note = forms.CharField(label=_("Pourquoi classer sans suite"), widget=forms.Textarea(attrs={"rows": 3}))


class TaskOutcomeForm(DsfrForm):
    outcome = forms.ChoiceField(label=_("Résultat"), choices=TaskOutcome.choices, widget=forms.RadioSelect)
    outcome_note = forms.CharField(
        label=_("Précisions"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class FundRequestForm(DsfrForm):
    purpose = forms.ChoiceField(label=_("Objet"), choices=FundPurpose.choices)
    details = forms.CharField(label=_("Précisions"), max_length=255, required=False)
    amount = forms.DecimalField(
        label=_("Montant (€)"), max_digits=9, decimal_places=2, min_value=0.01, localize=True
    )
    payee = forms.CharField(
        label=_("À payer à"), max_length=200, help_text=_("Exemple : le club, le cabinet, le magasin.")
    )
    funding_line = forms.ModelChoiceField(label=_("Ligne de financement"), queryset=None)
    invoice = forms.FileField(
        label=_("Facture ou devis"),
        required=False,
        help_text=_("PDF, JPEG ou PNG, 5 Mo au plus."),
    )

    def __init__(self, *args, funding_lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funding_line"].queryset = funding_lines

    def clean_invoice(self):
        file = self.cleaned_data.get("invoice")
        if not file:
            return None
        if file.size and file.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("Le fichier est trop volumineux."))
        return validate_upload(file)


class DecisionForm(DsfrForm):
    decision = forms.ChoiceField(
        label=_("Décision"),
        choices=[("approve", _("Accorder")), ("refuse", _("Refuser"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Motif"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Obligatoire en cas de refus."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "refuse" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Dites pourquoi la demande est refusée."))
        return cleaned
