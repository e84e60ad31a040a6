"""« Qui a consulté ce dossier » : the list a family may ask for, as a page and as a PDF."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from maillage.audit.models import AuditEvent
from maillage.pathways.break_glass import break_glass_open
from maillage.pathways.models import Pathway
from maillage.programmes.enums import Role
from tests.factories import MembershipFactory
from tests.www.journal.conftest import CHILD_LAST_NAME, REFERENT_LAST_NAME, client_for, text_of

pytestmark = pytest.mark.django_db


def _url(world, name="journal:consultations"):
    return reverse(name, args=[world.child.pk])


def _consult_everything(world):
    """The référent opens the pathway, the coordinator the child's and the household's pages."""
    assert (
        client_for(world.referent.user).get(reverse("pathways:detail", args=[world.pathway.pk])).status_code
        == 200
    )
    coordinator = client_for(world.coordinator.user)
    assert coordinator.get(reverse("people:child", args=[world.child.pk])).status_code == 200
    assert coordinator.get(reverse("people:household", args=[world.child.household_id])).status_code == 200
    # Another child's file: not in this report.
    assert coordinator.get(reverse("pathways:detail", args=[world.other_pathway.pk])).status_code == 200


def pdf_text(content: bytes) -> str:
    """The PDF's text with its line breaks turned into spaces (cells wrap in the table)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


@pytest.mark.parametrize("who", ["coordinator", "dpo"])
def test_the_report_lists_each_consultation_with_organisation_role_and_date(world, who):
    _consult_everything(world)

    response = client_for(getattr(world, who).user).get(_url(world))

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(row.organisation, row.role, row.target_kind) for row in reversed(rows)] == [
        ("Association Trait d'Union", "Référent·e de parcours", "Parcours"),
        ("CCAS de Villeneuve", "Coordination", "Identité de l'enfant"),
        ("CCAS de Villeneuve", "Coordination", "Foyer"),
    ]
    assert {row.kind for row in rows} == {"Consultation"}


def test_the_report_names_no_professional(world):
    _consult_everything(world)

    body = text_of(client_for(world.coordinator.user).get(_url(world)))

    assert REFERENT_LAST_NAME not in body
    assert "referente.nommee@exemple.test" not in body
    assert world.coordinator.user.email not in body


def test_writes_are_not_consultations(world):
    response = client_for(world.coordinator.user).get(_url(world))

    # The pathway was opened (a write): nobody has consulted the file yet.
    assert response.context["rows"] == []
    assert "Aucun accès enregistré" in text_of(response)


def test_the_coordinator_sees_the_childs_name_and_the_dpo_the_case_code(world):
    coordinator = text_of(client_for(world.coordinator.user).get(_url(world)))
    dpo = text_of(client_for(world.dpo.user).get(_url(world)))

    assert f"Philomène {CHILD_LAST_NAME.upper()}" in coordinator
    assert CHILD_LAST_NAME not in dpo and CHILD_LAST_NAME.upper() not in dpo
    assert f"Situation {world.pathway.case_code}" in dpo


def test_the_report_is_reached_from_the_pathway_too(world):
    _consult_everything(world)

    response = client_for(world.dpo.user).get(
        reverse("journal:pathway_consultations", args=[world.pathway.pk])
    )

    assert response.status_code == 200
    assert response.context["child"] == world.child
    assert len(response.context["rows"]) == 3


@pytest.mark.parametrize("role", [r for r in Role.values if r not in {Role.COORDINATOR, Role.DPO}])
@pytest.mark.parametrize(
    "url_name", ["journal:consultations", "journal:consultations_pdf", "journal:pathway_consultations"]
)
def test_other_roles_get_a_404(world, role, url_name):
    member = MembershipFactory(programme=world.programme, role=role)
    pk = world.pathway.pk if url_name == "journal:pathway_consultations" else world.child.pk

    assert client_for(member.user).get(reverse(url_name, args=[pk])).status_code == 404


def test_the_referent_of_the_pathway_does_not_read_who_consulted_it(world):
    assert client_for(world.referent.user).get(_url(world)).status_code == 404


def test_the_pdf_lists_the_same_accesses_for_the_family(world):
    _consult_everything(world)

    response = client_for(world.coordinator.user).get(_url(world, "journal:consultations_pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert f"{world.pathway.case_code}_consultations_" in disposition
    assert CHILD_LAST_NAME not in disposition
    text = pdf_text(response.content)
    assert "Liste des consultations du dossier" in text
    assert "Association Trait d'Union" in text
    assert "Référent·e de parcours" in text
    assert REFERENT_LAST_NAME not in text


def test_viewing_and_exporting_the_report_are_journaled(world):
    client = client_for(world.dpo.user)
    client.get(_url(world))
    client.get(_url(world, "journal:consultations_pdf"))

    viewed = AuditEvent.objects.get(verb="journal.consultations_viewed")
    exported = AuditEvent.objects.get(verb="journal.consultations_exported")
    for entry in (viewed, exported):
        assert (entry.target_type, entry.target_id) == ("people.child", str(world.child.pk))
        assert entry.actor == world.dpo.user
        assert entry.role == Role.DPO


def test_reading_the_report_does_not_add_to_it(world):
    client = client_for(world.coordinator.user)
    client.get(_url(world))
    client.get(_url(world, "journal:consultations_pdf"))

    assert client.get(_url(world)).context["rows"] == []


def test_an_exceptional_access_is_in_the_report(world):
    Pathway.objects.filter(pk=world.pathway.pk).update(archived_at=timezone.now())
    break_glass_open(pathway=world.pathway, by=world.dpo.user, reason="Demande d'accès de la famille")

    rows = client_for(world.coordinator.user).get(_url(world)).context["rows"]

    assert [(row.kind, row.role) for row in rows] == [
        ("Accès exceptionnel", "Délégué·e à la protection des données")
    ]
    assert rows[0].reason == "Demande d'accès de la famille"
