"""Forms of the pathway's written follow-up: consents, diagnosis, plan, contacts, notes and bilans.

Forms check what a person can correct on the page (dates, required fields, the circles offered);
the rules of the journey stay in ``maillage.pathways.services``, whose ``JourneyError`` the views
show on the form.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.core.uploads import MAX_UPLOAD_BYTES, validate_upload
from maillage.pathways.enums import (
    HEALTH_DIMENSIONS,
    ActionKind,
    Circle,
    ContactKind,
    Dimension,
    ObjectiveStatus,
    Rating,
    ReviewKind,
)
from maillage.www.programmes.forms import DsfrForm

TEXTAREA = {"rows": 5}


class PastDateField(forms.DateField):
    """A date picked in the browser's date input, that cannot be in the future."""

    default_error_messages = {"future": _("Cette date ne peut pas être dans le futur.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value and value > timezone.localdate():
            raise ValidationError(self.error_messages["future"], code="future")


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ChoiceLabel:
    """A choice with a hint under its label (django-dsfr renders ``label`` and ``help_text``)."""

    def __init__(self, label, help_text=""):
        self.label = label
        self.help_text = help_text

    def __str__(self) -> str:
        return str(self.label)


CIRCLE_LABELS = {
    Circle.TEAM: _("Équipe du parcours"),
    Circle.SECRET: _("Secret partagé"),
    Circle.PARTNERS: _("Partenaires du parcours"),
}


def circle_choices(
    circles: list[str], *, referent_name: str = "", author_is_referent: bool = False
) -> list[tuple[str, ChoiceLabel]]:
    """The circles offered, each with who will read what is written in it."""
    if author_is_referent:
        team = _("Vous (référent·e du parcours) et la coordination du programme.")
    elif referent_name:
        team = _("Vous, %(name)s (référent·e du parcours) et la coordination du programme.") % {
            "name": referent_name
        }
    else:
        team = _("Vous, la ou le référent·e du parcours et la coordination du programme.")
    readers = {
        Circle.TEAM: team,
        Circle.SECRET: _(
            "L'équipe, plus les professionnels soumis au secret professionnel (équipe du parcours, EPS "
            "qui examine la situation) qui ont signé la charte et dont l'organisation est couverte par "
            "l'accord de la famille."
        ),
        Circle.PARTNERS: _(
            "Le secret partagé, plus tous les autres membres de l'équipe du parcours et de l'EPS, par "
            "exemple l'enseignant·e. Pour des informations pratiques seulement, jamais de santé."
        ),
    }
    return [(c, ChoiceLabel(CIRCLE_LABELS[Circle(c)], readers[Circle(c)])) for c in circles]


def circle_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Qui pourra lire ?"),
        help_text=_("Choisissez le cercle le plus restreint qui suffit."),
        choices=[],
        initial=Circle.TEAM,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": _("Ce cercle de lecture n'est pas possible ici."),
            "required": _("Choisissez qui pourra lire."),
        },
    )


def plan_circle_field() -> forms.ChoiceField:
    """The circle of a plan row's text: offered like every circle, left empty it is ``team``."""
    field = circle_field()
    field.required = False
    return field


def _team_if_empty(cleaned: dict) -> None:
    if not cleaned.get("circle"):
        cleaned["circle"] = Circle.TEAM


class FollowupForm(DsfrForm):
    """DSFR form whose error summary links each error to a field the keyboard can reach."""

    def __init__(
        self,
        *args,
        circles: list[str] | None = None,
        referent_name: str = "",
        author_is_referent: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        today = timezone.localdate().isoformat()
        for field in self.fields.values():
            if isinstance(field, PastDateField):
                field.widget.attrs["max"] = today
        if "circle" in self.fields:
            self.fields["circle"].choices = circle_choices(
                circles or [], referent_name=referent_name, author_is_referent=author_is_referent
            )

    def error_links(self) -> list[dict]:
        """``[{href, label, message}]`` for the error summary; radios and checkboxes link to their 1st box."""
        links = [{"href": "", "label": "", "message": error} for error in self.non_field_errors()]
        for field in self.visible_fields():
            target = field.id_for_label
            if isinstance(field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                target = f"{field.auto_id}_0"
            for error in field.errors:
                links.append({"href": f"#{target}", "label": field.label, "message": error})
        return links


# --- consents --------------------------------------------------------------------------------------


class GuardianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.first_name} {obj.last_name} ({obj.get_relation_display()})"


class ConsentForm(FollowupForm):
    guardian = GuardianChoiceField(
        label=_("Qui donne son accord ?"),
        help_text=_("Un accord par titulaire de l'autorité parentale."),
        queryset=None,
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez le ou la titulaire de l'autorité parentale.")},
    )
    given_on = PastDateField(
        label=_("Date de l'accord"),
        error_messages={
            "future": _("La date de l'accord ne peut pas être dans le futur."),
            "required": _("Indiquez la date de l'accord."),
        },
    )
    care = forms.BooleanField(
        label=_("Accord pour l'accompagnement de l'enfant par le programme (prise en charge)"),
        help_text=_(
            "Décochez seulement pour garder trace d'un refus : sans cet accord, le parcours n'avance pas."
        ),
        required=False,
        initial=True,
    )
    shared_with = forms.ModelMultipleChoiceField(
        label=_("Partage d'informations avec ces partenaires"),
        help_text=_(
            "Cochez seulement les partenaires nommés dans l'accord signé. Leurs professionnels soumis au "
            "secret pourront lire ce qui est écrit dans le cercle « secret partagé »."
        ),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    image_use = forms.BooleanField(
        label=_("Droit à l'image (photos ou vidéos prises pendant les actions)"), required=False
    )
    evaluation_use = forms.BooleanField(
        label=_("Utilisation des informations, sans nom, pour l'évaluation du programme"), required=False
    )
    notice_delivered_on = PastDateField(
        label=_("Notice d'information remise aux parents le"),
        required=False,
        error_messages={"future": _("La date de remise de la notice ne peut pas être dans le futur.")},
    )
    child_informed_on = PastDateField(
        label=_("Enfant informé·e le"),
        help_text=_("Avec la notice adaptée à son âge."),
        required=False,
        error_messages={"future": _("La date d'information de l'enfant ne peut pas être dans le futur.")},
    )
    proof = forms.FileField(
        label=_("Accord signé"),
        help_text=_(
            "Facultatif. Format PDF, JPEG ou PNG, 5 Mo au plus. Les informations cachées des photos "
            "(lieu, appareil, date) sont retirées."
        ),
        required=False,
        widget=forms.FileInput(attrs={"class": "fr-upload", "accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, guardians, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guardian"].queryset = guardians
        self.fields["shared_with"].queryset = organisations
        self.fields["proof"].widget.group_class = "fr-upload-group"

    def clean_proof(self):
        proof = self.cleaned_data.get("proof")
        if not proof:
            return None
        return validate_upload(proof, allowed={"pdf", "jpeg", "png"}, max_bytes=MAX_UPLOAD_BYTES)


class ConsentWithdrawForm(FollowupForm):
    withdrawn_on = PastDateField(
        label=_("Date du retrait"),
        error_messages={
            "future": _("La date du retrait ne peut pas être dans le futur."),
            "required": _("Indiquez la date du retrait."),
        },
    )
    note = forms.CharField(
        label=_("Précisions"),
        help_text=_("Facultatif. Par exemple : comment la famille a fait part de son retrait."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, consent, **kwargs):
        super().__init__(*args, **kwargs)
        self.consent = consent
        self.fields["withdrawn_on"].widget.attrs["min"] = consent.given_on.isoformat()

    def clean_withdrawn_on(self):
        withdrawn_on = self.cleaned_data["withdrawn_on"]
        if withdrawn_on < self.consent.given_on:
            raise ValidationError(
                _("Le retrait ne peut pas précéder l'accord, donné le %(date)s."),
                params={"date": self.consent.given_on.strftime("%d/%m/%Y")},
            )
        return withdrawn_on


# --- diagnosis ------------------------------------------------------------------------------------


class DiagnosticSectionForm(FollowupForm):
    difficulties = forms.CharField(
        label=_("Difficultés"),
        help_text=_("Ce qui fait obstacle, pour l'enfant, dans cette dimension."),
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    resources = forms.CharField(
        label=_("Ressources et leviers"),
        help_text=_("Ce sur quoi l'enfant et sa famille peuvent s'appuyer : points forts, soutiens, envies."),
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    facts = forms.CharField(
        label=_("Faits observés"),
        help_text=_("Les faits observés, sans interprétation : qui, quoi, quand, vu ou rapporté par qui."),
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    assessment = forms.CharField(
        label=_("Appréciation professionnelle"),
        help_text=_("Votre appréciation professionnelle, présentée comme telle."),
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    circle = circle_field()

    FIELDS = ("difficulties", "resources", "facts", "assessment")

    def clean(self):
        cleaned = super().clean()
        if not any((cleaned.get(name) or "").strip() for name in self.FIELDS):
            raise ValidationError(_("Remplissez au moins une rubrique."), code="empty")
        return cleaned


# --- plan -----------------------------------------------------------------------------------------


class ObjectiveForm(FollowupForm):
    dimension = forms.ChoiceField(
        label=_("Dimension"),
        choices=[("", _("Choisissez une dimension")), *Dimension.choices],
        error_messages={"required": _("Choisissez la dimension de l'objectif.")},
    )
    wording = forms.CharField(
        label=_("Objectif"),
        help_text=_(
            "Formulé avec la famille, concret et atteignable. Exemple : lire seul un album de jeunesse."
        ),
        max_length=300,
        error_messages={"required": _("Écrivez l'objectif.")},
    )
    target_date = forms.DateField(
        label=_("Échéance"),
        help_text=_("Facultatif. Date à laquelle faire le point sur cet objectif."),
        required=False,
        widget=date_input(),
    )
    circle = plan_circle_field()

    def clean(self):
        cleaned = super().clean()
        _team_if_empty(cleaned)
        if cleaned.get("dimension") in HEALTH_DIMENSIONS and cleaned.get("circle") == Circle.PARTNERS:
            self.add_error(
                "circle",
                _("Une information de santé ne peut pas être partagée au-delà du secret partagé."),
            )
        return cleaned


class ObjectiveStatusForm(FollowupForm):
    status = forms.ChoiceField(
        label=_("État de l'objectif"), choices=ObjectiveStatus.choices, widget=forms.RadioSelect
    )


class ObjectiveChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.wording} ({obj.get_dimension_display()})"


class PlanActionForm(FollowupForm):
    objective = ObjectiveChoiceField(
        label=_("Objectif visé"),
        queryset=None,
        required=False,
        empty_label=_("Aucun objectif en particulier"),
    )
    kind = forms.ChoiceField(
        label=_("Type d'action"),
        choices=ActionKind.choices,
        initial=ActionKind.INDIVIDUAL,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(
        label=_("Action"),
        help_text=_("Exemple : accompagnement à la scolarité, atelier théâtre, bilan orthophonique."),
        max_length=200,
        error_messages={"required": _("Nommez l'action.")},
    )
    provider = forms.ModelChoiceField(
        label=_("Intervenant"),
        help_text=_("Partenaire du programme qui mène l'action."),
        queryset=None,
        required=False,
        empty_label=_("L'équipe du programme"),
    )
    starts_on = forms.DateField(label=_("Début"), required=False, widget=date_input())
    ends_on = forms.DateField(label=_("Fin"), required=False, widget=date_input())
    frequency = forms.CharField(
        label=_("Fréquence"),
        help_text=_("Exemple : une heure par semaine."),
        max_length=100,
        required=False,
    )
    cost = forms.DecimalField(
        label=_("Coût (€)"),
        help_text=_("Coût pour le programme, en euros. Exemple : 150,00"),
        required=False,
        max_digits=9,
        decimal_places=2,
        validators=[MinValueValidator(0, message=_("Le coût ne peut pas être négatif."))],
        localize=True,
    )
    funding_line = forms.CharField(
        label=_("Ligne de financement"),
        help_text=_("Exemple : crédits État (ANCT), CAF, ville."),
        max_length=150,
        required=False,
    )
    health_related = forms.BooleanField(
        label=_("Cette action concerne la santé de l'enfant (physique ou psychologique)"),
        help_text=_("Une action de santé ne peut pas être lue au-delà du secret partagé."),
        required=False,
    )
    circle = plan_circle_field()

    def __init__(self, *args, objectives, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objective"].queryset = objectives
        self.fields["provider"].queryset = organisations

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("La fin ne peut pas précéder le début."))
        _team_if_empty(cleaned)
        objective = cleaned.get("objective")
        health = cleaned.get("health_related") or (
            objective is not None and objective.dimension in HEALTH_DIMENSIONS
        )
        if health and cleaned.get("circle") == Circle.PARTNERS:
            self.add_error(
                "circle",
                _("Une information de santé ne peut pas être partagée au-delà du secret partagé."),
            )
        return cleaned


# --- follow-up ------------------------------------------------------------------------------------


class ContactForm(FollowupForm):
    kind = forms.ChoiceField(
        label=_("Type de contact"),
        choices=[("", _("Choisissez un type")), *ContactKind.choices],
        error_messages={"required": _("Choisissez le type de contact.")},
    )
    occurred_on = PastDateField(
        label=_("Date"),
        error_messages={
            "future": _("La date du contact ne peut pas être dans le futur."),
            "required": _("Indiquez la date du contact."),
        },
    )
    duration_minutes = forms.IntegerField(
        label=_("Durée (minutes)"),
        required=False,
        min_value=1,
        max_value=24 * 60,
    )
    participants = forms.CharField(
        label=_("Participants"),
        help_text=_("Par leur fonction plutôt que leur nom. Exemple : la mère, l'enseignante de CE2."),
        max_length=255,
        required=False,
    )
    summary = forms.CharField(
        label=_("Compte rendu"),
        help_text=_("L'essentiel, utile à la suite du parcours."),
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    missed = forms.BooleanField(
        label=_("Rendez-vous manqué : la famille n'est pas venue"),
        help_text=_("Des rendez-vous manqués d'affilée peuvent lever une alerte de manquement au contrat."),
        required=False,
    )
    circle = circle_field()


class NoteForm(FollowupForm):
    body = forms.CharField(
        label=_("Texte de la note"),
        widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={"required": _("Écrivez la note.")},
    )
    health_related = forms.BooleanField(
        label=_("Cette note concerne la santé de l'enfant (physique ou psychologique)"),
        help_text=_("Une note de santé ne peut pas être lue au-delà du secret partagé."),
        required=False,
    )
    circle = circle_field()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("health_related") and cleaned.get("circle") == Circle.PARTNERS:
            self.add_error(
                "circle",
                _("Une information de santé ne peut pas être partagée au-delà du secret partagé."),
            )
        return cleaned


class ReviewForm(FollowupForm):
    kind = forms.ChoiceField(
        label=_("Type de bilan"),
        choices=ReviewKind.choices,
        initial=ReviewKind.INTERMEDIATE,
        widget=forms.RadioSelect,
    )
    held_on = PastDateField(
        label=_("Date du bilan"),
        error_messages={
            "future": _("La date du bilan ne peut pas être dans le futur."),
            "required": _("Indiquez la date du bilan."),
        },
    )
    summary = forms.CharField(
        label=_("Synthèse"),
        help_text=_("Ce qui a changé depuis le dernier bilan, ce que l'enfant et sa famille en disent."),
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    circle = circle_field()

    def __init__(self, *args, objectives, final_allowed: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not final_allowed:
            # A final bilan sets the state of every objective: it belongs to those who lead the plan.
            self.fields["kind"].choices = [(ReviewKind.INTERMEDIATE.value, ReviewKind.INTERMEDIATE.label)]
            self.fields["kind"].help_text = _(
                "Le bilan final est rédigé par la ou le référent·e ou la coordination."
            )
        self.objectives = list(objectives)
        for objective in self.objectives:
            radios = forms.RadioSelect()
            radios.inline = True
            self.fields[f"rating_{objective.pk}"] = forms.ChoiceField(
                label=_("« %(wording)s » (%(dimension)s) : résultat")
                % {"wording": objective.wording, "dimension": objective.get_dimension_display()},
                choices=Rating.choices,
                widget=radios,
                error_messages={"required": _("Évaluez cet objectif.")},
            )
            self.fields[f"comment_{objective.pk}"] = forms.CharField(
                label=_("Commentaire sur « %(wording)s »") % {"wording": objective.wording},
                max_length=500,
                required=False,
            )
        # The loop added fields after DsfrBaseForm set its classes: set them on the new ones too.
        from dsfr.utils import dsfr_input_class_attr

        for objective in self.objectives:
            dsfr_input_class_attr(self[f"rating_{objective.pk}"])
            dsfr_input_class_attr(self[f"comment_{objective.pk}"])

    def objective_rows(self) -> list[dict]:
        return [
            {
                "objective": objective,
                "rating": self[f"rating_{objective.pk}"],
                "comment": self[f"comment_{objective.pk}"],
            }
            for objective in self.objectives
        ]

    def main_fields(self):
        return [self[name] for name in ("kind", "held_on", "summary", "circle")]

    def ratings(self) -> dict[int, tuple[str, str]]:
        return {
            objective.pk: (
                self.cleaned_data[f"rating_{objective.pk}"],
                self.cleaned_data.get(f"comment_{objective.pk}", ""),
            )
            for objective in self.objectives
        }


def diagnostic_circles(circles: list[str], dimension: str) -> list[str]:
    """Health and psychological dimensions never offer the partners circle."""
    if dimension in HEALTH_DIMENSIONS:
        return [c for c in circles if c != Circle.PARTNERS]
    return circles
