from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.governance.enums import BodyKind
from maillage.governance.models import Body
from maillage.steering.enums import ActorPosition, FundingSource, Likert, PeriodKind
from maillage.steering.indicators import TARGETABLE, Filters, Period
from maillage.www.programmes.forms import DsfrForm


def _year_choices():
    this = timezone.localdate().year
    return [(y, str(y)) for y in range(this + 1, this - 6, -1)]


class FilterForm(DsfrForm):
    """Period and filters of a dashboard (GET)."""

    kind = forms.ChoiceField(label=_("Période"), choices=PeriodKind.choices, required=False)
    year = forms.TypedChoiceField(label=_("Année (de rentrée ou civile)"), coerce=int, required=False)
    eps = forms.TypedChoiceField(label=_("EPS"), coerce=int, required=False, empty_value=None)
    school = forms.TypedChoiceField(label=_("Établissement"), coerce=int, required=False, empty_value=None)
    qpv = forms.ChoiceField(
        label=_("Résidence"),
        required=False,
        choices=[("", _("Toutes")), ("yes", _("En QPV")), ("no", _("Hors QPV"))],
    )

    def __init__(self, data=None, *, programmes=(), with_places: bool = True):
        super().__init__(data)
        self.fields["year"].choices = _year_choices()
        self.fields["year"].initial = Period.current().year
        if with_places:
            bodies = Body.objects.filter(programme__in=programmes, kind=BodyKind.EPS).order_by("name")
            self.fields["eps"].choices = [("", _("Toutes"))] + [(b.pk, b.name) for b in bodies]
            schools = {s.pk: s.name for p in programmes for s in p.schools.all()}
            self.fields["school"].choices = [("", _("Tous"))] + sorted(schools.items(), key=lambda i: i[1])
        else:
            del self.fields["eps"]
            del self.fields["school"]

    def period(self) -> Period:
        data = self.cleaned_data if self.is_valid() else {}
        kind = data.get("kind") or PeriodKind.SCHOOL_YEAR
        current = Period.current(kind)
        return Period(kind, data.get("year") or current.year)

    def filters(self) -> Filters:
        data = self.cleaned_data if self.is_valid() else {}
        return Filters(eps=data.get("eps"), school=data.get("school"), qpv=data.get("qpv") or "")


class TargetForm(DsfrForm):
    indicator = forms.ChoiceField(
        label=_("Indicateur"), choices=[(code, label) for code, (label, _d, _g) in TARGETABLE.items()]
    )
    year = forms.TypedChoiceField(label=_("Année (de rentrée)"), coerce=int)
    value = forms.DecimalField(label=_("Valeur cible"), min_value=0, max_digits=10, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _year_choices()


class FundingLineForm(DsfrForm):
    year = forms.TypedChoiceField(label=_("Année civile"), coerce=int)
    source = forms.ChoiceField(label=_("Financeur"), choices=FundingSource.choices)
    label = forms.CharField(label=_("Intitulé"), max_length=200)
    amount = forms.DecimalField(label=_("Montant (€)"), min_value=0, max_digits=12, decimal_places=2)
    in_kind = forms.BooleanField(label=_("Contribution en nature valorisée"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _year_choices()


class CopilNoteForm(DsfrForm):
    highlights = forms.CharField(
        label=_("Faits marquants de l'année"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Aucun nom ni situation reconnaissable : ce texte est lu en comité de pilotage."),
        max_length=5000,
    )


class BarometerRoundForm(DsfrForm):
    title = forms.CharField(label=_("Intitulé"), max_length=200)
    closes_on = forms.DateField(
        label=_("Date de clôture"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class BarometerAnswerForm(DsfrForm):
    position = forms.ChoiceField(
        label=_("Votre position"),
        choices=ActorPosition.choices,
        help_text=_("Seule votre position est enregistrée avec vos réponses, jamais votre nom."),
    )

    def __init__(self, *args, items=(), open_question: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"item_{item.code}"] = forms.TypedChoiceField(
                label=item.statement, choices=Likert.choices, coerce=int, widget=forms.RadioSelect
            )
        self.fields["open_answer"] = forms.CharField(
            label=open_question, required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=2000
        )

    def scores(self) -> dict[str, int]:
        return {item.code: self.cleaned_data[f"item_{item.code}"] for item in self.items}
