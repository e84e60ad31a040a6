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

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from math import gcd

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
) -> ProtectedTable:
    """A two-way table with its margins (computed when not given)."""
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
    hidden = set(primary)
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

# The cost of hiding a figure, for ``protect_linked``: its count (hiding a big count loses more), a
# zero more (a hidden zero protects little), a headline figure far more (the children followed, the
# children living in a QPV, the totals the ANCT survey asks for): the detailed cells of breakdowns
# are hidden first, a headline figure only when no set of cells protects the small counts.
HEADLINE_COST = 1_000_000


def figure_cost(value, *, headline: bool = False) -> float:
    """The cost of hiding a figure of ``value``: see ``HEADLINE_COST``."""
    cost = _ZERO_COST if not value else float(value)
    return cost + HEADLINE_COST if headline else cost


def protect_linked(
    figures: dict,
    values: dict,
    *,
    hidden: frozenset = frozenset(),
    published_elsewhere: frozenset = frozenset(),
    costs: dict | None = None,
) -> dict:
    """One suppression decision for figures published by several linked tables.

    ``figures`` maps a key to its vector (a dict ``atom -> coefficient``, integers or fractions) over
    the underlying counts (the atoms: e.g. children by residence × school), ``values`` maps it to its
    value. Figures with the same vector are one figure (the same count printed on two pages): they
    share their state. A count from 1 to 4 is hidden (primary), so is every key of ``hidden``: these
    are the *protected* figures, which no reader may solve for. Figures of ``published_elsewhere``
    (printed on pages outside these tables) are published whatever happens. ``costs`` (key -> cost
    of hiding it, ``figure_cost`` by default; a figure printed twice costs its dearest printing).
    Returns ``key -> state``.

    The complements are chosen by cost, exactly: every other figure, dearest first, is published
    unless publishing it (after the ones already published) would let a reader solve for a protected
    figure; then it is hidden (a complement). A reader solves for a figure when its vector is a
    linear combination of the published ones, checked exactly (integer elimination). So a cheap
    cell is hidden rather than a headline figure whenever that suffices, and the result is minimal:
    publishing any single complement would give back a protected figure (it was hidden because of
    one, and everything published since only adds equations). No hidden figure, complement or not,
    is a combination of the published ones: one that became so would have been published for free.
    """
    groups: dict[tuple, list] = {}
    for key, vector in figures.items():
        groups.setdefault(tuple(sorted(((a, c) for a, c in vector.items() if c), key=repr)), []).append(key)
    atoms: dict = {}
    vectors = {g: _integral({atoms.setdefault(a, len(atoms)): c for a, c in g}) for g in groups}
    value = {g: values[keys[0]] for g, keys in groups.items()}
    primary = {g for g in groups if is_small(value[g])}
    protected = primary | {g for g, keys in groups.items() if set(keys) & hidden}
    fixed = [g for g, keys in groups.items() if set(keys) & published_elsewhere and g not in protected]

    def cost(g):
        if costs is None:
            return figure_cost(value[g])
        return max(costs.get(key, figure_cost(value[g])) for key in groups[g])

    order = {g: k for k, g in enumerate(groups)}
    candidates = sorted(
        (g for g in groups if g not in protected and g not in fixed), key=lambda g: (-cost(g), order[g])
    )
    span = _Span(vectors[g] for g in protected)
    for g in fixed:
        span.publish(span.reduce(vectors[g]))
    concealed = set(protected)
    if span.solved:  # printed elsewhere, they give a protected figure back: hide all the rest
        concealed |= set(candidates)
    else:
        for g in candidates:
            rest = span.reduce(vectors[g])
            if rest and span.reveals(rest):
                concealed.add(g)
            elif rest:
                span.publish(rest)
    states = {}
    for g, keys in groups.items():
        state = PRIMARY if g in primary else COMPLEMENT if g in concealed else PUBLISHED
        for key in keys:
            states[key] = state
    return states


def _integral(vector: dict) -> dict:
    """A vector with integer coefficients, proportional to ``vector`` (its span is the same)."""
    scale = 1
    for c in vector.values():
        denominator = Fraction(c).denominator
        scale = scale * denominator // gcd(scale, denominator)
    return _normal({a: int(Fraction(c) * scale) for a, c in vector.items()})


def _normal(vector: dict) -> dict:
    """Divided by the gcd of its coefficients, the coefficient of its first atom positive."""
    if not vector:
        return vector
    divisor = 0
    for c in vector.values():
        divisor = gcd(divisor, c)
    if vector[min(vector)] < 0:
        divisor = -divisor
    return {a: c // divisor for a, c in vector.items()} if divisor != 1 else vector


class _Span:
    """The span of the published figures, as an echelon basis (one pivot atom per published row),
    and the *protected* figures reduced by it: a protected figure is solved for when its reduced
    vector is zero, and publishing a figure whose reduced vector is ``r`` solves for every protected
    figure whose reduced vector is proportional to ``r``. Reduction is linear with the span as its
    kernel, so both are exact. Integer, fraction-free elimination."""

    def __init__(self, protected):
        self.rows: dict = {}  # pivot atom -> (rank, row)
        self.pivots: list = []  # rank -> pivot atom
        self.protected = [dict(v) for v in protected]
        self.by_atom: dict = {}  # atom -> indices of the protected vectors holding it
        self.by_direction: dict = {}  # normalised reduced vector -> number of protected ones
        for k, vector in enumerate(self.protected):
            for atom in vector:
                self.by_atom.setdefault(atom, set()).add(k)
            self._count(vector, 1)

    @staticmethod
    def _key(vector: dict) -> tuple:
        return tuple(sorted(vector.items()))

    def _count(self, vector, step):
        key = self._key(vector)
        self.by_direction[key] = self.by_direction.get(key, 0) + step
        if not self.by_direction[key]:
            del self.by_direction[key]

    @property
    def solved(self) -> bool:
        return () in self.by_direction

    def reduce(self, vector: dict) -> dict:
        rest = dict(vector)
        pending = [self.rows[a][0] for a in rest if a in self.rows]
        heapq.heapify(pending)
        while pending:
            atom = self.pivots[heapq.heappop(pending)]
            if atom not in rest:
                continue
            row = self.rows[atom][1]
            rest = _eliminate(rest, row, atom)
            for a in row:
                if a in rest and a in self.rows and a != atom:
                    heapq.heappush(pending, self.rows[a][0])
        return _normal(rest)

    def reveals(self, rest: dict) -> bool:
        """Whether publishing a figure reduced to ``rest`` (non-zero) gives a protected one back."""
        return self._key(rest) in self.by_direction

    def publish(self, rest: dict):
        if not rest:
            return
        atom = min(rest, key=lambda a: (len(self.by_atom.get(a, ())), a))
        self.rows[atom] = (len(self.rows), rest)
        self.pivots.append(atom)
        for k in list(self.by_atom.get(atom, ())):
            old = self.protected[k]
            self._count(old, -1)
            new = _normal(_eliminate(old, rest, atom))
            for a in old.keys() - new.keys():
                self.by_atom[a].discard(k)
            for a in new.keys() - old.keys():
                self.by_atom.setdefault(a, set()).add(k)
            self.protected[k] = new
            self._count(new, 1)


def _eliminate(vector: dict, row: dict, atom) -> dict:
    """``vector`` without ``atom``, by an integer combination with ``row`` (which holds it)."""
    a, b = row[atom], vector[atom]
    result = {x: c * a for x, c in vector.items()}
    for x, c in row.items():
        result[x] = result.get(x, 0) - b * c
        if not result[x]:
            del result[x]
    return result
