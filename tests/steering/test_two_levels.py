"""Issue 13, points 1 and 2 across levels: a network and its programmes take one suppression decision.

A network user who is also a member (steering, manager…) of one programme of the level reads the
level's sums (network dashboard, consolidated ANCT workbook, structuring table and its export) and
that programme's figures (dashboard, territory diagnosis, comité PDF, ANCT workbook). Subtracting
one from the other must give back no hidden count, of that programme or of another one. The
populations are children followed in several programmes of one level, by residence in a QPV ×
school in REP+/REP × sex; every number read is a vector over those counts and the equation-solving
``Reading`` of ``test_linked_suppression`` checks that no small count (1 to 4), anywhere, is a
combination of the published ones.

Page-free first (``levels.decide``, many populations), then a page-level example with one user
holding both roles.
"""

import datetime
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from openpyxl import load_workbook

from maillage.pathways.models import Pathway
from maillage.people.enums import Sex
from maillage.programmes.enums import Role
from maillage.programmes.models import NetworkLevel
from maillage.steering import levels
from maillage.steering import suppression as sup
from maillage.steering.indicators import SCHOOL_STAGES, Indicator, Row
from maillage.territories.enums import PriorityEducation
from maillage.www.context import SESSION_KEY
from tests.factories import ChildFactory, MembershipFactory, SchoolFactory, programme_with_lists
from tests.steering.prepared import prepared
from tests.steering.test_linked_suppression import (
    _Q,
    _S,
    DIAGNOSIS,
    GRID,
    QPV,
    SCHOOLS,
    Reading,
    read_pdf,
    read_workbook,
)
from tests.steering.test_suppression import recomputable

NOW = datetime.datetime(2026, 12, 3, 10, tzinfo=datetime.UTC)
SEXES = [Sex.GIRL.value, Sex.BOY.value]
BANDS = {
    "children_by_age": (["2-5", "6-10", "11-16", "17+"], "6-10"),  # "0-1" is not printed when zero
    "children_by_school_level": ([k for k, _l, _v in SCHOOL_STAGES], "elementaire"),
}


def everyone(p) -> dict:
    return {("geo", p, q, s): 1 for q, s in GRID}


def vector(code: str, key: str, p) -> dict | None:
    """The figure ``key`` of the table ``code`` of programme ``p``, over the test's own atoms (not the
    implementation's); None for figures not about the children followed."""
    if code == "structuring" or (key == "total" and code.startswith("children_by")):
        return everyone(p)
    if code == "children_by_qpv":
        return {("geo", p, key, s): 1 for s in SCHOOLS}
    if code == "children_by_priority_education":
        return {("geo", p, q, key): 1 for q in QPV}
    if code == "children_by_sex":
        return {("sex", p, key): 1}
    if code in BANDS:  # every child of the factory is 9, in CE2: one band holds them all
        keys, full = BANDS[code]
        if key == full:
            return {**everyone(p), **{(code, p, k): -1 for k in keys if k != full}}
        return {(code, p, key): 1}
    if code == "diagnosis_children":
        q, s = DIAGNOSIS[key]
        return {("geo", p, a, b): 1 for a in _Q[q] for b in _S[s]}
    if code == "pathway_vs_collective":
        if key == "collective":
            return {("collective", p): 1}
        return {**everyone(p), **({("collective", p): 1} if key == "total" else {})}
    return None


def summed(code: str, key: str, programmes) -> dict | None:
    total: dict = {}
    for p in programmes:
        v = vector(code, key, p)
        if v is None:
            return None
        for a, c in v.items():
            total[a] = total.get(a, 0) + c
    return total


def ties(programmes) -> list[dict]:
    """Per programme, the children by sex and by residence × school are the same children."""
    return [{**everyone(p), **{("sex", p, s): -1 for s in SEXES}} for p in programmes]


def truth_of(populations) -> dict:
    truth = {}
    for p, (geo, girls) in enumerate(populations):
        total = sum(geo.values())
        girls = min(girls, total)
        for (q, s), n in geo.items():
            truth[("geo", p, q, s)] = n
        truth[("sex", p, Sex.GIRL.value)] = girls
        truth[("sex", p, Sex.BOY.value)] = total - girls
    return truth


def secrets(programmes, codes_keys) -> list[dict]:
    """Every count of every programme and of the level (the reader must solve none of the small ones)."""
    found = []
    for code, key in codes_keys:
        for p in programmes:
            found.append(vector(code, key, p))
        if not code.startswith("diagnosis"):
            found.append(summed(code, key, programmes))
    return [v for v in found if v]


CODES_KEYS = (
    [("children_by_qpv", q) for q in QPV]
    + [("children_by_priority_education", s) for s in SCHOOLS]
    + [("children_by_sex", s) for s in SEXES]
    + [("diagnosis_children", k) for k in DIAGNOSIS]
    + [("structuring", "children")]
)


# --- the decision, page-free ----------------------------------------------------------------------


def indicators_of(geo: dict, girls: int) -> tuple[dict, dict]:
    """What ``indicators.compute`` and the territory diagnosis give for such a programme."""
    total = sum(geo.values())
    girls = min(girls, total)
    by_qpv = [Row(q, q, sum(geo[(q, s)] for s in SCHOOLS)) for q in QPV]
    by_school = [Row(s, s, sum(geo[(q, s)] for q in QPV)) for s in SCHOOLS]
    computed = {
        "pathway_vs_collective": Indicator(
            "pathway_vs_collective",
            "",
            "",
            [Row("pathway", "", total), Row("collective", "", 0)],
            total=total,
        ),
        "children_by_sex": Indicator(
            "children_by_sex", "", "", [Row("F", "", girls), Row("M", "", total - girls)], total=total
        ),
        "children_by_qpv": Indicator("children_by_qpv", "", "", by_qpv, total=total, joint=dict(geo)),
        "children_by_priority_education": Indicator(
            "children_by_priority_education", "", "", by_school, total=total
        ),
    }
    diagnosis = {"diagnosis_children": Indicator("diagnosis_children", "", "", [])}
    return computed, diagnosis


def published_text(value: int, state: str) -> str:
    return sup.display(value, state) if state else str(value)


populations = st.lists(
    st.tuples(
        st.fixed_dictionaries({atom: st.sampled_from([0, 0, 0, 0, 1, 2, 3, 4, 5, 7]) for atom in GRID}),
        st.integers(0, 9),
    ),
    min_size=2,
    max_size=3,
)


def _decide(pops):
    per_programme = {
        p: levels.programme_figures(p, *indicators_of(geo, girls)) for p, (geo, girls) in enumerate(pops)
    }
    scope = frozenset(range(len(pops)))
    return levels.decide(per_programme, [scope]), scope


def _read(reading: Reading, decision, scope, readable):
    """What a reader of the programmes ``readable`` and of the network pages is shown."""
    for code, key in CODES_KEYS:
        for p in readable:
            if code == "structuring":
                continue
            v = vector(code, key, p)
            value = reading.value(tuple(sorted(v.items())))
            reading.add(f"dashboard {p}", v, published_text(value, decision.programmes[p][code][key]))
        if code == "structuring":
            for p in scope:
                v = everyone(p)
                value = reading.value(tuple(sorted(v.items())))
                reading.add("structuring", v, published_text(value, decision.children[p]))
        elif not code.startswith("diagnosis"):
            v = summed(code, key, scope)
            value = reading.value(tuple(sorted(v.items())))
            reading.add("network", v, published_text(value, decision.networks[scope][code][key]))
    beneficiaries = [("pathway_vs_collective", "collective"), ("pathway_vs_collective", "total")]
    for p in readable:  # the totals, printed with each breakdown, and the collective-only ones
        for code, key in [("children_by_qpv", "total"), ("children_by_sex", "total"), *beneficiaries]:
            v = vector(code, key, p)
            value = reading.value(tuple(sorted(v.items())))
            reading.add(f"dashboard {p}", v, published_text(value, decision.programmes[p][code][key]))
    for code, key in [("children_by_sex", "total"), *beneficiaries]:
        v = summed(code, key, scope)
        value = reading.value(tuple(sorted(v.items())))
        reading.add("network", v, published_text(value, decision.networks[scope][code][key]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pops=populations)
def test_a_reader_of_the_network_and_of_its_programmes_solves_no_small_count(pops):
    decision, scope = _decide(pops)
    truth = truth_of(pops)
    programmes = sorted(scope)
    hidden_anywhere = [secrets(programmes, CODES_KEYS)]
    # The strongest reader reads every programme's pages and the network's; then a network user
    # who is a member of the first programme only (reads less: a subset of the equations).
    for readable in [programmes, programmes[:1]]:
        reading = Reading(truth, ties=ties(readable))
        _read(reading, decision, scope, readable)
        reading.check(secrets=hidden_anywhere[0])
        if readable == programmes:  # the strongest reader: every complement is needed
            reading.check_minimal()


def _cross_table(decision, scope, code, keys) -> sup.ProtectedTable:
    """The programmes × categories table of ``code`` as the two levels print it (cells and row
    margins on the programme dashboards, column margins and grand total on the network page)."""
    programmes = sorted(scope)
    return sup.ProtectedTable(
        cells=[[0] * len(keys) for _p in programmes],
        row_totals=[0] * len(programmes),
        col_totals=[0] * len(keys),
        total=0,
        cell_states=[[decision.programmes[p][code][k] for k in keys] for p in programmes],
        row_states=[decision.programmes[p][code]["total"] for p in programmes],
        col_states=[decision.networks[scope][code][k] for k in keys],
        total_state=decision.networks[scope][code]["total"],
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pops=populations)
def test_each_cross_table_of_programmes_by_category_is_protected_both_ways_with_its_margins(pops):
    """Point 2: the structuring table's children per programme are the row margins of the
    programmes × sex (× residence, × school) tables, whose column margins the network prints: no
    hidden entry is the only unknown of a row, a column or the margins."""
    decision, scope = _decide(pops)
    for code, keys in [
        ("children_by_sex", SEXES),
        ("children_by_qpv", list(QPV)),
        ("children_by_priority_education", SCHOOLS),
    ]:
        table = _cross_table(decision, scope, code, keys)
        for p, state in zip(sorted(scope), table.row_states, strict=True):
            assert state == decision.children[p], "the structuring table and the dashboard disagree"
        assert recomputable(table) == []
        for i, row in enumerate(table.cell_states):
            assert sum(1 for s in row if s) + bool(table.row_states[i]) != 1
        for j in range(len(keys)):
            column = sum(1 for i in range(len(table.cell_states)) if table.cell_states[i][j])
            assert column + bool(table.col_states[j]) != 1
        for p in sorted(scope):
            if sup.is_small(sum(pops[p][0].values())):
                assert decision.children[p] == sup.PRIMARY


# Three programmes of one level, 3, 10 and 11 children (residence × school: count; girls).
THREE_PROGRAMMES = [
    ({("yes", "REP"): 2, ("no", "none"): 1}, 2),
    ({("yes", "REP+"): 5, ("no", "none"): 5}, 5),
    ({("yes", "REP"): 1, ("no", "none"): 6, ("unknown", "unknown"): 4}, 1),
]


def test_one_small_programme_hides_a_second_total_on_the_structuring_table_and_on_its_dashboard():
    """3 children in one programme, the level's total published: a second programme's total is
    hidden, on the structuring table and on that programme's own dashboard alike."""
    pops = [({a: geo.get(a, 0) for a in GRID}, girls) for geo, girls in THREE_PROGRAMMES]
    decision, scope = _decide(pops)
    assert decision.children[0] == sup.PRIMARY
    hidden = [p for p in (1, 2) if decision.children[p]]
    assert len(hidden) == 1
    for p in (1, 2):
        assert decision.programmes[p]["pathway_vs_collective"]["pathway"] == decision.children[p]
        assert decision.programmes[p]["children_by_sex"]["total"] == decision.children[p]
    # Two ways: the small programme's girls and boys are protected by other programmes' cells of
    # their columns, so the level's breakdown by sex stays published (a one-way decision per level
    # hides the level's own cells instead).
    assert decision.networks[scope]["children_by_sex"] == {"F": "", "M": "", "total": ""}
    assert decision.networks[scope]["pathway_vs_collective"]["pathway"] == ""


# --- pages: one user, both roles ------------------------------------------------------------------


class TwoRolesPagesTests(TestCase):
    """Three programmes of one level: 3, 10 and 11 children; a user is a network user of the level
    and a steering member of the second and third programmes. Before the shared decision, the
    structuring table hid the first (< 5) and the second (s, the smallest other), the second's
    dashboard printed its 10 and the network its 24: 24 − 10 − 11 = 3. Now one decision hides the
    first and one other total on every page that prints them."""

    POPULATIONS = THREE_PROGRAMMES

    def test_no_number_published_to_a_network_user_who_is_a_member_of_a_programme_gives_back_a_small_count(
        self,
    ):
        with time_machine.travel(NOW, tick=False):
            self._check()

    def _check(self):
        level = NetworkLevel.objects.create(name="GIP", kind="intercommunal")
        schools = {
            "REP+": SchoolFactory(priority_education=PriorityEducation.REP_PLUS),
            "REP": SchoolFactory(priority_education=PriorityEducation.REP),
            "none": SchoolFactory(priority_education=PriorityEducation.NONE),
            "unknown": None,
        }
        programmes, truth = [], {}
        for p, (geo, girls) in enumerate(self.POPULATIONS):
            programme = programme_with_lists(network_level=level, name=f"PRE {p}")
            programmes.append(programme)
            made = 0
            for (qpv, school), n in geo.items():
                for _ in range(n):
                    sex = Sex.GIRL if made < girls else Sex.BOY
                    made += 1
                    child = ChildFactory(
                        programme=programme, sex=sex, in_priority_area=QPV[qpv], school=schools[school]
                    )
                    Pathway.objects.create(
                        programme=programme,
                        child=child,
                        case_code=f"T-{child.pk}",
                        opened_on=datetime.date(2026, 10, 1),
                    )
        truth = truth_of([({a: g.get(a, 0) for a in GRID}, girls) for g, girls in self.POPULATIONS])
        index = {programme.pk: p for p, programme in enumerate(programmes)}
        first = MembershipFactory(programme=programmes[1], role=Role.STEERING)
        user = first.user
        second = MembershipFactory(programme=programmes[2], role=Role.STEERING, user=user)
        MembershipFactory(programme=programmes[0], role=Role.NETWORK, user=user)
        self.client.force_login(user)
        everybody = list(range(len(programmes)))
        reading = Reading(truth, ties=ties([1, 2]))

        def labels_of(tables, programmes_read):
            return {
                (t.label, c.label): summed(t.code, c.key, programmes_read)
                for t in tables
                for c in [*t.cells, *([t.total] if t.total else [])]
                if summed(t.code, c.key, programmes_read)
            }

        def read(source, tables, programmes_read):
            for table in tables:
                for cell in [*table.cells, *([table.total] if table.total else [])]:
                    reading.add(source, summed(table.code, cell.key, programmes_read), cell.text)

        for membership, p in [(first, 1), (second, 2)]:  # each programme's pages, as the switcher does
            session = self.client.session
            session[SESSION_KEY] = membership.pk
            session.save()
            dashboard = self.client.get(reverse("steering:dashboard")).context["tables"]
            read(f"dashboard {p}", dashboard.values(), [p])
            read(f"diagnosis {p}", self.client.get(reverse("steering:diagnosis")).context["tables"], [p])
            mine = labels_of(dashboard.values(), [p])
            read_pdf(reading, f"copil {p}", prepared(self.client, "steering:copil_pdf").content, mine)
            read_workbook(reading, f"anct {p}", prepared(self.client, "steering:anct").content, mine)
            assert self.client.get(reverse("steering:budget")).status_code == 200  # no count of children
        network = self.client.get(reverse("steering:network")).context["tables"]
        read("network", network.values(), everybody)
        theirs = labels_of(network.values(), everybody)
        read_workbook(reading, "network_anct", prepared(self.client, "steering:network_anct").content, theirs)
        for row in self.client.get(reverse("steering:structuring")).context["rows"]:
            reading.add("structuring", everyone(index[row["programme"].pk]), str(row["children_text"]))
        book = load_workbook(io.BytesIO(prepared(self.client, "steering:structuring_export").content))
        for values in book.active.iter_rows(min_row=2, values_only=True):
            p = next(index[pr.pk] for pr in programmes if pr.name == values[0])
            reading.add("structuring export", everyone(p), str(values[-1]))
        reading.check(secrets=secrets(everybody, CODES_KEYS))
        # The example is the one of the docstring: the small programme is hidden, and so is a second
        # total, on every page that prints it.
        structuring = {
            index[r["programme"].pk]: r["children_text"]
            for r in self.client.get(reverse("steering:structuring")).context["rows"]
        }
        assert structuring[0] == "< 5"
        assert list(structuring.values()).count("s") == 1


# --- cost: the decision reads every programme of the tree at once ---------------------------------


@pytest.mark.django_db
def test_a_programme_page_takes_as_many_queries_with_ten_programmes_on_its_level_as_with_three(client):
    """Each steering page in a network decides with every programme of the tree: their figures are
    read in one query per population for all of them (``indicators.people_counts``), so the
    dashboard and the network page take as many queries with 10 programmes as with 3."""
    level = NetworkLevel.objects.create(name="GIP", kind="intercommunal")
    school = SchoolFactory(priority_education=PriorityEducation.REP)

    def add_programme(n):
        programme = programme_with_lists(network_level=level, name=f"PRE {n}")
        for k in range(n % 4 + 1):
            child = ChildFactory(programme=programme, sex=SEXES[k % 2], in_priority_area=True, school=school)
            Pathway.objects.create(
                programme=programme,
                child=child,
                case_code=f"Q-{child.pk}",
                opened_on=datetime.date(2026, 10, 1),
            )
        return programme

    programmes = [add_programme(n) for n in range(3)]
    membership = MembershipFactory(programme=programmes[0], role=Role.STEERING)
    MembershipFactory(programme=programmes[0], role=Role.NETWORK, user=membership.user)
    client.force_login(membership.user)
    session = client.session
    session[SESSION_KEY] = membership.pk
    session.save()

    def queries(name):
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(name)).status_code == 200
        return len(captured.captured_queries)

    names = ["steering:dashboard", "steering:network"]
    for name in names:  # the first request fills caches (the session's programme…)
        queries(name)
    three = {name: queries(name) for name in names}
    programmes += [add_programme(n) for n in range(3, 10)]
    ten = {name: queries(name) for name in three}
    print(f"queries with 3 programmes: {three}, with 10: {ten}")
    assert ten == three
