"""Small-cell suppression: no hidden count under 5 can be recomputed from what is published."""

from fractions import Fraction
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from maillage.steering import suppression as sup


def _rank(rows: list[list[Fraction]]) -> int:
    matrix = [row[:] for row in rows]
    rank, cols = 0, len(matrix[0]) if matrix else 0
    for col in range(cols):
        pivot = next((r for r in range(rank, len(matrix)) if matrix[r][col] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for r in range(len(matrix)):
            if r != rank and matrix[r][col] != 0:
                factor = matrix[r][col] / matrix[rank][col]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[rank], strict=True)]
        rank += 1
    return rank


def recomputable(table: sup.ProtectedTable) -> list[tuple[int, int]]:
    """Hidden entries a reader can solve for, by linear algebra on the table's equations
    (independent of the algorithm's graph reasoning): entry k is determined iff adding the unit
    vector e_k to the equations restricted to hidden entries does not raise their rank."""
    rows, cols = len(table.cells), len(table.cells[0])
    states = {}
    for i, j in product(range(rows), range(cols)):
        states[(i, j)] = table.cell_states[i][j]
    for i in range(rows):
        states[(i, cols)] = table.row_states[i]
    for j in range(cols):
        states[(rows, j)] = table.col_states[j]
    states[(rows, cols)] = table.total_state
    hidden = [edge for edge, state in states.items() if state]
    if not hidden:
        return []
    index = {edge: k for k, edge in enumerate(hidden)}
    equations = []
    for i in range(rows + 1):  # row i: cells of the row minus the row's total
        eq = [Fraction(0)] * len(hidden)
        for j in range(cols):
            if (i, j) in index:
                eq[index[(i, j)]] += 1
        if (i, cols) in index:
            eq[index[(i, cols)]] -= 1
        equations.append(eq)
    for j in range(cols + 1):
        eq = [Fraction(0)] * len(hidden)
        for i in range(rows):
            if (i, j) in index:
                eq[index[(i, j)]] += 1
        if (rows, j) in index:
            eq[index[(rows, j)]] -= 1
        equations.append(eq)
    base = _rank(equations)
    found = []
    for edge, k in index.items():
        unit = [Fraction(0)] * len(hidden)
        unit[k] = Fraction(1)
        if _rank([*equations, unit]) == base:
            found.append(edge)
    return found


counts = st.integers(min_value=0, max_value=30) | st.integers(min_value=0, max_value=6)
tables = st.integers(min_value=1, max_value=4).flatmap(
    lambda r: st.integers(min_value=1, max_value=4).flatmap(
        lambda c: st.lists(st.lists(counts, min_size=c, max_size=c), min_size=r, max_size=r)
    )
)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_hidden_cell_of_a_random_table_can_be_recomputed_from_published_cells_and_totals(cells):
    table = sup.protect_table(cells)
    for i, row in enumerate(cells):
        for j, value in enumerate(row):
            if 0 < value < 5:
                assert table.cell_states[i][j] == sup.PRIMARY
    assert recomputable(table) == []


@settings(max_examples=300, deadline=None)
@given(tables)
def test_every_line_with_a_hidden_entry_has_a_second_one(cells):
    """The brief's criterion: a row or column with a hidden cell has another one, or a hidden margin."""
    table = sup.protect_table(cells)
    rows, cols = len(cells), len(cells[0])
    for i in range(rows):
        hidden = sum(1 for s in table.cell_states[i] if s) + bool(table.row_states[i])
        assert hidden != 1
    for j in range(cols):
        hidden = sum(1 for i in range(rows) if table.cell_states[i][j]) + bool(table.col_states[j])
        assert hidden != 1


@settings(max_examples=300, deadline=None)
@given(st.lists(counts, min_size=1, max_size=8))
def test_a_one_way_breakdown_never_leaves_a_single_unknown(values):
    protected = sup.protect_series(values)
    hidden = sum(1 for s in protected.states if s) + bool(protected.total_state)
    assert hidden != 1
    for value, state in zip(values, protected.states, strict=True):
        if 0 < value < 5:
            assert state == sup.PRIMARY


def test_a_single_small_cell_is_shown_below_five_and_its_smallest_neighbour_is_masked():
    protected = sup.protect_series([3, 12, 40])
    assert [sup.display(v, s) for v, s in zip(protected.values, protected.states, strict=True)] == [
        "< 5",
        "s",
        "40",
    ]
    assert protected.total_state == sup.PUBLISHED


def test_zero_is_published_and_a_table_without_small_cells_is_untouched():
    protected = sup.protect_table([[0, 7], [9, 12]])
    assert protected.cell_states == [["", ""], ["", ""]]


def test_a_small_collective_only_count_is_protected_by_hiding_the_total_not_the_public_pathway_count():
    from maillage.steering.dashboard import present
    from maillage.steering.indicators import Indicator, Row

    indicators = {
        "pathway_vs_collective": Indicator(
            "pathway_vs_collective", "B", "", [Row("pathway", "P", 30), Row("collective", "C", 3)], total=33
        ),
        "cost_per_child": Indicator(
            "cost_per_child", "Coût", "", [Row("cost", "Coût", 2727)], total=2727, people=False
        ),
    }
    tables = present(indicators, suppressed=True)
    beneficiaries = tables["pathway_vs_collective"]
    assert [c.text for c in beneficiaries.cells] == ["30", "< 5"]
    assert beneficiaries.total.text == "s"
    assert tables["cost_per_child"].cells[0].text == "s"


def _programme_with(children: int) -> dict:
    """A programme's indicators: ``children`` children followed, all in a QPV and a REP school."""
    from maillage.steering.indicators import Indicator, Row

    qpv = Indicator(
        "children_by_qpv",
        "",
        "",
        [Row("yes", "", children), Row("no", "", 0), Row("unknown", "", 0)],
        total=children,
        joint={("yes", "REP"): children},
    )
    return {"children_by_qpv": qpv}


def test_the_structuring_table_hides_a_small_programme_and_the_cheapest_other_total_with_the_level():
    """The structuring table prints the children followed per programme and the network page their
    sum: one decision for both levels (``levels.decide``). 3 children in one programme: hidden
    ("< 5"), and so is the smallest other total (20, "s"); the level's total and the 30 stay."""
    from maillage.steering import levels

    per_programme = {
        pk: levels.programme_figures(pk, _programme_with(n)) for pk, n in [(1, 3), (2, 20), (3, 30)]
    }
    scope = frozenset(per_programme)
    decision = levels.decide(per_programme, [scope])
    assert decision.children == {1: sup.PRIMARY, 2: sup.COMPLEMENT, 3: sup.PUBLISHED}
    assert decision.networks[scope]["children_by_qpv"]["total"] == sup.PUBLISHED


# --- linked figures: the cheapest complements, and no more ----------------------------------------


class Projection:
    """Reduction modulo the span of published vectors (``atom -> coefficient`` dicts), in reduced
    row echelon form over the rationals: a vector is solvable iff it reduces to zero, and publishing
    ``c`` makes ``h`` solvable iff their reductions are proportional. Independent of the
    implementation's integer elimination."""

    def __init__(self, published):
        self.rows: list[tuple] = []
        for vector in published:
            rest = self.reduce(vector)
            if rest:
                pivot = min(rest, key=repr)
                rest = {a: c / rest[pivot] for a, c in rest.items()}
                self.rows = [(p, _minus(row, rest, row.get(pivot, 0))) for p, row in self.rows]
                self.rows.append((pivot, rest))

    def reduce(self, vector) -> dict:
        rest = {a: Fraction(c) for a, c in dict(vector).items() if c}
        for pivot, row in self.rows:
            if rest.get(pivot):
                rest = _minus(rest, row, rest[pivot])
        return rest


def _minus(vector: dict, row: dict, factor) -> dict:
    result = dict(vector)
    for a, c in row.items():
        result[a] = result.get(a, 0) - factor * c
        if not result[a]:
            del result[a]
    return result


def proportional(a: dict, b: dict) -> bool:
    if not a or a.keys() != b.keys():
        return False
    first = next(iter(a))
    return all(a[x] * b[first] == b[x] * a[first] for x in a)


def unneeded_complements(published, primaries: list, complements: list) -> list:
    """The complements whose publication (everything else as decided) would give back no small
    count: a minimal decision has none."""
    projection = Projection(published)
    reduced = [projection.reduce(p) for p in primaries]
    return [c for c in complements if not any(proportional(projection.reduce(c), r) for r in reduced)]


def check_linked(figures: dict, values: dict, states: dict):
    """No hidden figure is a combination of the published ones (exact ranks), every small count is
    hidden, and every complement is needed."""
    published = [figures[k] for k, s in states.items() if not s]
    hidden = [k for k, s in states.items() if s]
    rows = sorted({a for v in figures.values() for a in v}, key=repr)

    def row(vector):
        return [Fraction(vector.get(a, 0)) for a in rows]

    base = _rank([row(v) for v in published]) if published else 0
    for key in hidden:
        assert _rank([*(row(v) for v in published), row(figures[key])]) > base, f"solvable: {key}"
    for key, value in values.items():
        if 0 < value < 5:
            assert states[key] == sup.PRIMARY
    primaries = [figures[k] for k, s in states.items() if s == sup.PRIMARY]
    complements = [k for k, s in states.items() if s == sup.COMPLEMENT]
    unneeded = unneeded_complements(published, primaries, [figures[k] for k in complements])
    assert unneeded == [], f"hidden for nothing: {[k for k in complements if figures[k] in unneeded]}"


def test_a_complement_is_the_cheapest_cell_but_a_headline_figure_is_hidden_last():
    """3 + 6 + 7 = 16, the total printed elsewhere: the small count's complement is the 6, unless the
    6 is a headline figure (the children living in a QPV, say): then the 7."""
    figures = {"small": {"a": 1}, "six": {"b": 1}, "seven": {"c": 1}, "total": {"a": 1, "b": 1, "c": 1}}
    values = {"small": 3, "six": 6, "seven": 7, "total": 16}
    elsewhere = frozenset({"total"})
    states = sup.protect_linked(figures, values, published_elsewhere=elsewhere)
    assert states == {"small": sup.PRIMARY, "six": sup.COMPLEMENT, "seven": "", "total": ""}
    costs = {"six": sup.figure_cost(6, headline=True)}
    states = sup.protect_linked(figures, values, published_elsewhere=elsewhere, costs=costs)
    assert states == {"small": sup.PRIMARY, "six": "", "seven": sup.COMPLEMENT, "total": ""}
    check_linked(figures, values, states)


def _geography(joint: dict) -> tuple[dict, dict, dict]:
    """The figures ``geography_states`` decides, over the test's own vectors, with their states."""
    from maillage.steering.dashboard import geography_states
    from tests.steering.test_linked_suppression import EVERYONE, vector_of

    figures, values, states = {}, {}, {}
    for code, by_key in geography_states(joint).items():
        for key, state in by_key.items():
            vector = EVERYONE if code == "children" else vector_of(code, key)
            figures[(code, key)] = vector
            values[(code, key)] = sum(joint.get(atom, 0) * c for (_g, atom), c in vector.items())
            states[(code, key)] = state
    return figures, values, states


def test_the_demo_programme_publishes_its_qpv_residents_and_hides_four_cells():
    """The demo programme's children (20: 10 in a QPV, 4 at a school outside priority education, 3
    of them in a QPV): the small counts are protected by the REP cells and one school row, the
    children living in a QPV (10) are published. The previous greedy also hid the QPV rows."""
    joint = {
        ("yes", "REP+"): 2,
        ("yes", "REP"): 5,
        ("yes", "none"): 3,
        ("unknown", "REP+"): 3,
        ("unknown", "REP"): 6,
        ("unknown", "none"): 1,
    }
    figures, values, states = _geography(joint)
    check_linked(figures, values, states)
    assert states[("children_by_qpv", "yes")] == sup.PUBLISHED
    assert {k for k, s in states.items() if s == sup.COMPLEMENT} == {
        ("diagnosis_children", "qpv_rep"),
        ("diagnosis_children", "rep_only"),
        ("diagnosis_children", "margin:2"),
        ("children_by_priority_education", "REP+"),
    }


def test_the_qpv_residents_are_published_when_dearer_cells_protect_the_small_counts():
    """Costs by value alone would hide the 9 children living in a QPV (and three cells); as a
    headline figure they are published, and five cells are hidden instead."""
    joint = {("yes", "REP+"): 6, ("yes", "none"): 3, ("no", "unknown"): 5, ("unknown", "none"): 1}
    joint[("unknown", "unknown")] = 2
    figures, values, states = _geography(joint)
    check_linked(figures, values, states)
    assert states[("children_by_qpv", "yes")] == sup.PUBLISHED
    assert sorted(s for s in states.values() if s).count(sup.COMPLEMENT) == 5


atoms = ["a", "b", "c", "d", "e"]
linked_figures = st.lists(
    st.fixed_dictionaries({a: st.sampled_from([0, 0, 1, 1, -1]) for a in atoms}).map(
        lambda v: {a: c for a, c in v.items() if c}
    ),
    min_size=1,
    max_size=9,
).map(lambda vectors: [v for v in vectors if v])


@settings(max_examples=200, deadline=None)
@given(
    linked_figures,
    st.fixed_dictionaries({a: st.sampled_from([0, 1, 2, 3, 5, 8, 13]) for a in atoms}),
    st.sets(st.integers(0, 8), max_size=2),
    st.sets(st.integers(0, 8), max_size=3),
)
def test_linked_figures_hide_no_solvable_figure_and_no_needless_complement(vectors, truth, elsewhere, dear):
    """Random figures over five counts (any combination, sums and differences): no hidden figure is
    solvable from the published ones, and every complement is needed (publishing it alone would
    give back a small count), whatever the costs."""
    figures = dict(enumerate(vectors))
    values = {k: sum(truth[a] * c for a, c in v.items()) for k, v in figures.items()}
    costs = {k: sup.figure_cost(values[k], headline=True) for k in dear & set(figures)}
    states = sup.protect_linked(figures, values, published_elsewhere=frozenset(elsewhere), costs=costs)
    fixed = Projection([figures[k] for k in elsewhere & set(figures) if not sup.is_small(values[k])])
    if any(not fixed.reduce(figures[k]) for k, s in states.items() if s == sup.PRIMARY):
        return  # the figures printed elsewhere give a small count back by themselves: nothing helps
    check_linked(figures, values, states)
