import pytest
from django.utils import timezone

from maillage.audit.models import AuditEvent
from maillage.pathways import services
from maillage.pathways.enums import Circle, Dimension
from tests.factories import OrganisationFactory, open_pathway

pytestmark = pytest.mark.django_db


def _consent(pathway, *, shared_with=()):
    by = pathway.transitions.get().by
    return services.consent_record(
        pathway=pathway,
        guardian=pathway.child.household.guardians.get(),
        given_on=timezone.localdate(),
        by=by,
        shared_with=shared_with,
    )


def test_an_item_beyond_the_team_needs_a_consent_that_shares_with_a_partner():
    pathway = open_pathway()
    by = pathway.transitions.get().by
    _consent(pathway)  # agreement to the accompaniment, no sharing
    with pytest.raises(services.JourneyError, match="aucun partenaire"):
        services.note_add(pathway=pathway, body="Point école", by=by, circle=Circle.PARTNERS)
    note = services.note_add(pathway=pathway, body="Point école", by=by, circle=Circle.TEAM)
    assert note.circle == Circle.TEAM


def test_widening_a_diagnosis_section_is_journaled():
    pathway = open_pathway()
    by = pathway.transitions.get().by
    _consent(pathway, shared_with=[OrganisationFactory(programme=pathway.programme)])
    section = services.diagnostic_section_save(
        pathway=pathway, dimension=Dimension.SCHOOL, by=by, facts="Retards"
    )
    services.diagnostic_section_save(
        pathway=pathway, dimension=Dimension.SCHOOL, by=by, section=section, circle=Circle.PARTNERS
    )
    event = AuditEvent.objects.get(verb="item.circle_widened")
    assert event.payload["from"] == "team" and event.payload["to"] == "partners"


def test_health_never_reaches_partners_and_a_refusing_member_writes_team_only():
    pathway = open_pathway()
    by = pathway.transitions.get().by
    _consent(pathway, shared_with=[OrganisationFactory(programme=pathway.programme)])
    with pytest.raises(services.JourneyError, match="santé"):
        services.diagnostic_section_save(
            pathway=pathway, dimension=Dimension.PSYCHOLOGICAL, by=by, circle=Circle.PARTNERS
        )
    membership = by.memberships.get()
    membership.refuses_shared_secret = True
    with pytest.raises(services.JourneyError, match="refusé le secret"):
        services.note_add(pathway=pathway, body="x", by=by, membership=membership, circle=Circle.SECRET)
