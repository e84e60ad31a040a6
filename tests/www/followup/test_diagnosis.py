"""The diagnosis by dimension: one's own section, facts apart from assessment, circles chosen with care."""

import pytest

from maillage.audit.models import AuditEvent
from maillage.pathways import services
from maillage.pathways.enums import Circle, Dimension
from maillage.pathways.models import DiagnosticSection
from tests.factories import MembershipFactory
from tests.www.followup.conftest import detail, url

pytestmark = pytest.mark.django_db

TEXTS = {
    "difficulties": "Difficultés en lecture depuis le CP.",
    "resources": "Aime les albums illustrés, soutien de la grande sœur.",
    "facts": "Absent 6 demi-journées en novembre.",
    "assessment": "Une fatigue qui semble liée aux horaires du soir.",
}


def _circle_values(response) -> list[str]:
    page = response.content.decode()
    return [c for c in Circle.values if f'name="circle" value="{c}"' in page]


def test_the_form_keeps_facts_and_assessment_apart_and_warns_about_wording(world):
    response = world.client("referent").get(url("diagnostic_edit", world.pathway, "school"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Les faits observés, sans interprétation" in page
    assert "Votre appréciation professionnelle" in page
    assert 'name="facts"' in page and 'name="assessment"' in page
    assert "jamais de grille de repérage remplie pour toute une classe" in page
    assert "Diagnostic : Scolarité" in page


def test_the_referent_writes_a_section_in_the_team_circle_by_default(world):
    page = world.client("referent").get(url("diagnostic_edit", world.pathway, "school")).content.decode()
    assert 'value="team" dsfr="dsfr" id="id_circle_0" required checked' in page

    response = world.client("referent").post(
        url("diagnostic_edit", world.pathway, "school"), {**TEXTS, "circle": "team"}
    )

    assert response.status_code == 302
    assert response["Location"] == detail(world.pathway, "diagnostic")
    section = DiagnosticSection.objects.get()
    assert section.dimension == Dimension.SCHOOL
    assert section.author == world.referent.user
    assert section.circle == Circle.TEAM
    assert {name: getattr(section, name) for name in TEXTS} == TEXTS
    assert AuditEvent.objects.filter(verb="diagnostic.saved").latest("pk").payload["section"] == section.pk


def test_editing_again_changes_ones_own_section_and_journals_a_wider_circle(world):
    client = world.client("referent")
    client.post(url("diagnostic_edit", world.pathway, "family"), {**TEXTS, "circle": "team"})

    page = client.get(url("diagnostic_edit", world.pathway, "family")).content.decode()
    assert TEXTS["facts"] in page  # the form opens on what was written
    client.post(
        url("diagnostic_edit", world.pathway, "family"), {**TEXTS, "facts": "Autre fait.", "circle": "secret"}
    )

    section = DiagnosticSection.objects.get()
    assert section.facts == "Autre fait."
    assert section.circle == Circle.SECRET
    assert AuditEvent.objects.filter(verb="item.circle_widened").exists()


def test_two_authors_each_write_their_own_section_of_a_dimension(world):
    world.client("referent").post(
        url("diagnostic_edit", world.pathway, "school"), {**TEXTS, "circle": "team"}
    )

    page = world.client("teacher").get(url("diagnostic_edit", world.pathway, "school")).content.decode()
    assert TEXTS["facts"] not in page  # the teacher does not open the référent's section
    world.client("teacher").post(
        url("diagnostic_edit", world.pathway, "school"),
        {"facts": "Participe peu à l'oral.", "circle": "partners"},
    )

    sections = DiagnosticSection.objects.order_by("pk")
    assert [(s.author, s.circle) for s in sections] == [
        (world.referent.user, Circle.TEAM),
        (world.teacher.user, Circle.PARTNERS),
    ]


@pytest.mark.parametrize("dimension", ["physical_health", "psychological"])
def test_health_dimensions_never_offer_the_partners_circle(world, dimension):
    response = world.client("referent").get(url("diagnostic_edit", world.pathway, dimension))
    assert _circle_values(response) == ["team", "secret"]
    assert "Information de santé" in response.content.decode()

    forged = world.client("referent").post(
        url("diagnostic_edit", world.pathway, dimension), {**TEXTS, "circle": "partners"}
    )

    assert forged.status_code == 200
    assert "Ce cercle de lecture n&#x27;est pas possible ici." in forged.content.decode()
    assert not DiagnosticSection.objects.exists()


def test_other_dimensions_offer_every_circle(world):
    response = world.client("referent").get(url("diagnostic_edit", world.pathway, "sport_leisure"))

    assert _circle_values(response) == ["team", "secret", "partners"]


def test_a_member_who_refuses_the_shared_secret_can_only_write_for_the_team(world):
    refusing = MembershipFactory(
        programme=world.pathway.programme,
        role="eps_member",
        bound_by_secrecy=True,
        refuses_shared_secret=True,
    )
    services.case_team_add(
        pathway=world.pathway, membership=refusing, reason="Assistante sociale", by=world.coordinator.user
    )
    world.refusing = refusing
    client = world.client("refusing")

    response = client.get(url("diagnostic_edit", world.pathway, "social"))
    assert _circle_values(response) == ["team"]
    assert "Vous avez refusé le secret partagé" in response.content.decode()
    for circle in ("secret", "partners"):
        forged = client.post(url("diagnostic_edit", world.pathway, "social"), {**TEXTS, "circle": circle})
        assert forged.status_code == 200
    assert not DiagnosticSection.objects.exists()

    client.post(url("diagnostic_edit", world.pathway, "social"), {**TEXTS, "circle": "team"})
    assert DiagnosticSection.objects.get().circle == Circle.TEAM


def test_an_empty_section_is_refused(world):
    response = world.client("referent").post(
        url("diagnostic_edit", world.pathway, "school"), {"difficulties": "  ", "circle": "team"}
    )

    assert response.status_code == 200
    assert "Remplissez au moins une rubrique." in response.content.decode()
    assert not DiagnosticSection.objects.exists()


def test_an_unknown_dimension_is_a_404(world):
    assert world.client("coordinator").get(url("diagnostic_edit", world.pathway, "classe")).status_code == 404


def test_opening_ones_section_journals_the_circle_shown(world):
    world.client("referent").post(
        url("diagnostic_edit", world.pathway, "school"), {**TEXTS, "circle": "secret"}
    )

    world.client("referent").get(url("diagnostic_edit", world.pathway, "school"))

    event = AuditEvent.objects.filter(verb="diagnostic.form_viewed").latest("pk")
    assert event.payload["circles"] == ["secret"]
    assert event.payload["dimension"] == "school"
