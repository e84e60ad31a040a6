import pytest
from django.urls import reverse

from maillage.territories.importers import (
    DEMO_COMMUNES,
    DEMO_QPV,
    DEMO_SCHOOLS,
    import_communes_file,
    import_qpv_file,
    import_schools_file,
)
from maillage.territories.models import PriorityArea, School
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    import_communes_file(DEMO_COMMUNES)
    import_qpv_file(DEMO_QPV)
    import_schools_file(DEMO_SCHOOLS)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_school_list_can_be_searched_by_name_without_accents(admin_client):
    response = admin_client.get(reverse("admin:territories_school_changelist"), {"q": "prevert"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [School.objects.get(uai="0999005E")]


def test_the_school_list_can_be_filtered_by_priority_education(admin_client):
    response = admin_client.get(
        reverse("admin:territories_school_changelist"), {"priority_education": "REP+"}
    )
    assert {s.uai for s in response.context["cl"].result_list} == {"0999001A", "0999002B", "0999003C"}


def test_the_commune_and_qpv_lists_open(admin_client):
    assert admin_client.get(reverse("admin:territories_commune_changelist"), {"q": "Démo"}).status_code == 200
    assert admin_client.get(reverse("admin:territories_priorityarea_changelist")).status_code == 200


def test_a_qpv_page_shows_its_contour_read_only(admin_client):
    area = PriorityArea.objects.get(code="QN99902M")
    response = admin_client.get(reverse("admin:territories_priorityarea_change", args=[area.pk]))
    assert response.status_code == 200
    assert "geometry" not in response.context["adminform"].form.fields
    assert "1 enclave(s)" in response.content.decode()
