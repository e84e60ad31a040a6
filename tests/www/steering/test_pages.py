"""The steering pages: who opens them, and that they show aggregates only."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from maillage.audit.models import AuditEvent
from maillage.programmes.enums import Role
from maillage.programmes.models import NetworkLevel
from tests.factories import ChildFactory, open_pathway, programme_with_lists
from tests.steering.prepared import prepared

pytestmark = pytest.mark.django_db

PAGES = [
    "steering:dashboard",
    "steering:objectives",
    "steering:budget",
    "steering:copil",
    "steering:diagnosis",
    "steering:barometer",
]


@pytest.fixture
def programme():
    programme = programme_with_lists()
    for _ in range(3):
        open_pathway(
            programme=programme, child=ChildFactory(programme=programme, last_name="SENTINEL-Quillebœuf")
        )
    return programme


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.STEERING, Role.MANAGER, Role.DPO, Role.NETWORK])
def test_every_steering_page_opens_for_roles_seeing_indicators_without_any_name(
    client, login_as, programme, role
):
    login_as(role, programme=programme)
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert "quillebœuf" not in response.content.decode().lower(), name


@pytest.mark.parametrize("role", [Role.REFERRER, Role.PROVIDER, Role.REFERENT])
def test_roles_without_programme_indicators_cannot_open_the_dashboard(client, login_as, programme, role):
    login_as(role, programme=programme)
    assert client.get(reverse("steering:dashboard")).status_code == 404


def test_the_coordinator_sees_exact_small_counts_and_steering_sees_them_suppressed(
    client, login_as, programme
):
    login_as(Role.COORDINATOR, programme=programme)
    body = client.get(reverse("steering:dashboard")).content.decode()
    assert "&lt; 5" not in body
    client.logout()
    login_as(Role.STEERING, programme=programme)
    body = client.get(reverse("steering:dashboard")).content.decode()
    assert "&lt; 5" in body
    assert "Secret statistique" in body


def test_the_anct_workbook_has_four_sheets_and_is_journaled_with_its_row_count(client, login_as, programme):
    login_as(Role.COORDINATOR, programme=programme)
    response = prepared(client, "steering:anct")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Structure", "Financement", "Bénéficiaires", "Processus"]
    event = AuditEvent.objects.filter(verb="export.anct_survey").get()
    assert event.payload["rows"] > 10


def test_the_copil_pack_is_a_pdf_with_key_figures_and_highlights(client, login_as, programme):
    membership = login_as(Role.COORDINATOR, programme=programme)
    client.post(
        reverse("steering:copil"), {"highlights": "Ouverture d'un atelier parentalité au centre social."}
    )
    response = prepared(client, "steering:copil_pdf")
    assert response.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Dossier du comité de pilotage" in text
    assert "atelier parentalité" in text
    assert "Chiffres clés" in text
    assert AuditEvent.objects.filter(verb="export.copil_pack", programme=membership.programme).exists()


def test_a_network_user_sees_the_programmes_of_their_level_and_the_structuring_table(client, login_as):
    level = NetworkLevel.objects.create(name="GIP de test", kind="intercommunal")
    first = programme_with_lists(network_level=level)
    second = programme_with_lists(network_level=level)
    outside = programme_with_lists()
    login_as(Role.NETWORK, programme=first)
    body = client.get(reverse("steering:structuring")).content.decode()
    assert first.name in body and second.name in body
    assert outside.name not in body
    assert client.get(reverse("steering:network")).status_code == 200
    export = prepared(client, "steering:structuring_export")
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.content))
    names = [row[0].value for row in book.active.iter_rows(min_row=2)]
    assert sorted(names) == sorted([first.name, second.name])


def test_a_user_without_network_role_has_no_network_page(client, login_as, programme):
    login_as(Role.COORDINATOR, programme=programme)
    assert client.get(reverse("steering:network")).status_code == 404


def test_the_copil_pack_is_suppressed_even_when_the_coordinator_downloads_it(client, login_as, programme):
    login_as(Role.COORDINATOR, programme=programme)
    response = prepared(client, "steering:copil_pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "< 5" in text
    assert "quillebœuf" not in text.lower()
