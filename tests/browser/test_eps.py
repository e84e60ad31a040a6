"""An EPS meeting in Chromium (issue 7): the coordinator schedules it, two référents put their
situations on the agenda, a teacher (not bound by secrecy) sees pseudonyms only, a social worker bound
by secrecy sees names during the access window and not after it, the coordinator records the decisions,
and each pathway's history shows them as the pathway moves to « Parcours en cours ». axe runs on every page.
"""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from maillage.governance.enums import BodyKind
from maillage.governance.models import Body, BodyMember, Meeting
from maillage.pathways.enums import PathwayState
from maillage.pathways.models import Pathway
from maillage.programmes.enums import OrganisationKind, Role
from tests.browser.helpers import (
    assert_no_csp_violation,
    assert_no_page_error,
    axe_check,
    force_login,
    menu_link,
)
from tests.factories import (
    ChildFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    programme_with_lists,
)
from tests.governance.helpers import eps_pathway

# Synthetic children: nobody real.
CHILDREN = [("Maëlys", "Fontaine"), ("Yanis", "Berthelot")]
DECISIONS = [
    ("Accompagnement à la scolarité deux soirs par semaine", "La référente inscrit Maëlys au CLAS"),
    ("Orientation vers le club de judo du quartier", "Le référent fait la demande de licence"),
]


@pytest.fixture
def eps(transactional_db):
    programme = programme_with_lists(name="PRE de Villeneuve-sur-Lot")
    ccas = OrganisationFactory(programme=programme, name="CCAS", kind=OrganisationKind.CCAS)
    social = OrganisationFactory(
        programme=programme, name="Maison des solidarités", kind=OrganisationKind.CD_SOCIAL
    )
    school = OrganisationFactory(programme=programme, name="École Paul Bert", kind=OrganisationKind.SCHOOL)

    def member(role, first, last, organisation, bound):
        user = UserFactory(first_name=first, last_name=last)
        return MembershipFactory(
            programme=programme, role=role, user=user, organisation=organisation, bound_by_secrecy=bound
        )

    coordinator = member(Role.COORDINATOR, "Nadia", "Lefebvre", ccas, True)
    referents = [
        member(Role.REFERENT, "Julien", "Marchand", ccas, True),
        member(Role.REFERENT, "Sofia", "Haddad", ccas, True),
    ]
    teacher = member(Role.EPS_MEMBER, "Claire", "Dubois", school, False)
    social_worker = member(Role.EPS_MEMBER, "Hélène", "Roussel", social, True)
    body = Body.objects.create(programme=programme, kind=BodyKind.EPS, name="EPS Nord", meetings_per_year=10)
    for membership in (coordinator, teacher, social_worker, *referents):
        BodyMember.objects.create(body=body, membership=membership)
    pathways = [
        eps_pathway(
            programme,
            coordinator=coordinator.user,
            referent=referent.user,
            organisation=social,
            child=ChildFactory(programme=programme, first_name=first, last_name=last),
        )
        for referent, (first, last) in zip(referents, CHILDREN, strict=True)
    ]
    return {
        "programme": programme,
        "coordinator": coordinator,
        "referents": referents,
        "teacher": teacher,
        "social_worker": social_worker,
        "body": body,
        "pathways": pathways,
    }


# --- page helpers ----------------------------------------------------------------------------------


def follow(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def arrive(page, heading) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    axe_check(page)
    assert_no_csp_violation(page)
    assert_no_page_error(page)


def expect_message(page, text: str) -> None:
    message = page.get_by_role("status").filter(has_text=text)
    errors = page.get_by_role("alert")
    expect(message.or_(errors).first).to_be_visible()
    if errors.count():
        pytest.fail(f"Expected « {text} » on {page.url}, the page says: {errors.all_inner_texts()}")


def field(scope, label: str):
    return scope.get_by_label(re.compile(rf"^\s*{re.escape(label)}"))


def tick(control) -> None:
    if not control.is_checked():
        control.page.locator(f"label[for='{control.get_attribute('id')}']").click()
    expect(control).to_be_checked()


def become(page, live_server, membership) -> None:
    page.context.clear_cookies()
    force_login(page, live_server, membership.user)


def names(pathway) -> list[str]:
    child = pathway.child
    return [child.last_name, child.last_name.upper(), child.first_name]


# --- the meeting -------------------------------------------------------------------------------------


def coordinator_schedules_the_meeting(page, live_server, eps) -> str:
    become(page, live_server, eps["coordinator"])
    page.goto(live_server.url + reverse("home"))
    follow(page, menu_link(page, "Instances"))
    arrive(page, "Instances du partenariat")
    follow(page, page.get_by_role("link", name="EPS Nord"))
    arrive(page, "EPS Nord")
    follow(page, page.get_by_role("link", name="Programmer une réunion"))
    arrive(page, "Programmer une réunion")
    starts = timezone.localtime() + datetime.timedelta(days=7)
    field(page, "Date et heure").fill(starts.strftime("%Y-%m-%dT14:00"))
    field(page, "Lieu").fill("École Paul Bert, salle polyvalente")
    tick(page.get_by_role("checkbox", name=re.compile(r"^Publier l'ordre du jour")))
    follow(page, page.get_by_role("button", name="Programmer la réunion"))
    expect_message(page, "La réunion est programmée.")
    arrive(page, "EPS Nord")
    meeting = Meeting.objects.get(body=eps["body"])
    assert meeting.agenda_published_at is not None
    assert meeting.access_ends_at == meeting.starts_at + datetime.timedelta(days=30)
    return page.url


def referent_adds_their_situation(page, live_server, referent, pathway, meeting_url) -> None:
    become(page, live_server, referent)
    page.goto(meeting_url)
    arrive(page, "EPS Nord")
    follow(page, page.get_by_role("link", name="Inscrire une situation"))
    arrive(page, "Inscrire une situation")
    select = field(page, "Situation")
    expect(select.locator("option").first).to_have_text("Choisir une situation")  # nothing preselected
    expect(select.locator("option:not([value=''])")).to_have_count(1)  # their own situation only
    child = pathway.child
    select.select_option(label=f"{child.first_name} {child.last_name.upper()} — {pathway.case_code}")
    follow(page, page.get_by_role("button", name="Inscrire à l'ordre du jour"))
    expect_message(page, "La situation est inscrite")


def member_reads_the_agenda(page, live_server, membership, meeting_url):
    become(page, live_server, membership)
    page.goto(meeting_url)
    arrive(page, "EPS Nord")
    return page.locator("#agenda-items").inner_text()


def coordinator_records_the_decisions(page, live_server, eps, meeting_url) -> None:
    become(page, live_server, eps["coordinator"])
    for pathway, (text, who) in zip(eps["pathways"], DECISIONS, strict=True):
        page.goto(meeting_url)
        arrive(page, "EPS Nord")
        follow(
            page, page.get_by_role("link", name=re.compile(rf"^Relevé de décision — .*{pathway.case_code}"))
        )
        arrive(page, "Relevé de décisions")
        field(page, "Décision").fill(text)
        field(page, "Qui fait quoi").fill(who)
        tick(page.get_by_role("checkbox", name=re.compile(r"^Le parcours passe à l'étape")))
        follow(page, page.get_by_role("button", name="Enregistrer la décision"))
        expect_message(page, "La décision est enregistrée.")
        expect(page.locator("#agenda-items")).to_contain_text(text)


def test_an_eps_meeting_from_scheduling_to_decisions(page, live_server, eps):
    meeting_url = coordinator_schedules_the_meeting(page, live_server, eps)
    for referent, pathway in zip(eps["referents"], eps["pathways"], strict=True):
        referent_adds_their_situation(page, live_server, referent, pathway, meeting_url)
    meeting = Meeting.objects.get(body=eps["body"])
    assert meeting.agenda_items.filter(pathway__isnull=False).count() == 2

    # The teacher, not bound by secrecy, sees the situations pseudonymised.
    agenda = member_reads_the_agenda(page, live_server, eps["teacher"], meeting_url)
    for pathway in eps["pathways"]:
        assert f"Situation {pathway.case_code}" in agenda
        assert not any(name in agenda for name in names(pathway))
    # The social worker, bound by secrecy and covered by the families' consent, sees names during the window.
    agenda = member_reads_the_agenda(page, live_server, eps["social_worker"], meeting_url)
    for pathway in eps["pathways"]:
        assert pathway.child.last_name.upper() in agenda
    # After the window, the names are gone for her too.
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=timezone.now() - datetime.timedelta(days=31),
        access_ends_at=timezone.now() - datetime.timedelta(days=1),
    )
    agenda = member_reads_the_agenda(page, live_server, eps["social_worker"], meeting_url)
    for pathway in eps["pathways"]:
        assert f"Situation {pathway.case_code}" in agenda
        assert not any(name in agenda for name in names(pathway))

    coordinator_records_the_decisions(page, live_server, eps, meeting_url)

    for pathway, (text, _who) in zip(eps["pathways"], DECISIONS, strict=True):
        page.goto(live_server.url + reverse("pathways:detail", args=[pathway.pk]))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        axe_check(page)
        history = page.locator("#historique")
        expect(history).to_contain_text("Étape « Parcours en cours »")
        expect(history).to_contain_text("Décision de l'EPS Nord")
        expect(page.locator("#decisions-eps")).to_contain_text(text)
        assert Pathway.objects.get(pk=pathway.pk).state == PathwayState.ACTIVE
