from django import forms
from django.utils.translation import gettext_lazy as _

from maillage import permissions as perms
from maillage.governance.enums import AttendanceStatus, BodyKind, DigestFrequency
from maillage.pathways.enums import HEALTH_DIMENSIONS, Circle, Dimension
from maillage.www.programmes.forms import DsfrForm


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class BodyForm(forms.Form):
    name = forms.CharField(label=_("Nom"), max_length=200)
    kind = forms.ChoiceField(label=_("Type d'instance"), choices=BodyKind.choices)
    meetings_per_year = forms.IntegerField(
        label=_("Réunions attendues par année scolaire"),
        min_value=0,
        max_value=52,
        initial=2,
        help_text=_("Comité de pilotage : au moins 2 ; EPS : environ une par mois (10)."),
    )
    description = forms.CharField(
        label=_("Rôle de l'instance"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    level = forms.ModelChoiceField(
        label=_("Niveau"),
        queryset=None,
        required=False,
        empty_label=_("Le programme"),
        help_text=_(
            "Une instance d'un niveau supérieur (intercommunal…) reçoit des synthèses non nominatives."
        ),
    )

    def __init__(self, *args, programme, **kwargs):
        from maillage.programmes.models import NetworkLevel

        super().__init__(*args, **kwargs)
        levels, level = [], programme.network_level
        while level is not None and level.pk not in levels:
            levels.append(level.pk)
            level = level.parent
        self.fields["level"].queryset = NetworkLevel.objects.filter(pk__in=levels)


class BodyMemberForm(forms.Form):
    membership = forms.ModelChoiceField(
        label=_("Membre du programme"),
        queryset=None,
        required=False,
        empty_label=_("— Personne hors de la plateforme —"),
    )
    person_name = forms.CharField(label=_("Ou nom de la personne"), max_length=200, required=False)
    institution = forms.CharField(label=_("Institution"), max_length=200, required=False)
    email = forms.EmailField(label=_("Adresse électronique (pour les invitations)"), required=False)
    role_in_body = forms.CharField(label=_("Rôle dans l'instance"), max_length=150, required=False)

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = memberships
        self.fields["membership"].label_from_instance = lambda m: (
            f"{m.user.get_full_name() or m.user.email} — {m.get_role_display()}"
        )

    def clean(self):
        data = super().clean()
        if not data.get("membership") and not data.get("person_name", "").strip():
            raise forms.ValidationError(
                _("Choisissez un membre du programme ou indiquez le nom d'une personne.")
            )
        return data


class MeetingForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=_("Date et heure"), widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
    duration_minutes = forms.IntegerField(
        label=_("Durée (minutes)"), min_value=15, max_value=600, initial=120
    )
    place = forms.CharField(label=_("Lieu"), max_length=255, required=False)
    video_link = forms.URLField(label=_("Lien de visioconférence"), required=False, assume_scheme="https")
    agenda = forms.CharField(
        label=_("Ordre du jour (texte)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Non nominatif : les situations d'une EPS s'ajoutent une par une, pseudonymisées."),
    )
    publish = forms.BooleanField(
        label=_("Publier l'ordre du jour maintenant (ouvre la fenêtre d'accès des membres de l'EPS)"),
        required=False,
    )


class AgendaItemForm(forms.Form):
    title = forms.CharField(label=_("Intitulé du point"), max_length=255)


class SituationForm(DsfrForm):
    """The meeting side: which situation to put on the agenda (nothing preselected)."""

    pathway = forms.ModelChoiceField(
        label=_("Situation"), queryset=None, empty_label=_("Choisir une situation")
    )

    def __init__(self, *args, pathways, labels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pathway"].queryset = pathways
        self.fields["pathway"].label_from_instance = lambda p: labels.get(p.pk, p.case_code)


class EpsMeetingChoiceForm(DsfrForm):
    """The pathway side: which upcoming EPS meeting of the programme (nothing preselected)."""

    meeting = forms.ModelChoiceField(
        label=_("Réunion d'EPS"), queryset=None, empty_label=_("Choisir une réunion")
    )

    def __init__(self, *args, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=_("Compte rendu"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Non nominatif : ni nom d'enfant, ni code de situation."),
    )


class DecisionForm(forms.Form):
    text = forms.CharField(label=_("Décision"), widget=forms.Textarea(attrs={"rows": 3}))
    who_does_what = forms.CharField(
        label=_("Qui fait quoi"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    due_on = forms.DateField(
        label=_("Pour le"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    objective_dimension = forms.ChoiceField(
        label=_("Dimension de l'objectif à ajouter"), choices=[("", "—"), *Dimension.choices], required=False
    )
    objective_wording = forms.CharField(label=_("Objectif à ajouter au plan"), max_length=255, required=False)
    action_title = forms.CharField(label=_("Action à ajouter au plan"), max_length=255, required=False)
    move_to_active = forms.BooleanField(
        label=_("Le parcours passe à l'étape « Parcours en cours »"), required=False
    )
    circle = forms.ChoiceField(
        label=_("Qui pourra lire la décision, l'objectif et l'action ?"),
        help_text=_(
            "Choisissez le cercle le plus restreint qui suffit. Jamais de santé au-delà du secret partagé."
        ),
        choices=Circle.choices,
        initial=Circle.TEAM,
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args, circles=None, **kwargs):
        super().__init__(*args, **kwargs)
        if circles is not None:
            self.fields["circle"].choices = [(c, Circle(c).label) for c in circles]

    def clean(self):
        data = super().clean()
        data["circle"] = data.get("circle") or Circle.TEAM  # the most restrictive by default
        if data.get("objective_wording") and not data.get("objective_dimension"):
            self.add_error("objective_dimension", _("Choisissez la dimension de l'objectif."))
        if (
            data.get("objective_wording")
            and data.get("objective_dimension") in HEALTH_DIMENSIONS
            and data.get("circle") == Circle.PARTNERS
        ):
            self.add_error(
                "circle", _("Une information de santé ne peut pas être partagée au-delà du secret partagé.")
            )
        return data


class CommitteeDecisionForm(forms.Form):
    text = forms.CharField(label=_("Décision"), widget=forms.Textarea(attrs={"rows": 3}))
    who_does_what = forms.CharField(
        label=_("Qui fait quoi"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    due_on = forms.DateField(
        label=_("Pour le"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ForwardForm(forms.Form):
    to_body = forms.ModelChoiceField(label=_("Transmettre à l'instance"), queryset=None)
    summary = forms.CharField(
        label=_("Synthèse non nominative"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Ni nom d'enfant, ni code de situation."),
    )

    def __init__(self, *args, bodies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_body"].queryset = bodies


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=200)
    file = forms.FileField(label=_("Fichier (PDF, JPEG ou PNG, 5 Mo au plus)"))
    pathway = forms.ModelChoiceField(
        label=_("Situation concernée"),
        help_text=_("Facultatif. Le cercle de lecture s'applique alors à l'équipe de cette situation."),
        queryset=None,
        required=False,
        empty_label=_("Aucune : document de la réunion"),
    )
    circle = forms.ChoiceField(
        label=_("Qui pourra lire ?"),
        help_text=_("Choisissez le cercle le plus restreint qui suffit."),
        choices=Circle.choices,
        initial=Circle.TEAM,
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args, pathways=None, labels=None, **kwargs):
        super().__init__(*args, **kwargs)
        labels = labels or {}
        # Without the situations of the meeting, none: the scope of nobody.
        self.fields["pathway"].queryset = (
            pathways if pathways is not None else perms.pathways_visible_to(None)
        )
        self.fields["pathway"].label_from_instance = lambda p: labels.get(p.pk, p.case_code)

    def clean_circle(self):
        return self.cleaned_data.get("circle") or Circle.TEAM  # the most restrictive by default


class AttendanceForm(forms.Form):
    def __init__(self, *args, members, current, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = list(members)
        for member in self.members:
            self.fields[f"member_{member.pk}"] = forms.ChoiceField(
                label=f"{member.display_name} ({member.display_institution})"
                if member.display_institution
                else member.display_name,
                choices=[("", "—"), *AttendanceStatus.choices],
                required=False,
                initial=current.get(member.pk, ""),
            )

    def statuses(self) -> dict[int, str]:
        return {m.pk: self.cleaned_data.get(f"member_{m.pk}", "") for m in self.members}


class DigestForm(forms.Form):
    digest = forms.ChoiceField(
        label=_("Résumé par courriel"), choices=DigestFrequency.choices, widget=forms.RadioSelect
    )


class MissionSheetForm(forms.Form):
    title = forms.CharField(label=_("Rôle ou poste"), max_length=200)
    body = forms.CharField(label=_("Mission"), widget=forms.Textarea(attrs={"rows": 12}))


class MissionRevisionForm(forms.Form):
    body = forms.CharField(label=_("Mission"), widget=forms.Textarea(attrs={"rows": 14}))
    note = forms.CharField(label=_("Ce qui change"), max_length=255, required=False)


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Commentaire"), widget=forms.Textarea(attrs={"rows": 3}))


class ProposeForm(forms.Form):
    meeting = forms.ModelChoiceField(label=_("Réunion"), queryset=None)

    def __init__(self, *args, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings


class MementoPageForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=200)
    slug = forms.SlugField(label=_("Identifiant (dans l'adresse)"), max_length=80)
    position = forms.IntegerField(label=_("Ordre"), min_value=0, max_value=999, initial=0)
    body = forms.CharField(
        label=_("Texte"),
        widget=forms.Textarea(attrs={"rows": 16}),
        required=False,
        help_text=_("Markdown : # titres, **gras**, listes, liens. Le HTML n'est pas accepté."),
    )
