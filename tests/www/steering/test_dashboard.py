"""The dashboard: filters, accessible charts, constant queries, objectives, budget, navigation."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, Meeting
from maillage.pathways.models import Pathway
from maillage.programmes.enums import Role
from maillage.programmes.models import NetworkLevel
from maillage.steering import indicators as ind
from maillage.steering.models import FundingLine, Target
from tests.factories import ChildFactory, SchoolFactory, programme_with_lists

pytestmark = pytest.mark.django_db


def _children(programme, n, **fields):
    today = datetime.date.today()
    result = []
    for _ in range(n):
        child = ChildFactory(programme=programme, **fields)
        result.append(
            Pathway.objects.create(
                programme=programme, child=child, case_code=f"D-{child.pk}", opened_on=today
            )
        )
    return result


def _queries(client, url) -> int:
    client.get(url)  # warm-up
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


def test_the_dashboard_page_takes_a_constant_number_of_queries_in_the_number_of_children(client, login_as):
    programme = programme_with_lists()
    login_as(Role.COORDINATOR, programme=programme)
    _children(programme, 3)
    few = _queries(client, reverse("steering:dashboard"))
    _children(programme, 25)
    assert _queries(client, reverse("steering:dashboard")) == few


def test_charts_are_images_with_a_title_next_to_their_data_table(client, login_as):
    programme = programme_with_lists()
    login_as(Role.COORDINATOR, programme=programme)
    _children(programme, 6)
    body = client.get(reverse("steering:dashboard")).content.decode()
    assert 'role="img"' in body
    assert '<title id="chart-children_by_sex-title">' in body
    assert "<caption>Enfants suivis en parcours, par sexe</caption>" in body
    # The definition is on hover (title) and printed.
    assert 'title="Enfants ayant un parcours ouvert' in body


def test_filters_by_qpv_school_and_eps_narrow_the_counts(client, login_as):
    programme = programme_with_lists()
    school = SchoolFactory()
    programme.schools.add(school)
    in_qpv = _children(programme, 6, in_priority_area=True, school=school)
    _children(programme, 7, in_priority_area=False)
    eps = Body.objects.create(programme=programme, kind=BodyKind.EPS, name="EPS Nord")
    meeting = Meeting.objects.create(body=eps, starts_at=datetime.datetime.now(datetime.UTC))
    for pathway in in_qpv[:5]:
        AgendaItem.objects.create(meeting=meeting, pathway=pathway)
    period = ind.Period.current()
    scope = lambda **f: ind.Scope((programme.pk,), period, ind.Filters(**f))  # noqa: E731
    assert ind.followed_children(scope()).count() == 13
    assert ind.followed_children(scope(qpv="yes")).count() == 6
    assert ind.followed_children(scope(qpv="no")).count() == 7
    assert ind.followed_children(scope(school=school.pk)).count() == 6
    assert ind.followed_children(scope(eps=eps.pk)).count() == 5
    login_as(Role.COORDINATOR, programme=programme)
    response = client.get(
        reverse("steering:dashboard"), {"qpv": "yes", "kind": "school", "year": period.year}
    )
    assert response.status_code == 200
    assert response.context["tables"]["children_by_sex"].total.text == "6"


def test_progress_against_yearly_objectives(client, login_as):
    programme = programme_with_lists()
    _children(programme, 8)
    period = ind.Period.current()
    Target.objects.create(programme=programme, year=period.year, indicator="children_in_pathway", value=16)
    login_as(Role.COORDINATOR, programme=programme)
    response = client.get(reverse("steering:objectives"))
    progress = response.context["progress"]
    assert [(p.code, p.actual, p.percent, p.reached) for p in progress] == [
        ("children_in_pathway", 8, 50, False)
    ]
    client.post(
        reverse("steering:objectives"),
        {"indicator": "children_in_pathway", "year": period.year, "value": "8"},
    )
    assert Target.objects.get(programme=programme).value == Decimal("8")


def test_only_the_coordinator_sets_objectives(client, login_as):
    programme = programme_with_lists()
    login_as(Role.STEERING, programme=programme)
    response = client.post(
        reverse("steering:objectives"), {"indicator": "children", "year": 2025, "value": "3"}
    )
    assert response.status_code == 403
    assert not Target.objects.exists()


def test_the_budget_adds_funding_lines_by_source_and_in_kind(client, login_as):
    programme = programme_with_lists()
    login_as(Role.MANAGER, programme=programme)
    url = reverse("steering:budget")
    client.post(url, {"year": 2026, "source": "caf", "label": "CAF", "amount": "4000", "in_kind": ""})
    client.post(
        url, {"year": 2026, "source": "commune", "label": "Locaux", "amount": "9000", "in_kind": "on"}
    )
    response = client.get(url, {"annee": 2026})
    summary = response.context["summary"]
    assert (summary["direct"], summary["in_kind"]) == (Decimal("4000"), Decimal("9000"))
    assert FundingLine.objects.filter(programme=programme).count() == 2


def test_steering_users_cannot_add_funding_lines(client, login_as):
    programme = programme_with_lists()
    login_as(Role.STEERING, programme=programme)
    response = client.post(
        reverse("steering:budget"), {"year": 2026, "source": "caf", "label": "X", "amount": "1"}
    )
    assert response.status_code == 403


def test_network_indicators_aggregate_the_programmes_of_the_level(client, login_as):
    level = NetworkLevel.objects.create(name="Département de test", kind="departement")
    first, second = programme_with_lists(network_level=level), programme_with_lists(network_level=level)
    _children(first, 6)
    _children(second, 7)
    _children(programme_with_lists(), 9)  # another level: not counted
    login_as(Role.NETWORK, programme=first)
    response = client.get(reverse("steering:network"))
    assert response.context["tables"]["children_by_sex"].total.text == "13"


def test_the_menu_offers_the_dashboard_to_steering_and_reseau_to_network(client, login_as):
    programme = programme_with_lists()
    login_as(Role.NETWORK, programme=programme)
    labels = [item["label"] for item in client.get(reverse("home")).context["navigation"]]
    assert "Indicateurs" in labels and "Réseau" in labels
    client.logout()
    login_as(Role.REFERRER, programme=programme)
    labels = [item["label"] for item in client.get(reverse("home")).context["navigation"]]
    assert "Indicateurs" not in labels and "Baromètre du partenariat" in labels


def test_the_territory_diagnosis_counts_by_priority_geography(client, login_as):
    programme = programme_with_lists()
    rep = SchoolFactory(priority_education="REP")
    _children(programme, 5, in_priority_area=True, school=rep)
    _children(programme, 6, in_priority_area=False, school=SchoolFactory(priority_education=""))
    login_as(Role.COORDINATOR, programme=programme)
    tables = client.get(reverse("steering:diagnosis")).context["tables"]
    children = tables[1]
    assert [c.text for c in children.cells[:4]] == ["5", "0", "0", "6"]
    # The margins of the cross-table (residence, then school) are published with it.
    assert [c.text for c in children.cells[4:]] == ["5", "6", "5", "6"]
