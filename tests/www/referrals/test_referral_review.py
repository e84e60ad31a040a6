"""The review page: the fiche, its history, eligibility, duplicates and siblings, and the decisions."""

import pytest
from django.test import Client
from django.urls import reverse

from maillage.audit.models import AuditEvent
from maillage.pathways.models import Pathway
from maillage.people.models import Child, Guardian, Household
from maillage.programmes.enums import ListKind, Role
from maillage.referrals.enums import ReferralState
from maillage.referrals.models import Referral, ReferralTransition
from maillage.referrals.services import referral_transition
from tests.factories import ChildFactory, GuardianFactory, HouseholdFactory, MembershipFactory, open_pathway
from tests.www.referrals.helpers import CONTEXT, SENTINEL, fiche, item, make_referral, text_of, years_ago

pytestmark = pytest.mark.django_db

ALL_ROLES = list(Role.values)
REVIEW_ROLES = {Role.COORDINATOR, Role.REFERENT}


def detail_url(referral) -> str:
    return reverse("referrals:detail", args=[referral.pk])


def under_review(referral, by):
    return referral_transition(referral=referral, to_state=ReferralState.UNDER_REVIEW, by=by)


def accept_data(**overrides) -> dict:
    data = {"decision": "accept", "accept-child": "new", "accept-household": "new", "accept-referent": ""}
    data.update(overrides)
    return data


@pytest.fixture
def coordinator(client, login_as, journey_programme):
    return login_as(Role.COORDINATOR, programme=journey_programme).user


# --- who opens the page ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_review_page_opens_to_coordinators_and_referents_only(client, login_as, journey_programme, role):
    membership = login_as(role, programme=journey_programme)
    # A referrer is refused even on their own referral: they follow it on « Mes orientations ».
    referral = make_referral(journey_programme, by=membership.user if role == Role.REFERRER else None)

    get = client.get(detail_url(referral))
    post = client.post(detail_url(referral), {"decision": "review"})

    if role in REVIEW_ROLES:
        assert get.status_code == 200
        assert SENTINEL.upper() in text_of(get)
    else:
        assert get.status_code == 404
        assert SENTINEL.upper() not in text_of(get).upper()
    if role == Role.COORDINATOR:
        assert post.status_code == 302
    else:
        assert post.status_code == 404
        assert SENTINEL.upper() not in text_of(post).upper()
        assert Referral.objects.get(pk=referral.pk).state == ReferralState.SUBMITTED


def test_a_referent_reads_the_fiche_but_has_no_decision_to_take(client, login_as, journey_programme):
    login_as(Role.REFERENT, programme=journey_programme)
    referral = make_referral(journey_programme)

    body = text_of(client.get(detail_url(referral)))

    assert CONTEXT in body
    assert "Décider" not in body
    assert "Accepter et ouvrir le parcours" not in body


def test_a_coordinator_without_the_signed_charter_gets_the_charter_not_the_referral(
    client, login_as, journey_programme
):
    login_as(Role.COORDINATOR, programme=journey_programme, signed_charter=False)
    referral = make_referral(journey_programme)

    response = client.get(detail_url(referral))

    assert response.status_code == 200
    # The charter gate answers instead: the charter and its sign button, never the file.
    assert "programmes/charter.html" in [t.name for t in response.templates]
    assert referral.child_last_name.upper() not in response.content.decode().upper()


@pytest.mark.parametrize("role", sorted(REVIEW_ROLES))
def test_a_referral_of_another_programme_is_a_404(
    client, login_as, journey_programme, other_journey_programme, role
):
    login_as(role, programme=journey_programme)
    referral = make_referral(other_journey_programme, child_last_name="Zéphyrine-Isolée")

    get = client.get(detail_url(referral))
    post = client.post(detail_url(referral), {"decision": "decline", "decline-reason": "Pour voir"})

    assert get.status_code == post.status_code == 404
    assert "Zéphyrine" not in text_of(get)
    assert Referral.objects.get(pk=referral.pk).state == ReferralState.SUBMITTED


def test_a_coordinator_of_two_programmes_reaches_the_referral_of_each(
    client, login_as, journey_programme, other_journey_programme
):
    membership = login_as(Role.COORDINATOR, programme=journey_programme)
    MembershipFactory(user=membership.user, programme=other_journey_programme, role=Role.COORDINATOR)
    referral = make_referral(other_journey_programme)

    assert client.get(detail_url(referral)).status_code == 200


# --- what the page shows -------------------------------------------------------------------------------


def test_the_page_shows_the_fiche_history_and_eligibility_in_words(client, coordinator, journey_programme):
    referral = make_referral(
        journey_programme,
        school=journey_programme.rep_school,
        referrer_contact="Mme Morel, directrice",
        motifs=[item(journey_programme, ListKind.REFERRAL_MOTIF, "sante")],
    )

    body = text_of(client.get(detail_url(referral)))

    assert f"Orientation d'Inès {SENTINEL.upper()}" in body
    assert "Mme Morel, directrice" in body
    assert "Santé" in body
    assert CONTEXT in body
    assert "Fatima Benali" in body
    assert "Remplit les critères du programme" in body
    assert "Âge : 9 ans, dans la tranche du programme (2 à 16 ans)." in body
    assert "Scolarité : École Jacques Prévert, en REP." in body
    assert "Règle du programme (« Résidence en QPV ou scolarité en REP/REP+ ») : remplie." in body
    assert "Transmise" in body  # the first line of the history


def test_an_ineligible_child_is_explained(client, coordinator, journey_programme):
    referral = make_referral(journey_programme, school=journey_programme.plain_school)

    body = text_of(client.get(detail_url(referral)))

    assert "Ne remplit pas les critères du programme" in body
    assert "Résidence : hors des quartiers prioritaires connus du programme." in body
    assert "Scolarité : École du Centre, hors éducation prioritaire." in body
    assert "non remplie" in body


def test_viewing_the_referral_is_journaled(client, coordinator, journey_programme):
    referral = make_referral(journey_programme)

    client.get(detail_url(referral))

    event = AuditEvent.objects.get(verb="referral.viewed", target_id=str(referral.pk))
    assert event.actor == coordinator
    assert event.programme_id == journey_programme.pk


def test_the_history_says_who_did_what_when_and_why(client, coordinator, journey_programme):
    referral = make_referral(journey_programme)
    coordinator.first_name, coordinator.last_name = "Camille", "Roussel"
    coordinator.save(update_fields=["first_name", "last_name"])

    client.post(detail_url(referral), {"decision": "review"})
    client.post(
        detail_url(referral), {"decision": "decline", "decline-reason": "Famille déjà suivie par l'ASE"}
    )
    body = text_of(client.get(detail_url(referral)))

    transitions = list(
        ReferralTransition.objects.filter(referral=referral).values_list("to_state", "by", "reason")
    )
    assert transitions[1:] == [
        (ReferralState.UNDER_REVIEW, coordinator.pk, ""),
        (ReferralState.DECLINED, coordinator.pk, "Famille déjà suivie par l'ASE"),
    ]
    assert "En cours d'examen → Non retenue" in body
    assert "Camille Roussel" in body
    assert "Famille déjà suivie par l'ASE" in body


# --- the full journey: referrer → coordinator → pathway -------------------------------------------------


def test_a_referral_goes_from_the_referrer_to_an_open_pathway_for_a_new_child(journey_programme):
    referrer, coordinator = Client(), Client()
    referrer_membership = MembershipFactory(programme=journey_programme, role=Role.REFERRER)
    referent = MembershipFactory(programme=journey_programme, role=Role.REFERENT)
    coordinator_user = MembershipFactory(programme=journey_programme, role=Role.COORDINATOR).user
    referrer.force_login(referrer_membership.user)
    coordinator.force_login(coordinator_user)

    referrer.post(reverse("referrals:new"), fiche(journey_programme, school=journey_programme.rep_school.pk))
    referral = Referral.objects.get()
    assert str(referral.pk) in text_of(coordinator.get(reverse("referrals:list")))

    assert coordinator.post(detail_url(referral), {"decision": "review"}).status_code == 302
    page = text_of(coordinator.get(detail_url(referral)))
    assert "Aucun enfant connu du programme ne ressemble à celui de la fiche." in page
    assert "Dérogation" not in page  # eligible: nothing to derogate
    response = coordinator.post(detail_url(referral), accept_data(**{"accept-referent": referent.pk}))

    referral.refresh_from_db()
    pathway = Pathway.objects.get(referral=referral)
    assert response.status_code == 302
    assert response["Location"] == f"/parcours/{pathway.pk}/"
    assert referral.state == ReferralState.ACCEPTED
    child = Child.objects.get()
    assert referral.child == child == pathway.child
    assert (child.first_name, child.last_name, child.school) == (
        "Inès",
        SENTINEL,
        journey_programme.rep_school,
    )
    assert pathway.referent == referent.user
    guardian = Guardian.objects.get(household=child.household)
    assert (guardian.first_name, guardian.last_name) == ("Fatima", "Benali")
    assert referral.eligibility["eligible"] is True
    assert AuditEvent.objects.filter(verb="referral.accepted", target_id=str(referral.pk)).exists()
    assert "Acceptée — Parcours en cours" in text_of(referrer.get(reverse("referrals:mine")))
    assert referrer.get(detail_url(referral)).status_code == 404


def test_only_active_referents_of_the_programme_are_offered(
    client, coordinator, journey_programme, other_journey_programme
):
    import datetime

    active = MembershipFactory(programme=journey_programme, role=Role.REFERENT, user__last_name="Actif")
    MembershipFactory(
        programme=journey_programme,
        role=Role.REFERENT,
        user__last_name="Parti",
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date(2021, 1, 1),
    )
    MembershipFactory(programme=other_journey_programme, role=Role.REFERENT, user__last_name="Ailleurs")
    MembershipFactory(programme=journey_programme, role=Role.EPS_MEMBER, user__last_name="Eps")
    referral = under_review(make_referral(journey_programme), coordinator)

    form = client.get(detail_url(referral)).context["forms"]["accept"]

    assert list(form.fields["referent"].queryset) == [active]


# --- duplicates and household -------------------------------------------------------------------------


def test_the_same_child_typed_differently_is_offered_and_linked_without_creating_a_child(
    client, coordinator, journey_programme
):
    known = ChildFactory(
        programme=journey_programme,
        first_name="Inès",
        last_name="Quilleboeuf Sentinelle",
        birth_date=years_ago(9),
    )
    referral = under_review(
        make_referral(journey_programme, school=journey_programme.rep_school), coordinator
    )

    response = client.get(detail_url(referral))
    body = text_of(response)
    assert "QUILLEBOEUF SENTINELLE Inès" in body
    assert "C'est le même enfant : Inès Quilleboeuf Sentinelle" in body
    assert AuditEvent.objects.filter(verb="child.duplicate_candidate", target_id=str(known.pk)).exists()

    children_before = Child.objects.count()
    households_before = Household.objects.count()
    response = client.post(detail_url(referral), accept_data(**{"accept-child": known.pk}))

    referral.refresh_from_db()
    assert response.status_code == 302
    assert Child.objects.count() == children_before
    assert Household.objects.count() == households_before
    assert referral.child == known
    assert Pathway.objects.get(referral=referral).child == known


def test_a_child_the_coordinator_cannot_see_is_never_offered_nor_accepted(
    client, coordinator, journey_programme, other_journey_programme
):
    stranger = ChildFactory(
        programme=other_journey_programme, first_name="Inès", last_name=SENTINEL, birth_date=years_ago(9)
    )
    referral = under_review(
        make_referral(journey_programme, school=journey_programme.rep_school), coordinator
    )

    response = client.get(detail_url(referral))
    post = client.post(detail_url(referral), accept_data(**{"accept-child": stranger.pk}))

    assert response.context["candidates"] == []
    assert post.status_code == 200
    assert "Sélectionnez un choix valide" in text_of(post)
    assert Referral.objects.get(pk=referral.pk).state == ReferralState.UNDER_REVIEW


def test_a_referent_sees_only_the_duplicates_of_their_own_case_team(client, login_as, journey_programme):
    referent = login_as(Role.REFERENT, programme=journey_programme).user
    mine = open_pathway(
        programme=journey_programme,
        referent=referent,
        child=ChildFactory(
            programme=journey_programme, first_name="Inès", last_name=SENTINEL, birth_date=years_ago(9)
        ),
    )
    ChildFactory(
        programme=journey_programme, first_name="Inès", last_name=SENTINEL + "s", birth_date=years_ago(9)
    )
    referral = make_referral(journey_programme)

    candidates = client.get(detail_url(referral)).context["candidates"]

    assert [c.child for c in candidates] == [mine.child]


def test_siblings_are_suggested_from_the_guardian_and_the_child_joins_their_household(
    client, coordinator, journey_programme
):
    household = HouseholdFactory(
        programme=journey_programme, name="Famille Benali", address="12 rue des Lilas"
    )
    GuardianFactory(household=household, first_name="Fatima", last_name="Benali", phone="06 12 34 56 78")
    ChildFactory(programme=journey_programme, household=household, first_name="Yanis", last_name="Benali")
    HouseholdFactory(programme=journey_programme, name="Autre famille")
    referral = under_review(
        make_referral(
            journey_programme,
            child_last_name="Benali",
            child_first_name="Sofia",
            child_birth_date=years_ago(6),
            school=journey_programme.rep_school,
        ),
        coordinator,
    )

    response = client.get(detail_url(referral))
    assert response.context["households"] == [household]
    assert "Foyer existant : Famille Benali" in text_of(response)

    client.post(detail_url(referral), accept_data(**{"accept-household": household.pk}))

    sofia = Child.objects.get(first_name="Sofia")
    assert sofia.household == household
    assert Guardian.objects.filter(household=household).count() == 1


def test_a_child_already_in_a_pathway_cannot_be_linked_twice(client, coordinator, journey_programme):
    known = ChildFactory(
        programme=journey_programme, first_name="Inès", last_name=SENTINEL, birth_date=years_ago(9)
    )
    open_pathway(programme=journey_programme, child=known, by=coordinator)
    referral = under_review(
        make_referral(journey_programme, school=journey_programme.rep_school), coordinator
    )

    response = client.post(detail_url(referral), accept_data(**{"accept-child": known.pk}))

    assert response.status_code == 200
    assert "Cet enfant a déjà un parcours en cours." in text_of(response)
    assert Referral.objects.get(pk=referral.pk).state == ReferralState.UNDER_REVIEW
    assert Pathway.objects.filter(child=known).count() == 1


# --- derogation -----------------------------------------------------------------------------------------


def test_an_ineligible_child_is_accepted_only_with_a_derogation_and_its_reason(
    client, coordinator, journey_programme
):
    referral = under_review(
        make_referral(journey_programme, school=journey_programme.plain_school), coordinator
    )
    children = Child.objects.count()

    page = text_of(client.get(detail_url(referral)))
    without = client.post(detail_url(referral), accept_data())
    unexplained = client.post(detail_url(referral), accept_data(**{"accept-derogation": "on"}))

    assert "Accorder une dérogation aux critères du programme" in page
    assert "cochez la dérogation et indiquez son motif" in text_of(without)
    assert "Une dérogation doit être motivée." in text_of(unexplained)
    assert Child.objects.count() == children
    assert not Pathway.objects.exists()
    assert Referral.objects.get(pk=referral.pk).state == ReferralState.UNDER_REVIEW
    assert not AuditEvent.objects.filter(verb="referral.derogation").exists()

    reason = "Scolarisée hors REP mais vit à la limite du quartier prioritaire."
    accepted = client.post(
        detail_url(referral), accept_data(**{"accept-derogation": "on", "accept-derogation_reason": reason})
    )

    referral.refresh_from_db()
    assert accepted.status_code == 302
    assert referral.state == ReferralState.ACCEPTED
    assert (referral.derogation, referral.derogation_reason) == (True, reason)
    event = AuditEvent.objects.get(verb="referral.derogation", target_id=str(referral.pk))
    assert event.payload == {"reason": reason}
    assert event.actor == coordinator
    assert "Acceptée par dérogation" in text_of(client.get(detail_url(referral)))


def test_a_derogation_requested_by_the_referrer_is_shown_and_prefilled(
    client, coordinator, journey_programme
):
    reason = "Grande sœur déjà suivie, 17 ans."
    referral = under_review(
        make_referral(
            journey_programme,
            child_birth_date=years_ago(17),
            derogation_reason=reason,
            school=journey_programme.rep_school,
        ),
        coordinator,
    )

    response = client.get(detail_url(referral))

    body = text_of(response)
    assert f"Dérogation demandée par l'orienteur : {reason}" in body
    assert "Âge : 17 ans, hors de la tranche du programme (2 à 16 ans)." in body
    form = response.context["forms"]["accept"]
    assert form["derogation"].value() is True
    assert form["derogation_reason"].value() == reason


# --- decline and redirect ---------------------------------------------------------------------------


def test_declining_requires_a_reason(client, coordinator, journey_programme):
    referral = make_referral(journey_programme)

    refused = client.post(detail_url(referral), {"decision": "decline", "decline-reason": "  "})
    assert "Indiquez le motif de la décision." in text_of(refused)
    assert Referral.objects.get(pk=referral.pk).state == ReferralState.SUBMITTED

    done = client.post(detail_url(referral), {"decision": "decline", "decline-reason": "Hors du territoire"})
    referral.refresh_from_db()
    assert done.status_code == 302
    assert (referral.state, referral.decision_reason) == (ReferralState.DECLINED, "Hors du territoire")
    assert referral.transitions.last().by == coordinator


def test_redirecting_requires_a_reason_and_the_partner_or_scheme(client, coordinator, journey_programme):
    referral = under_review(make_referral(journey_programme), coordinator)

    no_target = client.post(
        detail_url(referral), {"decision": "redirect", "redirect-reason": "Soin psychique"}
    )
    no_reason = client.post(detail_url(referral), {"decision": "redirect", "redirect-redirected_to": "CMP"})
    assert "Indiquez vers quel partenaire ou dispositif la famille est réorientée." in text_of(no_target)
    assert "Indiquez le motif de la décision." in text_of(no_reason)
    assert Referral.objects.get(pk=referral.pk).state == ReferralState.UNDER_REVIEW

    client.post(
        detail_url(referral),
        {
            "decision": "redirect",
            "redirect-reason": "Soin psychique",
            "redirect-redirected_to": "CMP du secteur",
        },
    )
    referral.refresh_from_db()
    assert (referral.state, referral.redirected_to, referral.decision_reason) == (
        ReferralState.REDIRECTED,
        "CMP du secteur",
        "Soin psychique",
    )
    assert "Réorientée vers CMP du secteur" in text_of(client.get(detail_url(referral)))


def test_a_submitted_referral_cannot_be_accepted_before_review(client, coordinator, journey_programme):
    referral = make_referral(journey_programme, school=journey_programme.rep_school)

    response = client.post(detail_url(referral), accept_data(), follow=True)

    assert "Cette décision n'est pas possible dans l'état actuel de l'orientation." in text_of(response)
    assert not Pathway.objects.exists()


def test_a_decided_referral_offers_no_more_decision(client, coordinator, journey_programme):
    referral = make_referral(journey_programme)
    client.post(detail_url(referral), {"decision": "decline", "decline-reason": "Hors du territoire"})

    page = text_of(client.get(detail_url(referral)))
    again = client.post(detail_url(referral), {"decision": "review"}, follow=True)

    assert "Décider" not in page
    assert Referral.objects.get(pk=referral.pk).state == ReferralState.DECLINED
    assert "n'est pas possible" in text_of(again) or "ne peut pas passer" in text_of(again)


def test_every_referral_view_is_classified_for_the_journal():
    from django.urls import get_resolver

    patterns = get_resolver().namespace_dict["referrals"][1].url_patterns
    classification = {pattern.name: getattr(pattern.callback, "sensitivity", None) for pattern in patterns}

    # The empty fiche shows nothing of any child; every other page shows names and is journaled.
    assert classification == {
        "new": "none",
        "mine": "nominative",
        "list": "nominative",
        "detail": "nominative",
    }
