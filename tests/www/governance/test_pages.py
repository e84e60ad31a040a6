"""The partnership's pages: EPS agendas pseudonymised, decisions, minutes, mission sheets, memento."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from maillage.governance import services
from maillage.governance.enums import BodyKind
from maillage.governance.models import Meeting, Notification
from maillage.pathways.enums import PathwayState
from maillage.programmes.enums import Role
from tests.factories import MembershipFactory, programme_with_lists
from tests.governance.helpers import (
    child_named,
    committee,
    committee_meeting,
    eps_body,
    eps_pathway,
    eps_world,
    held,
    mission_sheet,
)

pytestmark = pytest.mark.django_db


def client_for(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.fixture
def programme():
    return programme_with_lists()


@pytest.fixture
def world(programme):
    return eps_world(programme)


def test_the_coordinator_schedules_an_eps_meeting_with_its_access_window(programme):
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    body = eps_body(programme, members=[coordinator])
    starts = (timezone.localtime() + datetime.timedelta(days=10)).replace(second=0, microsecond=0)

    response = client_for(coordinator).post(
        reverse("governance:meeting_schedule", args=[body.pk]),
        {
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 120,
            "place": "École Jean Jaurès",
            "video_link": "",
            "agenda": "",
            "publish": "on",
        },
    )

    meeting = Meeting.objects.get(body=body)
    assert response.status_code == 302
    assert meeting.agenda_published_at is not None
    assert meeting.access_ends_at == meeting.starts_at + datetime.timedelta(days=30)


def test_the_eps_agenda_shows_a_teacher_the_pseudonym_only(world):
    pathway = world["pathway"]

    page = client_for(world["teacher"]).get(reverse("governance:meeting", args=[world["meeting"].pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert f"Situation {pathway.case_code}" in text
    assert pathway.child.last_name.upper() not in text
    assert pathway.child.last_name not in text


def test_the_eps_agenda_names_the_child_to_a_bound_member_during_the_window_only(world):
    pathway, meeting = world["pathway"], world["meeting"]
    client = client_for(world["bound"])

    during = client.get(reverse("governance:meeting", args=[meeting.pk])).content.decode()
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=timezone.now() - datetime.timedelta(days=40),
        access_ends_at=timezone.now() - datetime.timedelta(days=10),
    )
    after = client.get(reverse("governance:meeting", args=[meeting.pk])).content.decode()

    assert pathway.child.last_name.upper() in during
    assert pathway.child.last_name.upper() not in after
    assert f"Situation {pathway.case_code}" in after


def test_eps_meetings_are_closed_to_roles_outside_the_eps(world, programme):
    steering = MembershipFactory(programme=programme, role=Role.STEERING)
    outsider = MembershipFactory(programme=programme, role=Role.EPS_MEMBER)  # sits in no EPS

    for membership in (steering, outsider):
        response = client_for(membership).get(reverse("governance:meeting", args=[world["meeting"].pk]))
        assert response.status_code == 404


def test_a_referent_puts_their_situation_on_the_agenda(programme):
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    referent = MembershipFactory(programme=programme, role=Role.REFERENT)
    pathway = eps_pathway(programme, coordinator=coordinator.user, referent=referent.user)
    other = eps_pathway(programme, coordinator=coordinator.user)
    meeting = services.meeting_schedule(
        body=eps_body(programme),
        starts_at=timezone.now() + datetime.timedelta(days=5),
        by=coordinator.user,
        publish=True,
    )
    client = client_for(referent)
    url = reverse("governance:situation_add", args=[meeting.pk])

    form = client.get(url).content.decode()
    refused = client.post(url, {"pathway": other.pk})
    response = client.post(url, {"pathway": pathway.pk})

    assert pathway.case_code in form and other.case_code not in form
    assert refused.status_code == 200  # not a choice of theirs: the form says so
    assert response.status_code == 302
    assert list(meeting.agenda_items.values_list("pathway", flat=True)) == [pathway.pk]


def test_recording_a_decision_moves_the_pathway_and_shows_on_its_page(world):
    coordinator, pathway = world["coordinator"], world["pathway"]
    held(world["meeting"])  # the EPS has met
    client = client_for(coordinator)

    response = client.post(
        reverse("governance:decision", args=[world["item"].pk]),
        {
            "text": "Accompagnement à la scolarité",
            "who_does_what": "La référente appelle le club",
            "move_to_active": "on",
        },
    )
    page = client.get(reverse("pathways:detail", args=[pathway.pk])).content.decode()

    assert response.status_code == 302
    pathway.refresh_from_db()
    assert pathway.state == PathwayState.ACTIVE
    assert "Accompagnement à la scolarité" in page
    assert "Décision de l&#x27;EPS Nord" in page or "Décision de l'EPS Nord" in page


def test_a_decision_form_for_a_teacher_is_forbidden(world):
    response = client_for(world["teacher"]).get(reverse("governance:decision", args=[world["item"].pk]))

    assert response.status_code == 403


def test_minutes_with_a_childs_name_are_refused_on_the_page(programme):
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    child_named(programme, "Maëlys", "Fontaine")
    meeting = committee_meeting(committee(programme), by=coordinator.user)

    response = client_for(coordinator).post(
        reverse("governance:minutes", args=[meeting.pk]), {"minutes": "Suivi de Maëlys Fontaine."}
    )

    assert response.status_code == 200
    assert "Maëlys Fontaine" in response.content.decode()
    assert "non nominatif" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.minutes == ""


def test_the_pathway_page_says_what_changed_since_the_last_visit(world):
    coordinator, pathway = world["coordinator"], world["pathway"]
    client = client_for(coordinator)
    client.get(reverse("pathways:detail", args=[pathway.pk]))  # first visit
    other = MembershipFactory(programme=pathway.programme, role=Role.COORDINATOR).user
    services.decision_record(item=world["item"], text="Bilan dans un mois", by=other)

    page = client.get(reverse("pathways:detail", args=[pathway.pk])).content.decode()
    again = client.get(reverse("pathways:detail", args=[pathway.pk])).content.decode()

    assert "Depuis votre dernière visite" in page
    assert "Décision de l&#x27;EPS Nord" in page
    assert "Rien de nouveau" in again


def test_the_bell_counts_unread_notifications(programme):
    member = MembershipFactory(programme=programme, role=Role.REFERENT)
    services.notify(users=[member.user], verb="test.notified", message="Ordre du jour publié")
    client = client_for(member)

    home = client.get(reverse("governance:notifications")).content.decode()
    client.post(reverse("governance:notifications_read"))

    assert "1 notification non lue" in home
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_the_bodies_page_warns_about_the_rhythm_in_constant_queries(programme):
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    client = client_for(coordinator)
    committee(programme)

    def count():
        client.get(reverse("governance:bodies"))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("governance:bodies"))
        return len(queries), response.content.decode()

    few, text = count()
    for index in range(6):
        body = committee(programme, kind=BodyKind.TECHNICAL_COMMITTEE, name=f"Comité {index}")
        committee_meeting(body, by=coordinator.user)
    many, _text = count()

    assert "Seulement 0 réunion" in text
    assert few == many


def test_a_mission_sheet_shows_the_difference_between_versions(programme):
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    sheet = mission_sheet(programme, by=coordinator.user)

    page = client_for(coordinator).get(reverse("governance:mission_sheet", args=[sheet.pk])).content.decode()

    assert "<ins>+Prépare les EPS.</ins>" in page
    assert "Version 2" in page


def test_the_memento_page_and_booklet_are_open_to_members_but_not_to_the_network(programme):
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    services.memento_page_save(
        programme=programme,
        title="Accueil",
        slug="accueil",
        body="Bienvenue <script>x()</script>",
        by=coordinator.user,
    )
    network = MembershipFactory(programme=programme, role=Role.NETWORK)

    page = client_for(coordinator).get(reverse("governance:memento"))
    pdf = client_for(coordinator).get(reverse("governance:memento_pdf"))

    assert "Bienvenue" in page.content.decode()
    assert "<script>x()" not in page.content.decode()
    assert pdf["Content-Type"] == "application/pdf"
    assert client_for(network).get(reverse("governance:memento")).status_code == 404


# --- the partner directory ---------------------------------------------------------------------------


def test_the_directory_finds_a_partner_by_its_services_and_shows_secrecy_and_signatures(programme):
    from tests.factories import OrganisationFactory

    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    club = OrganisationFactory(programme=programme, name="Club de judo", services="Judo et aide aux devoirs")
    OrganisationFactory(programme=programme, name="Bibliothèque", services="Prêt de livres")
    MembershipFactory(programme=programme, role=Role.PROVIDER, organisation=club, bound_by_secrecy=False)
    MembershipFactory(programme=programme, role=Role.EPS_MEMBER, organisation=club, bound_by_secrecy=True)
    body = eps_body(programme)
    body.members.create(membership=club.memberships.filter(role=Role.EPS_MEMBER).get())
    client = client_for(coordinator)

    found = client.get(reverse("programmes:organisations"), {"q": "devoirs"}).content.decode()
    detail = client.get(reverse("programmes:organisation", args=[club.pk])).content.decode()

    assert "Club de judo" in found and "Bibliothèque" not in found
    assert "Soumis au secret" in found and "Charte signée" in found
    assert "Actions proposées" in detail
    assert "EPS Nord" in detail  # the bodies its members sit in


def test_the_coordinator_creates_a_body_at_the_network_level(programme):
    from maillage.governance.models import Body
    from maillage.programmes.models import NetworkLevel

    level = NetworkLevel.objects.create(
        name="GIP de l'agglomération", kind=NetworkLevel._meta.get_field("kind").choices[0][0]
    )
    programme.network_level = level
    programme.save()
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)

    response = client_for(coordinator).post(
        reverse("governance:body_create"),
        {
            "name": "Comité intercommunal",
            "kind": BodyKind.STEERING_COMMITTEE,
            "meetings_per_year": 2,
            "level": level.pk,
        },
    )

    assert response.status_code == 302
    assert Body.objects.get(name="Comité intercommunal").level == level


def test_a_steering_member_cannot_create_a_body(programme):
    steering = MembershipFactory(programme=programme, role=Role.STEERING)

    assert client_for(steering).get(reverse("governance:body_create")).status_code == 403
