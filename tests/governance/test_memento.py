"""The memento: sanitised Markdown pages, generated sections, and a PDF booklet with its table of contents."""

import io
import re

import pytest
from pypdf import PdfReader

from maillage.governance import memento, services
from maillage.governance.models import BodyMember
from maillage.governance.services import GovernanceError
from maillage.programmes.enums import OrganisationKind, Role
from tests.factories import MembershipFactory, OrganisationFactory, programme_with_lists
from tests.governance.helpers import child_named, committee, mission_sheet

pytestmark = pytest.mark.django_db


def test_markdown_is_rendered_and_raw_html_never_comes_out():
    html = memento.render_markdown(
        "# Accueil\n\n**Important** : [site](https://exemple.test)\n\n"
        '<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n[piège](javascript:alert(3))'
    )

    assert "<strong>Important</strong>" in html
    assert 'href="https://exemple.test"' in html
    assert "<script" not in html
    assert "<img" not in html
    assert "onerror" not in html
    assert "javascript:" not in html


def test_a_memento_page_naming_a_child_is_refused():
    programme = programme_with_lists()
    child_named(programme, "Lina", "Garcia")
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)

    with pytest.raises(GovernanceError):
        services.memento_page_save(
            programme=programme,
            title="Exemple",
            slug="exemple",
            body="Lina Garcia a été aidée.",
            by=coordinator.user,
        )


def test_the_booklet_pdf_has_a_table_of_contents_and_the_partner_directory():
    programme = programme_with_lists()
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    OrganisationFactory(
        programme=programme, name="Association Lire et Faire Lire", kind=OrganisationKind.ASSOCIATION
    )
    OrganisationFactory(programme=programme, name="Centre de santé Pasteur", services="Consultations")
    services.memento_page_save(
        programme=programme,
        title="Qui fait quoi",
        slug="qui-fait-quoi",
        body="La coordinatrice reçoit les orientations.",
        by=coordinator.user,
    )
    body = committee(programme)
    BodyMember.objects.create(body=body, person_name="M. le Maire", institution="Commune")
    mission_sheet(programme, by=coordinator.user)

    pdf = memento.booklet_pdf(programme)

    lines = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(lines.split())  # table cells wrap: compare with spaces folded
    assert "Sommaire" in text
    assert re.search(r"Annuaire des partenaires \.+ \d+", text)  # the table of contents has page numbers
    for title in (
        "Qui fait quoi",
        "Annuaire des partenaires",
        "Instances et leurs membres",
        "Fiches missions",
    ):
        assert text.count(title) >= 2, title  # in the table of contents and as the section's heading
    assert "Association Lire et Faire Lire" in text
    assert "Centre de santé Pasteur" in text
    assert "M. le Maire" in text
    assert "Agent de développement local" in text
