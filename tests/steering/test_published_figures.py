"""Issue 13 (steering): what an aggregate reader is shown never gives back a withheld figure, bad
parameters never answer 500, one budget year per school year, one formatter, and the network's
consolidated ANCT workbook.

The clock is frozen on 3 December 2026: school year 2026-2027, whose budget is the 2026 one.
"""

import datetime
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from maillage.offers.models import Enrolment, Group, Offer
from maillage.pathways.enums import ActionKind
from maillage.pathways.models import Pathway
from maillage.people.enums import Sex
from maillage.programmes.enums import Role
from maillage.programmes.models import NetworkLevel
from maillage.steering import formatting
from maillage.steering import indicators as ind
from maillage.steering.dashboard import present
from maillage.steering.models import FundingLine, Target
from tests.factories import ChildFactory, MembershipFactory, programme_with_lists
from tests.steering.prepared import prepared

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 3, 10, tzinfo=datetime.UTC)
D = datetime.date
AGGREGATE_ROLES = [Role.STEERING, Role.MANAGER, Role.DPO, Role.EPS_MEMBER, Role.NETWORK]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


OPENED = D(2026, 10, 1)


def _followed(programme, n: int, sex=Sex.BOY, opened=OPENED):
    children = []
    for _ in range(n):
        child = ChildFactory(programme=programme, sex=sex)
        Pathway.objects.create(programme=programme, child=child, case_code=f"T-{child.pk}", opened_on=opened)
        children.append(child)
    return children


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


NUMBER = re.compile(r"(?<![\d,])\d{1,3}(?:[\u00a0\u202f]\d{3})+(?:,\d+)?|\d+(?:,\d+)?")


def page_text(body: str) -> str:
    """The text a reader sees in the page's main content (no markup, no attributes)."""
    main = body[body.index("<main") : body.index("</main>")]
    return re.sub(r"<[^>]*>", " ", main)


def published_numbers(text: str) -> set[Decimal]:
    """Every number a reader sees in a page or a PDF, French formatting undone."""
    found = set()
    for match in NUMBER.findall(text.replace("&nbsp;", "\u00a0").replace("&#x27;", "'")):
        digits = re.sub(r"[\u00a0\u202f]", "", match).replace(",", ".")
        try:
            found.add(Decimal(digits))
        except ArithmeticError:  # pragma: no cover
            continue
    return found


def figures_of(text: str, programme) -> set[Decimal]:
    """The published numbers, less those of generated identifiers (the factory's programme name, e-mail
    addresses), which are not figures and would make the check depend on database ids."""
    text = re.sub(r"\S+@\S+", " ", text.replace(programme.name, " "))
    return published_numbers(text)


def recoverable_counts(numbers: set[Decimal], unit_cost: Decimal) -> set[int]:
    """Counts 1-4 a reader solves for from a unit cost: a published number equal to unit cost × n, or
    the difference of two published numbers (a total minus the published parts) equal to it."""
    found = set()
    values = sorted(numbers)
    for n in range(1, 5):
        target = unit_cost * n
        if target in numbers:
            found.add(n)
        for a in values:
            if a + target in numbers:
                found.add(n)
    return found


# --- point 12: malformed parameters --------------------------------------------------------------

BAD_YEARS = ["0", "-1", "10000", "99999999999999999999999999", "abc", "2026.5", "٢٠٢٦", "1e9"]
BAD_FILTERS = [
    {"year": "0"},
    {"year": "99999999999999999999"},
    {"kind": "zzz", "eps": "abc", "school": "-1", "qpv": "peut-être", "tri": "zzz", "ordre": "x"},
    {"eps": "999999999999999999999", "annee": "0"},
]


@pytest.fixture
def elected(client):
    level = NetworkLevel.objects.create(name="GIP de test", kind="intercommunal")
    programme = programme_with_lists(network_level=level)
    _followed(programme, 6)
    member = MembershipFactory(programme=programme, role=Role.STEERING)
    client.force_login(member.user)
    return programme


@pytest.mark.parametrize("name", ["steering:budget", "steering:objectives"])
@pytest.mark.parametrize("year", BAD_YEARS)
def test_a_bad_year_falls_back_to_the_current_one_with_a_french_message(client, elected, name, year):
    response = client.get(reverse(name), {"annee": year})
    assert response.status_code == 200
    body = response.content.decode()
    assert "n&#x27;est pas valide" in body or "n'est pas valide" in body


@pytest.mark.parametrize(
    "name",
    [
        "steering:dashboard",
        "steering:objectives",
        "steering:budget",
        "steering:copil",
        "steering:copil_pdf",
        "steering:anct",
        "steering:diagnosis",
        "steering:barometer",
    ],
)
@pytest.mark.parametrize("params", BAD_FILTERS, ids=lambda p: "-".join(f"{k}={v[:8]}" for k, v in p.items()))
def test_every_steering_page_survives_bad_filters_as_the_elected_member(client, elected, name, params):
    assert client.get(reverse(name), params).status_code == 200


@pytest.mark.parametrize(
    "name",
    ["steering:network", "steering:structuring", "steering:structuring_export", "steering:network_anct"],
)
@pytest.mark.parametrize("params", BAD_FILTERS, ids=lambda p: "-".join(f"{k}={v[:8]}" for k, v in p.items()))
def test_every_network_page_survives_bad_filters(client, elected, name, params):
    client.force_login(MembershipFactory(programme=elected, role=Role.NETWORK).user)
    assert client.get(reverse(name), params).status_code == 200


# --- point 1: a cost is withheld with its count ---------------------------------------------------

UNIT = Decimal("120")


@pytest.fixture
def small_action():
    """One action of the catalogue, unit cost 120 €, with 3 participants: its cost would be 360 €."""
    programme = programme_with_lists()
    line = FundingLine.objects.create(
        programme=programme, year=2026, source="caf", label="CAF", amount=Decimal("3000")
    )
    FundingLine.objects.create(
        programme=programme, year=2026, source="commune", label="Commune", amount=Decimal("2500")
    )
    offer = Offer.objects.create(
        programme=programme,
        title="Atelier théâtre",
        kind=ActionKind.COLLECTIVE,
        unit_cost=UNIT,
        capacity=12,
        funding_line=line,
    )
    other = Offer.objects.create(
        programme=programme, title="Atelier cirque", kind=ActionKind.COLLECTIVE, unit_cost=Decimal("45")
    )
    group = Group.objects.create(offer=offer, name="Jeudi", starts_on=D(2026, 9, 10), ends_on=D(2026, 12, 20))
    big = Group.objects.create(offer=other, name="Mardi", starts_on=D(2026, 9, 10), ends_on=D(2026, 12, 20))
    for child in _followed(programme, 3):
        Enrolment.objects.create(group=group, child=child)
    for child in _followed(programme, 6, sex=Sex.GIRL):
        Enrolment.objects.create(group=big, child=child)
    return programme


def test_the_coordinator_sees_the_cost_that_the_check_below_would_catch(client, small_action):
    client.force_login(MembershipFactory(programme=small_action, role=Role.COORDINATOR).user)
    body = page_text(client.get(reverse("steering:budget")).content.decode())
    assert 3 in recoverable_counts(figures_of(body, small_action), UNIT)


@pytest.mark.parametrize("role", AGGREGATE_ROLES)
def test_no_number_of_the_budget_page_gives_back_a_withheld_count(client, small_action, role):
    client.force_login(MembershipFactory(programme=small_action, role=role).user)
    response = client.get(reverse("steering:budget"))
    assert response.status_code == 200
    body = page_text(response.content.decode())
    assert "Atelier théâtre" in body and "&lt; 5" in body
    assert recoverable_counts(figures_of(body, small_action), UNIT) == set()
    summary = response.context["summary"]
    assert summary["costs"]["offers_text"] == "s" and summary["costs"]["total_text"] == "s"


@pytest.mark.parametrize("role", [Role.STEERING, Role.MANAGER, Role.COORDINATOR])
def test_no_number_of_the_copil_pdf_gives_back_a_withheld_count(client, small_action, role):
    client.force_login(MembershipFactory(programme=small_action, role=role).user)
    response = prepared(client, "steering:copil_pdf")
    assert response.status_code == 200
    text = _pdf_text(response.content)
    assert "5 500 €" in text.replace("\u00a0", " ")  # the funding of the budget year is there
    assert recoverable_counts(figures_of(text, small_action), UNIT) == set()


# --- point 15: one suppression decision, one formatter -------------------------------------------


def test_a_mean_withheld_from_the_table_is_withheld_from_the_objectives():
    indicators = {
        "referral_to_eps_delay": ind._mean_and_median(
            "referral_to_eps_delay", "D", "", [90, 97], unit_label="j", unit="j"
        )
    }
    target = Target(indicator="eps_delay_days", value=Decimal("20"), year=2026)
    shown = present(indicators, suppressed=True)
    assert shown["referral_to_eps_delay"].cells[0].text == "n.d."
    [item] = ind.progress(shown, [target])
    assert (item.actual, item.percent, item.reached) == (None, None, None)
    exact = present(indicators, suppressed=False)
    [item] = ind.progress(exact, [target])
    assert item.actual == 93.5 and item.reached is False


def test_the_elected_member_reads_the_same_withheld_delay_on_the_objectives_page(client, elected):
    Target.objects.create(programme=elected, year=2026, indicator="eps_delay_days", value=20)
    Target.objects.create(programme=elected, year=2026, indicator="children_in_pathway", value=3)
    page = client.get(reverse("steering:objectives"))
    progress = {item.code: item for item in page.context["progress"]}
    assert progress["children_in_pathway"].actual == 6
    assert progress["eps_delay_days"].actual is None


def test_the_french_formatter():
    assert formatting.number(96500) == "96\u00a0500"
    assert formatting.number(21.66) == "21,7" and formatting.number(18.0) == "18,0"
    assert formatting.number(Decimal("0.800000000000000")) == "0,8"
    assert formatting.money(Decimal("96500.00")) == "96\u00a0500\u00a0€"
    assert (
        formatting.money(Decimal("12.5")) == "12,50\u00a0€"
        or formatting.money(Decimal("12.5")) == "12,5\u00a0€"
    )
    assert formatting.number(None) == "—"


def test_the_structuring_table_shows_fte_in_french_without_trailing_zeros(client):
    level = NetworkLevel.objects.create(name="GIP de test", kind="intercommunal")
    programme = programme_with_lists(network_level=level)
    MembershipFactory(programme=programme, role=Role.REFERENT, fte=Decimal("0.8"))
    MembershipFactory(programme=programme, role=Role.COORDINATOR, fte=Decimal("1"))
    client.force_login(MembershipFactory(programme=programme, role=Role.NETWORK).user)
    body = client.get(reverse("steering:structuring")).content.decode()
    assert "(0,8 ETP)" in body and "(1 ETP)" in body
    assert "0,80" not in body and "000000" not in body


# --- point 14: one budget year per school year ----------------------------------------------------


def test_a_school_year_reads_the_budget_of_the_calendar_year_it_starts_in(client):
    assert ind.Period("school", 2026).budget_year == 2026
    assert ind.Period("calendar", 2027).budget_year == 2027
    assert ind.Period.current().label == "2026-2027"
    programme = programme_with_lists()
    for year, amount in [(2026, "96500"), (2027, "1000")]:
        FundingLine.objects.create(
            programme=programme, year=year, source="state_pre", label="PRE", amount=amount
        )
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    page = client.get(reverse("steering:budget"))
    assert page.context["year"] == 2026
    body = page.content.decode()
    assert "Le budget de l&#x27;année scolaire 2026-2027 est celui de l&#x27;année civile 2026" in body
    book = load_workbook(io.BytesIO(prepared(client, "steering:anct").content))
    fin = {(r[0], r[1]): r[2] for r in book["Financement"].iter_rows(min_row=2, values_only=True)}
    assert fin[("Financements, par source", "Total")] == 96500
    text = _pdf_text(prepared(client, "steering:copil_pdf").content).replace("\u00a0", " ")
    assert "Budget 2026" in text and "96 500 €" in text
    assert "année civile 2026" in text


# --- point 24: the network's consolidated ANCT workbook -------------------------------------------


def test_the_network_downloads_an_anct_workbook_consolidated_over_its_programmes(client):
    level = NetworkLevel.objects.create(name="GIP de test", kind="intercommunal")
    first = programme_with_lists(network_level=level, name="PRE Premier")
    second = programme_with_lists(network_level=level, name="PRE Second")
    other = programme_with_lists(
        network_level=NetworkLevel.objects.create(name="Autre GIP", kind="intercommunal"), name="PRE Ailleurs"
    )
    _followed(first, 6)
    _followed(second, 5)
    _followed(second, 2, sex=Sex.GIRL)
    _followed(other, 8)
    for programme, amount in [(first, 1000), (second, 2000), (other, 5000)]:
        FundingLine.objects.create(programme=programme, year=2026, source="caf", label="CAF", amount=amount)
    client.force_login(MembershipFactory(programme=first, role=Role.NETWORK).user)
    response = prepared(client, "steering:network_anct")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))

    def sheet(name) -> dict:
        return {(r[0], r[1]): r[2] for r in book[name].iter_rows(min_row=2, values_only=True)}

    ben = sheet("Bénéficiaires")
    both = "Enfants bénéficiaires : parcours et actions collectives"
    assert ben[(both, "Enfants en parcours personnalisé")] == 13
    by_sex = "Enfants suivis en parcours, par sexe"
    assert ben[(by_sex, "Fille")] == "< 5" and ben[(by_sex, "Garçon")] == "s"
    assert sheet("Financement")[("Financements, par source", "Total")] == 3000
    names = {row[2] for row in book["Structure"].iter_rows(min_row=2, values_only=True)}
    assert {"PRE Premier", "PRE Second"} <= names and "PRE Ailleurs" not in names
    every = " ".join(str(c) for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r)
    for child in first.children.all():
        assert child.last_name not in every


def test_a_user_without_network_role_has_no_consolidated_workbook(client, elected):
    assert client.get(reverse("steering:network_anct")).status_code == 404
    assert client.post(reverse("steering:network_anct")).status_code == 404


# --- point 2: the cross-tables are protected both ways --------------------------------------------


@pytest.mark.parametrize("role", AGGREGATE_ROLES)
def test_the_territory_diagnosis_cross_table_is_protected_with_its_margins(client, role):
    from maillage.steering import suppression as sup
    from maillage.territories.enums import PriorityEducation
    from tests.factories import SchoolFactory
    from tests.steering.test_suppression import recomputable

    programme = programme_with_lists()
    rep = SchoolFactory(priority_education=PriorityEducation.REP)
    ordinary = SchoolFactory(priority_education=PriorityEducation.NONE)
    for n, qpv, school in [(3, True, rep), (10, True, ordinary), (10, False, rep), (10, False, ordinary)]:
        for child in _followed(programme, n):
            child.in_priority_area, child.school = qpv, school
            child.save()
    client.force_login(MembershipFactory(programme=programme, role=role).user)
    table = client.get(reverse("steering:diagnosis")).context["tables"][1]
    cells = {c.key: c for c in table.cells}
    state = {k: c.state for k, c in cells.items()}
    assert cells["qpv_rep"].text == "< 5"
    # The reader knows every published cell and margin (the dashboard prints the margins too).
    published = sup.ProtectedTable(
        cells=[[3, 10], [10, 10]],
        row_totals=[13, 20],
        col_totals=[13, 20],
        total=33,
        cell_states=[[state["qpv_rep"], state["qpv_only"]], [state["rep_only"], state["neither"]]],
        row_states=[state["margin:0"], state["margin:1"]],
        col_states=[state["margin:2"], state["margin:3"]],
        total_state=table.total.state,
    )
    assert recomputable(published) == []
    assert "3" not in [c.text for c in table.cells]
