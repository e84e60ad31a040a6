import re

from django import forms
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from maillage.core.text import normalise_name
from maillage.programmes.enums import OrganisationKind
from maillage.programmes.models import Organisation, Programme
from maillage.territories.models import Commune, PriorityArea, School

_CODE_SEPARATORS = re.compile(r"[\s,;]+")


class DsfrForm(DsfrBaseForm):
    """DSFR rendering without django-dsfr's transitional warnings about optional-field markers."""

    def get_context(self) -> dict:
        context = super(DsfrBaseForm, self).get_context()
        context.setdefault("DSFR_MARK_OPTIONAL_FIELDS", False)
        return context


class DsfrModelForm(DsfrForm, forms.ModelForm):
    pass


def _split_codes(value: str) -> list[str]:
    return [code.upper() for code in _CODE_SEPARATORS.split(value or "") if code]


class SchoolChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: School) -> str:
        details = [obj.get_priority_education_display() if obj.priority_education else _("hors REP")]
        if obj.commune_id:
            details.append(obj.commune.name)
        return f"{obj.name} ({', '.join(str(d) for d in details)}) — {obj.uai}"


class ProgrammeProfileForm(DsfrModelForm):
    """The programme's profile. The territory is entered by official codes (INSEE, QPV)."""

    commune_codes = forms.CharField(
        label=_("Communes couvertes"),
        help_text=_(
            "Codes INSEE des communes, séparés par des virgules ou des espaces. Exemple : 75056, 93066"
        ),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    priority_area_codes = forms.CharField(
        label=_("Quartiers prioritaires (QPV) couverts"),
        help_text=_("Codes des quartiers prioritaires de la politique de la ville. Exemple : QN07501M"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    schools = SchoolChoiceField(
        label=_("Établissements scolaires couverts"),
        help_text=_(
            "Sont proposés les établissements des communes couvertes déjà enregistrées. Après avoir "
            "ajouté une commune, enregistrez puis revenez cocher ses établissements."
        ),
        queryset=School.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Programme
        fields = [
            "name",
            "label",
            "lead_body_type",
            "lead_body_name",
            "prior_veille_educative",
            "prior_veille_year",
            "age_min",
            "age_max",
            "eligibility_rule",
        ]
        help_texts = {
            "prior_veille_educative": _("Une cellule de veille éducative existait avant le programme."),
            "age_min": _("2 ans par défaut."),
            "age_max": _("16 ans par défaut, 18 ans au plus."),
        }

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        commune_codes = list(programme.communes.values_list("insee_code", flat=True))
        self.fields["schools"].queryset = (
            School.objects.filter(Q(commune_code__in=commune_codes) | Q(programmes=programme))
            .select_related("commune")
            .annotate(
                priority_rank=Case(
                    When(priority_education="REP+", then=Value(0)),
                    When(priority_education="REP", then=Value(1)),
                    default=Value(2),
                    output_field=IntegerField(),
                )
            )
            .order_by("priority_rank", "name")
            .distinct()
        )
        if not self.is_bound:
            self.initial["commune_codes"] = ", ".join(sorted(commune_codes))
            self.initial["priority_area_codes"] = ", ".join(
                sorted(programme.priority_areas.values_list("code", flat=True))
            )
            self.initial["schools"] = list(programme.schools.values_list("pk", flat=True))

    def clean_commune_codes(self) -> list[Commune]:
        codes = _split_codes(self.cleaned_data["commune_codes"])
        communes = list(Commune.objects.filter(insee_code__in=codes))
        unknown = sorted(set(codes) - {c.insee_code for c in communes})
        if unknown:
            raise forms.ValidationError(
                _("Codes INSEE inconnus : %(codes)s. Vérifiez-les sur le code officiel géographique."),
                params={"codes": ", ".join(unknown)},
            )
        return communes

    def clean_priority_area_codes(self) -> list[PriorityArea]:
        codes = _split_codes(self.cleaned_data["priority_area_codes"])
        areas = list(PriorityArea.objects.filter(code__in=codes))
        unknown = sorted(set(codes) - {a.code for a in areas})
        if unknown:
            raise forms.ValidationError(
                _("Codes de quartiers prioritaires inconnus : %(codes)s."),
                params={"codes": ", ".join(unknown)},
            )
        return areas

    def clean(self):
        cleaned = super().clean()
        age_min, age_max = cleaned.get("age_min"), cleaned.get("age_max")
        if age_max is not None and age_max > 18:
            self.add_error("age_max", _("L'âge maximum ne peut pas dépasser 18 ans."))
        if age_min is not None and age_max is not None and age_min >= age_max:
            self.add_error("age_max", _("L'âge maximum doit être supérieur à l'âge minimum."))
        if not cleaned.get("prior_veille_educative"):
            cleaned["prior_veille_year"] = None
        return cleaned

    def changes(self) -> dict:
        """The cleaned values, named as ``services.programme_update`` expects them."""
        data = {name: self.cleaned_data[name] for name in self._meta.fields}
        data["communes"] = self.cleaned_data["commune_codes"]
        data["priority_areas"] = self.cleaned_data["priority_area_codes"]
        data["schools"] = list(self.cleaned_data["schools"])
        return data


class OrganisationForm(DsfrModelForm):
    website = forms.URLField(label=_("Site internet"), required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        fields = ["name", "kind", "school", "services", "address", "phone", "email", "website", "is_active"]
        labels = {"school": _("Établissement scolaire correspondant")}
        help_texts = {
            "school": _("Pour un établissement scolaire partenaire : choisissez-le parmi ceux du programme."),
            "services": _("Ce que le partenaire propose aux enfants et aux familles."),
            "is_active": _(
                "Décochez quand le partenariat a pris fin : le partenaire reste dans l'historique."
            ),
        }
        widgets = {"services": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.fields["school"].queryset = programme.schools.order_by("name")
        self.fields["school"].empty_label = _("Aucun")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        duplicates = Organisation.objects.filter(
            programme=self.programme, name_normalised=normalise_name(name)
        )
        if self.instance.pk:
            duplicates = duplicates.exclude(pk=self.instance.pk)
        if duplicates.exists():
            raise forms.ValidationError(_("Un partenaire du programme porte déjà ce nom."))
        return name

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class OrganisationSearchForm(DsfrForm):
    q = forms.CharField(label=_("Rechercher un partenaire"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Type de partenaire"),
        required=False,
        choices=[("", _("Tous les types")), *OrganisationKind.choices],
    )


class CharterSignForm(DsfrForm):
    accept = forms.BooleanField(
        label=_("J'ai lu la charte de confidentialité et je m'engage à la respecter."), required=True
    )


class CharterPublishForm(DsfrForm):
    title = forms.CharField(label=_("Titre"), max_length=200)
    body = forms.CharField(
        label=_("Texte de la charte"),
        widget=forms.Textarea(attrs={"rows": 18}),
        help_text=_(
            "Séparez les paragraphes par une ligne vide. Le texte publié ne peut plus être modifié : "
            "publiez une nouvelle version."
        ),
    )
    confirm = forms.BooleanField(
        label=_(
            "Je confirme la publication : tous les membres dont le rôle donne accès à des informations "
            "nominatives devront signer cette nouvelle version."
        ),
        required=True,
    )
