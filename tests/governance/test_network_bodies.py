"""The network level reads the bodies it sits in (the intercommunal comité it animates) and what is
forwarded to them — never a programme's EPS, never a body it does not sit in, never a name."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from maillage import permissions as perms
from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, BodyMember, Decision, Forwarding, Meeting
from maillage.programmes.enums import Role
from maillage.programmes.models import NetworkLevel
from tests.factories import MembershipFactory, programme_with_lists
from tests.governance.helpers import committee, eps_body, eps_pathway

pytestmark = pytest.mark.django_db

SUMMARY = "Demande commune aux programmes : un CMPP plus accessible."
MINUTES = "Les programmes partagent leurs bilans ; calendrier commun des comités."
DECISION = "Un groupe de travail commun sur la santé mentale des enfants."


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world():
    level = NetworkLevel.objects.create(name="GIP de l'agglomération", kind="intercommunal")
    other_level = NetworkLevel.objects.create(name="GIP du littoral", kind="intercommunal")
    programme = programme_with_lists()
    programme.network_level = level
    programme.save(update_fields=["network_level"])
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    network = MembershipFactory(programme=programme, role=Role.NETWORK)

    # The level's comité, held by the programme and animated by the network user.
    own = Body.objects.create(
        programme=programme, kind=BodyKind.STEERING_COMMITTEE, name="Comité intercommunal", level=level
    )
    BodyMember.objects.create(body=own, membership=network, role_in_body="Animation")
    meeting = Meeting.objects.create(
        body=own, starts_at=timezone.now() - datetime.timedelta(days=10), minutes=MINUTES
    )
    item = AgendaItem.objects.create(meeting=meeting, title="Bilan des programmes")
    Decision.objects.create(agenda_item=item, text=DECISION, decided_by=coordinator.user)

    # The programme's EPS, with a child's situation, forwarded up as a summary through the copil.
    eps = eps_body(programme, members=[coordinator])
    pathway = eps_pathway(programme, coordinator=coordinator.user)
    eps_meeting = Meeting.objects.create(body=eps, starts_at=timezone.now() - datetime.timedelta(days=20))
    AgendaItem.objects.create(meeting=eps_meeting, pathway=pathway)
    copil = committee(programme)
    copil_meeting = Meeting.objects.create(body=copil, starts_at=timezone.now() - datetime.timedelta(days=5))
    Forwarding.objects.create(meeting=copil_meeting, to_body=own, summary=SUMMARY, by=coordinator.user)

    # Another network's comité, in another programme.
    elsewhere = programme_with_lists()
    elsewhere.network_level = other_level
    elsewhere.save(update_fields=["network_level"])
    foreign = Body.objects.create(
        programme=elsewhere, kind=BodyKind.STEERING_COMMITTEE, name="Comité du littoral", level=other_level
    )
    foreign_meeting = Meeting.objects.create(body=foreign, starts_at=timezone.now())
    return {
        "network": network,
        "own": own,
        "meeting": meeting,
        "eps": eps,
        "eps_meeting": eps_meeting,
        "copil": copil,
        "pathway": pathway,
        "foreign": foreign,
        "foreign_meeting": foreign_meeting,
    }


def test_the_network_scope_holds_its_comite_and_its_meetings_only(world):
    user = world["network"].user

    assert set(perms.bodies_visible_to(user)) == {world["own"]}
    assert set(perms.meetings_visible_to(user)) == {world["meeting"]}


def test_the_network_lists_its_comite_under_instances(world):
    page = _client(world["network"].user).get(reverse("governance:bodies")).content.decode()

    assert "Comité intercommunal" in page
    assert "Aucune instance pour le moment" not in page
    assert world["eps"].name not in page
    assert "Comité du littoral" not in page


def test_the_network_reads_its_comite_with_the_forwarded_summary(world):
    response = _client(world["network"].user).get(reverse("governance:body", args=[world["own"].pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert SUMMARY in page
    assert world["pathway"].child.first_name not in page


def test_the_network_reads_the_meetings_minutes_and_decisions_of_its_comite(world):
    response = _client(world["network"].user).get(reverse("governance:meeting", args=[world["meeting"].pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert MINUTES in page
    assert DECISION in page
    assert world["pathway"].child.first_name not in page
    assert world["pathway"].case_code not in page


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("governance:body", "eps"),
        ("governance:meeting", "eps_meeting"),
        ("governance:body", "copil"),
        ("governance:body", "foreign"),
        ("governance:meeting", "foreign_meeting"),
    ],
)
def test_the_network_gets_a_404_outside_the_bodies_it_sits_in(world, name, key):
    client = _client(world["network"].user)

    assert client.get(reverse(name, args=[world[key].pk])).status_code == 404


def test_the_network_never_reads_an_eps_even_when_added_to_it(world):
    BodyMember.objects.create(body=world["eps"], membership=world["network"])
    client = _client(world["network"].user)

    assert client.get(reverse("governance:body", args=[world["eps"].pk])).status_code == 404
    assert client.get(reverse("governance:meeting", args=[world["eps_meeting"].pk])).status_code == 404


def test_an_ended_network_membership_no_longer_reads_the_comite(world):
    membership = world["network"]
    membership.starts_on = timezone.localdate() - datetime.timedelta(days=30)
    membership.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    membership.save(update_fields=["starts_on", "ends_on"])

    assert not perms.bodies_visible_to(membership.user).exists()


def test_the_network_manages_nothing_in_its_comite(world):
    client = _client(world["network"].user)

    assert not perms.can_manage_body(world["network"].user, world["own"])
    assert client.get(reverse("governance:meeting_schedule", args=[world["own"].pk])).status_code == 403


def test_the_demo_network_account_reads_the_intercommunal_comite():
    from maillage.accounts.models import User

    call_command("seed_demo", force=True, stdout=io.StringIO())
    user = User.objects.get(email="reseau@demo.test")
    body = Body.objects.get(name="Comité de pilotage intercommunal")
    client = _client(user)

    listing = client.get(reverse("governance:bodies")).content.decode()
    detail = client.get(reverse("governance:body", args=[body.pk]))

    assert "Comité de pilotage intercommunal" in listing
    assert "Aucune instance pour le moment" not in listing
    assert detail.status_code == 200
    assert "CMPP plus accessible" in detail.content.decode()
    for eps in Body.objects.filter(kind=BodyKind.EPS):
        assert client.get(reverse("governance:body", args=[eps.pk])).status_code == 404
