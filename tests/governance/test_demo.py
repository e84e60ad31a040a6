"""The demo's year of partnership: committees, ten EPS meetings each with situations and decisions,
mission sheets with history, a memento."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from maillage.governance import memento, queries
from maillage.governance.enums import BodyKind, MissionSheetStatus
from maillage.governance.models import Body, Decision, Forwarding, Meeting, MementoPage, MissionSheet
from maillage.programmes.models import Programme

pytestmark = pytest.mark.django_db


def test_the_demo_holds_a_year_of_partnership():
    call_command("seed_demo", force=True, stdout=io.StringIO())
    programme = Programme.objects.get(slug="ville-de-demo")
    year_ago = timezone.now() - timezone.timedelta(days=366)
    meetings = Meeting.objects.filter(body__programme=programme, starts_at__gte=year_ago)

    assert meetings.filter(body__name="Comité de pilotage").count() == 3
    assert meetings.filter(body__kind=BodyKind.TECHNICAL_COMMITTEE).count() == 4
    for eps in Body.objects.filter(programme=programme, kind=BodyKind.EPS):
        eps_meetings = meetings.filter(body=eps)
        assert eps_meetings.count() >= 10, eps
        held = eps_meetings.filter(starts_at__lt=timezone.now())
        assert held.filter(agenda_items__pathway__isnull=False).distinct().count() >= 8, eps
        assert Decision.objects.filter(
            agenda_item__meeting__in=held, agenda_item__pathway__isnull=False
        ).exists()
    assert not Decision.objects.filter(agenda_item__meeting__starts_at__gt=timezone.now()).exists()
    assert Forwarding.objects.filter(to_body__level__isnull=False).exists()
    sheets = MissionSheet.objects.filter(programme=programme)
    assert sheets.count() == 3
    assert all(sheet.versions.count() >= 2 for sheet in sheets)
    validated = sheets.get(status=MissionSheetStatus.VALIDATED)
    assert validated.validated_on == timezone.localdate(validated.proposed_at.starts_at)
    assert MementoPage.objects.filter(programme=programme).count() == 3
    steering = Body.objects.get(programme=programme, name="Comité de pilotage")
    assert queries.rhythm_warnings(steering) is not None
    assert [section.title for section in memento.sections(programme)][:1] == ["Le programme en bref"]
