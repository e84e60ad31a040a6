import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from maillage.offers import services
from maillage.offers.enums import AlertState
from maillage.offers.models import Attendance, BreachAlert, Enrolment, FundRequest, InterventionTask, Offer
from maillage.pathways.models import CaseTeamMember, PlanAction
from maillage.programmes.enums import OrganisationKind, Role
from tests.factories import MembershipFactory, OrganisationFactory
from tests.offers.helpers import (
    SMALL_PDF,
    active_pathway,
    alert_in,
    contract_in,
    enrolled_child,
    fund_request_in,
    funding_line,
    session_on,
    world,
)

pytestmark = pytest.mark.django_db


def _roster(w, size):
    pathways = [enrolled_child(w)[0] for _ in range(size)]
    return pathways, session_on(w["group"], timezone.localdate())


def test_the_catalogue_shows_places_left_and_filters_by_kind(client):
    w = world(capacity=3)
    enrolled_child(w)
    Offer.objects.create(
        programme=w["programme"], title="Orthophonie", kind="individual", dimensions=["psychological"]
    )
    client.force_login(w["coordinator"].user)
    page = client.get(reverse("offers:catalogue")).content.decode()
    assert "Atelier théâtre" in page and "Orthophonie" in page
    assert "2 places libres" in page
    only = client.get(reverse("offers:catalogue"), {"kind": "individual"}).content.decode()
    assert "Orthophonie" in only and "Atelier théâtre" not in only


def test_the_provider_sees_their_group_roster_with_first_name_initial_and_age_only(client):
    w = world()
    pathways, _session = _roster(w, 2)
    client.force_login(w["provider"].user)
    page = client.get(reverse("offers:group", args=[w["group"].pk])).content.decode()
    child = pathways[0].child
    assert f"{child.first_name} {child.last_name[0]}." in page
    assert child.last_name not in page
    assert pathways[0].case_code not in page


def test_a_provider_never_sees_another_organisations_group(client):
    w = world()
    _roster(w, 1)
    other = OrganisationFactory(programme=w["programme"])
    stranger = MembershipFactory(programme=w["programme"], role=Role.PROVIDER, organisation=other)
    client.force_login(stranger.user)
    assert client.get(reverse("offers:group", args=[w["group"].pk])).status_code == 404
    session = w["group"].sessions.get()
    assert client.get(reverse("offers:rollcall", args=[session.pk])).status_code == 404


def test_a_provider_named_on_a_group_sees_it(client):
    w = world()
    _roster(w, 1)
    named = MembershipFactory(
        programme=w["programme"],
        role=Role.PROVIDER,
        organisation=OrganisationFactory(programme=w["programme"]),
    )
    w["group"].facilitators.add(named)
    client.force_login(named.user)
    assert client.get(reverse("offers:group", args=[w["group"].pk])).status_code == 200


def test_the_roll_call_saves_the_whole_group_in_one_post(client):
    w = world()
    pathways, session = _roster(w, 3)
    client.force_login(w["provider"].user)
    page = client.get(reverse("offers:rollcall", args=[session.pk]))
    assert page.status_code == 200
    rows = list(Enrolment.objects.filter(group=w["group"]).order_by("pk"))
    data = {f"p{rows[0].pk}": "present", f"p{rows[1].pk}": "excused", f"p{rows[2].pk}": "unexcused"}
    response = client.post(reverse("offers:rollcall", args=[session.pk]), data)
    assert response.status_code == 302
    assert dict(Attendance.objects.values_list("enrolment_id", "status")) == {
        rows[0].pk: "present",
        rows[1].pk: "excused",
        rows[2].pk: "unexcused",
    }


def test_the_roll_call_asks_again_for_people_left_unmarked(client):
    w = world()
    _pathways, session = _roster(w, 2)
    client.force_login(w["provider"].user)
    first = Enrolment.objects.filter(group=w["group"]).first()
    response = client.post(reverse("offers:rollcall", args=[session.pk]), {f"p{first.pk}": "present"})
    assert response.status_code == 200
    assert "Indiquez la présence de 1 personne" in response.content.decode()
    assert not Attendance.objects.exists()


def _rollcall_post_queries(client, size) -> int:
    w = world()
    _pathways, session = _roster(w, size)
    client.force_login(w["provider"].user)
    data = {f"p{e.pk}": "present" for e in Enrolment.objects.filter(group=w["group"])}
    url = reverse("offers:rollcall", args=[session.pk])
    client.get(url)  # warm up (session, charter, caches)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data)
    assert response.status_code == 302
    return len(queries)


def test_saving_the_roll_call_of_30_people_runs_as_many_queries_as_for_3(client):
    assert _rollcall_post_queries(client, 30) == _rollcall_post_queries(client, 3)


def test_adding_a_collective_action_from_the_catalogue_enrols_the_child_and_shows_attendance_on_the_pathway(
    client,
):
    w = world()
    pathway = active_pathway(w["programme"], w["coordinator"].user)
    client.force_login(w["coordinator"].user)
    url = reverse("offers:plan_add", args=[pathway.pk])
    assert "place" in client.get(url).content.decode()
    response = client.post(url, {"offer": w["offer"].pk, "group": w["group"].pk})
    assert response.status_code == 302
    action = PlanAction.objects.get(pathway=pathway)
    enrolment = Enrolment.objects.get(child=pathway.child)
    assert action.offer == w["offer"] and enrolment.plan_action == action
    session = session_on(w["group"], timezone.localdate())
    services.attendance_save(session=session, statuses={enrolment.pk: "present"}, by=w["provider"].user)
    page = client.get(reverse("pathways:detail", args=[pathway.pk])).content.decode()
    assert "Atelier théâtre : Présent·e" in page
    assert "Présence : 1 séance(s) sur 1" in page


def test_a_contract_is_printed_as_a_pdf_naming_the_commitments(client):
    w = world()
    contract = contract_in(w["programme"], by=w["coordinator"].user)
    client.force_login(w["coordinator"].user)
    response = client.get(reverse("offers:contract_pdf", args=[contract.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Trouver un club de judo" in text and contract.pathway.child.last_name in text
    assert contract.pathway.child.last_name not in response["Content-Disposition"]


def test_the_referent_escalates_an_alert_to_a_social_worker_of_the_case_team(client):
    w = world()
    alert = alert_in(w["programme"], by=w["coordinator"].user)
    organisation = OrganisationFactory(programme=w["programme"], kind=OrganisationKind.CCAS)
    worker = MembershipFactory(programme=w["programme"], role=Role.EPS_MEMBER, organisation=organisation)
    CaseTeamMember.objects.create(
        pathway=alert.pathway, membership=worker, reason="AS", added_by=w["coordinator"].user
    )
    client.force_login(w["coordinator"].user)
    response = client.post(
        reverse("offers:alert", args=[alert.pk]),
        {"action": "escalate", "e-assignee": worker.pk, "e-instructions": "Visite à domicile"},
    )
    assert response.status_code == 302
    assert BreachAlert.objects.get().state == AlertState.ESCALATED
    task = InterventionTask.objects.get()
    client.force_login(worker.user)
    response = client.post(
        reverse("offers:task", args=[task.pk]), {"outcome": "recommitted", "outcome_note": ""}
    )
    assert response.status_code == 302
    assert BreachAlert.objects.get().state == AlertState.RESOLVED


def test_the_home_dashboard_counts_alerts_by_state(client):
    w = world()
    alert_in(w["programme"], by=w["coordinator"].user)
    client.force_login(w["coordinator"].user)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="offers-dashboard"' in page and "<strong>1</strong>" in page


def test_a_referent_requests_the_fund_with_an_invoice_and_the_coordinator_decides(client):
    w = world()
    referent = MembershipFactory(programme=w["programme"], role=Role.REFERENT)
    pathway = active_pathway(w["programme"], w["coordinator"].user, referent=referent.user)
    line = funding_line(w["programme"])
    client.force_login(referent.user)
    response = client.post(
        reverse("offers:fund_request_create", args=[pathway.pk]),
        {
            "purpose": "sports_licence",
            "amount": "85,00",
            "payee": "Judo club",
            "funding_line": line.pk,
            "invoice": SimpleUploadedFile("facture.pdf", SMALL_PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    fund_request = FundRequest.objects.get()
    assert fund_request.amount == Decimal("85.00") and fund_request.invoice
    # The référent cannot decide.
    assert (
        client.post(
            reverse("offers:fund_request", args=[fund_request.pk]), {"decision": "approve"}
        ).status_code
        == 403
    )
    client.force_login(w["coordinator"].user)
    response = client.post(
        reverse("offers:fund_request", args=[fund_request.pk]), {"decision": "refuse", "reason": ""}
    )
    assert response.status_code == 200 and FundRequest.objects.get().state == "requested"
    client.post(reverse("offers:fund_request", args=[fund_request.pk]), {"decision": "approve"})
    assert FundRequest.objects.get().state == "approved"
    page = client.get(reverse("offers:fund")).content.decode()
    assert "85,00 €" in page or "85.00 €" in page


def test_a_fake_invoice_is_refused(client):
    w = world()
    pathway = active_pathway(w["programme"], w["coordinator"].user)
    line = funding_line(w["programme"])
    client.force_login(w["coordinator"].user)
    response = client.post(
        reverse("offers:fund_request_create", args=[pathway.pk]),
        {
            "purpose": "care",
            "amount": "10",
            "payee": "X",
            "funding_line": line.pk,
            "invoice": SimpleUploadedFile("facture.pdf", b"MZ not a pdf", content_type="application/pdf"),
        },
    )
    assert response.status_code == 200 and not FundRequest.objects.exists()


def test_a_referent_outside_the_case_team_sees_no_fund_request_nor_contract(client):
    w = world()
    row = fund_request_in(w["programme"], by=w["coordinator"].user)
    contract = contract_in(w["programme"], by=w["coordinator"].user)
    outsider = MembershipFactory(programme=w["programme"], role=Role.REFERENT)
    client.force_login(outsider.user)
    assert client.get(reverse("offers:fund_request", args=[row.pk])).status_code == 404
    assert client.get(reverse("offers:contract", args=[contract.pk])).status_code == 404


def test_collective_only_participants_are_enrolled_from_the_group_page_and_get_no_child_page(client):
    w = world(capacity=1)
    client.force_login(w["coordinator"].user)
    url = reverse("offers:group", args=[w["group"].pk])
    for name in ("Lina", "Noé"):
        client.post(
            url,
            {"action": "enrol", "b-first_name": name, "b-initial": "k", "b-age_band": "6-10", "b-sex": "F"},
        )
    statuses = dict(Enrolment.objects.values_list("beneficiary__first_name", "status"))
    assert statuses == {"Lina": "enrolled", "Noé": "waiting"}
    from maillage.people.models import Child

    assert not Child.objects.filter(first_name__in=["Lina", "Noé"]).exists()


def test_the_catalogue_lists_in_constant_queries(client):
    w = world()
    client.force_login(w["coordinator"].user)

    def measure(extra):
        for i in range(extra):
            Offer.objects.create(programme=w["programme"], title=f"Action {i} {extra}", kind="collective")
        client.get(reverse("offers:catalogue"))
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("offers:catalogue"))
        return len(queries)

    assert measure(2) == measure(20)


def test_today_sessions_are_offered_on_my_groups(client):
    w = world()
    session = session_on(w["group"], timezone.localdate(), hour=10)
    session_on(w["group"], timezone.localdate() + datetime.timedelta(days=7))
    client.force_login(w["provider"].user)
    page = client.get(reverse("offers:groups")).content.decode()
    assert reverse("offers:rollcall", args=[session.pk]) in page


def test_the_coordinator_creates_an_action_and_a_group_with_a_term_of_weekly_sessions(client):
    w = world()
    client.force_login(w["coordinator"].user)
    line = funding_line(w["programme"])
    response = client.post(
        reverse("offers:offer_create"),
        {
            "title": "Atelier cirque",
            "kind": "collective",
            "dimensions": ["cultural", "sport_leisure"],
            "provider": w["organisation"].pk,
            "capacity": "12",
            "schedule": "mercredi 14 h",
            "unit_cost": "80",
            "funding_line": line.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    offer = Offer.objects.get(title="Atelier cirque")
    assert offer.dimensions == ["cultural", "sport_leisure"] and offer.funding_line == line
    today = timezone.localdate()
    response = client.post(
        reverse("offers:group_create", args=[offer.pk]),
        {
            "name": "Cirque — automne",
            "starts_on": today.isoformat(),
            "ends_on": (today + datetime.timedelta(days=27)).isoformat(),
            "weekday": str(today.weekday()),
            "start_time": "14:00",
            "duration_minutes": "90",
        },
    )
    assert response.status_code == 302
    group = offer.groups.get()
    assert group.sessions.count() == 4
    assert group.sessions.first().starts_at.date() == today


def test_only_the_coordinator_edits_the_catalogue(client):
    w = world()
    referent = MembershipFactory(programme=w["programme"], role=Role.REFERENT)
    client.force_login(referent.user)
    assert client.get(reverse("offers:offer", args=[w["offer"].pk])).status_code == 200
    assert client.get(reverse("offers:offer_edit", args=[w["offer"].pk])).status_code == 403
    assert client.get(reverse("offers:offer_create")).status_code == 403
    client.force_login(w["provider"].user)
    assert client.get(reverse("offers:offer_edit", args=[w["offer"].pk])).status_code == 403


def test_a_referrer_has_no_catalogue(client):
    w = world()
    referrer = MembershipFactory(programme=w["programme"], role=Role.REFERRER)
    client.force_login(referrer.user)
    assert client.get(reverse("offers:offer", args=[w["offer"].pk])).status_code == 404
    assert "Atelier théâtre" not in client.get(reverse("offers:catalogue")).content.decode()


def test_the_provider_menu_offers_my_groups_and_the_coordinator_actions_and_the_fund(client):
    w = world()
    client.force_login(w["provider"].user)
    page = client.get(reverse("home")).content.decode()
    assert reverse("offers:groups") in page and reverse("offers:fund") not in page
    client.force_login(w["coordinator"].user)
    page = client.get(reverse("home")).content.decode()
    assert reverse("offers:catalogue") in page and reverse("offers:fund") in page


def test_the_referent_enrols_a_parent_whom_the_provider_sees_by_first_name_and_initial(client):
    w = world()
    pathway = active_pathway(w["programme"], w["coordinator"].user)
    guardian = pathway.child.household.guardians.get()
    client.force_login(w["coordinator"].user)
    url = reverse("offers:parent_enrol", args=[pathway.pk])
    assert guardian.last_name in client.get(url).content.decode()
    response = client.post(url, {"group": w["group"].pk, "guardians": [guardian.pk]})
    assert response.status_code == 302
    enrolment = Enrolment.objects.get(guardian=guardian)
    assert enrolment.group == w["group"] and not Enrolment.objects.filter(child=pathway.child).exists()
    client.force_login(w["provider"].user)
    page = client.get(reverse("offers:group", args=[w["group"].pk])).content.decode()
    assert f"{guardian.first_name} {guardian.last_name[0]}." in page and guardian.last_name not in page
