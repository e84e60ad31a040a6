"""Reads of the steering pages: budget and per-action sheets, structuring table, territory
diagnosis, barometer results. Constant queries in the number of children (grouped in SQL)."""

from collections import OrderedDict, defaultdict
from decimal import Decimal

from django.db.models import Avg, Count, Q, Sum
from django.utils.translation import gettext as _

from maillage.governance.enums import BodyKind
from maillage.governance.models import Body
from maillage.pathways.enums import Dimension
from maillage.pathways.models import DiagnosticSection, PlanAction
from maillage.programmes.enums import OrganisationKind, Role
from maillage.programmes.models import Membership, Organisation, Programme
from maillage.referrals.models import Referral
from maillage.steering import formatting, suppression
from maillage.steering import indicators as ind
from maillage.steering.enums import ActorPosition, FundingSource
from maillage.steering.models import BarometerRound, BarometerScore, FundingLine

# --- budget ---------------------------------------------------------------------------------------


def funding_lines(programme_ids, year: int):
    return FundingLine.objects.filter(programme_id__in=programme_ids, year=year).order_by(
        "in_kind", "source", "label"
    )


def budget_summary(programme_ids, year: int, *, suppressed: bool = False) -> dict:
    """Funding by source (direct / in kind) and the costs: plan actions, catalogue actions, fund.

    ``suppressed`` (every reader but the coordinator): an action's cost is its unit cost × its
    participants, so when the count of participants is withheld ("< 5") the cost is too ("s"), and
    so are the catalogue's total and the total of costs (the hidden cost is their difference, and two
    hidden costs u₁n₁ + u₂n₂ with known unit costs are one Diophantine equation away)."""
    lines = funding_lines(programme_ids, year)
    by_source = OrderedDict(
        (value, {"label": label, "direct": Decimal("0"), "in_kind": Decimal("0")})
        for value, label in FundingSource.choices
    )
    for group in lines.values("source", "in_kind").annotate(total=Sum("amount")):
        by_source[group["source"]]["in_kind" if group["in_kind"] else "direct"] += group["total"]
    plan_costs = PlanAction.objects.filter(
        pathway__programme_id__in=programme_ids, starts_on__year=year, cost__isnull=False
    ).aggregate(total=Sum("cost"), n=Count("pk"))
    costs = {
        "plan_actions": plan_costs["total"] or Decimal("0"),
        "plan_actions_count": plan_costs["n"],
        "offers": Decimal("0"),
        "fund": Decimal("0"),
        "fund_by_purpose": [],
    }
    sheets = action_sheets(programme_ids, year, suppressed=suppressed) if ind.OFFERS else []
    costs["offers"] = sum((s["cost"] or Decimal("0") for s in sheets), Decimal("0"))
    costs_hidden = any(s["cost_hidden"] for s in sheets)
    if ind.OFFERS:
        from maillage.offers.enums import FundPurpose, FundRequestState
        from maillage.offers.models import FundRequest

        approved = FundRequest.objects.filter(
            programme_id__in=programme_ids, state=FundRequestState.APPROVED, decided_at__year=year
        )
        purposes = dict(FundPurpose.choices)
        for group in (
            approved.values("purpose").annotate(total=Sum("amount"), n=Count("pk")).order_by("purpose")
        ):
            costs["fund_by_purpose"].append(
                (purposes.get(group["purpose"], group["purpose"]), group["n"], group["total"])
            )
            costs["fund"] += group["total"]
    costs["total"] = costs["plan_actions"] + costs["offers"] + costs["fund"]
    costs["hidden"] = costs_hidden
    costs["offers_text"] = suppression.COMPLEMENT_TEXT if costs_hidden else formatting.money(costs["offers"])
    costs["total_text"] = suppression.COMPLEMENT_TEXT if costs_hidden else formatting.money(costs["total"])
    direct = sum((s["direct"] for s in by_source.values()), Decimal("0"))
    in_kind = sum((s["in_kind"] for s in by_source.values()), Decimal("0"))
    return {
        "lines": lines,
        "by_source": list(by_source.values()),
        "direct": direct,
        "in_kind": in_kind,
        "costs": costs,
        "sheets": sheets,
    }


def action_sheets(programme_ids, year: int, *, suppressed: bool = False) -> list[dict]:
    """The per-action sheet of a subsidy request (CERFA 12156): cost, planned and actual
    beneficiaries by sex, age band and neighbourhood, for the catalogue's actions of the year."""
    if not ind.OFFERS:
        return []
    import datetime

    from maillage.offers.enums import AgeBand, EnrolmentStatus
    from maillage.offers.models import Enrolment, Group, Offer

    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    offers = list(
        Offer.objects.filter(programme_id__in=programme_ids)
        .filter(
            Q(starts_on__isnull=True) | Q(starts_on__lte=end), Q(ends_on__isnull=True) | Q(ends_on__gte=start)
        )
        .select_related("funding_line")
        .order_by("title")
    )
    planned = {
        g["offer"]: g
        for g in Group.objects.filter(offer__in=offers, starts_on__lte=end, ends_on__gte=start)
        .values("offer")
        .annotate(capacity=Sum("capacity"), groups=Count("pk"))
    }
    live = Enrolment.objects.filter(
        group__offer__in=offers,
        group__starts_on__lte=end,
        group__ends_on__gte=start,
        status__in=[EnrolmentStatus.ENROLLED, EnrolmentStatus.LEFT],
    )

    def people(q_child: Q, q_beneficiary: Q, q_guardian: Q | None = None):
        parts = {
            "c": Count("child", filter=q_child, distinct=True),
            "b": Count("beneficiary", filter=q_beneficiary, distinct=True),
        }
        if q_guardian is not None:
            parts["g"] = Count("guardian", filter=q_guardian, distinct=True)
        return parts

    categories = OrderedDict()
    categories["girls"] = people(Q(child__sex="F"), Q(beneficiary__sex="F"), Q(guardian__relation="mother"))
    categories["boys"] = people(Q(child__sex="M"), Q(beneficiary__sex="M"), Q(guardian__relation="father"))
    for key, _label, low, high in ind.AGE_BANDS[1:]:
        categories[f"age_{key}"] = people(
            ind.age_band_q(start, low, high, "child__birth_date"), Q(beneficiary__age_band=key)
        )
    categories["adults"] = people(
        Q(pk__in=[]), Q(beneficiary__age_band=AgeBand.ADULT), Q(guardian__isnull=False)
    )
    categories["qpv"] = people(Q(child__in_priority_area=True), Q(beneficiary__in_qpv=True))
    categories["not_qpv"] = people(Q(child__in_priority_area=False), Q(beneficiary__in_qpv=False))
    categories["all"] = people(
        Q(child__isnull=False), Q(beneficiary__isnull=False), Q(guardian__isnull=False)
    )
    aggregates = {}
    for key, parts in categories.items():
        for part, expression in parts.items():
            aggregates[f"{key}__{part}"] = expression
    counts = {g["group__offer"]: g for g in live.values("group__offer").annotate(**aggregates)}
    sheets = []
    for offer in offers:
        row = counts.get(offer.pk, {})
        values = {
            key: sum(row.get(f"{key}__{part}", 0) for part in parts) for key, parts in categories.items()
        }
        cost = offer.unit_cost * values["all"] if offer.unit_cost is not None else None
        plan = planned.get(offer.pk, {})
        # The cost is the unit cost times the participants: withheld with their count.
        cost_hidden = suppressed and cost is not None and suppression.is_small(values["all"])
        sheet = {
            "offer": offer,
            "cost": cost,
            "cost_hidden": cost_hidden,
            "cost_text": suppression.COMPLEMENT_TEXT if cost_hidden else formatting.money(cost),
            "planned": plan.get("capacity") or offer.capacity,
            "groups": plan.get("groups", 0),
            "values": values,
            "texts": {key: formatting.number(value) for key, value in values.items()},
        }
        if suppressed:
            for keys in (
                ["girls", "boys"],
                [f"age_{k}" for k, *_r in ind.AGE_BANDS[1:]] + ["adults"],
                ["qpv", "not_qpv"],
            ):
                protected = suppression.protect_series([values[k] for k in keys])
                for key, state in zip(keys, protected.states, strict=True):
                    sheet["texts"][key] = suppression.display(values[key], state)
            if suppression.is_small(values["all"]):
                sheet["texts"]["all"] = suppression.PRIMARY_TEXT
        sheet["age_texts"] = [sheet["texts"][f"age_{k}"] for k, *_r in ind.AGE_BANDS[1:]] + [
            sheet["texts"]["adults"]
        ]
        sheets.append(sheet)
    return sheets


# --- network: the structuring table ---------------------------------------------------------------


def structuring_table(programmes: list[Programme], period: ind.Period) -> list[dict]:
    """One row per programme (constant queries in the number of children).

    The children followed per programme are the row margins of the programmes × categories
    cross-tables (by sex, age, residence in a QPV, school in REP…) whose cells the programme
    dashboards print and whose column margins and grand total the network dashboard prints: their
    states are those of the decision shared by the two levels (``levels.decision``), exact over the
    union of every figure of both levels. The other columns count places (QPV covered, REP schools,
    bodies), which are public, not people."""
    ids = [p.pk for p in programmes]
    bodies = defaultdict(list)
    for body in Body.objects.filter(programme_id__in=ids).order_by("kind", "name"):
        bodies[body.programme_id].append(body)
    staff = defaultdict(dict)
    for g in (
        Membership.objects.filter(programme_id__in=ids, role__in=ind.STAFF_ROLES)
        .active()
        .values("programme", "role")
        .annotate(n=Count("pk"), fte=Sum("fte"))
    ):
        staff[g["programme"]][g["role"]] = (g["n"], g["fte"] or Decimal("0"))
    partners = defaultdict(dict)
    for g in (
        Organisation.objects.filter(programme_id__in=ids, is_active=True)
        .values("programme", "kind")
        .annotate(n=Count("pk"))
    ):
        partners[g["programme"]][g["kind"]] = g["n"]
    budget = defaultdict(dict)
    for g in (
        FundingLine.objects.filter(programme_id__in=ids, year=period.budget_year, in_kind=False)
        .values("programme", "source")
        .annotate(total=Sum("amount"))
    ):
        budget[g["programme"]][g["source"]] = g["total"]
    scope = ind.Scope(tuple(ids), period)
    children = {
        g["programme"]: g["n"]
        for g in ind.followed_children(scope).values("programme").annotate(n=Count("pk")).order_by()
    }
    from maillage.steering import levels

    decision = levels.decision(
        {p.network_level_id for p in programmes if p.network_level_id}, period, extra_scope=ids
    )
    states = {
        p.pk: decision.children.get(
            p.pk,
            suppression.PRIMARY if suppression.is_small(children.get(p.pk, 0)) else suppression.PUBLISHED,
        )
        for p in programmes
    }
    children_text = {p.pk: suppression.display(children.get(p.pk, 0), states[p.pk]) for p in programmes}
    hidden = {p.pk for p in programmes if states[p.pk]}
    role_labels = dict(Role.choices)
    kind_labels = dict(OrganisationKind.choices)
    source_labels = dict(FundingSource.choices)
    rows = []
    for programme in programmes:
        followed = children.get(programme.pk, 0)
        programme_budget = budget.get(programme.pk, {})
        rows.append(
            {
                "programme": programme,
                "lead_body": f"{programme.get_lead_body_type_display()} — {programme.lead_body_name}".strip(
                    " —"
                ),
                "communes": ", ".join(sorted(c.name for c in programme.communes.all())),
                "qpv": len(programme.priority_areas.all()),
                "rep_schools": sum(1 for s in programme.schools.all() if s.priority_education),
                "veille": (
                    (str(programme.prior_veille_year) if programme.prior_veille_year else _("oui"))
                    if programme.prior_veille_educative
                    else _("non")
                ),
                "bodies": "; ".join(
                    _("%(name)s (%(n)s/an)") % {"name": b.name, "n": b.meetings_per_year}
                    for b in bodies.get(programme.pk, [])
                ),
                "eps": sum(1 for b in bodies.get(programme.pk, []) if b.kind == BodyKind.EPS),
                "staff": "; ".join(
                    _("%(role)s : %(n)s (%(fte)s ETP)")
                    % {"role": role_labels[role], "n": n, "fte": formatting.number(fte)}
                    for role, (n, fte) in sorted(staff.get(programme.pk, {}).items())
                ),
                "partners": "; ".join(
                    f"{kind_labels.get(kind, kind)} : {n}"
                    for kind, n in sorted(partners.get(programme.pk, {}).items())
                ),
                "budget": "; ".join(
                    f"{source_labels[s]} : {formatting.money(amount)}"
                    for s, amount in sorted(programme_budget.items())
                ),
                "budget_total": sum(programme_budget.values(), Decimal("0")),
                "children": followed,
                "children_text": children_text[programme.pk],
                "children_hidden": programme.pk in hidden,
            }
        )
    return rows


STRUCTURING_COLUMNS = [
    ("programme", _("Programme")),
    ("lead_body", _("Structure porteuse")),
    ("communes", _("Communes")),
    ("qpv", _("QPV couverts")),
    ("rep_schools", _("Écoles REP/REP+")),
    ("veille", _("Veille éducative préalable")),
    ("bodies", _("Instances et rythme")),
    ("eps", _("EPS")),
    ("staff", _("Équipe par rôle")),
    ("partners", _("Partenaires par type")),
    ("budget", _("Budget par source")),
    ("children", _("Enfants suivis")),
]


def sort_structuring(rows: list[dict], key: str, descending: bool = False) -> list[dict]:
    keys = dict(STRUCTURING_COLUMNS)
    if key not in keys:
        key = "programme"

    def value(row):
        if key == "programme":
            return row["programme"].name.lower()
        if key == "children":
            # Sorting must not reveal a hidden count's rank: hidden ones tie, below every published one.
            return -1 if row["children_hidden"] else row["children"]
        if key == "budget":
            return row["budget_total"]
        item = row[key]
        return item.lower() if isinstance(item, str) else item

    return sorted(rows, key=value, reverse=descending)


# --- territory diagnosis --------------------------------------------------------------------------


def _diagnosis_referrals(scope: ind.Scope):
    """The referrals of the territory diagnosis and their cells (residence in a QPV × school in
    REP/REP+), as conditional counts."""
    start, end = scope.period.datetimes()
    referrals = Referral.objects.filter(
        programme_id__in=scope.programme_ids, submitted_at__gte=start, submitted_at__lt=end
    )
    residence = Q(priority_area__isnull=False)
    rep = Q(school__priority_education__in=["REP", "REP+"])
    return referrals, {
        "qpv_rep": Count("pk", filter=residence & rep),
        "qpv_only": Count("pk", filter=residence & ~rep),
        "rep_only": Count("pk", filter=~residence & rep),
        "neither": Count("pk", filter=~residence & ~rep),
    }


def diagnosis_referrals_by_programme(scope: ind.Scope) -> dict[int, ind.Indicator]:
    """The territory diagnosis's cross-table of referrals of each programme of ``scope`` (labels left
    out), in one query: what the decision shared by a network level and its programmes reads."""
    referrals, cells = _diagnosis_referrals(scope)
    grouped = {g["programme_id"]: g for g in referrals.values("programme_id").annotate(**cells).order_by()}
    result = {}
    for pk in scope.programme_ids:
        counts = grouped.get(pk, {})
        rows = [ind.Row(key, "", counts.get(key, 0)) for key in cells]
        result[pk] = ind.Indicator("diagnosis_referrals", "", "", rows, total=sum(r.value for r in rows))
    return result


def territory_diagnosis(scope: ind.Scope) -> dict:
    """Referrals and pathways by priority status of residence and school, and needs by dimension."""
    referrals, cells = _diagnosis_referrals(scope)
    ref = referrals.aggregate(**cells)
    children = ind.followed_children(scope)
    c_res = Q(in_priority_area=True)
    c_rep = Q(school__priority_education__in=["REP", "REP+"])
    pw = children.aggregate(
        qpv_rep=Count("pk", filter=c_res & c_rep),
        qpv_only=Count("pk", filter=c_res & ~c_rep),
        rep_only=Count("pk", filter=~c_res & c_rep),
        neither=Count("pk", filter=~c_res & ~c_rep),
    )
    # Needs: dimensions where the diagnosis recorded a difficulty (a section), per child.
    sections = DiagnosticSection.objects.filter(ind._pathways_in_period(scope, "pathway__"))
    needs = sections.aggregate(
        **{
            value: Count("pathway__child", filter=Q(dimension=value), distinct=True)
            for value in Dimension.values
        }
    )
    labels = [
        ("qpv_rep", _("Résidence en QPV et école REP/REP+")),
        ("qpv_only", _("Résidence en QPV, école hors éducation prioritaire")),
        ("rep_only", _("Hors QPV, école REP/REP+")),
        ("neither", _("Hors QPV et hors éducation prioritaire")),
    ]
    return {
        "priority": [
            ind.Indicator(
                "diagnosis_referrals",
                _("Orientations, selon la géographie prioritaire"),
                _("Fiches d'orientation de la période, selon la résidence (QPV) et l'école (REP/REP+)."),
                [ind.Row(k, str(label), ref[k]) for k, label in labels],
                total=sum(ref.values()),
            ),
            ind.Indicator(
                "diagnosis_children",
                _("Enfants en parcours, selon la géographie prioritaire"),
                _("Enfants suivis dans la période ; une résidence non localisée compte hors QPV."),
                [ind.Row(k, str(label), pw[k]) for k, label in labels],
                total=sum(pw.values()),
            ),
        ],
        "needs": ind.Indicator(
            "diagnosis_needs",
            _("Besoins repérés, par dimension du diagnostic"),
            _(
                "Enfants dont le diagnostic comporte une section sur la dimension "
                "(un enfant peut en avoir plusieurs)."
            ),
            [ind.Row(value, str(label), needs[value]) for value, label in Dimension.choices],
            total=children.count(),
            additive=False,
        ),
    }


# --- barometer ------------------------------------------------------------------------------------

MIN_GROUP = 5


def barometer_results(barometer_round: BarometerRound) -> dict:
    """Mean score per item, overall and per position (groups of 5 answers or more only), and the
    previous round's overall means for comparison."""
    responses = barometer_round.responses.all()
    sizes = {g["position"]: g["n"] for g in responses.values("position").annotate(n=Count("pk"))}
    total = sum(sizes.values())
    items = list(barometer_round.items.all())
    overall = {
        g["item"]: g["mean"]
        for g in BarometerScore.objects.filter(item__round=barometer_round)
        .values("item")
        .annotate(mean=Avg("value"))
    }
    by_position = defaultdict(dict)
    for g in (
        BarometerScore.objects.filter(item__round=barometer_round)
        .values("item", "response__position")
        .annotate(mean=Avg("value"))
    ):
        by_position[g["response__position"]][g["item"]] = g["mean"]
    previous = (
        BarometerRound.objects.filter(
            programme_id=barometer_round.programme_id, opened_on__lt=barometer_round.opened_on
        )
        .order_by("-opened_on", "-pk")
        .first()
    )
    previous_means = {}
    if previous is not None and previous.responses.count() >= MIN_GROUP:
        previous_means = {
            g["item__code"]: g["mean"]
            for g in BarometerScore.objects.filter(item__round=previous)
            .values("item__code")
            .annotate(mean=Avg("value"))
        }
    positions = [
        (value, label, sizes.get(value, 0))
        for value, label in ActorPosition.choices
        if sizes.get(value, 0) >= MIN_GROUP
    ]
    hidden_positions = [
        label for value, label in ActorPosition.choices if 0 < sizes.get(value, 0) < MIN_GROUP
    ]
    shown = total >= MIN_GROUP
    rows = []
    for item in items:
        mean = overall.get(item.pk)
        before = previous_means.get(item.code)
        rows.append(
            {
                "statement": item.statement,
                "mean": round(mean, 2) if shown and mean is not None else None,
                "previous": round(before, 2) if before is not None else None,
                "delta": round(mean - before, 2)
                if shown and mean is not None and before is not None
                else None,
                "positions": [
                    round(by_position[value][item.pk], 2) if item.pk in by_position[value] else None
                    for value, _label, _n in positions
                ],
            }
        )
    open_answers = (
        list(responses.exclude(open_answer="").order_by("open_answer").values_list("open_answer", flat=True))
        if shown
        else []
    )
    return {
        "total": total,
        "shown": shown,
        "rows": rows,
        "positions": positions,
        "hidden_positions": hidden_positions,
        "previous": previous,
        "open_answers": open_answers,
    }
