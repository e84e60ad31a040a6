"""Indicators as shown: suppressed for every audience that is not the programme's team, with charts.

``present(indicators, suppressed=...)`` turns the computed indicators into display tables. The
coordinator of the programme sees the exact counts; everyone else (steering, manager, DPO, EPS
members, network) sees counts of people from 1 to 4 as "< 5" and the complementary cells as "s";
means and medians computed over fewer than 5 observations are not shown either.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from maillage.steering import formatting, suppression
from maillage.steering.charts import Bar, bar_chart
from maillage.steering.indicators import Indicator


@dataclass
class Cell:
    label: str
    value: object
    text: str
    state: str = suppression.PUBLISHED
    key: str = ""

    @property
    def hidden(self) -> bool:
        return self.state != suppression.PUBLISHED


@dataclass
class Table:
    code: str
    label: str
    definition: str
    unit: str
    cells: list[Cell]
    total: Cell | None
    available: bool = True
    chart: str = ""
    notes: list[str] = field(default_factory=list)

    def text(self, key: str) -> str:
        for cell in self.cells:
            if cell.label == key:
                return cell.text
        raise KeyError(key)

    def cell(self, key: str) -> Cell:
        """The cell of a row key of the indicator (``"total"`` for the total)."""
        if key == "total":
            if self.total is None:
                raise KeyError(key)
            return self.total
        for cell in self.cells:
            if cell.key == key:
                return cell
        raise KeyError(key)


def _format(value, unit: str = "") -> str:
    return formatting.with_unit(value, unit)


def present_one(indicator: Indicator, *, suppressed: bool, linked: dict | None = None) -> Table:
    """One indicator as shown; ``linked`` (row key or ``"total"`` -> state) gives the decisions
    taken jointly with the other tables publishing the same counts (see ``geography_states``)."""
    states = [suppression.PUBLISHED] * len(indicator.rows)
    total_state = suppression.PUBLISHED
    notes = []
    if suppressed and linked is not None:
        states = [linked[row.key] for row in indicator.rows]
        total_state = linked["total"]
    elif suppressed and indicator.people and indicator.available:
        values = [row.value or 0 for row in indicator.rows]
        if indicator.additive:
            # The number of children in a pathway is the total of every breakdown: it is public,
            # so the complement of a small collective-only count is the total, not that cell.
            elsewhere = frozenset({0}) if indicator.code == "pathway_vs_collective" else frozenset()
            protected = suppression.protect_series(values, indicator.total, published_elsewhere=elsewhere)
            states, total_state = protected.states, protected.total_state
        else:
            states = [
                suppression.PRIMARY if suppression.is_small(v) else suppression.PUBLISHED for v in values
            ]
            if suppression.is_small(indicator.total):
                total_state = suppression.PRIMARY
    if (
        suppressed
        and indicator.observations is not None
        and 0 < indicator.observations < suppression.THRESHOLD
    ):
        states = [suppression.PRIMARY] * len(indicator.rows)
        total_state = suppression.PRIMARY
        notes.append(_("n.d. : moins de 5 observations, valeur non diffusée."))
    statistic_withheld = bool(notes)
    cells = []
    for row, state in zip(indicator.rows, states, strict=True):
        if statistic_withheld:
            # A mean or a median over too few cases: not a count, so "< 5" would read as a value.
            cells.append(Cell(row.label, None, _("n.d."), state, row.key))
            continue
        text = suppression.display(row.value, state) if state else _format(row.value, indicator.unit)
        cells.append(Cell(row.label, None if state else row.value, text, state, row.key))
    total = None
    if indicator.total is not None and indicator.additive:
        text = (
            suppression.display(indicator.total, total_state)
            if total_state
            else _format(indicator.total, indicator.unit)
        )
        total = Cell(_("Total"), None if total_state else indicator.total, text, total_state, "total")
    elif indicator.code == "referrals_by_motif" and indicator.total is not None:
        text = suppression.display(indicator.total, total_state) if total_state else _format(indicator.total)
        total = Cell(_("Orientations"), None if total_state else indicator.total, text, total_state, "total")
    table = Table(
        indicator.code,
        indicator.label,
        indicator.definition,
        indicator.unit,
        cells,
        total,
        available=indicator.available,
        notes=notes,
    )
    if (
        indicator.available
        and cells
        and all(isinstance(c.value, int | float) or c.value is None for c in cells)
    ):
        if any(c.value for c in cells) or any(c.hidden for c in cells):
            bars = [Bar(c.label, None if c.hidden else c.value, c.text) for c in cells]
            table.chart = bar_chart(indicator.label, bars, chart_id=f"chart-{indicator.code}")
    return table


def present_cross(
    indicator: Indicator,
    *,
    shape: tuple[int, int],
    margins: list[str],
    suppressed: bool,
    linked: dict | None = None,
) -> Table:
    """A cross-table published as a list: ``indicator.rows`` are its cells in row-major order
    (``shape`` rows × columns) and ``margins`` label its row totals then its column totals, which
    are published too (other pages print them). Two-way complementary suppression
    (``suppression.protect_table``): no hidden cell is the only unknown of a row, a column or the
    table, margins included. ``linked`` (cell key, ``margin:k`` or ``"total"`` -> state) replaces
    the table's own decision by the one shared with the other tables built on the same counts."""
    rows, cols = shape
    values = [row.value or 0 for row in indicator.rows]
    grid = [values[i * cols : (i + 1) * cols] for i in range(rows)]
    protected = suppression.protect_table(grid)
    if suppressed and linked is not None:
        states = [linked[row.key] for row in indicator.rows]
        margin_states = [linked[f"margin:{k}"] for k in range(rows + cols)]
        total_state = linked["total"]
    elif suppressed:
        states = [state for line in protected.cell_states for state in line]
        margin_states = protected.row_states + protected.col_states
        total_state = protected.total_state
    else:
        states = [suppression.PUBLISHED] * len(values)
        margin_states = [suppression.PUBLISHED] * (rows + cols)
        total_state = suppression.PUBLISHED

    def cell(label, value, state, key):
        text = suppression.display(value, state) if state else _format(value)
        return Cell(label, None if state else value, text, state, key)

    cells = [
        cell(row.label, v, st, row.key) for row, v, st in zip(indicator.rows, values, states, strict=True)
    ]
    margin_values = protected.row_totals + protected.col_totals
    cells += [
        cell(label, value, state, f"margin:{k}")
        for k, (label, value, state) in enumerate(zip(margins, margin_values, margin_states, strict=True))
    ]
    total = cell(_("Total"), protected.total, total_state, "total")
    return Table(
        indicator.code,
        indicator.label,
        indicator.definition,
        indicator.unit,
        cells,
        total,
        indicator.available,
    )


_QPV = {"yes": ["yes"], "not": ["no", "unknown"], "all": ["yes", "no", "unknown"]}
_SCHOOL = {"rep": ["REP+", "REP"], "not": ["none", "unknown"], "all": ["REP+", "REP", "none", "unknown"]}
# The territory diagnosis's cross-table of children (``queries.territory_diagnosis``): residence in
# a QPV or not (unlocated counts as not) × school REP/REP+ or not (unknown counts as not), in the
# order of its cells then of its margins (rows, then columns).
DIAGNOSIS_CELLS = {
    "qpv_rep": ("yes", "rep"),
    "qpv_only": ("yes", "not"),
    "rep_only": ("not", "rep"),
    "neither": ("not", "not"),
    "margin:0": ("yes", "all"),
    "margin:1": ("not", "all"),
    "margin:2": ("all", "rep"),
    "margin:3": ("all", "not"),
    "total": ("all", "all"),
}


def geography_states(joint: dict) -> dict[str, dict[str, str]]:
    """One suppression decision for every table built on the children by residence × school
    (``joint``, from ``indicators.priority_geography``): the dashboard's breakdown by QPV and by
    priority education (also in the comité PDF, the ANCT workbooks and the network page) and the
    territory diagnosis's cross-table with its margins. A reader holding all of them solves no
    hidden count (``suppression.protect_linked``); the number of children followed is printed on
    every page, so it is never a complement, and the children living in a QPV are a headline figure,
    hidden only when no set of cells protects the small counts. Returns ``indicator code -> key -> state``."""
    figures: dict = {}
    for qpv in ["yes", "no", "unknown"]:
        figures[("children_by_qpv", qpv)] = {(qpv, s): 1 for s in _SCHOOL["all"]}
    for school in _SCHOOL["all"]:
        figures[("children_by_priority_education", school)] = {(q, school): 1 for q in _QPV["all"]}
    for key, (qpv, school) in DIAGNOSIS_CELLS.items():
        figures[("diagnosis_children", key)] = {(q, s): 1 for q in _QPV[qpv] for s in _SCHOOL[school]}
    everyone = {(q, s): 1 for q in _QPV["all"] for s in _SCHOOL["all"]}
    for code in ["children_by_qpv", "children_by_priority_education", "children"]:
        figures[(code, "total")] = everyone
    values = {
        key: sum(joint.get(atom, 0) * c for atom, c in vector.items()) for key, vector in figures.items()
    }
    from maillage.steering.levels import headline

    costs = {key: suppression.figure_cost(values[key], headline=headline(*key)) for key in figures}
    states = suppression.protect_linked(
        figures, values, published_elsewhere=frozenset({("children", "total")}), costs=costs
    )
    result: dict[str, dict[str, str]] = {}
    for (code, key), state in states.items():
        result.setdefault(code, {})[key] = state
    return result


def cross_states(indicator: Indicator) -> dict[str, str]:
    """The decisions for a 2 × 2 cross-table published as ``present_cross`` does (cells in
    row-major order, then row margins, then column margins) whose grand total is printed elsewhere
    (the referrals received, the children followed): never a complement."""
    keys = [row.key for row in indicator.rows]
    figures = {key: {key: 1} for key in keys}
    for k, members in enumerate([keys[0:2], keys[2:4], keys[0::2], keys[1::2]]):
        figures[f"margin:{k}"] = dict.fromkeys(members, 1)
    figures["total"] = dict.fromkeys(keys, 1)
    values = {row.key: row.value or 0 for row in indicator.rows}
    values.update({k: sum(values[a] for a in v) for k, v in figures.items() if k not in values})
    return suppression.protect_linked(figures, values, published_elsewhere=frozenset({"total"}))


def present(indicators, *, suppressed: bool, decided: dict | None = None) -> dict[str, Table]:
    """The display tables. ``decided`` (indicator code -> key -> state): the decision shared with the
    other level of a network (``maillage.steering.levels``), which replaces each table's own."""
    linked = {}
    qpv = indicators.get("children_by_qpv")
    if suppressed and qpv is not None and qpv.joint is not None:
        linked = geography_states(qpv.joint)
    if suppressed and decided is not None:
        from maillage.steering.levels import states_for

        for code, states in decided.items():
            if code in indicators:
                linked[code] = states_for(states, indicators[code])
    tables = {
        code: present_one(indicator, suppressed=suppressed, linked=linked.get(code))
        for code, indicator in indicators.items()
    }
    beneficiaries, cost = tables.get("pathway_vs_collective"), tables.get("cost_per_child")
    if suppressed and beneficiaries and cost and beneficiaries.total and beneficiaries.total.hidden:
        # The cost per child divides the funding (public) by the hidden total: it would give it back.
        for cell in [*cost.cells, *([cost.total] if cost.total else [])]:
            cell.value, cell.text, cell.state = None, "s", suppression.COMPLEMENT
        cost.chart = ""
        cost.notes.append(
            _("Masqué : le nombre d'enfants bénéficiaires est couvert par le secret statistique.")
        )
    return tables


def key_figures(tables: dict[str, Table]) -> list[tuple[str, str, str]]:
    """(label, text, definition) of the headline figures."""
    result = []
    pvc = tables["pathway_vs_collective"]
    result.append((pvc.cells[0].label, pvc.cells[0].text, pvc.definition))
    if len(pvc.cells) > 1:
        result.append((pvc.cells[1].label, pvc.cells[1].text, pvc.definition))
    referrals = tables["referrals_by_referrer"]
    if referrals.total:
        result.append((_("Orientations reçues"), referrals.total.text, referrals.definition))
    delay = tables["referral_to_eps_delay"]
    result.append((_("Délai moyen orientation → EPS (jours)"), delay.cells[0].text, delay.definition))
    meetings = tables["meetings_held"]
    if meetings.total:
        result.append((_("Réunions tenues"), meetings.total.text, meetings.definition))
    cost = tables["cost_per_child"]
    result.append((cost.label, cost.cells[0].text, cost.definition))
    return result
