"""Budget: costs from the catalogue's actions and the individual fund, and the per-action sheet."""

import datetime
import time
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from maillage.offers.models import Beneficiary, Enrolment, FundRequest, Group, Offer
from maillage.pathways.enums import ActionKind
from maillage.people.enums import Sex
from maillage.programmes.enums import Role
from maillage.steering import queries
from maillage.steering.models import FundingLine
from tests.factories import ChildFactory, MembershipFactory, open_pathway, programme_with_lists
from tests.steering.prepared import request_document, run_worker

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year
D = datetime.date


@pytest.fixture
def catalogue():
    programme = programme_with_lists()
    line = FundingLine.objects.create(programme=programme, year=YEAR, source="caf", label="CAF", amount=3000)
    offer = Offer.objects.create(
        programme=programme,
        title="Atelier théâtre",
        kind=ActionKind.COLLECTIVE,
        unit_cost=Decimal("120"),
        capacity=12,
        funding_line=line,
    )
    group = Group.objects.create(
        offer=offer, name="Jeudi", starts_on=D(YEAR, 1, 10), ends_on=D(YEAR, 6, 30), capacity=10
    )
    start = D(YEAR, 1, 1)
    # Two children in pathways: a girl of 8 in a QPV and a boy of 12 outside.
    girl = ChildFactory(
        programme=programme, sex=Sex.GIRL, birth_date=D(YEAR - 9, 3, 1), in_priority_area=True
    )
    boy = ChildFactory(
        programme=programme, sex=Sex.BOY, birth_date=D(YEAR - 13, 3, 1), in_priority_area=False
    )
    for child in (girl, boy):
        Enrolment.objects.create(group=group, child=child)
    # Three collective-only beneficiaries, one of them waiting; one parent.
    for sex, band, qpv, status in [
        ("F", "2-5", True, "enrolled"),
        ("M", "6-10", True, "left"),
        ("M", "6-10", True, "waiting"),
    ]:
        b = Beneficiary.objects.create(
            programme=programme, first_name="B", initial="X", age_band=band, sex=sex, in_qpv=qpv
        )
        Enrolment.objects.create(
            group=group, beneficiary=b, status=status, position=1 if status == "waiting" else None
        )
    parent = Beneficiary.objects.create(
        programme=programme,
        first_name="P",
        initial="X",
        age_band="adult",
        sex="F",
        is_parent=True,
        in_qpv=True,
    )
    Enrolment.objects.create(group=group, beneficiary=parent)
    assert start.year == YEAR
    return programme, offer, line


def test_the_per_action_sheet_counts_actual_beneficiaries_by_sex_age_and_neighbourhood(catalogue):
    programme, offer, _line = catalogue
    sheet = queries.action_sheets([programme.pk], YEAR)[0]
    values = sheet["values"]
    assert values["all"] == 5  # 2 children, 2 collective-only (the waiting one is not), 1 parent
    assert (values["girls"], values["boys"]) == (3, 2)
    assert (values["age_2-5"], values["age_6-10"], values["age_11-16"], values["adults"]) == (1, 2, 1, 1)
    assert (values["qpv"], values["not_qpv"]) == (4, 1)
    assert sheet["planned"] == 10
    assert sheet["cost"] == Decimal("600")


def test_for_steering_the_per_action_sheet_is_suppressed(catalogue):
    programme, _offer, _line = catalogue
    sheet = queries.action_sheets([programme.pk], YEAR, suppressed=True)[0]
    assert sheet["texts"]["girls"] == "< 5" and sheet["texts"]["qpv"] == "< 5"


def test_costs_add_the_catalogue_and_the_approved_fund_requests(catalogue):
    programme, _offer, line = catalogue
    pathway = open_pathway(programme=programme)
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR).user
    for amount, state in [(Decimal("80"), "approved"), (Decimal("50"), "refused")]:
        FundRequest.objects.create(
            programme=programme,
            pathway=pathway,
            purpose="sports_licence",
            amount=amount,
            payee="Club de foot",
            funding_line=line,
            state=state,
            reason="Hors barème" if state == "refused" else "",
            requested_by=coordinator,
            decided_by=coordinator,
            decided_at=timezone.now(),
        )
    summary = queries.budget_summary([programme.pk], YEAR)
    assert summary["costs"]["offers"] == Decimal("600")
    assert summary["costs"]["fund"] == Decimal("80")
    assert summary["costs"]["total"] == Decimal("680")


def test_the_budget_page_shows_the_sheet(client, catalogue):
    programme, _offer, _line = catalogue
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    body = client.get(reverse("steering:budget"), {"annee": YEAR}).content.decode()
    assert "Atelier théâtre" in body and "CERFA 12156" in body


def test_exports_ask_for_a_recent_authentication(client, catalogue):
    """Preparing a document is harmless; downloading it asks for a recent authentication."""
    programme, _offer, _line = catalogue
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    jobs = [request_document(client, name) for name in ("steering:anct", "steering:copil_pdf")]
    run_worker()
    with time_machine.travel(time.time() + 11 * 60, tick=False):
        for job in jobs:
            response = client.get(reverse("steering:export_download", args=[job.pk]))
            assert response.status_code == 302, job.kind
            assert urlsplit(response["Location"]).path == reverse("account_reauthenticate")
