"""Two levels, one decision: the small-cell suppression shared by a network level and its programmes.

A network user reads the sums over the programmes of its level (network dashboard, consolidated ANCT
workbook, structuring table with the children followed per programme); a member of a programme in
an aggregate role reads that programme's figures (dashboard, objectives, comité PDF, ANCT workbook,
territory diagnosis). One person may hold both roles, and subtracts: the level's count minus the
programme's is the count of the others, a programme's total is a row of the structuring table. Each
level suppressing on its own lets such a reader recompute a hidden count. So both levels print the
states of one decision, taken over every figure either publishes, for every programme of the
network tree:

1. *Figures as vectors.* Each published count of people is a combination of *atoms*, the underlying
   counts of one programme: children by residence × school, girls, each age band but the last, each
   referrer type… A breakdown whose rows add up to a count printed elsewhere (the children followed,
   the referrals received, the plan actions) has its last row written as that count minus the
   others: the ties a reader knows are in the vectors. A level's figure is the sum of its
   programmes' vectors; the same vector printed twice is one figure, with one state.
2. *The union, exactly, cheapest first.* ``suppression.protect_linked`` takes every figure of both
   levels: the small counts are hidden, then every other figure, dearest first, is published unless
   it would let a reader solve for a small count (exact linear algebra over the union). A figure's
   cost is its count, far more for a headline figure (``HEADLINE``: the children followed, the
   children living in a QPV, every table's total): a small count is protected by detailed cells,
   a headline figure is hidden only when no set of cells would do. The programmes × categories
   cross-tables (issue 13, point 2: the programme dashboards print their cells and row margins, the
   structuring table the children followed per programme, the network page the column margins and
   grand total) need no pass of their own: their equations are among the union's, so no hidden entry
   is the only unknown of a row or a column.
3. *Cost.* The figures of every programme of the tree are read at once, one query per population
   (``indicators.people_counts``), and the decision is one pass of integer elimination: each page of
   a network takes a constant number of queries, and deciding for 50 programmes takes a fraction of
   a second (``bench/suppression.py``).

The reader assumed is the strongest: one who reads every programme's pages and every level's. A
real reader (network + one programme) knows less, so recomputes nothing either.

Not in the decision: filtered views beyond the filters asked for (each filter is a decision of its
own), means and medians (withheld under 5 observations, see ``dashboard.present_one``), the budget's
per-action sheets (programme-level only) and counts of places (schools, QPV covered), which are
public.
"""

from dataclasses import dataclass, field

from maillage.steering import indicators as ind
from maillage.steering import suppression
from maillage.steering.dashboard import DIAGNOSIS_CELLS

QPV = ["yes", "no", "unknown"]
SCHOOLS = ["REP+", "REP", "none", "unknown"]
# The territory diagnosis's grouping (unlocated and unknown count as "not"), for the cells of
# ``dashboard.DIAGNOSIS_CELLS`` and ``dashboard.present_cross``.
_Q = {"yes": ["yes"], "not": ["no", "unknown"], "all": QPV}
_S = {"rep": ["REP+", "REP"], "not": ["none", "unknown"], "all": SCHOOLS}
CROSS_MARGINS = {"margin:0": [0, 1], "margin:1": [2, 3], "margin:2": [0, 2], "margin:3": [1, 3]}

# Breakdowns of the children followed: their total is the number of children followed when their
# rows cover every child (always, but for a child without a recorded school level, say).
CHILDREN_BREAKDOWNS = ["children_by_sex", "children_by_age", "children_by_school_level"]
CHILDREN = ("structuring", "children")  # the children followed, as the structuring table prints it


def _add(*vectors) -> dict:
    result: dict = {}
    for vector in vectors:
        for atom, c in vector.items():
            result[atom] = result.get(atom, 0) + c
    return {a: c for a, c in result.items() if c}


def _frozen(vector: dict) -> tuple:
    return tuple(sorted((a, c) for a, c in vector.items() if c))


def programme_figures(pk: int, indicators: dict, diagnosis: dict | None = None) -> dict:
    """``(code, key) -> (vector, value)`` for every count of people a programme publishes
    (``indicators``: ``indicators.compute`` or ``indicators.people_counts``; ``diagnosis``: the
    territory diagnosis's cross-tables by code, or None: ``diagnosis_children`` is read from the
    residence × school counts, so only its presence counts). ``key`` is a row key or ``"total"``."""
    figures: dict = {}

    def rows_of(code):
        indicator = indicators.get(code)
        if indicator is None or not indicator.available or not indicator.people:
            return None
        return indicator

    def breakdown(code, base=None):
        """Rows on atoms of their own; the last one tied to ``base`` (vector, value) when the rows
        add up to it. Returns the vector of the total."""
        indicator = rows_of(code)
        if indicator is None:
            return None
        values = [row.value or 0 for row in indicator.rows]
        own = [{(pk, code, row.key): 1} for row in indicator.rows]
        if base is not None and indicator.rows and sum(values) == base[1]:
            own[-1] = _add(base[0], *({a: -c for a, c in v.items()} for v in own[:-1]))
            total = base[0]
        else:
            total = _add(*own)
        for row, vector, value in zip(indicator.rows, own, values, strict=True):
            figures[(code, row.key)] = (vector, value)
        figures[(code, "total")] = (total, sum(values))
        return total, sum(values)

    qpv = indicators.get("children_by_qpv")
    joint = (qpv.joint if qpv is not None else None) or {}
    geo = {(q, s): joint.get((q, s), 0) for q in QPV for s in SCHOOLS}

    def geo_figure(qs, ss):
        return {(pk, "geo", q, s): 1 for q in qs for s in ss}, sum(geo[(q, s)] for q in qs for s in ss)

    children = geo_figure(QPV, SCHOOLS)
    figures[CHILDREN] = children
    if rows_of("children_by_qpv"):
        for q in QPV:
            figures[("children_by_qpv", q)] = geo_figure([q], SCHOOLS)
        figures[("children_by_qpv", "total")] = children
    if rows_of("children_by_priority_education"):
        for s in SCHOOLS:
            figures[("children_by_priority_education", s)] = geo_figure(QPV, [s])
        figures[("children_by_priority_education", "total")] = children
    for code in CHILDREN_BREAKDOWNS:
        breakdown(code, children)
    pvc = rows_of("pathway_vs_collective")
    if pvc is not None:
        figures[("pathway_vs_collective", "pathway")] = children
        parts = [children]
        for row in pvc.rows[1:]:
            vector = {(pk, "pathway_vs_collective", row.key): 1}
            figures[("pathway_vs_collective", row.key)] = (vector, row.value or 0)
            parts.append((vector, row.value or 0))
        figures[("pathway_vs_collective", "total")] = (
            _add(*(v for v, _n in parts)),
            sum(n for _v, n in parts),
        )
    referrals = breakdown("referrals_by_referrer")
    motifs = rows_of("referrals_by_motif")
    if motifs is not None:
        code = "referrals_by_motif"
        for row in motifs.rows:
            figures[(code, row.key)] = ({(pk, code, row.key): 1}, row.value or 0)
        if referrals is not None and motifs.total == referrals[1]:
            figures[(code, "total")] = referrals
        else:
            figures[(code, "total")] = ({(pk, code, "total"): 1}, motifs.total or 0)
    actions = breakdown("plan_actions_by_dimension")
    breakdown("plan_actions_by_kind", actions)
    done = {f[0] for f in figures} | {"structuring"}
    for code, indicator in indicators.items():  # any other count of people: rows of its own
        if code not in done and indicator.observations is None:
            if indicator.additive:
                breakdown(code)
            elif rows_of(code) is not None:
                for row in indicator.rows:
                    figures[(code, row.key)] = ({(pk, code, row.key): 1}, row.value or 0)
    if diagnosis:
        if "diagnosis_children" in diagnosis:
            for key, (q, s) in DIAGNOSIS_CELLS.items():
                figures[("diagnosis_children", key)] = geo_figure(_Q[q], _S[s])
        cross = diagnosis.get("diagnosis_referrals")
        if cross is not None:
            tied = referrals is not None and sum(r.value or 0 for r in cross.rows) == referrals[1]
            base = referrals if tied else None
            cells = [({(pk, "diagnosis_referrals", row.key): 1}, row.value or 0) for row in cross.rows]
            if base is not None:
                last = _add(base[0], *({a: -c for a, c in v.items()} for v, _n in cells[:-1]))
                cells[-1] = (last, cells[-1][1])
            for row, cell in zip(cross.rows, cells, strict=True):
                figures[("diagnosis_referrals", row.key)] = cell
            for key, members in CROSS_MARGINS.items():
                figures[("diagnosis_referrals", key)] = (
                    _add(*(cells[m][0] for m in members)),
                    sum(cells[m][1] for m in members),
                )
            figures[("diagnosis_referrals", "total")] = (
                _add(*(v for v, _n in cells)),
                sum(n for _v, n in cells),
            )
    return figures


PROGRAMME_ONLY = {"diagnosis_children", "diagnosis_referrals"}

# The headline figures, hidden only when no set of detailed cells protects the small counts
# (``suppression.HEADLINE_COST``): the children followed (the structuring table, the beneficiaries
# in a pathway), the children living in a QPV, and the total of every table (the totals the ANCT
# survey asks for: beneficiaries, referrals received, plan actions…).
HEADLINE = {
    CHILDREN,
    ("pathway_vs_collective", "pathway"),
    ("children_by_qpv", "yes"),
    ("diagnosis_children", "margin:0"),
}


def headline(code: str, key: str) -> bool:
    return key == "total" or (code, key) in HEADLINE


@dataclass
class Decision:
    """States of one decision: ``programmes[pk][code][key]``, ``networks[scope][code][key]`` (a
    scope is the frozenset of the ids of the programmes a network page sums), and the children
    followed per programme as the structuring table prints them (``children[pk]``)."""

    programmes: dict = field(default_factory=dict)
    networks: dict = field(default_factory=dict)
    children: dict = field(default_factory=dict)


def decide(per_programme: dict[int, dict], scopes: list[frozenset]) -> Decision:
    """The decision for programmes (``pk -> programme_figures(...)``) and the network scopes that
    sum them (each a frozenset of programme ids). Pure: no database."""
    figures: dict = {}
    for pk, items in per_programme.items():
        for (code, key), figure in items.items():
            figures[("p", pk, code, key)] = figure
    for scope in scopes:
        keys = []
        for pk in sorted(scope):
            for code, key in per_programme.get(pk, {}):
                if code not in PROGRAMME_ONLY and (code, key) != CHILDREN and (code, key) not in keys:
                    keys.append((code, key))
        for code, key in keys:
            parts = [
                per_programme[pk][(code, key)] for pk in sorted(scope) if (code, key) in per_programme[pk]
            ]
            figures[("n", scope, code, key)] = (_add(*(v for v, _n in parts)), sum(n for _v, n in parts))
    published_zero = {k for k, (v, _n) in figures.items() if not v}
    linked = {k: v for k, (v, _n) in figures.items() if k not in published_zero}
    values = {k: n for k, (_v, n) in figures.items()}
    costs = {k: suppression.figure_cost(n, headline=headline(k[2], k[3])) for k, (_v, n) in figures.items()}
    states = suppression.protect_linked(linked, values, costs=costs)
    decision = Decision()
    for key in figures:
        state = states.get(key, suppression.PUBLISHED)
        if key[0] == "p":
            _p, pk, code, row = key
            if (code, row) == CHILDREN:
                decision.children[pk] = state
            else:
                decision.programmes.setdefault(pk, {}).setdefault(code, {})[row] = state
        else:
            _n, scope, code, row = key
            decision.networks.setdefault(scope, {}).setdefault(code, {})[row] = state
    return decision


# --- reading the database -------------------------------------------------------------------------


def network_tree(levels) -> tuple[list, list[frozenset]]:
    """The programmes sharing aggregates with ``levels`` (every level of their trees) and the scopes
    the network pages sum (per level: its programmes and those of the levels just below it, as
    ``permissions.network_programmes_visible_to``)."""
    from maillage.programmes.models import NetworkLevel, Programme

    parent = dict(NetworkLevel.objects.values_list("pk", "parent_id"))
    roots = set()
    for level in levels:
        pk = getattr(level, "pk", level)
        seen = set()
        while parent.get(pk) is not None and pk not in seen:
            seen.add(pk)
            pk = parent[pk]
        roots.add(pk)

    def root_of(pk):
        seen = set()
        while parent.get(pk) is not None and pk not in seen:
            seen.add(pk)
            pk = parent[pk]
        return pk

    tree = {pk for pk in parent if root_of(pk) in roots}
    programmes = list(
        Programme.objects.filter(network_level__in=tree).order_by("pk").values_list("pk", "network_level")
    )
    scopes = []
    for level in sorted(tree):
        scope = frozenset(pk for pk, lv in programmes if lv == level or parent.get(lv) == level)
        if scope and scope not in scopes:
            scopes.append(scope)
    return [pk for pk, _lv in programmes], scopes


def decision(levels, period: ind.Period, filters: ind.Filters | None = None, *, extra_scope=None):
    """The decision for the network trees of ``levels`` (NetworkLevel objects or ids), for a period
    and filters; ``extra_scope`` (programme ids) a network page's own sum when it is not one level's
    (a user at two levels). The figures of every programme of the trees are read at once
    (``indicators.people_counts``): a constant number of queries whatever the number of programmes."""
    from maillage.steering import queries

    filters = filters or ind.Filters()
    pks, scopes = network_tree(levels)
    if extra_scope is not None and frozenset(extra_scope) not in scopes:
        scopes.append(frozenset(extra_scope))
    scope = ind.Scope(tuple(sorted(set(pks).union(*scopes))), period, filters)
    counts = ind.people_counts(scope)
    # The territory diagnosis (unfiltered only): its children are the residence × school counts of
    # ``children_by_qpv``; its referrals a cross-table of their own.
    referrals = {} if filters.any else queries.diagnosis_referrals_by_programme(scope)
    per_programme = {}
    for pk in scope.programme_ids:
        diagnosis = None
        if not filters.any:
            diagnosis = {"diagnosis_children": None, "diagnosis_referrals": referrals[pk]}
        per_programme[pk] = programme_figures(pk, counts[pk], diagnosis)
    return decide(per_programme, scopes)


def states_for(table_states: dict, indicator) -> dict:
    """A decided table's states with a fallback for a row the decision did not see (hidden unless
    zero): never published by mistake."""
    result = dict(table_states)
    for key, value in [(row.key, row.value) for row in indicator.rows] + [("total", indicator.total)]:
        if key not in result:
            result[key] = (
                suppression.PRIMARY
                if suppression.is_small(value)
                else suppression.PUBLISHED
                if not value
                else suppression.COMPLEMENT
            )
    return result
