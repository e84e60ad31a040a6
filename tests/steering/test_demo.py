"""The steering part of the demo: three programmes on one network level, budget, objectives and
barometer rounds; the network demo account sees the structuring table and aggregated indicators."""

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from maillage.accounts.models import User
from maillage.demo import DEMO_SLUG
from maillage.steering.models import BarometerRound, FundingLine, Target
from tests.steering.prepared import prepared

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            output = io.StringIO()
            call_command("seed_demo", force=True, stdout=output)
            yield output.getvalue()
            transaction.set_rollback(True)


def test_the_demo_has_funding_objectives_and_two_barometer_rounds(demo):
    assert "Pilotage : 2 baromètres, 2 autres programmes" in demo
    assert FundingLine.objects.filter(programme__slug=DEMO_SLUG, in_kind=True).exists()
    assert Target.objects.filter(programme__slug=DEMO_SLUG, indicator="children").exists()
    rounds = BarometerRound.objects.filter(programme__slug=DEMO_SLUG)
    assert all(r.responses.count() >= 5 for r in rounds)


def test_the_network_account_compares_the_three_programmes_of_its_level(demo):
    client = Client()
    client.force_login(User.objects.get(email="reseau@demo.test"))
    rows = client.get(reverse("steering:structuring")).context["rows"]
    assert len(rows) == 3
    assert client.get(reverse("steering:network")).status_code == 200
    results = client.get(
        reverse(
            "steering:barometer_results",
            args=[BarometerRound.objects.filter(programme__slug=DEMO_SLUG).first().pk],
        )
    )
    assert results.status_code == 200


def test_the_elected_member_sees_the_demo_dashboard_suppressed(demo):
    client = Client()
    client.force_login(User.objects.get(email="elu@demo.test"))
    response = client.get(reverse("steering:dashboard"))
    assert response.status_code == 200
    assert response.context["suppressed"] is True


def test_the_elected_member_reads_the_qpv_residents_and_the_budget_in_the_demo_exports(demo):
    """Issue 13's acceptance: the demo's ANCT workbook and comité PDF, for the elected member
    (suppressed, and decided with the two other programmes of the network level), show the children
    living in a QPV and the budget of the school year. The demo programme's 4 children at a school
    outside priority education (3 of them in a QPV) are protected by detailed cells, not by the
    headline figures: the QPV residents, the children followed, the beneficiaries (hence the cost
    per child) and the referrals received are numbers, in the workbook and in the PDF alike."""
    import re

    from openpyxl import load_workbook
    from pypdf import PdfReader

    from maillage.steering.formatting import money
    from maillage.steering.indicators import Period

    client = Client()
    client.force_login(User.objects.get(email="elu@demo.test"))
    book = load_workbook(io.BytesIO(prepared(client, "steering:anct").content))
    rows = {
        (r[0], r[1]): r[2]
        for sheet in ["Bénéficiaires", "Processus", "Financement"]
        for r in book[sheet].iter_rows(min_row=2, values_only=True)
    }
    both = "Enfants bénéficiaires : parcours et actions collectives"
    qpv = rows[("Enfants suivis en parcours, selon la résidence en quartier prioritaire", "Réside en QPV")]
    headline = {
        "Réside en QPV": qpv,
        "Enfants en parcours personnalisé": rows[(both, "Enfants en parcours personnalisé")],
        "Enfants bénéficiaires": rows[(both, "Total")],
        "Orientations reçues": rows[("Orientations reçues, par type d'orienteur", "Total")],
    }
    for label, value in headline.items():
        assert isinstance(value, int) and value >= 5, (label, value)
    cost = rows[("Coût par enfant", "Coût par enfant (€)")]
    assert isinstance(cost, int | float) and cost > 0
    funding = rows[("Financements, par source", "Total")]
    assert isinstance(funding, int | float) and funding > 0
    response = prepared(client, "steering:copil_pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    for label in ["Réside en QPV", "Enfants en parcours personnalisé", "Orientations reçues"]:
        assert re.search(rf"{label} {headline[label]}(\s|$)", text), label
    assert f"Budget {Period.current().budget_year}" in text
    assert money(funding).replace("\u00a0", " ").replace("\u202f", " ") in text


def test_the_decision_reads_every_programme_of_the_level_as_its_own_pages_do(demo):
    """The shared decision reads the three programmes' counts at once (``people_counts``, one query
    per population): the same figures as each programme's dashboard and territory diagnosis, with
    and without filters."""
    from maillage.governance.enums import BodyKind
    from maillage.governance.models import Body
    from maillage.people.models import Child
    from maillage.programmes.models import Programme
    from maillage.steering import indicators as ind
    from maillage.steering import levels, queries

    programme = Programme.objects.get(slug=DEMO_SLUG)
    pks, _scopes = levels.network_tree([programme.network_level_id])
    assert len(pks) == 3
    period = ind.Period.current()
    school = Child.objects.filter(programme=programme, school__isnull=False).first().school_id
    eps = Body.objects.filter(programme=programme, kind=BodyKind.EPS).first().pk
    for filters in [ind.Filters(), ind.Filters(qpv="yes"), ind.Filters(school=school, eps=eps)]:
        scope = ind.Scope(tuple(pks), period, filters)
        counts = ind.people_counts(scope)
        referrals = queries.diagnosis_referrals_by_programme(scope)
        for pk in pks:
            own = ind.Scope((pk,), period, filters)
            diagnosis = None
            if not filters.any:
                diagnosis = {i.code: i for i in queries.territory_diagnosis(own)["priority"]}
            expected = levels.programme_figures(pk, ind.compute(own), diagnosis)
            if not filters.any:
                diagnosis = {"diagnosis_children": None, "diagnosis_referrals": referrals[pk]}
            assert levels.programme_figures(pk, counts[pk], diagnosis) == expected, (pk, filters)
