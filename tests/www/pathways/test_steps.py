"""The steps of a pathway from its page: transitions, référent, case team, exit and reopening."""

import datetime

import pytest
from django.urls import reverse

from maillage.audit.models import AuditEvent
from maillage.pathways import services
from maillage.pathways.enums import PathwayState, ReviewKind
from maillage.pathways.models import CaseTeamMember, Pathway, ReferentAssignment
from maillage.programmes.enums import ListKind, Role
from tests.factories import MembershipFactory
from tests.www.pathways.conftest import CHILD_NAME, TODAY, client_for, consent_for, text_of

pytestmark = pytest.mark.django_db


def url(name, pathway, *args):
    return reverse(f"pathways:{name}", args=[pathway.pk, *args])


def fresh(pathway) -> Pathway:
    return Pathway.objects.get(pk=pathway.pk)


def exit_reason(programme, code):
    return programme.list_items.get(kind=ListKind.EXIT_REASON, code=code)


# --- transitions ---------------------------------------------------------------------------------


def test_a_transition_the_guards_refuse_is_explained_on_the_page_and_changes_nothing(journey):
    pathway = journey.unconsented  # no consent yet
    client = client_for(journey.referent.user)

    response = client.post(
        url("transition", pathway), {"to_state": PathwayState.DIAGNOSTIC, "version": pathway.version}
    )

    assert response.status_code == 200
    assert "Il faut l'accord écrit d'au moins un titulaire de l'autorité parentale, non retiré." in text_of(
        response
    )
    assert fresh(pathway).state == PathwayState.ENGAGEMENT


def test_a_transition_the_guards_allow_moves_the_pathway_and_says_so(journey):
    pathway = journey.unconsented
    consent_for(pathway, journey.referent.user)
    client = client_for(journey.referent.user)

    response = client.post(
        url("transition", pathway),
        {
            "to_state": PathwayState.DIAGNOSTIC,
            "version": fresh(pathway).version,
            "note": "Famille rencontrée",
        },
        follow=True,
    )

    assert fresh(pathway).state == PathwayState.DIAGNOSTIC
    assert "Le parcours est passé à l'étape « Diagnostic »." in text_of(response)
    assert pathway.transitions.last().note == "Famille rencontrée"
    assert AuditEvent.objects.filter(verb="pathway.transition", target_id=str(pathway.pk)).exists()


def test_moving_to_active_without_an_objective_lists_what_is_missing(journey):
    pathway = journey.pathway
    pathway.objectives.all().delete()

    response = client_for(journey.referent.user).post(
        url("transition", pathway), {"to_state": PathwayState.ACTIVE, "version": pathway.version}
    )

    assert "Il faut au moins un objectif dans le plan." in text_of(response)
    assert fresh(pathway).state == PathwayState.DIAGNOSTIC


def test_a_stale_version_is_refused_with_a_clear_message(journey):
    pathway = journey.pathway
    seen = pathway.version
    services.pathway_transition(
        pathway=pathway, to_state=PathwayState.EPS_REVIEW, by=journey.coordinator.user
    )

    response = client_for(journey.referent.user).post(
        url("transition", pathway), {"to_state": PathwayState.ACTIVE, "version": seen}, follow=True
    )

    assert "a été modifié par quelqu'un d'autre" in text_of(response)
    assert fresh(pathway).state == PathwayState.EPS_REVIEW


def test_the_transition_page_offers_the_possible_steps(journey):
    response = client_for(journey.referent.user).get(url("transition", journey.pathway))

    assert response.status_code == 200
    choices = dict(response.context["form"].fields["to_state"].choices)
    assert set(choices) == {PathwayState.EPS_REVIEW, PathwayState.ACTIVE}


@pytest.mark.parametrize("who", ["teacher", "eps_social_worker"])
def test_people_who_only_read_the_pathway_cannot_act_on_it(journey, who):
    client = client_for(getattr(journey, who).user)
    pathway = journey.pathway

    for name in ("transition", "referent", "team_add", "close", "reopen"):
        assert client.get(url(name, pathway)).status_code == 403, name
    response = client.post(url("transition", pathway), {"to_state": "active", "version": pathway.version})
    assert response.status_code == 403
    assert fresh(pathway).state == PathwayState.DIAGNOSTIC


def test_a_referent_of_another_pathway_gets_a_404_on_every_step(journey):
    client = client_for(journey.other_referent.user)
    for name in ("transition", "referent", "team_add", "close", "reopen"):
        response = client.get(url(name, journey.pathway))
        assert response.status_code == 404, name
        assert CHILD_NAME not in text_of(response)


# --- référent ------------------------------------------------------------------------------------


def test_the_coordinator_hands_the_pathway_to_another_referent_with_history(journey):
    pathway = journey.pathway
    new = journey.other_referent.user

    response = client_for(journey.coordinator.user).post(
        url("referent", pathway), {"referent": new.pk, "version": pathway.version}
    )

    assert response.status_code == 302
    assert fresh(pathway).referent == new
    assert list(ReferentAssignment.objects.filter(pathway=pathway).values_list("referent", flat=True)) == [
        journey.referent.user.pk,
        new.pk,
    ]
    assert AuditEvent.objects.filter(verb="pathway.referent_assigned", target_id=str(pathway.pk)).exists()


def test_only_members_of_the_programme_can_become_referent(journey):
    outsider = MembershipFactory(role=Role.REFERENT).user
    eps = journey.teacher.user

    response = client_for(journey.coordinator.user).get(url("referent", journey.pathway))

    candidates = set(response.context["form"].fields["referent"].queryset)
    assert journey.other_referent.user in candidates
    assert outsider not in candidates and eps not in candidates
    assert journey.referent.user not in candidates  # already the référent


# --- case team -----------------------------------------------------------------------------------


def test_adding_a_member_to_the_case_team_opens_the_pathway_to_them_and_is_journaled(journey):
    nurse = MembershipFactory(programme=journey.programme, role=Role.EPS_MEMBER, organisation=journey.social)
    pathway = journey.pathway
    assert client_for(nurse.user).get(url("detail", pathway)).status_code == 404

    response = client_for(journey.referent.user).post(
        url("team_add", pathway),
        {"membership": nurse.pk, "starts_on": TODAY.isoformat(), "reason": "Infirmière scolaire"},
    )

    assert response.status_code == 302
    member = CaseTeamMember.objects.get(pathway=pathway, membership=nurse)
    assert member.reason == "Infirmière scolaire"
    event = AuditEvent.objects.get(
        verb="case_team.added", target_id=str(pathway.pk), payload__membership=nurse.pk
    )
    assert event.actor == journey.referent.user
    assert client_for(nurse.user).get(url("detail", pathway)).status_code == 200


def test_the_case_team_form_checks_the_dates_and_the_reason(journey):
    nurse = MembershipFactory(programme=journey.programme, role=Role.EPS_MEMBER)

    response = client_for(journey.referent.user).post(
        url("team_add", journey.pathway),
        {
            "membership": nurse.pk,
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY - datetime.timedelta(days=3)).isoformat(),
            "reason": "",
        },
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert "ends_on" in form.errors and "reason" in form.errors
    assert not CaseTeamMember.objects.filter(membership=nurse).exists()


def test_the_case_team_candidates_are_active_members_of_the_programme_whose_role_a_team_opens(journey):
    provider = MembershipFactory(programme=journey.programme, role=Role.PROVIDER)
    former = MembershipFactory(
        programme=journey.programme,
        role=Role.EPS_MEMBER,
        starts_on=TODAY - datetime.timedelta(days=100),
        ends_on=TODAY - datetime.timedelta(days=1),
    )
    elsewhere = MembershipFactory(role=Role.EPS_MEMBER)

    response = client_for(journey.referent.user).get(url("team_add", journey.pathway))

    candidates = set(response.context["form"].fields["membership"].queryset)
    assert journey.eps_teacher in candidates
    assert journey.teacher not in candidates  # already in the team
    assert not {provider, former, elsewhere} & candidates


def test_removing_a_member_asks_for_confirmation_then_closes_their_access_at_once(journey):
    pathway = journey.pathway
    member = CaseTeamMember.objects.get(pathway=pathway, membership=journey.teacher)
    client = client_for(journey.referent.user)

    confirmation = client.get(url("team_remove", pathway, member.pk))
    assert confirmation.status_code == 200
    assert "Retirer de l'équipe" in text_of(confirmation)
    assert client_for(journey.teacher.user).get(url("detail", pathway)).status_code == 200

    response = client.post(url("team_remove", pathway, member.pk), {"reason": "Changement de classe"})

    assert response.status_code == 302
    assert AuditEvent.objects.filter(
        verb="case_team.removed", target_id=str(pathway.pk), payload__reason="Changement de classe"
    ).exists()
    assert client_for(journey.teacher.user).get(url("detail", pathway)).status_code == 404


def test_removing_a_member_who_joined_days_ago_keeps_their_period_in_the_history(journey):
    pathway = journey.pathway
    member = CaseTeamMember.objects.get(pathway=pathway, membership=journey.teacher)
    CaseTeamMember.objects.filter(pk=member.pk).update(starts_on=TODAY - datetime.timedelta(days=20))

    client_for(journey.referent.user).post(url("team_remove", pathway, member.pk), {"reason": ""})

    member.refresh_from_db()
    assert member.ends_on == TODAY - datetime.timedelta(days=1)
    assert client_for(journey.teacher.user).get(url("detail", pathway)).status_code == 404


def test_a_member_of_another_pathways_team_is_not_reachable_through_this_pathway(journey):
    other = CaseTeamMember.objects.get(pathway=journey.unconsented, membership=journey.teacher)

    response = client_for(journey.referent.user).get(url("team_remove", journey.pathway, other.pk))

    assert response.status_code == 404


# --- exit and reopening --------------------------------------------------------------------------


def _close(client, pathway, code, **extra):
    data = {
        "exit_reason": exit_reason(pathway.programme, code).pk,
        "closed_on": TODAY.isoformat(),
        "version": fresh(pathway).version,
        "confirm": "on",
        **extra,
    }
    return client.post(url("close", pathway), data)


def test_closing_with_a_reason_that_needs_a_final_bilan_is_refused_with_the_reason(journey):
    response = _close(client_for(journey.referent.user), journey.pathway, "objectifs_atteints")

    assert response.status_code == 200
    assert "Ce motif de sortie demande un bilan final : enregistrez-le avant de clôturer." in text_of(
        response
    )
    assert fresh(journey.pathway).state == PathwayState.DIAGNOSTIC


def test_closing_with_a_final_bilan_recorded_succeeds(journey):
    pathway = journey.pathway
    ratings = {o.pk: ("reached", "") for o in pathway.objectives.all()}
    services.review_add(
        pathway=pathway, kind=ReviewKind.FINAL, held_on=TODAY, by=journey.referent.user, ratings=ratings
    )

    response = _close(
        client_for(journey.referent.user), pathway, "objectifs_atteints", relay_partner="Club de foot"
    )

    assert response.status_code == 302
    closed = fresh(pathway)
    assert closed.state == PathwayState.CLOSED
    assert closed.relay_partner == "Club de foot"
    assert closed.exit_reason.code == "objectifs_atteints"


def test_closing_needs_the_confirmation_box(journey):
    response = _close(client_for(journey.referent.user), journey.pathway, "perte_contact", confirm="")

    assert response.status_code == 200
    assert "confirm" in response.context["form"].errors
    assert fresh(journey.pathway).state == PathwayState.DIAGNOSTIC


def test_the_close_page_says_which_reasons_need_a_final_bilan(journey):
    response = client_for(journey.referent.user).get(url("close", journey.pathway))

    labels = dict(response.context["form"].fields["exit_reason"].choices)
    text = {str(label) for label in labels.values()}
    assert "Objectifs atteints (bilan final requis)" in text
    assert "Perte de contact" in text


def test_reopening_creates_a_new_pathway_linked_to_the_closed_one(journey):
    pathway = journey.pathway
    assert _close(client_for(journey.referent.user), pathway, "perte_contact").status_code == 302
    client = client_for(journey.coordinator.user)

    response = client.post(
        url("reopen", pathway), {"version": fresh(pathway).version, "referent": journey.referent.user.pk}
    )

    new = Pathway.objects.get(previous=pathway)
    assert response.status_code == 302
    assert response.url == url("detail", new)
    assert new.state == PathwayState.ENGAGEMENT
    assert new.referent == journey.referent.user
    assert fresh(pathway).state == PathwayState.CLOSED
    body = text_of(client.get(url("detail", new)))
    assert pathway.case_code in body  # link back to the previous pathway
    assert f"voir le parcours {new.case_code}" in text_of(client.get(url("detail", pathway)))


def test_the_referent_cannot_reopen_a_pathway(journey):
    pathway = journey.pathway
    _close(client_for(journey.referent.user), pathway, "perte_contact")

    response = client_for(journey.referent.user).post(
        url("reopen", pathway), {"version": fresh(pathway).version}
    )

    assert response.status_code == 403
    assert not Pathway.objects.filter(previous=pathway).exists()


def test_a_closed_pathway_can_no_longer_change_step(journey):
    pathway = journey.pathway
    _close(client_for(journey.referent.user), pathway, "perte_contact")

    assert client_for(journey.coordinator.user).get(url("transition", pathway)).status_code == 403
    assert client_for(journey.coordinator.user).get(url("close", pathway)).status_code == 403


def test_every_step_page_is_journaled_as_a_reading_of_the_pathway(journey):
    client_for(journey.referent.user).get(url("close", journey.pathway))

    event = AuditEvent.objects.get(verb="pathway.viewed")
    assert event.payload["page"] == "close"
    assert event.target_id == str(journey.pathway.pk)
