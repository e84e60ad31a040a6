"""Forms of the referral screens: the fiche d'orientation, the list filters and the decisions."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage import permissions as perms
from maillage.people.enums import GuardianRelation, SchoolLevel, Sex
from maillage.programmes.enums import ListKind
from maillage.programmes.models import ListItem, Membership, Organisation, Programme
from maillage.referrals.eligibility import age_on
from maillage.referrals.enums import ReferralState
from maillage.territories.geo import locate
from maillage.territories.models import Commune, PriorityArea, School
from maillage.www.programmes.forms import DsfrForm

# The fieldsets of the fiche, in order: (legend, field names). Fields absent from a form are skipped.
REFERRAL_FIELDSETS = [
    (
        _("Qui oriente ?"),
        ["on_behalf_of_family", "referrer_type", "referrer_organisation", "referrer_contact"],
    ),
    (
        _("L'enfant"),
        [
            "child_first_name",
            "child_last_name",
            "child_birth_date",
            "child_sex",
            "school",
            "school_level",
            "address",
            "postcode",
            "commune",
            "priority_area",
            "latitude",
            "longitude",
            "derogation_reason",
        ],
    ),
    (_("La famille"), ["guardian_name", "guardian_relation", "guardian_phone", "guardian_email"]),
    (_("Motifs et contexte"), ["motifs", "context"]),
    (_("Information de la famille"), ["family_informed"]),
]


class SchoolField(forms.ModelChoiceField):
    def label_from_instance(self, obj: School) -> str:
        if obj.priority_education:
            return f"{obj.name} ({obj.get_priority_education_display()})"
        return obj.name


class ReferentField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        name = obj.user.get_full_name() or obj.user.email
        return f"{name} — {obj.organisation.name}" if obj.organisation_id else name


class ReferralForm(DsfrForm):
    """The *fiche d'orientation*. A coordinator also says who orients and may enter it for a family.

    It never shows any child already known to the programme: duplicates are checked at review.
    """

    on_behalf_of_family = forms.BooleanField(
        label=_("Saisie pour une famille ou par téléphone"),
        help_text=_("La famille s'adresse directement au programme, ou un partenaire oriente par téléphone."),
        required=False,
    )
    referrer_type = forms.ModelChoiceField(
        label=_("Type d'orienteur"), queryset=ListItem.objects.none(), empty_label=_("Choisir")
    )
    referrer_organisation = forms.ModelChoiceField(
        label=_("Structure qui oriente"),
        help_text=_("Facultatif : laissez vide pour une famille ou un partenaire hors annuaire."),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("Aucune"),
    )
    referrer_contact = forms.CharField(
        label=_("Personne à contacter chez l'orienteur"),
        help_text=_("Nom, fonction et téléphone, pour que la coordination puisse vous rappeler."),
        max_length=200,
        required=False,
    )

    child_first_name = forms.CharField(label=_("Prénom de l'enfant"), max_length=150)
    child_last_name = forms.CharField(label=_("Nom de l'enfant"), max_length=150)
    child_birth_date = forms.DateField(
        label=_("Date de naissance"),
        help_text=_("Exemple : 14/03/2016"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    child_sex = forms.ChoiceField(label=_("Sexe"), choices=Sex.choices, widget=forms.RadioSelect)
    school = SchoolField(
        label=_("Établissement scolaire"),
        help_text=_("Parmi les établissements du programme. Laissez vide si l'enfant n'est pas scolarisé."),
        queryset=School.objects.none(),
        required=False,
        empty_label=_("Non renseigné"),
    )
    school_level = forms.ChoiceField(
        label=_("Niveau scolaire"), choices=SchoolLevel.choices, initial=SchoolLevel.NOT_SCHOOLED
    )
    address = forms.CharField(label=_("Adresse de l'enfant"), max_length=255, required=False)
    postcode = forms.RegexField(
        label=_("Code postal"),
        regex=r"^\d{5}$",
        error_messages={"invalid": _("Le code postal compte cinq chiffres.")},
        required=False,
    )
    commune = forms.ModelChoiceField(
        label=_("Commune"), queryset=Commune.objects.none(), required=False, empty_label=_("Choisir")
    )
    priority_area = forms.ModelChoiceField(
        label=_("Quartier prioritaire de résidence (QPV)"),
        help_text=_(
            "Si vous le connaissez. Quand des coordonnées sont indiquées ci-dessous, le quartier est "
            "déterminé à partir d'elles."
        ),
        queryset=PriorityArea.objects.none(),
        required=False,
        empty_label=_("Hors quartier prioritaire ou inconnu"),
    )
    latitude = forms.FloatField(
        label=_("Latitude du domicile"),
        help_text=_("Facultatif, en degrés décimaux. Exemple : 48.8566"),
        min_value=-90,
        max_value=90,
        required=False,
        localize=False,
    )
    longitude = forms.FloatField(
        label=_("Longitude du domicile"),
        help_text=_("Facultatif, en degrés décimaux. Exemple : 2.3522"),
        min_value=-180,
        max_value=180,
        required=False,
        localize=False,
    )
    derogation_reason = forms.CharField(
        label=_("Demande de dérogation à la tranche d'âge"),
        help_text=_(
            "Seulement si l'enfant est plus jeune ou plus âgé que les enfants accompagnés par le "
            "programme : expliquez pourquoi l'orientation est justifiée. La coordination décide."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    guardian_name = forms.CharField(
        label=_("Nom du parent ou responsable"),
        help_text=_("Prénom puis nom. Exemple : Fatima Benali"),
        max_length=200,
    )
    guardian_relation = forms.ChoiceField(
        label=_("Lien avec l'enfant"), choices=GuardianRelation.choices, initial=GuardianRelation.MOTHER
    )
    guardian_phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False)
    guardian_email = forms.EmailField(label=_("Adresse électronique"), required=False)

    motifs = forms.ModelMultipleChoiceField(
        label=_("Motifs d'orientation"),
        help_text=_("Cochez un ou plusieurs motifs."),
        queryset=ListItem.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez au moins un motif d'orientation.")},
    )
    context = forms.CharField(
        label=_("Contexte"),
        help_text=_(
            "Ce qui vous inquiète et ce qui a déjà été tenté. Restez factuel : ce texte est chiffré et "
            "lu seulement par la coordination et les référents du programme."
        ),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
    )

    family_informed = forms.BooleanField(
        label=_("La famille a été informée de cette orientation"),
        help_text=_("Obligatoire : une orientation se fait toujours à la connaissance de la famille."),
        error_messages={
            "required": _("La famille doit avoir été informée de l'orientation avant l'envoi de la fiche.")
        },
    )

    def __init__(self, *args, programme: Programme, user, as_coordinator: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.as_coordinator = as_coordinator
        items = ListItem.objects.filter(programme=programme)
        self.fields["referrer_type"].queryset = items.of_kind(ListKind.REFERRER_TYPE)
        self.fields["motifs"].queryset = items.of_kind(ListKind.REFERRAL_MOTIF)
        self.fields["school"].queryset = programme.schools.order_by("name")
        self.fields["commune"].queryset = programme.communes.order_by("name")
        self.fields["priority_area"].queryset = programme.priority_areas.order_by("name")
        if as_coordinator:
            self.fields["referrer_organisation"].queryset = (
                perms.organisations_visible_to(user)
                .filter(programme=programme, is_active=True)
                .order_by("name")
            )
        else:
            # A referring partner orients for the organisation of their membership.
            del self.fields["on_behalf_of_family"]
            del self.fields["referrer_organisation"]
        if not self.fields["commune"].queryset.exists():
            del self.fields["commune"]
        if not self.fields["priority_area"].queryset.exists():
            del self.fields["priority_area"]
            del self.fields["latitude"]
            del self.fields["longitude"]

    def fieldsets(self) -> list[dict]:
        """The fieldsets to render, each with its bound fields."""
        return [
            {"legend": legend, "fields": [self[name] for name in names if name in self.fields]}
            for legend, names in REFERRAL_FIELDSETS
        ]

    def clean_child_birth_date(self):
        birth_date = self.cleaned_data["child_birth_date"]
        if birth_date > timezone.localdate():
            raise forms.ValidationError(_("La date de naissance ne peut pas être dans le futur."))
        return birth_date

    def clean(self):
        cleaned = super().clean()
        birth_date = cleaned.get("child_birth_date")
        if birth_date is not None:
            age = age_on(birth_date, timezone.localdate())
            window = {"age": age, "min": self.programme.age_min, "max": self.programme.age_max}
            outside = not self.programme.age_min <= age <= self.programme.age_max
            if outside and not cleaned.get("derogation_reason", "").strip():
                self.add_error(
                    "child_birth_date",
                    _(
                        "L'enfant a %(age)s ans, hors de la tranche d'âge du programme (%(min)s à %(max)s "
                        "ans). Pour l'orienter quand même, remplissez la demande de dérogation."
                    )
                    % window,
                )
            if not outside:
                cleaned["derogation_reason"] = ""
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if (latitude is None) != (longitude is None) and "latitude" in self.fields:
            self.add_error(
                "longitude" if longitude is None else "latitude",
                _("Indiquez la latitude et la longitude, ou aucune des deux."),
            )
        elif latitude is not None and longitude is not None:
            cleaned["priority_area"] = locate(latitude, longitude, self.programme.priority_areas.all())
        return cleaned

    def submission(self, *, membership) -> dict:
        """The keyword arguments of ``referral_submit`` (besides ``programme`` and ``by``)."""
        data = dict(self.cleaned_data)
        if not self.as_coordinator:
            data["referrer_organisation"] = membership.organisation
            data["on_behalf_of_family"] = False
        data.setdefault("commune", None)
        data.setdefault("priority_area", None)
        data.setdefault("latitude", None)
        data.setdefault("longitude", None)
        return data


class ReferralFilterForm(DsfrForm):
    q = forms.CharField(
        label=_("Rechercher un enfant"),
        help_text=_("Nom ou prénom, sans se soucier des accents ni des traits d'union."),
        required=False,
        max_length=100,
    )
    state = forms.ChoiceField(
        label=_("État"), choices=[("", _("Tous les états")), *ReferralState.choices], required=False
    )
    motif = forms.ModelChoiceField(
        label=_("Motif"), queryset=ListItem.objects.none(), required=False, empty_label=_("Tous les motifs")
    )
    referrer_type = forms.ModelChoiceField(
        label=_("Type d'orienteur"),
        queryset=ListItem.objects.none(),
        required=False,
        empty_label=_("Tous les orienteurs"),
    )

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        items = ListItem.objects.filter(programme=programme)
        self.fields["motif"].queryset = items.of_kind(ListKind.REFERRAL_MOTIF)
        self.fields["referrer_type"].queryset = items.of_kind(ListKind.REFERRER_TYPE)


class DeclineForm(DsfrForm):
    prefix = "decline"

    reason = forms.CharField(
        label=_("Motif de la décision"),
        help_text=_("Il sera conservé dans l'historique de l'orientation."),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Indiquez le motif de la décision.")},
    )


class RedirectForm(DsfrForm):
    prefix = "redirect"

    redirected_to = forms.CharField(
        label=_("Partenaire ou dispositif vers lequel la famille est réorientée"),
        help_text=_("Exemple : CMP de secteur, Programme de réussite éducative voisin, service social."),
        max_length=255,
        error_messages={
            "required": _("Indiquez vers quel partenaire ou dispositif la famille est réorientée.")
        },
    )
    reason = forms.CharField(
        label=_("Motif de la réorientation"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Indiquez le motif de la décision.")},
    )


NEW_CHILD = "new"
NEW_HOUSEHOLD = "new"


class AcceptForm(DsfrForm):
    """Accept and open the pathway: the same child as one already known, or a new one; the référent."""

    prefix = "accept"

    child = forms.ChoiceField(label=_("L'enfant"), widget=forms.RadioSelect)
    household = forms.ChoiceField(
        label=_("Foyer du nouvel enfant"),
        help_text=_("Rattachez l'enfant au foyer de ses frères et sœurs s'il est déjà connu du programme."),
        widget=forms.RadioSelect,
        required=False,
    )
    referent = ReferentField(
        label=_("Référent·e de parcours"),
        help_text=_("Vous pourrez le ou la désigner plus tard."),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_("À désigner plus tard"),
    )
    derogation = forms.BooleanField(
        label=_("Accorder une dérogation aux critères du programme"), required=False
    )
    derogation_reason = forms.CharField(
        label=_("Motif de la dérogation"),
        help_text=_("Obligatoire avec une dérogation : il est inscrit au journal."),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def __init__(self, *args, candidates, households, referents, eligible: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.eligible = eligible
        self.candidates = {str(c.child.pk): c.child for c in candidates}
        self.households = {str(h.pk): h for h in households}
        self.fields["child"].choices = [
            *(
                (
                    str(c.child.pk),
                    _("C'est le même enfant : %(name)s, né·e le %(date)s")
                    % {
                        "name": f"{c.child.first_name} {c.child.last_name}",
                        "date": c.child.birth_date.strftime("%d/%m/%Y"),
                    },
                )
                for c in candidates
            ),
            (NEW_CHILD, _("C'est un enfant que le programme ne connaît pas encore : créer sa fiche")),
        ]
        self.fields["child"].initial = NEW_CHILD if not candidates else None
        self.fields["household"].choices = [
            *((str(h.pk), _("Foyer existant : %(name)s") % {"name": h.name}) for h in households),
            (NEW_HOUSEHOLD, _("Nouveau foyer, avec le parent indiqué sur la fiche")),
        ]
        self.fields["household"].initial = NEW_HOUSEHOLD
        if not households:  # nothing to choose: a new child gets a new household
            del self.fields["household"]
        self.fields["referent"].queryset = referents
        if eligible:
            del self.fields["derogation"]
            del self.fields["derogation_reason"]

    def clean(self):
        cleaned = super().clean()
        if not self.eligible:
            if not cleaned.get("derogation"):
                self.add_error(
                    "derogation",
                    _(
                        "L'enfant ne remplit pas les critères du programme : pour l'accepter quand même, "
                        "cochez la dérogation et indiquez son motif."
                    ),
                )
            elif not cleaned.get("derogation_reason", "").strip():
                self.add_error("derogation_reason", _("Une dérogation doit être motivée."))
        return cleaned

    def acceptance(self) -> dict:
        """The keyword arguments of ``referral_accept`` (besides ``referral`` and ``by``)."""
        data = self.cleaned_data
        child = self.candidates.get(data["child"])
        household = None if child is not None else self.households.get(data.get("household") or "")
        referent = data.get("referent")
        return {
            "child": child,
            "household": household,
            "referent": referent.user if referent is not None else None,
            "derogation": bool(data.get("derogation")),
            "derogation_reason": data.get("derogation_reason", "").strip(),
        }
