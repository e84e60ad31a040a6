"""The fiche d'orientation: who may fill it, what it records, and the inputs it refuses."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from maillage.audit.models import AuditEvent
from maillage.programmes.enums import ListKind, Role
from maillage.referrals.enums import ReferralState
from maillage.referrals.models import Referral, ReferralTransition
from maillage.territories.enums import PriorityEducation
from tests.factories import ChildFactory, OrganisationFactory, SchoolFactory
from tests.www.referrals.helpers import CONTEXT, SENTINEL, fiche, item, square_area, text_of, years_ago

pytestmark = pytest.mark.django_db

ALL_ROLES = list(Role.values)
SUBMITTING_ROLES = {Role.REFERRER, Role.COORDINATOR}
URL = "referrals:new"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_referrers_and_coordinators_open_the_fiche(client, login_as, journey_programme, role):
    login_as(role, programme=journey_programme)

    response = client.get(reverse(URL))

    assert response.status_code == (200 if role in SUBMITTING_ROLES else 404)


@pytest.mark.parametrize("role", sorted(set(ALL_ROLES) - SUBMITTING_ROLES))
def test_other_roles_cannot_post_a_fiche(client, login_as, journey_programme, role):
    login_as(role, programme=journey_programme)

    response = client.post(reverse(URL), fiche(journey_programme))

    assert response.status_code == 404
    assert not Referral.objects.exists()


def test_a_referrer_who_has_not_signed_the_charter_cannot_submit(client, login_as, journey_programme):
    login_as(Role.REFERRER, programme=journey_programme, signed_charter=False)

    assert client.get(reverse(URL)).status_code == 404


def test_the_fiche_is_organised_in_the_five_fieldsets(client, login_as, journey_programme):
    login_as(Role.REFERRER, programme=journey_programme)

    body = text_of(client.get(reverse(URL)))

    positions = [
        body.index(f'fr-mb-0">{legend}</h2>')
        for legend in (
            "Qui oriente ?",
            "L'enfant",
            "La famille",
            "Motifs et contexte",
            "Information de la famille",
        )
    ]
    assert positions == sorted(positions)
    assert "La famille a été informée de cette orientation" in body


def test_a_referrer_sends_a_fiche_for_their_organisation_and_lands_on_their_referrals(
    client, login_as, journey_programme
):
    membership = login_as(Role.REFERRER, programme=journey_programme)
    school = journey_programme.rep_school
    motifs = [
        item(journey_programme, ListKind.REFERRAL_MOTIF, "absenteisme").pk,
        item(journey_programme, ListKind.REFERRAL_MOTIF, "sante").pk,
    ]

    response = client.post(reverse(URL), fiche(journey_programme, school=school.pk, motifs=motifs))

    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:mine")
    referral = Referral.objects.get()
    assert referral.programme == journey_programme
    assert referral.submitted_by == membership.user
    assert referral.referrer_organisation == membership.organisation
    assert referral.on_behalf_of_family is False
    assert referral.state == ReferralState.SUBMITTED
    assert referral.school == school
    assert referral.context == CONTEXT
    assert sorted(referral.motifs.values_list("code", flat=True)) == ["absenteisme", "sante"]
    assert ReferralTransition.objects.filter(referral=referral, to_state=ReferralState.SUBMITTED).exists()
    assert AuditEvent.objects.filter(verb="referral.submitted", target_id=str(referral.pk)).exists()


def test_a_referrer_cannot_choose_another_organisation(client, login_as, journey_programme):
    membership = login_as(Role.REFERRER, programme=journey_programme)
    other = OrganisationFactory(programme=journey_programme, name="CCAS de Démo")

    client.post(
        reverse(URL),
        fiche(journey_programme, referrer_organisation=other.pk, on_behalf_of_family="on"),
    )

    referral = Referral.objects.get()
    assert referral.referrer_organisation == membership.organisation
    assert referral.on_behalf_of_family is False


def test_the_coordinator_enters_a_fiche_for_a_family_and_reviews_it_next(client, login_as, journey_programme):
    login_as(Role.COORDINATOR, programme=journey_programme)
    family = item(journey_programme, ListKind.REFERRER_TYPE, "famille")

    response = client.post(
        reverse(URL),
        fiche(journey_programme, on_behalf_of_family="on", referrer_type=family.pk, referrer_contact=""),
    )

    referral = Referral.objects.get()
    assert response["Location"] == reverse("referrals:detail", args=[referral.pk])
    assert referral.on_behalf_of_family is True
    assert referral.referrer_type == family
    assert referral.referrer_organisation is None


def test_the_coordinator_may_name_the_partner_who_phoned(client, login_as, journey_programme):
    login_as(Role.COORDINATOR, programme=journey_programme)
    partner = OrganisationFactory(programme=journey_programme, name="Centre social des Lilas")

    body = text_of(client.get(reverse(URL)))
    client.post(reverse(URL), fiche(journey_programme, referrer_organisation=partner.pk))

    assert "Saisie pour une famille ou par téléphone" in body
    assert "Centre social des Lilas" in body
    assert Referral.objects.get().referrer_organisation == partner


def test_schools_motifs_and_referrer_types_are_those_of_the_programme(
    client, login_as, journey_programme, other_journey_programme
):
    login_as(Role.REFERRER, programme=journey_programme)
    SchoolFactory(name="École Hors-Programme")
    elsewhere = SchoolFactory(name="École d'Ailleurs")
    other_journey_programme.schools.add(elsewhere)
    motif = item(journey_programme, ListKind.REFERRAL_MOTIF, "langue")
    motif.label = "Apprentissage du français"
    motif.save(update_fields=["label"])

    response = client.get(reverse(URL))
    body = text_of(response)

    assert "École Jacques Prévert (REP)" in body
    assert "École du Centre" in body
    assert "Hors-Programme" not in body
    assert "Ailleurs" not in body
    assert "Apprentissage du français" in body
    form = response.context["form"]
    assert set(form.fields["motifs"].queryset) == set(
        journey_programme.list_items.filter(kind=ListKind.REFERRAL_MOTIF)
    )
    assert all(i.programme_id == journey_programme.pk for i in form.fields["referrer_type"].queryset)


def test_a_school_of_another_programme_is_refused(client, login_as, journey_programme):
    login_as(Role.REFERRER, programme=journey_programme)
    elsewhere = SchoolFactory(name="École d'Ailleurs")

    response = client.post(reverse(URL), fiche(journey_programme, school=elsewhere.pk))

    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in text_of(response)
    assert not Referral.objects.exists()


def test_the_fiche_never_shows_children_already_known(client, login_as, journey_programme):
    ChildFactory(programme=journey_programme, first_name="Inès", last_name=SENTINEL)
    for role in SUBMITTING_ROLES:
        login_as(role, programme=journey_programme)
        get = client.get(reverse(URL))
        post = client.post(
            reverse(URL), fiche(journey_programme, child_last_name="Autre", family_informed="")
        )
        assert SENTINEL not in text_of(get)
        assert SENTINEL not in text_of(post)


# --- bad input: a clear message, and nothing saved ------------------------------------------------


def test_an_empty_fiche_names_each_missing_field_and_saves_nothing(client, login_as, journey_programme):
    login_as(Role.REFERRER, programme=journey_programme)

    response = client.post(reverse(URL), {})

    body = text_of(response)
    assert response.status_code == 200
    assert "Le formulaire contient des erreurs" in body
    for label in ("Prénom de l'enfant", "Nom de l'enfant", "Date de naissance", "Type d'orienteur"):
        assert f"{label} : Ce champ est obligatoire." in body
    assert "Choisissez au moins un motif d'orientation." in body
    assert "La famille doit avoir été informée de l'orientation avant l'envoi de la fiche." in body
    assert Referral.objects.count() == 0
    assert not AuditEvent.objects.filter(verb="referral.submitted").exists()


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("family_informed", "La famille doit avoir été informée de l'orientation avant l'envoi de la fiche."),
        ("motifs", "Choisissez au moins un motif d'orientation."),
        ("guardian_name", "Nom du parent ou responsable : Ce champ est obligatoire."),
        ("child_sex", "Sexe : Ce champ est obligatoire."),
    ],
)
def test_each_required_field_left_out_is_reported(client, login_as, journey_programme, missing, message):
    login_as(Role.REFERRER, programme=journey_programme)
    data = fiche(journey_programme)
    del data[missing]

    response = client.post(reverse(URL), data)

    assert message in text_of(response)
    assert Referral.objects.count() == 0


def test_a_birth_date_in_the_future_is_refused(client, login_as, journey_programme):
    login_as(Role.REFERRER, programme=journey_programme)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = client.post(reverse(URL), fiche(journey_programme, child_birth_date=tomorrow.isoformat()))

    assert "Date de naissance : La date de naissance ne peut pas être dans le futur." in text_of(response)
    assert Referral.objects.count() == 0


@pytest.mark.parametrize("years", [1, 17])
def test_a_child_outside_the_age_window_needs_a_derogation_request(
    client, login_as, journey_programme, years
):
    login_as(Role.REFERRER, programme=journey_programme)

    response = client.post(
        reverse(URL), fiche(journey_programme, child_birth_date=years_ago(years).isoformat())
    )

    body = text_of(response)
    assert f"L'enfant a {years} ans, hors de la tranche d'âge du programme (2 à 16 ans)" in body
    assert "remplissez la demande de dérogation" in body
    assert Referral.objects.count() == 0


def test_with_a_reason_the_derogation_is_requested_and_journaled_but_not_granted(
    client, login_as, journey_programme
):
    login_as(Role.REFERRER, programme=journey_programme)
    reason = "Élève de 17 ans en grande difficulté, sans autre dispositif disponible."

    client.post(
        reverse(URL),
        fiche(journey_programme, child_birth_date=years_ago(17).isoformat(), derogation_reason=reason),
    )

    referral = Referral.objects.get()
    assert referral.derogation is False
    assert referral.derogation_reason == reason
    event = AuditEvent.objects.get(verb="referral.derogation_requested")
    assert event.payload["reason"] == reason


def test_a_derogation_reason_is_dropped_for_a_child_inside_the_window(client, login_as, journey_programme):
    login_as(Role.REFERRER, programme=journey_programme)

    client.post(reverse(URL), fiche(journey_programme, derogation_reason="Par précaution"))

    assert Referral.objects.get().derogation_reason == ""
    assert not AuditEvent.objects.filter(verb="referral.derogation_requested").exists()


# --- residence in a QPV -------------------------------------------------------------------------


@pytest.fixture
def qpv(journey_programme):
    area = square_area("QN07599X", "Les Lilas-Sentinelle", lat=48.88, lon=2.39)
    journey_programme.priority_areas.add(area)
    return area


def test_coordinates_locate_the_priority_area_of_the_programme(client, login_as, journey_programme, qpv):
    login_as(Role.REFERRER, programme=journey_programme)

    client.post(reverse(URL), fiche(journey_programme, latitude="48.881", longitude="2.392"))

    referral = Referral.objects.get()
    assert referral.priority_area == qpv
    assert (referral.latitude, referral.longitude) == (48.881, 2.392)


def test_coordinates_outside_every_area_mean_no_priority_area_whatever_was_chosen(
    client, login_as, journey_programme, qpv
):
    login_as(Role.REFERRER, programme=journey_programme)

    client.post(
        reverse(URL), fiche(journey_programme, latitude="45.0", longitude="5.0", priority_area=qpv.pk)
    )

    assert Referral.objects.get().priority_area is None


def test_an_area_outside_the_programme_is_never_found_by_coordinates(
    client, login_as, journey_programme, qpv
):
    login_as(Role.REFERRER, programme=journey_programme)
    square_area("QN01399Z", "Quartier d'ailleurs", lat=43.3, lon=5.4)

    client.post(reverse(URL), fiche(journey_programme, latitude="43.3", longitude="5.4"))

    assert Referral.objects.get().priority_area is None


def test_without_coordinates_the_area_is_chosen_from_the_programme_list(
    client, login_as, journey_programme, qpv
):
    login_as(Role.REFERRER, programme=journey_programme)

    body = text_of(client.get(reverse(URL)))
    client.post(reverse(URL), fiche(journey_programme, priority_area=qpv.pk))

    assert "Les Lilas-Sentinelle (QN07599X)" in body
    assert Referral.objects.get().priority_area == qpv


def test_a_latitude_without_longitude_is_refused(client, login_as, journey_programme, qpv):
    login_as(Role.REFERRER, programme=journey_programme)

    response = client.post(reverse(URL), fiche(journey_programme, latitude="48.88"))

    assert "Indiquez la latitude et la longitude, ou aucune des deux." in text_of(response)
    assert Referral.objects.count() == 0


def test_a_rep_school_is_recorded_for_the_eligibility_check(client, login_as, journey_programme):
    login_as(Role.REFERRER, programme=journey_programme)
    rep_plus = SchoolFactory(name="Collège Aimé Césaire", priority_education=PriorityEducation.REP_PLUS)
    journey_programme.schools.add(rep_plus)

    client.post(reverse(URL), fiche(journey_programme, school=rep_plus.pk, school_level="6e"))

    assert Referral.objects.get().school == rep_plus
