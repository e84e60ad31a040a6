"""The programme's indicators, computed from the daily data (no double entry, nothing nominative).

Every function is a pure read over one or several programmes (a network level aggregates several)
for a period — the school year by default (1 September to 31 August), or a calendar year — and
optional filters (EPS, school, residence in a QPV). Counts are made in SQL (conditional
aggregates); a dashboard takes a constant number of queries whatever the number of children.

Definitions (shown on hover and in the exports) are part of each indicator:

* *enfant suivi en parcours*: a child with a pathway open at some point of the period (opened on
  or before its end, not closed before its start); a child with two pathways in the period (a
  reopened one) counts once;
* *bénéficiaire d'actions collectives uniquement*: a child enrolled (enrolled or left, not
  waiting) in a group of a collective action running in the period, who is not counted in a
  pathway in the period — a beneficiary later linked to a child who entered a pathway in the same
  period is counted in the pathway only;
* age is the age **at the start of the period** (a child who turns 6 in the year counts in 2–5);
* the budget of a school year ``Y``–``Y+1`` is the calendar year ``Y`` in which it starts (funding
  lines are voted per calendar year; the one in force at the start of the school year pays for it):
  ``budget_year_of`` is the only place that says so, and the budget page, the comité PDF, the ANCT
  workbook and the structuring table all read it.

Small-cell suppression is not done here: see ``maillage.steering.suppression`` and
``maillage.steering.dashboard``.
"""

import datetime
import statistics
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, Meeting
from maillage.pathways.enums import ActionKind, Dimension
from maillage.pathways.models import Pathway, PlanAction, Review
from maillage.people.enums import Sex
from maillage.people.models import Child
from maillage.programmes.enums import Role
from maillage.programmes.models import Membership
from maillage.referrals.models import Referral
from maillage.steering.enums import FundingSource, PeriodKind
from maillage.steering.models import FundingLine

try:  # The actions catalogue (issue 7) is built in parallel: indicators work without it.
    from maillage.offers.enums import EnrolmentStatus
    from maillage.offers.models import Beneficiary, Enrolment, Offer

    OFFERS = True
except ImportError:  # pragma: no cover - depends on the state of the other app
    OFFERS = False

try:
    from maillage.governance.models import Decision

    DECISIONS = True
except ImportError:  # pragma: no cover
    DECISIONS = False


# --- period and filters ---------------------------------------------------------------------------


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class Period:
    kind: str = PeriodKind.SCHOOL_YEAR
    year: int = 2025  # the year the school year starts in, or the calendar year

    @classmethod
    def current(cls, kind: str = PeriodKind.SCHOOL_YEAR, today: datetime.date | None = None) -> "Period":
        today = today or timezone.localdate()
        if kind == PeriodKind.CALENDAR_YEAR:
            return cls(PeriodKind.CALENDAR_YEAR, today.year)
        return cls(PeriodKind.SCHOOL_YEAR, today.year if today.month >= 9 else today.year - 1)

    @property
    def start(self) -> datetime.date:
        if self.kind == PeriodKind.CALENDAR_YEAR:
            return datetime.date(self.year, 1, 1)
        return datetime.date(self.year, 9, 1)

    @property
    def end(self) -> datetime.date:
        if self.kind == PeriodKind.CALENDAR_YEAR:
            return datetime.date(self.year, 12, 31)
        return datetime.date(self.year + 1, 8, 31)

    @property
    def budget_year(self) -> int:
        return budget_year_of(self)

    @property
    def budget_rule(self) -> str:
        """The rule, in French, for the pages and exports that show a budget next to a period."""
        if self.kind == PeriodKind.CALENDAR_YEAR:
            return str(_("Budget de l'année civile %(year)s.") % {"year": self.year})
        return str(
            _(
                "Le budget de l'année scolaire %(period)s est celui de l'année civile %(year)s, "
                "année où elle commence."
            )
            % {"period": self.label, "year": self.budget_year}
        )

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.CALENDAR_YEAR:
            return str(self.year)
        return f"{self.year}-{self.year + 1}"

    def previous(self) -> "Period":
        return Period(self.kind, self.year - 1)

    def datetimes(self) -> tuple[datetime.datetime, datetime.datetime]:
        tz = timezone.get_current_timezone()
        start = datetime.datetime.combine(self.start, datetime.time.min, tzinfo=tz)
        end = datetime.datetime.combine(self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
        return start, end


def budget_year_of(period: Period) -> int:
    """The calendar year of the funding lines a period reads: the calendar year itself, or the
    calendar year in which a school year starts (school year 2026-2027 reads the 2026 budget)."""
    return period.year


@dataclass(frozen=True)
class Filters:
    eps: int | None = None  # pk of an EPS body
    school: int | None = None  # pk of a territories.School
    qpv: str = ""  # "yes", "no" or "" (all)

    @property
    def any(self) -> bool:
        return bool(self.eps or self.school or self.qpv)


@dataclass(frozen=True)
class Scope:
    programme_ids: tuple[int, ...]
    period: Period
    filters: Filters = field(default_factory=Filters)


# --- results --------------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    value: int | float | Decimal | None


@dataclass
class Indicator:
    code: str
    label: str
    definition: str
    rows: list[Row] = field(default_factory=list)
    total: int | float | Decimal | None = None
    unit: str = ""
    # Counts of people, subject to small-cell suppression outside the programme's team.
    people: bool = True
    # Whether the rows add up to the total (False for multi-select motifs, averages…).
    additive: bool = True
    # Number of observations behind a mean or a median (suppressed when small).
    observations: int | None = None
    available: bool = True
    # Counts by two dimensions at once (``(row key, column key) -> count``) behind linked tables,
    # never published: the suppression of every table built on them reads it (one decision).
    joint: dict | None = None

    @property
    def values(self) -> list:
        return [row.value for row in self.rows]


# --- populations ----------------------------------------------------------------------------------


def _pathways_in_period(scope: Scope, prefix: str = ""):
    """Q on pathways (optionally through ``prefix``) open at some point of the period, filtered."""
    p = prefix
    q = Q(**{f"{p}programme_id__in": scope.programme_ids, f"{p}opened_on__lte": scope.period.end}) & (
        Q(**{f"{p}closed_on__isnull": True}) | Q(**{f"{p}closed_on__gte": scope.period.start})
    )
    return q & _pathway_filters(scope, prefix)


def _pathway_filters(scope: Scope, prefix: str = "") -> Q:
    f, p = scope.filters, prefix
    q = Q()
    if f.school:
        q &= Q(**{f"{p}child__school_id": f.school})
    if f.qpv == "yes":
        q &= Q(**{f"{p}child__in_priority_area": True})
    elif f.qpv == "no":
        q &= Q(**{f"{p}child__in_priority_area": False})
    if f.eps:
        items = AgendaItem.objects.filter(
            pathway=OuterRef(f"{p}pk" if p else "pk"), meeting__body_id=f.eps
        ).values("pk")
        q &= Q(Exists(items))
    return q


def pathways(scope: Scope):
    return Pathway.objects.filter(_pathways_in_period(scope))


def followed_children(scope: Scope):
    """Children with a pathway open in the period (each once)."""
    in_period = Pathway.objects.filter(_pathways_in_period(scope), child=OuterRef("pk"))
    return Child.objects.filter(programme_id__in=scope.programme_ids).filter(Exists(in_period.values("pk")))


def collective_only(scope: Scope):
    """Collective-only child beneficiaries of the period (None without the actions catalogue, or
    when the filters are on schools or EPS, which collective beneficiaries do not carry)."""
    if not OFFERS or scope.filters.school or scope.filters.eps:
        return None
    start, end = scope.period.start, scope.period.end
    enrolled = Enrolment.objects.filter(
        beneficiary=OuterRef("pk"),
        status__in=[EnrolmentStatus.ENROLLED, EnrolmentStatus.LEFT],
        group__starts_on__lte=end,
        group__ends_on__gte=start,
    )
    in_pathway = Pathway.objects.filter(_pathways_in_period(scope), child=OuterRef("child_id"))
    qs = Beneficiary.objects.filter(programme_id__in=scope.programme_ids, is_parent=False).filter(
        Exists(enrolled.values("pk"))
    )
    qs = qs.exclude(Q(child__isnull=False) & Q(Exists(in_pathway.values("pk"))))
    if scope.filters.qpv == "yes":
        qs = qs.filter(in_qpv=True)
    elif scope.filters.qpv == "no":
        qs = qs.filter(in_qpv=False)
    return qs


# --- indicators -----------------------------------------------------------------------------------


def _counts(qs, spec: list[tuple[str, str, Q]]) -> list[Row]:
    """One aggregate query: a conditional count per row."""
    result = qs.aggregate(**{f"n_{i}": Count("pk", filter=q) for i, (_k, _l, q) in enumerate(spec)})
    return [Row(key, str(label), result[f"n_{i}"]) for i, (key, label, q) in enumerate(spec)]


def children_by_sex(scope: Scope) -> Indicator:
    rows = _counts(
        followed_children(scope),
        [(value, label, Q(sex=value)) for value, label in Sex.choices],
    )
    return Indicator(
        "children_by_sex",
        str(_("Enfants suivis en parcours, par sexe")),
        str(_("Enfants ayant un parcours ouvert à un moment de la période, comptés une fois chacun.")),
        rows,
        total=sum(r.value for r in rows),
    )


AGE_BANDS = [
    ("0-1", _("Moins de 2 ans"), 0, 2),
    ("2-5", _("2 à 5 ans"), 2, 6),
    ("6-10", _("6 à 10 ans"), 6, 11),
    ("11-16", _("11 à 16 ans"), 11, 17),
    ("17+", _("17 ans et plus"), 17, None),
]


def age_band_q(start: datetime.date, low: int, high: int | None, field_name: str = "birth_date") -> Q:
    """Children aged ``low`` to ``high - 1`` on ``start`` (birth date bounds, computed in SQL)."""
    q = Q(**{f"{field_name}__lte": _years_before(start, low)})
    if high is not None:
        q &= Q(**{f"{field_name}__gt": _years_before(start, high)})
    return q


def children_by_age(scope: Scope) -> Indicator:
    start = scope.period.start
    spec = [(key, label, age_band_q(start, low, high)) for key, label, low, high in AGE_BANDS]
    rows = _counts(followed_children(scope), spec)
    if rows[0].value == 0:
        rows = rows[1:]
    return Indicator(
        "children_by_age",
        str(_("Enfants suivis en parcours, par tranche d'âge")),
        str(
            _(
                "Âge au premier jour de la période (1er septembre pour une année scolaire) : un enfant "
                "qui a 6 ans pendant l'année compte dans les 2 à 5 ans."
            )
        ),
        rows,
        total=sum(r.value for r in rows),
    )


SCHOOL_STAGES = [
    ("maternelle", _("Maternelle"), ["TPS", "PS", "MS", "GS"]),
    ("elementaire", _("Élémentaire"), ["CP", "CE1", "CE2", "CM1", "CM2"]),
    ("college", _("Collège"), ["6e", "5e", "4e", "3e"]),
    ("lycee", _("Lycée"), ["2nde", "1re", "Tle"]),
    ("other", _("Autre (ULIS, SEGPA, CAP…)"), ["other"]),
    ("none", _("Non scolarisé·e"), ["none"]),
]


def children_by_school_level(scope: Scope) -> Indicator:
    spec = [(key, label, Q(school_level__in=levels)) for key, label, levels in SCHOOL_STAGES]
    rows = _counts(followed_children(scope), spec)
    return Indicator(
        "children_by_school_level",
        str(_("Enfants suivis en parcours, par type d'établissement fréquenté")),
        str(_("Niveau scolaire enregistré sur la fiche de l'enfant, regroupé par cycle.")),
        rows,
        total=sum(r.value for r in rows),
    )


QPV_STATUSES = [
    ("yes", _("Réside en QPV"), Q(in_priority_area=True)),
    ("no", _("Ne réside pas en QPV"), Q(in_priority_area=False)),
    ("unknown", _("Résidence non localisée"), Q(in_priority_area__isnull=True)),
]
SCHOOL_STATUSES = [
    ("REP+", _("Scolarisé·e en REP+"), Q(school__priority_education="REP+")),
    ("REP", _("Scolarisé·e en REP"), Q(school__priority_education="REP")),
    ("none", _("Hors éducation prioritaire"), Q(school__isnull=False, school__priority_education="")),
    ("unknown", _("Établissement non renseigné"), Q(school__isnull=True)),
]


def priority_geography(scope: Scope) -> dict:
    """Children followed, by residence (QPV) × school (REP+/REP): the counts behind the dashboard's
    two breakdowns and the territory diagnosis's cross-table (one query)."""
    result = followed_children(scope).aggregate(
        **{
            f"n_{i}_{j}": Count("pk", filter=q & s)
            for i, (_k, _l, q) in enumerate(QPV_STATUSES)
            for j, (_k2, _l2, s) in enumerate(SCHOOL_STATUSES)
        }
    )
    return {
        (qpv, school): result[f"n_{i}_{j}"]
        for i, (qpv, _l, _q) in enumerate(QPV_STATUSES)
        for j, (school, _l2, _s) in enumerate(SCHOOL_STATUSES)
    }


def children_by_qpv(scope: Scope) -> Indicator:
    joint = priority_geography(scope)
    rows = [
        Row(key, str(label), sum(v for (qpv, _s), v in joint.items() if qpv == key))
        for key, label, _q in QPV_STATUSES
    ]
    return Indicator(
        "children_by_qpv",
        str(_("Enfants suivis en parcours, selon la résidence en quartier prioritaire")),
        str(
            _(
                "Résidence dans un quartier prioritaire de la politique de la ville (QPV), "
                "établie à l'adresse."
            )
        ),
        rows,
        total=sum(r.value for r in rows),
        joint=joint,
    )


def children_by_priority_education(scope: Scope) -> Indicator:
    rows = _counts(followed_children(scope), [(k, label, q) for k, label, q in SCHOOL_STATUSES])
    return Indicator(
        "children_by_priority_education",
        str(_("Enfants suivis en parcours, selon l'éducation prioritaire de l'établissement")),
        str(_("Statut REP / REP+ de l'établissement fréquenté (annuaire de l'éducation).")),
        rows,
        total=sum(r.value for r in rows),
    )


def pathway_vs_collective(scope: Scope) -> Indicator:
    in_pathway = followed_children(scope).count()
    collective = collective_only(scope)
    rows = [Row("pathway", str(_("Enfants en parcours personnalisé")), in_pathway)]
    if collective is not None:
        rows.append(
            Row(
                "collective",
                str(_("Enfants bénéficiaires d'actions collectives uniquement")),
                collective.count(),
            )
        )
    return Indicator(
        "pathway_vs_collective",
        str(_("Enfants bénéficiaires : parcours et actions collectives")),
        str(
            _(
                "Sans double compte : un bénéficiaire d'action collective entré en parcours dans la "
                "période est compté en parcours uniquement."
            )
        ),
        rows,
        total=sum(r.value for r in rows),
        available=collective is not None or not OFFERS,
    )


def parents_reached(scope: Scope) -> Indicator:
    value = None
    if OFFERS and not scope.filters.any:
        start, end = scope.period.start, scope.period.end
        live = dict(
            status__in=[EnrolmentStatus.ENROLLED, EnrolmentStatus.LEFT],
            group__starts_on__lte=end,
            group__ends_on__gte=start,
            group__offer__programme_id__in=scope.programme_ids,
        )
        guardians = Enrolment.objects.filter(guardian__isnull=False, **live).aggregate(
            n=Count("guardian", distinct=True)
        )["n"]
        parents = Enrolment.objects.filter(beneficiary__is_parent=True, **live).aggregate(
            n=Count("beneficiary", distinct=True)
        )["n"]
        value = guardians + parents
    return Indicator(
        "parents_reached",
        str(_("Parents bénéficiaires d'actions collectives")),
        str(_("Parents inscrits à au moins un groupe d'action collective de la période.")),
        [Row("parents", str(_("Parents")), value)],
        total=value,
        available=value is not None,
    )


def _referrals(scope: Scope):
    start, end = scope.period.datetimes()
    qs = Referral.objects.filter(
        programme_id__in=scope.programme_ids, submitted_at__gte=start, submitted_at__lt=end
    )
    f = scope.filters
    if f.school:
        qs = qs.filter(school_id=f.school)
    if f.qpv == "yes":
        qs = qs.filter(priority_area__isnull=False)
    elif f.qpv == "no":
        qs = qs.filter(priority_area__isnull=True)
    if f.eps:
        qs = qs.filter(
            Exists(
                AgendaItem.objects.filter(pathway__referral=OuterRef("pk"), meeting__body_id=f.eps).values(
                    "pk"
                )
            )
        )
    return qs


def _by_list_item(qs, path: str) -> list[Row]:
    grouped = (
        qs.values(f"{path}__code")
        .annotate(
            n=Count("pk", distinct=True), label=Min(f"{path}__label"), position=Min(f"{path}__position")
        )
        .order_by("position", f"{path}__code")
    )
    return [Row(g[f"{path}__code"] or "none", g["label"] or str(_("Non renseigné")), g["n"]) for g in grouped]


def referrals_by_referrer(scope: Scope) -> Indicator:
    qs = _referrals(scope)
    rows = _by_list_item(qs, "referrer_type")
    return Indicator(
        "referrals_by_referrer",
        str(_("Orientations reçues, par type d'orienteur")),
        str(_("Fiches d'orientation transmises pendant la période, quel que soit leur devenir.")),
        rows,
        total=sum(r.value for r in rows),
    )


def referrals_by_motif(scope: Scope) -> Indicator:
    qs = _referrals(scope)
    rows = [r for r in _by_list_item(qs, "motifs") if r.key != "none"]
    return Indicator(
        "referrals_by_motif",
        str(_("Orientations reçues, par motif")),
        str(
            _(
                "Une orientation peut porter plusieurs motifs : le total des motifs dépasse "
                "le nombre d'orientations."
            )
        ),
        rows,
        total=qs.count(),
        additive=False,
    )


def _eps_review_subquery():
    """The date of a pathway's EPS review: the first held EPS meeting whose agenda has it (with a
    decision recorded on that item, when the governance app records decisions)."""
    meetings = Meeting.objects.filter(
        body__kind=BodyKind.EPS, agenda_items__pathway=OuterRef("pk"), starts_at__lte=timezone.now()
    )
    if hasattr(Meeting, "cancelled"):
        meetings = meetings.filter(cancelled=False)
    if DECISIONS:
        meetings = meetings.filter(
            Exists(
                Decision.objects.filter(
                    agenda_item__meeting=OuterRef("pk"), agenda_item__pathway=OuterRef(OuterRef("pk"))
                )
            )
        )
    return Subquery(meetings.order_by("starts_at").values("starts_at")[:1])


def _mean_and_median(code: str, label, definition, values: list[float], *, unit_label, unit) -> Indicator:
    """The one definition of an indicator summarised by its mean and its median (a delay, a
    duration): both rounded to one decimal, over ``len(values)`` observations (the dashboard
    withholds both when there are fewer than 5)."""
    mean = round(statistics.fmean(values), 1) if values else None
    median = round(float(statistics.median(values)), 1) if values else None
    return Indicator(
        code,
        str(label),
        str(definition),
        [
            Row("mean", str(_("Moyenne (%(unit)s)") % {"unit": unit_label}), mean),
            Row("median", str(_("Médiane (%(unit)s)") % {"unit": unit_label}), median),
        ],
        unit=str(unit),
        people=False,
        additive=False,
        observations=len(values),
    )


def referral_to_eps_delay(scope: Scope) -> Indicator:
    start, end = scope.period.datetimes()
    qs = (
        Pathway.objects.filter(programme_id__in=scope.programme_ids, referral__isnull=False)
        .filter(_pathway_filters(scope))
        .annotate(review_at=_eps_review_subquery())
        .filter(review_at__gte=start, review_at__lt=end)
    )
    delays = [
        (timezone.localtime(review).date() - timezone.localtime(submitted).date()).days
        for submitted, review in qs.values_list("referral__submitted_at", "review_at")
    ]
    return _mean_and_median(
        "referral_to_eps_delay",
        _("Délai entre l'orientation et l'examen en EPS"),
        _(
            "En jours, de la transmission de la fiche d'orientation à la première réunion d'EPS "
            "tenue où la situation a fait l'objet d'une décision ; examens tenus dans la période."
        ),
        delays,
        unit_label=_("jours"),
        unit=_("jours"),
    )


def pathway_duration(scope: Scope) -> Indicator:
    qs = Pathway.objects.filter(
        programme_id__in=scope.programme_ids,
        closed_on__gte=scope.period.start,
        closed_on__lte=scope.period.end,
    ).filter(_pathway_filters(scope))
    months = [(closed - opened).days / 30.44 for opened, closed in qs.values_list("opened_on", "closed_on")]
    return _mean_and_median(
        "pathway_duration",
        _("Durée des parcours clôturés"),
        _(
            "En mois, de l'ouverture à la clôture, pour les parcours clôturés dans la période ; un "
            "parcours rouvert est un nouveau parcours, compté à part."
        ),
        months,
        unit_label=_("mois"),
        unit=_("mois"),
    )


def exits_by_reason(scope: Scope) -> Indicator:
    qs = Pathway.objects.filter(
        programme_id__in=scope.programme_ids,
        closed_on__gte=scope.period.start,
        closed_on__lte=scope.period.end,
    ).filter(_pathway_filters(scope))
    rows = _by_list_item(qs, "exit_reason")
    return Indicator(
        "exits_by_reason",
        str(_("Sorties de parcours, par motif")),
        str(_("Parcours clôturés pendant la période, selon le motif de sortie.")),
        rows,
        total=sum(r.value for r in rows),
    )


def plan_actions_by_dimension(scope: Scope) -> Indicator:
    qs = PlanAction.objects.filter(_pathways_in_period(scope, "pathway__")).filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=scope.period.end),
        Q(ends_on__isnull=True) | Q(ends_on__gte=scope.period.start),
    )
    spec = [(value, label, Q(objective__dimension=value)) for value, label in Dimension.choices]
    spec.append(("none", _("Sans objectif rattaché"), Q(objective__isnull=True)))
    rows = _counts(qs, spec)
    return Indicator(
        "plan_actions_by_dimension",
        str(_("Actions des parcours, par dimension")),
        str(
            _("Actions inscrites aux plans des parcours de la période, selon la dimension de leur objectif.")
        ),
        rows,
        total=sum(r.value for r in rows),
    )


def plan_actions_by_kind(scope: Scope) -> Indicator:
    qs = PlanAction.objects.filter(_pathways_in_period(scope, "pathway__")).filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=scope.period.end),
        Q(ends_on__isnull=True) | Q(ends_on__gte=scope.period.start),
    )
    rows = _counts(qs, [(value, label, Q(kind=value)) for value, label in ActionKind.choices])
    return Indicator(
        "plan_actions_by_kind",
        str(_("Actions des parcours, par type")),
        str(_("Actions individuelles ou collectives inscrites aux plans des parcours de la période.")),
        rows,
        total=sum(r.value for r in rows),
    )


def offers_by_dimension(scope: Scope) -> Indicator:
    """Actions of the catalogue running in the period, by dimension (an action may have several)."""
    if not OFFERS:
        return Indicator(
            "offers_by_dimension", str(_("Actions du catalogue, par dimension")), "", available=False
        )
    offers = Offer.objects.filter(programme_id__in=scope.programme_ids).filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=scope.period.end),
        Q(ends_on__isnull=True) | Q(ends_on__gte=scope.period.start),
    )
    counts = OrderedDict((value, 0) for value in Dimension.values)
    kinds = OrderedDict((value, 0) for value in ActionKind.values)
    total = 0
    for dimensions, kind in offers.values_list("dimensions", "kind"):
        total += 1
        kinds[kind] = kinds.get(kind, 0) + 1
        for dimension in dimensions or []:
            if dimension in counts:
                counts[dimension] += 1
    labels = dict(Dimension.choices)
    kind_labels = dict(ActionKind.choices)
    rows = [Row(k, str(labels[k]), v) for k, v in counts.items()]
    rows += [
        Row(f"kind:{k}", str(_("Type : %(kind)s") % {"kind": kind_labels[k]}), v) for k, v in kinds.items()
    ]
    return Indicator(
        "offers_by_dimension",
        str(_("Actions du catalogue, par dimension et par type")),
        str(
            _(
                "Actions du catalogue se déroulant dans la période ; une action peut couvrir "
                "plusieurs dimensions."
            )
        ),
        rows,
        total=total,
        people=False,
        additive=False,
    )


def meetings_held(scope: Scope) -> Indicator:
    start, end = scope.period.datetimes()
    qs = Meeting.objects.filter(
        body__programme_id__in=scope.programme_ids,
        starts_at__gte=start,
        starts_at__lt=end,
        starts_at__lte=timezone.now(),
    )
    if hasattr(Meeting, "cancelled"):
        qs = qs.filter(cancelled=False)
    if scope.filters.eps:
        qs = qs.filter(Q(body_id=scope.filters.eps) | ~Q(body__kind=BodyKind.EPS))
    rows = _counts(qs, [(value, label, Q(body__kind=value)) for value, label in BodyKind.choices])
    eps_bodies = Body.objects.filter(programme_id__in=scope.programme_ids, kind=BodyKind.EPS).count()
    return Indicator(
        "meetings_held",
        str(_("Réunions tenues, par instance")),
        str(
            _("Réunions dont la date est passée et qui n'ont pas été annulées. Nombre d'EPS : %(n)s.")
            % {"n": eps_bodies}
        ),
        rows,
        total=sum(r.value for r in rows),
        people=False,
    )


STAFF_ROLES = [Role.COORDINATOR, Role.REFERENT, Role.MANAGER]


def _staff(scope: Scope):
    return Membership.objects.filter(
        programme_id__in=scope.programme_ids,
        role__in=STAFF_ROLES,
        starts_on__lte=scope.period.end,
        user__is_active=True,
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=scope.period.start))


def staff_by_role(scope: Scope) -> Indicator:
    qs = _staff(scope)
    qs = qs.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=scope.period.start))
    grouped = {g["role"]: g for g in qs.values("role").annotate(n=Count("pk"), fte=Sum("fte"))}
    rows = []
    for value, label in Role.choices:
        if value in grouped:
            g = grouped[value]
            rows.append(Row(value, str(label), g["fte"] or Decimal("0")))
    return Indicator(
        "staff_by_role",
        str(_("Postes et ETP par rôle")),
        str(_("Équivalents temps plein saisis sur les appartenances en vigueur pendant la période.")),
        rows,
        total=sum((r.value for r in rows), Decimal("0")),
        unit=str(_("ETP")),
        people=False,
        additive=False,
    )


def staff_posts_by_role(scope: Scope) -> dict[str, int]:
    qs = _staff(scope)
    return {g["role"]: g["n"] for g in qs.values("role").annotate(n=Count("pk"))}


def funding_by_source(scope: Scope, *, in_kind: bool = False) -> Indicator:
    qs = FundingLine.objects.filter(
        programme_id__in=scope.programme_ids, year=scope.period.budget_year, in_kind=in_kind
    )
    sums = {g["source"]: g["total"] for g in qs.values("source").annotate(total=Sum("amount"))}
    rows = [Row(value, str(label), sums.get(value, Decimal("0"))) for value, label in FundingSource.choices]
    code = "in_kind_by_source" if in_kind else "funding_by_source"
    label = (
        _("Contributions en nature valorisées, par financeur") if in_kind else _("Financements, par source")
    )
    return Indicator(
        code,
        str(label),
        str(
            _("Lignes de financement de l'année civile %(year)s (en euros).")
            % {"year": scope.period.budget_year}
        )
        + " "
        + scope.period.budget_rule,
        rows,
        total=sum((r.value for r in rows), Decimal("0")),
        unit="€",
        people=False,
    )


def cost_per_child(scope: Scope, *, funding: Indicator, beneficiaries: Indicator) -> Indicator:
    children = beneficiaries.total or 0
    value = (funding.total / children).quantize(Decimal("1")) if children and funding.total else None
    return Indicator(
        "cost_per_child",
        str(_("Coût par enfant")),
        str(
            _(
                "Financements directs de l'année (hors contributions en nature) divisés par le nombre "
                "d'enfants bénéficiaires (parcours et actions collectives)."
            )
        ),
        [Row("cost", str(_("Coût par enfant (€)")), value)],
        total=value,
        unit="€",
        people=False,
        additive=False,
        observations=children,
    )


def review_rate(scope: Scope) -> Indicator:
    """Share of pathways active in the period that had a bilan in the period."""
    qs = Pathway.objects.filter(_pathways_in_period(scope)).exclude(state="engagement")
    reviewed = Review.objects.filter(
        pathway=OuterRef("pk"), held_on__gte=scope.period.start, held_on__lte=scope.period.end
    )
    result = qs.aggregate(n=Count("pk"), reviewed=Count("pk", filter=Q(Exists(reviewed.values("pk")))))
    value = round(100 * result["reviewed"] / result["n"]) if result["n"] else None
    return Indicator(
        "review_rate",
        str(_("Parcours ayant eu un bilan dans l'année")),
        str(_("Part des parcours de la période, au-delà du premier contact, ayant eu au moins un bilan.")),
        [Row("rate", str(_("Part (%)")), value)],
        total=value,
        unit="%",
        people=False,
        additive=False,
        observations=result["n"],
    )


def compute(scope: Scope) -> "OrderedDict[str, Indicator]":
    """Every indicator of the dashboard, in display order (a constant number of queries)."""
    result: OrderedDict[str, Indicator] = OrderedDict()
    for function in (
        pathway_vs_collective,
        children_by_sex,
        children_by_age,
        children_by_school_level,
        children_by_qpv,
        children_by_priority_education,
        parents_reached,
        referrals_by_referrer,
        referrals_by_motif,
        referral_to_eps_delay,
        pathway_duration,
        exits_by_reason,
        review_rate,
        plan_actions_by_dimension,
        plan_actions_by_kind,
        offers_by_dimension,
        meetings_held,
        staff_by_role,
    ):
        indicator = function(scope)
        result[indicator.code] = indicator
    result["funding_by_source"] = funding_by_source(scope)
    result["in_kind_by_source"] = funding_by_source(scope, in_kind=True)
    result["cost_per_child"] = cost_per_child(
        scope, funding=result["funding_by_source"], beneficiaries=result["pathway_vs_collective"]
    )
    return result


# --- every programme at once ---------------------------------------------------------------------

# The indicators counting people (small-cell suppression applies to them), as ``compute`` gives them.
PEOPLE_COUNTS = [
    "pathway_vs_collective",
    "children_by_sex",
    "children_by_age",
    "children_by_school_level",
    "children_by_qpv",
    "children_by_priority_education",
    "parents_reached",
    "referrals_by_referrer",
    "referrals_by_motif",
    "exits_by_reason",
    "plan_actions_by_dimension",
    "plan_actions_by_kind",
]


def _grouped(qs, by: str, aggregates: dict) -> dict:
    """``programme id -> aggregates``, one query (a programme without rows is absent)."""
    return {g[by]: g for g in qs.values(by).annotate(**aggregates).order_by()}


def _by_list_item_grouped(qs, path: str, by: str) -> dict[int, list[Row]]:
    """``_by_list_item`` for every programme at once (one query), in the same order."""
    grouped = (
        qs.values(by, f"{path}__code")
        .annotate(
            n=Count("pk", distinct=True), label=Min(f"{path}__label"), position=Min(f"{path}__position")
        )
        .order_by(by, "position", f"{path}__code")
    )
    result: dict[int, list[Row]] = {}
    for g in grouped:
        row = Row(g[f"{path}__code"] or "none", g["label"] or str(_("Non renseigné")), g["n"])
        result.setdefault(g[by], []).append(row)
    return result


def people_counts(scope: Scope) -> "dict[int, OrderedDict[str, Indicator]]":
    """The indicators of ``PEOPLE_COUNTS`` of each programme of ``scope`` (``programme id ->
    code -> Indicator``, rows and totals as ``compute`` gives them for that programme alone, labels
    left out), in one query per population whatever the number of programmes: what the suppression
    decision shared by a network level and its programmes reads (``maillage.steering.levels``)."""
    ids = scope.programme_ids
    result = {pk: OrderedDict() for pk in ids}

    def put(pk, code, rows, **kwargs):
        if "total" not in kwargs:
            kwargs["total"] = sum(r.value for r in rows)
        result[pk][code] = Indicator(code, "", "", rows, **kwargs)

    # Children followed: a child of a programme with a pathway of that programme in the period.
    in_period = Pathway.objects.filter(
        _pathways_in_period(scope), child=OuterRef("pk"), programme_id=OuterRef("programme_id")
    )
    children = Child.objects.filter(programme_id__in=ids).filter(Exists(in_period.values("pk")))
    start = scope.period.start
    specs = {
        "children_by_sex": [(value, Q(sex=value)) for value, _label in Sex.choices],
        "children_by_age": [(k, age_band_q(start, low, high)) for k, _l, low, high in AGE_BANDS],
        "children_by_school_level": [(k, Q(school_level__in=v)) for k, _l, v in SCHOOL_STAGES],
        "children_by_priority_education": [(k, q) for k, _l, q in SCHOOL_STATUSES],
    }
    aggregates = {"n": Count("pk")}
    for code, spec in specs.items():
        aggregates.update({f"{code}_{i}": Count("pk", filter=q) for i, (_k, q) in enumerate(spec)})
    for i, (_k, _l, q) in enumerate(QPV_STATUSES):
        for j, (_k2, _l2, school) in enumerate(SCHOOL_STATUSES):
            aggregates[f"geo_{i}_{j}"] = Count("pk", filter=q & school)
    counted = _grouped(children, "programme_id", aggregates)
    collective = None
    if OFFERS and not scope.filters.school and not scope.filters.eps:
        enrolled = Enrolment.objects.filter(
            beneficiary=OuterRef("pk"),
            status__in=[EnrolmentStatus.ENROLLED, EnrolmentStatus.LEFT],
            group__starts_on__lte=scope.period.end,
            group__ends_on__gte=start,
        )
        in_pathway = Pathway.objects.filter(
            _pathways_in_period(scope), child=OuterRef("child_id"), programme_id=OuterRef("programme_id")
        )
        qs = Beneficiary.objects.filter(programme_id__in=ids, is_parent=False).filter(
            Exists(enrolled.values("pk"))
        )
        qs = qs.exclude(Q(child__isnull=False) & Q(Exists(in_pathway.values("pk"))))
        if scope.filters.qpv in ("yes", "no"):
            qs = qs.filter(in_qpv=scope.filters.qpv == "yes")
        collective = _grouped(qs, "programme_id", {"n": Count("pk")})
    parents = None
    if OFFERS and not scope.filters.any:
        live = Enrolment.objects.filter(
            status__in=[EnrolmentStatus.ENROLLED, EnrolmentStatus.LEFT],
            group__starts_on__lte=scope.period.end,
            group__ends_on__gte=start,
            group__offer__programme_id__in=ids,
        )
        by = "group__offer__programme_id"
        guardians = _grouped(live.filter(guardian__isnull=False), by, {"n": Count("guardian", distinct=True)})
        parents = _grouped(
            live.filter(beneficiary__is_parent=True), by, {"n": Count("beneficiary", distinct=True)}
        )
        parents = {pk: guardians.get(pk, {}).get("n", 0) + parents.get(pk, {}).get("n", 0) for pk in ids}
    referrals = _referrals(scope)
    referrers = _by_list_item_grouped(referrals, "referrer_type", "programme_id")
    motifs = _by_list_item_grouped(referrals, "motifs", "programme_id")
    received = _grouped(referrals, "programme_id", {"n": Count("pk")})
    exits = _by_list_item_grouped(
        Pathway.objects.filter(
            programme_id__in=ids, closed_on__gte=start, closed_on__lte=scope.period.end
        ).filter(_pathway_filters(scope)),
        "exit_reason",
        "programme_id",
    )
    actions = PlanAction.objects.filter(_pathways_in_period(scope, "pathway__")).filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=scope.period.end),
        Q(ends_on__isnull=True) | Q(ends_on__gte=start),
    )
    action_specs = {
        "plan_actions_by_dimension": [(v, Q(objective__dimension=v)) for v in Dimension.values]
        + [("none", Q(objective__isnull=True))],
        "plan_actions_by_kind": [(v, Q(kind=v)) for v in ActionKind.values],
    }
    planned = _grouped(
        actions,
        "pathway__programme_id",
        {
            f"{code}_{i}": Count("pk", filter=q)
            for code, spec in action_specs.items()
            for i, (_k, q) in enumerate(spec)
        },
    )
    for pk in ids:
        counts = counted.get(pk, {})
        followed = counts.get("n", 0)
        rows = [Row("pathway", "", followed)]
        if collective is not None:
            rows.append(Row("collective", "", collective.get(pk, {}).get("n", 0)))
        put(pk, "pathway_vs_collective", rows, available=collective is not None or not OFFERS)
        for code, spec in specs.items():
            rows = [Row(k, "", counts.get(f"{code}_{i}", 0)) for i, (k, _q) in enumerate(spec)]
            if code == "children_by_age" and rows[0].value == 0:
                rows = rows[1:]
            if code == "children_by_priority_education":
                joint = {
                    (qpv, school): counts.get(f"geo_{i}_{j}", 0)
                    for i, (qpv, _l, _q) in enumerate(QPV_STATUSES)
                    for j, (school, _l2, _s) in enumerate(SCHOOL_STATUSES)
                }
                by_qpv = [
                    Row(key, "", sum(v for (qpv, _s), v in joint.items() if qpv == key))
                    for key, _l, _q in QPV_STATUSES
                ]
                put(pk, "children_by_qpv", by_qpv, joint=joint)
            put(pk, code, rows)
        value = None if parents is None else parents[pk]
        put(pk, "parents_reached", [Row("parents", "", value)], total=value, available=value is not None)
        put(pk, "referrals_by_referrer", referrers.get(pk, []))
        rows = [r for r in motifs.get(pk, []) if r.key != "none"]
        put(pk, "referrals_by_motif", rows, total=received.get(pk, {}).get("n", 0), additive=False)
        put(pk, "exits_by_reason", exits.get(pk, []))
        for code, spec in action_specs.items():
            put(
                pk,
                code,
                [Row(k, "", planned.get(pk, {}).get(f"{code}_{i}", 0)) for i, (k, _q) in enumerate(spec)],
            )
    return {pk: OrderedDict((code, found[code]) for code in PEOPLE_COUNTS) for pk, found in result.items()}


# --- yearly objectives ----------------------------------------------------------------------------

AT_LEAST, AT_MOST = "at_least", "at_most"


# Each target reads one cell of one indicator (row key, or "total"): the cell as published to the
# reader (``maillage.steering.dashboard``), so that a figure withheld from a table is withheld from the
# objectives too (one suppression decision).
TARGETABLE = OrderedDict(
    [
        ("children", (_("Enfants bénéficiaires"), AT_LEAST, ("pathway_vs_collective", "total"))),
        ("children_in_pathway", (_("Enfants en parcours"), AT_LEAST, ("pathway_vs_collective", "pathway"))),
        (
            "eps_delay_days",
            (_("Délai orientation → EPS (jours, moyenne)"), AT_MOST, ("referral_to_eps_delay", "mean")),
        ),
        ("review_rate", (_("Parcours avec un bilan dans l'année (%)"), AT_LEAST, ("review_rate", "rate"))),
        (
            "steering_meetings",
            (_("Comités de pilotage tenus"), AT_LEAST, ("meetings_held", BodyKind.STEERING_COMMITTEE)),
        ),
        ("eps_meetings", (_("Réunions d'EPS tenues"), AT_LEAST, ("meetings_held", BodyKind.EPS))),
        ("referrals", (_("Orientations reçues"), AT_LEAST, ("referrals_by_referrer", "total"))),
    ]
)


@dataclass
class Progress:
    code: str
    label: str
    direction: str
    target: Decimal
    actual: float | int | Decimal | None
    percent: int | None
    reached: bool | None


def progress(tables, targets) -> list[Progress]:
    """Targets of the year against the indicators as presented to the reader (``tables`` from
    ``maillage.steering.dashboard.present``): a withheld cell has no value, so neither the actual
    figure nor the rate (target × rate would give it back) is shown."""
    result = []
    for target in targets:
        if target.indicator not in TARGETABLE:
            continue
        label, direction, (code, key) = TARGETABLE[target.indicator]
        try:
            actual = tables[code].cell(key).value
        except KeyError:
            actual = None
        percent = reached = None
        if actual is not None:
            if direction == AT_LEAST:
                percent = round(100 * float(actual) / float(target.value)) if target.value else 100
                reached = float(actual) >= float(target.value)
            else:
                reached = float(actual) <= float(target.value)
                percent = 100 if reached else round(100 * float(target.value) / float(actual))
        result.append(
            Progress(target.indicator, str(label), direction, target.value, actual, percent, reached)
        )
    return result
