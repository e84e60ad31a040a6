"""The pathway page: who reaches it, what each person reads of it, and the journal of each reading."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from maillage import permissions as perms
from maillage.audit.models import AuditEvent
from maillage.pathways import services
from maillage.pathways.enums import ActionKind, Circle, ContactKind, Dimension, ReviewKind
from maillage.programmes.enums import Role
from tests.factories import MembershipFactory, programme_with_lists
from tests.www.pathways.conftest import (
    CHILD_NAME,
    GUARDIAN_NAME,
    PARTNERS_NOTE,
    SECRET_NOTE,
    TEAM_NOTE,
    TODAY,
    client_for,
    text_of,
)

pytestmark = pytest.mark.django_db

NAME, TEAM, SECRET, PARTNERS = "name", "team", "secret", "partners"

# who → what they read on the page (None: the page does not exist for them).
EXPECTED = {
    "coordinator": {NAME, TEAM, SECRET, PARTNERS},
    "referent": {NAME, TEAM, SECRET, PARTNERS},
    "other_referent": None,
    "teacher": {PARTNERS},  # case team, not bound by secrecy: pseudonym, practical information only
    "eps_teacher": {PARTNERS},  # EPS window, not bound by secrecy
    "eps_social_worker": {NAME, SECRET, PARTNERS},  # EPS window, bound, organisation covered by consent
    "eps_uncovered": {PARTNERS},  # EPS window, bound, but the consent does not cover the school
    "eps_past": None,  # the EPS window closed yesterday
}


def _get(user, pathway):
    return client_for(user).get(reverse("pathways:detail", args=[pathway.pk]))


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_each_person_reads_exactly_what_their_relation_to_the_pathway_allows(journey, who):
    response = _get(getattr(journey, who).user, journey.pathway)
    body = text_of(response)
    expected = EXPECTED[who]

    if expected is None:
        assert response.status_code == 404
        expected = set()
    else:
        assert response.status_code == 200
    assert (CHILD_NAME.upper() in body) == (NAME in expected)
    assert (GUARDIAN_NAME in body) == (NAME in expected and who != "eps_social_worker")  # EPS: no consents
    assert (TEAM_NOTE in body) == (TEAM in expected)
    assert (SECRET_NOTE in body) == (SECRET in expected)
    assert (PARTNERS_NOTE in body) == (PARTNERS in expected)


@pytest.mark.parametrize(
    "role", [Role.REFERRER, Role.PROVIDER, Role.STEERING, Role.MANAGER, Role.DPO, Role.NETWORK]
)
def test_roles_without_access_to_pathways_get_a_404_without_any_content(journey, role):
    user = MembershipFactory(programme=journey.programme, role=role).user

    response = _get(user, journey.pathway)

    assert response.status_code == 404
    for secret in (CHILD_NAME, PARTNERS_NOTE, journey.pathway.case_code):
        assert secret not in text_of(response)


def test_the_partner_who_referred_the_child_does_not_see_the_pathway(journey):
    from maillage.programmes.enums import ListKind
    from maillage.referrals.services import referral_submit

    referrer = MembershipFactory(programme=journey.programme, role=Role.REFERRER)
    items = journey.programme.list_items
    referral = referral_submit(
        programme=journey.programme,
        by=referrer.user,
        motifs=[items.filter(kind=ListKind.REFERRAL_MOTIF).first()],
        referrer_type=items.filter(kind=ListKind.REFERRER_TYPE).first(),
        child_first_name=journey.child.first_name,
        child_last_name=journey.child.last_name,
        child_birth_date=journey.child.birth_date,
        child_sex=journey.child.sex,
        guardian_name=GUARDIAN_NAME,
        family_informed=True,
    )
    type(journey.pathway).objects.filter(pk=journey.pathway.pk).update(referral=referral)

    response = _get(referrer.user, journey.pathway)

    assert response.status_code == 404
    assert PARTNERS_NOTE not in text_of(response)


def test_a_coordinator_of_another_programme_gets_a_404(journey):
    outsider = MembershipFactory(programme=programme_with_lists(), role=Role.COORDINATOR)

    response = _get(outsider.user, journey.pathway)

    assert response.status_code == 404
    assert CHILD_NAME not in text_of(response)


def test_a_coordinator_who_has_not_signed_the_charter_gets_the_charter_not_the_pathway(journey):
    unsigned = MembershipFactory(programme=journey.programme, role=Role.COORDINATOR, signed_charter=False)

    response = _get(unsigned.user, journey.pathway)

    assert response.status_code == 200
    # The charter gate answers instead: the charter and its sign button, never the file.
    assert "programmes/charter.html" in [t.name for t in response.templates]
    assert journey.pathway.case_code not in response.content.decode()


def test_a_teacher_in_the_case_team_loses_the_pathway_when_there_is_no_consent(journey):
    response = _get(journey.teacher.user, journey.unconsented)

    assert response.status_code == 404


def test_an_eps_teacher_in_the_window_sees_the_pseudonym_and_never_the_name(journey):
    body = text_of(_get(journey.eps_teacher.user, journey.pathway))

    assert perms.pseudonym(journey.pathway) in body
    assert f"Situation {journey.pathway.case_code} — fille" in body
    assert CHILD_NAME not in body and CHILD_NAME.upper() not in body
    assert "Philomène" not in body
    assert "forme pseudonymisée" in body
    assert reverse("people:child", args=[journey.child.pk]) not in body


def test_a_case_team_teacher_reads_the_consent_scope_without_the_parents_name(journey):
    body = text_of(_get(journey.teacher.user, journey.pathway))

    assert "titulaire de l'autorité parentale n° 1" in body
    assert "Service social départemental" in body  # the scope of the sharing
    assert GUARDIAN_NAME not in body


def test_each_item_shows_its_circle_as_a_badge(journey):
    body = text_of(_get(journey.referent.user, journey.pathway))

    for label in ("Équipe", "Secret partagé", "Partenaires"):
        assert f">{label}</span>" in body


def test_the_next_step_says_in_plain_french_what_it_needs(journey):
    body = text_of(_get(journey.referent.user, journey.pathway))

    # Diagnostic → active needs an objective (there is one) and a référent (there is one): ready;
    # diagnostic → EPS review is ready too.
    assert "Passer à « Parcours en cours »" in body
    assert "Passer à « Examen en EPS »" in body


def test_missing_requirements_are_listed_instead_of_the_button(journey):
    pathway = journey.unconsented

    body = text_of(_get(journey.referent.user, pathway))

    assert "Il faut l'accord écrit d'au moins un titulaire de l'autorité parentale, non retiré." in body
    assert "Il manque encore" in body


def test_people_who_cannot_edit_see_no_step_buttons(journey):
    body = text_of(_get(journey.eps_social_worker.user, journey.pathway))

    assert reverse("pathways:transition", args=[journey.pathway.pk]) not in body
    assert reverse("pathways:close", args=[journey.pathway.pk]) not in body
    assert reverse("pathways:team_add", args=[journey.pathway.pk]) not in body


def test_the_timeline_mixes_events_newest_first_and_only_what_the_reader_may_read(journey):
    services.contact_add(
        pathway=journey.pathway,
        by=journey.referent.user,
        kind=ContactKind.HOME_VISIT,
        occurred_on=TODAY,
        summary="Visite",
        circle=Circle.TEAM,
    )

    referent_timeline = _get(journey.referent.user, journey.pathway).context["timeline"]
    teacher_timeline = _get(journey.teacher.user, journey.pathway).context["timeline"]

    keys = [(e.day, e.at) for e in referent_timeline]
    assert keys == sorted(keys, reverse=True)
    kinds = {e.kind for e in referent_timeline}
    assert {"transition", "consent", "item", "plan", "referent"} <= kinds
    assert "Contact : Visite à domicile" in [e.title for e in referent_timeline]
    assert "Ouverture du parcours" in [e.title for e in referent_timeline]
    # The teacher reads only partners items: neither the team contact nor the team and secret notes.
    item_circles = {e.circle["label"] for e in teacher_timeline if e.circle}
    assert item_circles == {"Partenaires"}
    assert "Contact : Visite à domicile" not in [e.title for e in teacher_timeline]


def test_one_access_event_per_view_with_the_circles_shown_and_whether_the_name_was(journey):
    before = AuditEvent.objects.count()

    _get(journey.teacher.user, journey.pathway)

    events = AuditEvent.objects.filter(verb="pathway.viewed")
    assert AuditEvent.objects.count() == before + 1
    event = events.get()
    assert event.target_id == str(journey.pathway.pk)
    assert event.actor_id == journey.teacher.user.pk
    assert event.payload["circles"] == [Circle.PARTNERS]
    assert event.payload["identity"] is False


def test_the_coordinator_view_is_journaled_with_every_circle_and_the_name(journey):
    _get(journey.coordinator.user, journey.pathway)

    event = AuditEvent.objects.get(verb="pathway.viewed")
    assert event.payload == {"circles": ["partners", "secret", "team"], "identity": True}
    assert event.role == Role.COORDINATOR


def _add_items(pathway, user, count):
    for n in range(count):
        services.note_add(pathway=pathway, body=f"Note {n}", by=user, circle=Circle.TEAM)
        services.contact_add(
            pathway=pathway, by=user, kind=ContactKind.PHONE, occurred_on=TODAY, summary=f"Appel {n}"
        )
        objective = services.objective_add(
            pathway=pathway, dimension=Dimension.FAMILY, wording=f"Objectif {n}", by=user
        )
        services.plan_action_add(
            pathway=pathway, title=f"Action {n}", by=user, objective=objective, kind=ActionKind.INDIVIDUAL
        )
        ratings = {o.pk: ("partly", "") for o in pathway.objectives.all()}
        services.review_add(
            pathway=pathway, kind=ReviewKind.INTERMEDIATE, held_on=TODAY, by=user, ratings=ratings
        )
        services.diagnostic_section_save(
            pathway=pathway, dimension=Dimension.CULTURAL, by=user, difficulties=f"Section {n}"
        )


def _queries_of_detail(user, pathway) -> int:
    client = client_for(user)
    client.get(reverse("pathways:detail", args=[pathway.pk]))  # warm-up: one-off rows after a flush
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("pathways:detail", args=[pathway.pk])).status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_number_of_items(journey):
    pathway, user = journey.pathway, journey.referent.user
    _add_items(pathway, user, 1)
    few = _queries_of_detail(user, pathway)

    _add_items(pathway, user, 8)

    assert _queries_of_detail(user, pathway) == few


def test_a_closed_pathway_shows_its_exit_and_offers_reopening_to_the_coordinator(journey):
    reason = journey.programme.list_items.get(kind="exit_reason", code="perte_contact")
    services.pathway_close(
        pathway=journey.pathway,
        exit_reason=reason,
        closed_on=TODAY,
        by=journey.referent.user,
        relay_partner="CLAS du centre social",
    )

    coordinator_body = text_of(_get(journey.coordinator.user, journey.pathway))
    referent_body = text_of(_get(journey.referent.user, journey.pathway))

    assert "Perte de contact" in coordinator_body
    assert "CLAS du centre social" in coordinator_body
    assert reverse("pathways:reopen", args=[journey.pathway.pk]) in coordinator_body
    assert reverse("pathways:reopen", args=[journey.pathway.pk]) not in referent_body
    # After the exit the case team shrinks: the teacher loses the pathway.
    assert _get(journey.teacher.user, journey.pathway).status_code == 404


def test_an_overdue_review_is_flagged(journey):
    type(journey.pathway).objects.filter(pk=journey.pathway.pk).update(
        next_review_on=TODAY.replace(year=TODAY.year - 1)
    )

    assert "bilan en retard" in text_of(_get(journey.referent.user, journey.pathway))


def test_a_link_to_a_page_that_is_not_installed_is_empty_instead_of_an_error():
    from maillage.www.pathways.links import optional_url

    assert optional_url("followup:page_qui_nexiste_pas", 1) == ""
    assert optional_url("pathways:detail", 1) == reverse("pathways:detail", args=[1])


def test_follow_up_links_are_offered_only_to_those_who_may_write(journey):
    from maillage.www.pathways.links import pathway_links

    referent_links = _get(journey.referent.user, journey.pathway).context["links"]
    eps_links = _get(journey.eps_social_worker.user, journey.pathway).context["links"]

    assert not any(eps_links.values())  # sees the name and the plan, but acts on nothing
    # What the referent is offered is what is installed: a link is either a real URL or empty.
    assert referent_links == pathway_links(
        journey.pathway, edit=True, write_items=True, manage_consents=True, identity=True
    )
    urls = [url for name, url in referent_links.items() if name != "documents"]
    assert all(url == "" or url.startswith(f"/parcours/{journey.pathway.pk}/") for url in urls)


def test_every_pathway_page_is_classified_for_the_journal_of_reads():
    from maillage.audit.access import SENSITIVE
    from maillage.www.pathways import urls

    for pattern in urls.urlpatterns:
        assert getattr(pattern.callback, "sensitivity", None) == SENSITIVE, pattern.name
