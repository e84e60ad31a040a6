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


def test_the_structuring_table_hides_a_small_programme_and_a_complement_since_the_level_total_is_public():
    protected = sup.protect_series([3, 20, 30])
    assert protected.states == [sup.PRIMARY, sup.COMPLEMENT, sup.PUBLISHED]
