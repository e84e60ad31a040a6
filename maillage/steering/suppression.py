"""Small-cell suppression (*secret statistique*) for every audience that is not the programme's team.

A count from 1 to 4 is never shown (primary suppression: displayed "< 5"). Complementary
suppression then hides enough other cells (shown "s") that no hidden count can be recomputed from
the published cells and totals.

Tables are seen as a bipartite graph: one node per equation (each row, the row of column totals,
each column, the column of row totals), one edge per entry (a cell ``x[i][j]`` joins row ``i`` and
column ``j``; a row total joins row ``i`` and the totals column; a column total joins the totals
row and column ``j``; the grand total joins the two totals nodes). The hidden entries are exactly
determined by the published ones if and only if their edge is a *bridge* of the graph of hidden
edges (the null space of an incidence matrix is its cycle space). So the algorithm hides entries
until no hidden edge is a bridge: each hidden edge lies on a cycle of hidden edges. A bridge is
fixed with the cheapest rectangle through it (lowest sum of the counts newly hidden; zeros and
totals cost more, since a hidden zero protects little and a hidden total hides a lot).

A zero is published: it identifies no one. Zero cells are used as complements only when nothing
else closes the cycle.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import product

THRESHOLD = 5

PUBLISHED = ""
PRIMARY = "primary"  # a count from 1 to THRESHOLD - 1: shown "< 5"
COMPLEMENT = "complement"  # hidden so that a primary cell cannot be recomputed: shown "s"

_ZERO_COST = 10_000

PRIMARY_TEXT = "< 5"
COMPLEMENT_TEXT = "s"


def is_small(value) -> bool:
    return value is not None and 0 < value < THRESHOLD


def display(value, state: str) -> str:
    """The text of a cell: the number, "< 5" or "s"."""
    if state == PRIMARY:
        return PRIMARY_TEXT
    if state == COMPLEMENT:
        return COMPLEMENT_TEXT
    from maillage.steering.formatting import number

    return number(value)


@dataclass
class ProtectedSeries:
    values: list
    total: int
    states: list[str]
    total_state: str


def protect_series(
    values: Sequence[int], total: int | None = None, *, published_elsewhere: frozenset[int] = frozenset()
) -> ProtectedSeries:
    """A one-way breakdown (categories that add up to ``total``, computed when not given).

    The only equation is "the cells add up to the total": a hidden count is recoverable when it is
    the only unknown of it. So when exactly one entry is hidden, hide the smallest other non-zero
    cell (then a zero, then the total). Cells listed in ``published_elsewhere`` (their value is
    printed by another table for the same audience) never serve as complements: hiding them here
    would protect nothing.
    """
    values = list(values)
    total = sum(values) if total is None else total
    states = [PRIMARY if is_small(v) else PUBLISHED for v in values]
    total_state = PRIMARY if is_small(total) else PUBLISHED
    hidden = states.count(PRIMARY) + (total_state != PUBLISHED)
    if hidden == 1:
        candidates = sorted(
            (i for i, s in enumerate(states) if s == PUBLISHED and i not in published_elsewhere),
            key=lambda i: (values[i] == 0, values[i]),
        )
        if candidates:
            states[candidates[0]] = COMPLEMENT
        else:
            total_state = COMPLEMENT
    return ProtectedSeries(values, total, states, total_state)


@dataclass
class ProtectedTable:
    cells: list[list[int]]
    row_totals: list[int]
    col_totals: list[int]
    total: int
    cell_states: list[list[str]]
    row_states: list[str]
    col_states: list[str]
    total_state: str


def _entries(cells, row_totals, col_totals, total):
    """Every entry of the table with margins, keyed by its edge (row node, column node).

    Row nodes: 0..R-1 and R (the totals row); column nodes 0..C-1 and C (the totals column).
    """
    rows, cols = len(cells), len(cells[0]) if cells else 0
    values = {}
    for i, j in product(range(rows), range(cols)):
        values[(i, j)] = cells[i][j]
    for i in range(rows):
        values[(i, cols)] = row_totals[i]
    for j in range(cols):
        values[(rows, j)] = col_totals[j]
    values[(rows, cols)] = total
    return values


def bridges(hidden: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Hidden edges that lie on no cycle of hidden edges: those a reader could recompute."""
    adjacency: dict[tuple[str, int], set[tuple[str, int]]] = {}
    for i, j in hidden:
        adjacency.setdefault(("r", i), set()).add(("c", j))
        adjacency.setdefault(("c", j), set()).add(("r", i))
    found = []
    for i, j in sorted(hidden):
        start, goal = ("r", i), ("c", j)
        seen, stack = {start}, [start]
        reached = False
        while stack and not reached:
            node = stack.pop()
            for other in adjacency[node]:
                if node == start and other == goal:
                    continue  # the edge itself (one edge at most between a row and a column)
                if other == goal:
                    reached = True
                    break
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        if not reached:
            found.append((i, j))
    return found


def _cost(values, edge, rows, cols) -> float:
    value = values[edge]
    cost = _ZERO_COST if value == 0 else value
    if edge[0] == rows or edge[1] == cols:
        cost += 0.5  # a total, on equal counts: hide a cell rather than a margin
    return cost


def protect_table(
    cells: Sequence[Sequence[int]],
    row_totals: Sequence[int] | None = None,
    col_totals: Sequence[int] | None = None,
    total: int | None = None,
    *,
    hidden: frozenset = frozenset(),
) -> ProtectedTable:
    """A two-way table with its margins (computed when not given).

    ``hidden``: entries (``(row, column)``, the margins at index ``rows`` / ``cols``) hidden
    whatever their value, because another table publishing the same figure hides it (one decision
    per figure): they are protected like the small counts."""
    cells = [list(row) for row in cells]
    rows, cols = len(cells), len(cells[0]) if cells else 0
    row_totals = list(row_totals) if row_totals is not None else [sum(row) for row in cells]
    col_totals = (
        list(col_totals)
        if col_totals is not None
        else [sum(cells[i][j] for i in range(rows)) for j in range(cols)]
    )
    total = sum(row_totals) if total is None else total
    values = _entries(cells, row_totals, col_totals, total)
    primary = {edge for edge, value in values.items() if is_small(value)}
    hidden = set(primary) | (set(hidden) & set(values))
    while True:
        open_bridges = bridges(hidden)
        if not open_bridges:
            break
        a, b = open_bridges[0]
        best, best_cost = None, None
        for other_row, other_col in product(range(rows + 1), range(cols + 1)):
            if other_row == a or other_col == b:
                continue
            added = {(a, other_col), (other_row, other_col), (other_row, b)} - hidden
            cost = sum(_cost(values, edge, rows, cols) for edge in added)
            if best_cost is None or cost < best_cost:
                best, best_cost = added, cost
        if best is None:  # a 1 × 1 table: nothing can protect the cell but hiding it all
            hidden |= set(values)
            break
        hidden |= best

    def state(edge):
        if edge in primary:
            return PRIMARY
        return COMPLEMENT if edge in hidden else PUBLISHED

    return ProtectedTable(
        cells=cells,
        row_totals=row_totals,
        col_totals=col_totals,
        total=total,
        cell_states=[[state((i, j)) for j in range(cols)] for i in range(rows)],
        row_states=[state((i, cols)) for i in range(rows)],
        col_states=[state((rows, j)) for j in range(cols)],
        total_state=state((rows, cols)),
    )


# --- linked tables --------------------------------------------------------------------------------


def protect_linked(
    figures: dict,
    values: dict,
    *,
    hidden: frozenset = frozenset(),
    published_elsewhere: frozenset = frozenset(),
) -> dict:
    """One suppression decision for figures published by several linked tables.

    ``figures`` maps a key to its vector (a dict ``atom -> coefficient``) over the underlying
    counts (the atoms: e.g. children by residence × school), ``values`` maps it to its value.
    Figures with the same vector are one figure (the same count printed on two pages): they share
    their state. A count from 1 to 4 is hidden (primary), so is every key of ``hidden``; then, as
    long as a hidden figure is a linear combination of the published ones (a reader solves for
    it), the cheapest published figure used by that combination is hidden too (a complement).
    Figures of ``published_elsewhere`` (printed on pages outside these tables) are never
    complements. Returns ``key -> state``.
    """
    groups: dict[tuple, list] = {}
    for key, vector in figures.items():
        groups.setdefault(tuple(sorted((a, c) for a, c in vector.items() if c)), []).append(key)
    vectors = {g: dict(g) for g in groups}
    value = {g: values[keys[0]] for g, keys in groups.items()}
    fixed = {g for g, keys in groups.items() if set(keys) & published_elsewhere}
    primary = {g for g in groups if is_small(value[g])}
    concealed = primary | {g for g, keys in groups.items() if set(keys) & hidden}

    def cost(g):  # ties broken by the figure itself: the same decision on every run
        return (value[g] == 0, value[g], g)

    while True:
        published = sorted((g for g in groups if g not in concealed), key=lambda g: (g in fixed, cost(g)))
        # An echelon basis of the published figures, cheapest first, each with the published
        # figures it combines (so that a solved hidden figure names the cells it was solved from).
        basis: list[tuple] = []
        for g in published:
            rest, combination = _echelon(basis, vectors[g])
            if rest:
                made_of = {f: -c for f, c in combination.items()}
                made_of[g] = made_of.get(g, 0) + 1
                basis.append((min(rest), rest, made_of))
        leak = None
        for g in sorted(concealed, key=cost):
            rest, combination = _echelon(basis, vectors[g])
            if not rest:
                leak = set(combination)
                break
        if leak is None:
            break
        candidates = sorted((g for g in leak if g not in fixed), key=cost)
        if not candidates:  # nothing but figures printed elsewhere: hide everything linked
            concealed |= set(groups) - fixed
            break
        concealed.add(candidates[0])
    states = {}
    for g, keys in groups.items():
        state = PRIMARY if g in primary else COMPLEMENT if g in concealed else PUBLISHED
        for key in keys:
            states[key] = state
    return states


def _echelon(basis: list[tuple], vector: dict) -> tuple[dict, dict]:
    """``vector`` reduced by an echelon basis; each basis entry is (pivot atom, vector, its
    combination of published figures). Returns the remainder and the combination of published
    figures that was subtracted (when the remainder is empty, ``vector`` equals that combination)."""
    rest = {atom: Fraction(c) for atom, c in vector.items() if c}
    combination: dict = {}
    for pivot, pivot_vector, made_of in basis:
        if rest.get(pivot):
            factor = rest[pivot] / pivot_vector[pivot]
            for atom, c in pivot_vector.items():
                rest[atom] = rest.get(atom, 0) - factor * c
                if not rest[atom]:
                    del rest[atom]
            for figure, c in made_of.items():
                combination[figure] = combination.get(figure, 0) + factor * c
                if not combination[figure]:
                    del combination[figure]
    return rest, combination
