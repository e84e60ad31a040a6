"""Issue 13, points 1 and 2: the union of everything an aggregate reader is shown gives back no
hidden count.

For a random small population of children followed (counts around the threshold, by residence in
a QPV × school in REP+/REP × sex), each aggregate-only role (steering, manager, DPO, EPS member,
network) reads every steering output it reaches for the programme and the period: the dashboard
(breakdowns with their totals), the territory diagnosis (QPV × REP cross-table with its margins),
the comité PDF (pypdf text), the ANCT workbook (openpyxl), and for the network its dashboard, its
consolidated workbook and the structuring table. Every number read is a linear combination of the
underlying counts (residence × school, and sex: the two partitions of the same children are tied by
their common total). A hidden figure ("< 5" or "s") is recomputable when its vector lies in the span
of the published ones: checked exactly over the rationals (``_rank`` of the hypothesis test of
``protect_table``), on the union of every page, and on the diagnosis table alone with
``recomputable``. Every figure has one state across outputs (the same cell hidden everywhere).
"""

import datetime
import io
import re
from fractions import Fraction

import time_machine
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from openpyxl import load_workbook
from pypdf import PdfReader

from maillage.pathways.models import Pathway
from maillage.people.enums import Sex
from maillage.programmes.enums import Role
from maillage.programmes.models import NetworkLevel
from maillage.steering import suppression as sup
from maillage.territories.enums import PriorityEducation
from tests.factories import ChildFactory, MembershipFactory, SchoolFactory, programme_with_lists
from tests.steering.prepared import prepared
from tests.steering.test_suppression import _rank, recomputable, unneeded_complements

NOW = datetime.datetime(2026, 12, 3, 10, tzinfo=datetime.UTC)
QPV = {"yes": True, "no": False, "unknown": None}
SCHOOLS = ["REP+", "REP", "none", "unknown"]
SEXES = [Sex.GIRL, Sex.BOY]
ROLES = [Role.STEERING, Role.MANAGER, Role.DPO, Role.EPS_MEMBER, Role.NETWORK]
GRID = [(q, s) for q in QPV for s in SCHOOLS]

# The diagnosis's cells and margins over the residence × school atoms (unlocated and unknown count
# as "not": see ``queries.territory_diagnosis``).
_Q = {"yes": ["yes"], "not": ["no", "unknown"], "all": list(QPV)}
_S = {"rep": ["REP+", "REP"], "not": ["none", "unknown"], "all": SCHOOLS}
DIAGNOSIS = {
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
EVERYONE = {("geo", a): 1 for a in GRID}


def vector_of(code: str, key: str) -> dict | None:
    """The figure ``key`` of the table ``code`` as a combination of the atoms; None when the
    figure is not about the children followed (the test population has no other data)."""
    if key == "total" and code in {
        "children_by_qpv",
        "children_by_priority_education",
        "children_by_sex",
        "children_by_age",
        "children_by_school_level",
        "diagnosis_children",
    }:
        return EVERYONE
    if code == "children_by_qpv":
        return {("geo", (key, s)): 1 for s in SCHOOLS}
    if code == "children_by_priority_education":
        return {("geo", (q, key)): 1 for q in QPV}
    if code == "diagnosis_children":
        q, s = DIAGNOSIS[key]
        return {("geo", (a, b)): 1 for a in _Q[q] for b in _S[s]}
    if code == "children_by_sex":
        return {("sex", key): 1}
    if code == "pathway_vs_collective":
        return EVERYONE if key in {"pathway", "total"} else None
    if code == "structuring":
        return EVERYONE
    return None


def hidden_text(text: str) -> bool:
    return text.strip() in {sup.PRIMARY_TEXT, sup.COMPLEMENT_TEXT}


class Reading:
    """Every figure a reader has seen: vector -> set of (source, published value or None)."""

    def __init__(self, truth: dict, ties: list[dict] | None = None):
        """``ties``: equations the reader knows (vectors equal to zero); by default, the two
        partitions of the children of one programme (residence × school, sex) have one total."""
        self.truth = truth
        self.seen: dict[tuple, dict] = {}
        self.complements: set[tuple] = set()  # figures shown "s"
        if ties is None:
            ties = [{**EVERYONE, **{("sex", s): -1 for s in SEXES}}]
        self.ties = ties

    def add(self, source: str, vector: dict | None, text: str):
        if vector is None:
            return
        frozen = tuple(sorted((a, c) for a, c in vector.items()))
        value = None if hidden_text(text) else int(re.sub(r"\D", "", text))
        self.seen.setdefault(frozen, {})[source] = value
        if text.strip() == sup.COMPLEMENT_TEXT:
            self.complements.add(frozen)
        if value is not None:
            assert value == self.value(frozen), (source, frozen, text)

    def value(self, frozen) -> int:
        return sum(self.truth.get(atom, 0) * c for atom, c in frozen)

    def check(self, secrets: list[dict] = ()):
        """Every figure has one state; no hidden one, and no count of ``secrets`` (vectors, e.g.
        the small counts of pages the reader does not see), is a combination of published ones."""
        atoms = sorted(
            {a for f in self.seen for a, _c in f}
            | {a for tie in self.ties for a in tie}
            | {a for vector in secrets for a in vector}
        )
        index = {a: k for k, a in enumerate(atoms)}

        def row(frozen):
            r = [Fraction(0)] * len(atoms)
            for a, c in frozen:
                r[index[a]] += c
            return r

        # The partitions of the same children have the same total (known equations).
        ties = [row(tuple(tie.items())) for tie in self.ties]
        published = ties + [row(f) for f, by in self.seen.items() if all(v is not None for v in by.values())]
        base = _rank(published)
        for f, by in self.seen.items():
            states = {v is None for v in by.values()}
            assert len(states) == 1, f"one figure, two decisions: {f} {by}"
            if states == {True}:
                assert _rank([*published, row(f)]) > base, f"recomputable from the union: {f} {by}"
        for vector in secrets:
            frozen = tuple(sorted(vector.items()))
            if sup.is_small(self.value(frozen)):
                assert _rank([*published, row(frozen)]) > base, f"a small count recomputable: {frozen}"

    def check_minimal(self):
        """Every complement ("s") is needed: publishing it, everything else as shown, would give
        back a small count (a count shown "< 5")."""
        published = [dict(tie) for tie in self.ties] + [
            dict(f) for f, by in self.seen.items() if all(v is not None for v in by.values())
        ]
        small = [dict(f) for f in self.seen if sup.is_small(self.value(f))]
        complements = sorted(self.complements)
        needless = unneeded_complements(published, small, [dict(f) for f in complements])
        assert needless == [], f"hidden for nothing: {needless}"


def read_tables(reading: Reading, source: str, tables):
    for table in tables:
        for cell in [*table.cells, *([table.total] if table.total else [])]:
            reading.add(source, vector_of(table.code, cell.key), cell.text)


def read_workbook(reading: Reading, source: str, content: bytes, labels: dict):
    book = load_workbook(io.BytesIO(content))
    for sheet in book.worksheets:
        for values in sheet.iter_rows(min_row=2, values_only=True):
            if len(values) >= 3 and (values[0], values[1]) in labels:
                reading.add(source, labels[(values[0], values[1])], str(values[2]))


def read_pdf(reading: Reading, source: str, content: bytes, labels: dict):
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    for line in text.replace("\u00a0", " ").splitlines():
        for (_table, label), vector in labels.items():
            if label != "Total" and (match := re.fullmatch(re.escape(label) + r" (< 5|s|\d+)", line.strip())):
                reading.add(source, vector, match.group(1))


populations = st.fixed_dictionaries(
    {atom: st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5, 6, 8]) for atom in GRID}
).filter(lambda counts: sum(counts.values()) > 0)


class LinkedTablesTests(TestCase):
    @settings(
        max_examples=12,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(counts=populations, role=st.sampled_from(ROLES), girls=st.integers(0, 4))
    def test_no_hidden_count_can_be_recomputed_from_every_page_and_export_together(self, counts, role, girls):
        with time_machine.travel(NOW, tick=False):
            self._check(counts, role, girls)

    def _check(self, counts, role, girls):
        level = NetworkLevel.objects.create(name="GIP", kind="intercommunal")
        programme = programme_with_lists(network_level=level)
        schools = {
            "REP+": SchoolFactory(priority_education=PriorityEducation.REP_PLUS),
            "REP": SchoolFactory(priority_education=PriorityEducation.REP),
            "none": SchoolFactory(priority_education=PriorityEducation.NONE),
            "unknown": None,
        }
        truth: dict = {}
        made = 0
        for (qpv, school), n in counts.items():
            truth[("geo", (qpv, school))] = n
            for _ in range(n):
                sex = Sex.GIRL if made < girls else Sex.BOY
                made += 1
                truth[("sex", sex)] = truth.get(("sex", sex), 0) + 1
                child = ChildFactory(
                    programme=programme, sex=sex, in_priority_area=QPV[qpv], school=schools[school]
                )
                Pathway.objects.create(
                    programme=programme,
                    child=child,
                    case_code=f"T-{child.pk}",
                    opened_on=datetime.date(2026, 10, 1),
                )
        self.client.force_login(MembershipFactory(programme=programme, role=role).user)
        reading = Reading(truth)

        dashboard = self.client.get(reverse("steering:dashboard")).context
        tables = dashboard["tables"]
        read_tables(reading, "dashboard", tables.values())
        labels = {
            (t.label, c.label): vector_of(t.code, c.key)
            for t in tables.values()
            for c in [*t.cells, *([t.total] if t.total else [])]
            if vector_of(t.code, c.key) is not None
        }
        diagnosis = self.client.get(reverse("steering:diagnosis")).context["tables"]
        read_tables(reading, "diagnosis", diagnosis)
        children = next(t for t in diagnosis if t.code == "diagnosis_children")
        state = {c.key: c.state for c in children.cells}
        value = {
            c.key: reading.value(tuple(sorted(vector_of("diagnosis_children", c.key).items())))
            for c in children.cells
        }
        assert (
            recomputable(
                sup.ProtectedTable(
                    cells=[[value["qpv_rep"], value["qpv_only"]], [value["rep_only"], value["neither"]]],
                    row_totals=[value["margin:0"], value["margin:1"]],
                    col_totals=[value["margin:2"], value["margin:3"]],
                    total=sum(counts.values()),
                    cell_states=[
                        [state["qpv_rep"], state["qpv_only"]],
                        [state["rep_only"], state["neither"]],
                    ],
                    row_states=[state["margin:0"], state["margin:1"]],
                    col_states=[state["margin:2"], state["margin:3"]],
                    total_state=children.total.state,
                )
            )
            == []
        )
        if role in (Role.STEERING, Role.MANAGER):
            read_pdf(reading, "copil", prepared(self.client, "steering:copil_pdf").content, labels)
            read_workbook(reading, "anct", prepared(self.client, "steering:anct").content, labels)
        if role == Role.NETWORK:
            read_tables(
                reading, "network", self.client.get(reverse("steering:network")).context["tables"].values()
            )
            read_workbook(
                reading, "network_anct", prepared(self.client, "steering:network_anct").content, labels
            )
            for row in self.client.get(reverse("steering:structuring")).context["rows"]:
                reading.add("structuring", vector_of("structuring", ""), str(row["children_text"]))
        reading.check()


@settings(max_examples=300, deadline=None)
@given(counts=populations)
def test_the_shared_decision_leaves_no_hidden_count_solvable_from_the_union_of_its_tables(counts):
    """The same check without pages, on many more populations: every figure ``geography_states``
    decides (dashboard breakdowns, diagnosis cells and margins, the total printed everywhere); and
    no complement is hidden for nothing."""
    from maillage.steering.dashboard import geography_states

    truth = {("geo", atom): n for atom, n in counts.items()}
    reading = Reading(truth)
    for code, states in geography_states(counts).items():
        for key, state in states.items():
            vector = EVERYONE if code == "children" else vector_of(code, key)
            value = reading.value(tuple(sorted(vector.items())))
            text = sup.display(value, state) if state else str(value)
            reading.add(code, vector, text)
            if 0 < value < 5:
                assert state == sup.PRIMARY
    reading.check()
    reading.check_minimal()
