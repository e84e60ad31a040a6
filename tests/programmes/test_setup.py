import pytest

from maillage.programmes.enums import ListKind
from maillage.programmes.models import CharterVersion, ListItem
from maillage.programmes.services import programme_setup
from tests.factories import ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_programme_gets_its_lists_and_a_published_charter_once():
    programme = ProgrammeFactory()
    by = UserFactory(is_staff=True)

    programme_setup(programme=programme, by=by)
    programme_setup(programme=programme, by=by)

    assert ListItem.objects.filter(
        programme=programme, kind=ListKind.EXIT_REASON, code="retrait_consentement"
    ).exists()
    assert ListItem.objects.filter(programme=programme, kind=ListKind.REFERRAL_MOTIF).count() == 9
    charter = CharterVersion.objects.published().get(programme=programme)
    assert charter.number == 1 and "secret" in charter.body


def test_creating_a_programme_in_the_admin_sets_it_up(admin_client):
    response = admin_client.post(
        "/gestion-technique/programmes/programme/add/",
        {
            "name": "PRE de Val-Joli",
            "slug": "val-joli",
            "label": "PRE",
            "case_code_prefix": "VJ",
            "lead_body_type": "ccas",
            "age_min": 2,
            "age_max": 16,
            "eligibility_rule": "qpv_or_rep",
            "eps_access_window_days": 30,
            "active_retention_years": 2,
            "archive_retention_years": 3,
            "log_retention_months": 12,
            "review_cadence_weeks": 12,
            "list_items-TOTAL_FORMS": 0,
            "list_items-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CharterVersion.objects.published().filter(programme__slug="val-joli").exists()
