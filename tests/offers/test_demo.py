import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from maillage import permissions as perms
from maillage.accounts.models import User
from maillage.demo import DEMO_SLUG
from maillage.offers.enums import AlertState, EnrolmentStatus
from maillage.offers.models import Attendance, BreachAlert, FamilyContract, FundRequest, Offer, Session

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    output = io.StringIO()
    call_command("seed_demo", force=True, stdout=output)
    return output.getvalue()


def test_the_demo_has_a_catalogue_groups_attendance_contracts_a_breach_and_fund_requests(demo):
    assert "Actions : 15 au catalogue" in demo
    assert Offer.objects.filter(programme__slug=DEMO_SLUG).count() == 15
    assert Attendance.objects.filter(session__group__offer__programme__slug=DEMO_SLUG).count() > 50
    assert FamilyContract.objects.count() >= 3
    alert = BreachAlert.objects.get()
    assert (
        alert.state == AlertState.ESCALATED
        and alert.task.assignee.user.email == "assistante-sociale@demo.test"
    )
    assert set(FundRequest.objects.values_list("state", flat=True)) == {"requested", "approved", "refused"}


def test_the_demo_provider_has_a_session_today_with_twelve_people(demo):
    provider = User.objects.get(email="intervenant@demo.test")
    today = timezone.localdate()
    sessions = perms.sessions_visible_to(provider).filter(starts_at__date=today)
    assert sessions.exists()
    session = sessions.first()
    assert perms.can_take_attendance(provider, session)
    assert session.group.enrolments.filter(status=EnrolmentStatus.ENROLLED).count() >= 12


def test_reseeding_the_demo_adds_no_action(demo):
    counts = (Offer.objects.count(), Session.objects.count(), Attendance.objects.count())
    call_command("seed_demo", force=True, stdout=io.StringIO())
    assert (Offer.objects.count(), Session.objects.count(), Attendance.objects.count()) == counts
