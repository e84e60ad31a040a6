"""Programme profile, partner directory and charter of confidentiality."""

import datetime
import html

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from maillage.audit.models import AuditEvent
from maillage.programmes import services
from maillage.programmes.enums import EligibilityRule, LeadBodyType, OrganisationKind, Role
from maillage.programmes.models import CharterSignature, CharterVersion, Organisation
from tests.factories import (
    CharterSignatureFactory,
    CharterVersionFactory,
    CommuneFactory,
    MembershipFactory,
    OrganisationFactory,
    SchoolFactory,
)

pytestmark = pytest.mark.django_db

ALL_ROLES = list(Role.values)
CONFIGURING_ROLES = {Role.COORDINATOR, Role.MANAGER}


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def events(verb: str):
    return AuditEvent.objects.filter(verb=verb)


# --- profile -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_member_reads_the_programme_profile_and_only_configurers_may_edit_it(
    client, login_as, programme, role
):
    programme.lead_body_name = "CCAS de Villeneuve-sur-Démo"
    programme.save(update_fields=["lead_body_name"])
    login_as(role, programme=programme)

    response = client.get(reverse("programmes:profile"))

    assert response.status_code == 200
    body = text_of(response)
    assert programme.name in body
    assert "CCAS de Villeneuve-sur-Démo" in body
    assert "de 2 à 16 ans" in body
    assert (reverse("programmes:profile_edit") in body) is (role in CONFIGURING_ROLES)
    assert client.get(reverse("programmes:profile_edit")).status_code == (
        200 if role in CONFIGURING_ROLES else 403
    )


def test_the_profile_shows_the_territory(client, login_as, programme):
    commune = CommuneFactory(insee_code="99101", name="Villeneuve-sur-Démo")
    school = SchoolFactory(name="Collège Louise Michel", commune_code="99101", priority_education="REP+")
    programme.communes.add(commune)
    programme.schools.add(school)
    programme.prior_veille_educative = True
    programme.prior_veille_year = 2004
    programme.save(update_fields=["prior_veille_educative", "prior_veille_year"])
    login_as(Role.REFERENT, programme=programme)

    body = text_of(client.get(reverse("programmes:profile")))

    assert "Villeneuve-sur-Démo" in body and "99101" in body
    assert "Collège Louise Michel" in body and "REP+" in body
    assert "Oui, depuis 2004" in body
    assert "Aucun quartier prioritaire n'est renseigné." in body


def profile_data(programme, **overrides):
    data = {
        "name": programme.name,
        "label": "PRE",
        "lead_body_type": LeadBodyType.CAISSE_DES_ECOLES,
        "lead_body_name": "Caisse des écoles de Villeneuve",
        "age_min": 3,
        "age_max": 18,
        "eligibility_rule": EligibilityRule.QPV_AND_REP,
        "commune_codes": "",
        "priority_area_codes": "",
    }
    data.update(overrides)
    return data


def test_the_coordinator_edits_the_profile_and_the_change_is_journaled(client, login_as, programme):
    membership = login_as(Role.COORDINATOR, programme=programme)
    CommuneFactory(insee_code="99102", name="Bourg-Démo")
    CommuneFactory(insee_code="99103", name="Val-Démo")

    response = client.post(
        reverse("programmes:profile_edit"), profile_data(programme, commune_codes="99102, 99103")
    )

    assert response.status_code == 302
    programme.refresh_from_db()
    assert programme.lead_body_type == LeadBodyType.CAISSE_DES_ECOLES
    assert programme.age_max == 18
    assert sorted(programme.communes.values_list("insee_code", flat=True)) == ["99102", "99103"]
    event = events("programme.updated").get()
    assert event.actor == membership.user
    assert event.programme_id == programme.pk
    assert event.role == Role.COORDINATOR
    assert set(event.payload["fields"]) >= {"lead_body_type", "age_max", "communes", "eligibility_rule"}


def test_schools_are_offered_from_the_covered_communes(client, login_as, programme):
    login_as(Role.MANAGER, programme=programme)
    programme.communes.add(CommuneFactory(insee_code="99104"))
    inside = SchoolFactory(name="École du Centre", commune_code="99104")
    outside = SchoolFactory(name="École Lointaine", commune_code="99999")

    form = client.get(reverse("programmes:profile_edit")).context["form"]
    assert list(form.fields["schools"].queryset) == [inside]

    client.post(
        reverse("programmes:profile_edit"),
        profile_data(programme, commune_codes="99104", schools=[inside.pk, outside.pk]),
    )
    assert list(programme.schools.all()) == [], "a school outside the offered ones is refused"
    client.post(
        reverse("programmes:profile_edit"),
        profile_data(programme, commune_codes="99104", schools=[inside.pk]),
    )
    assert list(programme.schools.all()) == [inside]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"commune_codes": "00000"}, "commune_codes", "Codes INSEE inconnus : 00000"),
        (
            {"priority_area_codes": "QN99999Z"},
            "priority_area_codes",
            "Codes de quartiers prioritaires inconnus",
        ),
        ({"age_max": 19}, "age_max", "ne peut pas dépasser 18 ans"),
        ({"age_min": 12, "age_max": 10}, "age_max", "doit être supérieur à l'âge minimum"),
    ],
)
def test_an_invalid_profile_is_explained_next_to_the_field(
    client, login_as, programme, overrides, field, message
):
    login_as(Role.COORDINATOR, programme=programme)
    response = client.post(reverse("programmes:profile_edit"), profile_data(programme, **overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    body = text_of(response)
    assert "Le formulaire contient des erreurs" in body
    assert f'aria-describedby="id_{field}-desc-error"' in body
    assert not events("programme.updated").exists()


def test_saving_an_unchanged_profile_writes_no_journal_entry(client, login_as, programme):
    login_as(Role.COORDINATOR, programme=programme)
    data = profile_data(
        programme,
        label=programme.label,
        lead_body_type=programme.lead_body_type,
        lead_body_name=programme.lead_body_name,
        age_min=programme.age_min,
        age_max=programme.age_max,
        eligibility_rule=programme.eligibility_rule,
    )
    client.post(reverse("programmes:profile_edit"), data)
    assert not events("programme.updated").exists()


def test_a_referent_cannot_change_the_profile_even_by_posting(client, login_as, programme):
    login_as(Role.REFERENT, programme=programme)
    response = client.post(
        reverse("programmes:profile_edit"), profile_data(programme, lead_body_name="Piraté")
    )
    assert response.status_code == 403
    programme.refresh_from_db()
    assert programme.lead_body_name != "Piraté"


def test_the_service_refuses_a_user_without_the_right_even_when_called_directly(programme):
    referent = MembershipFactory(role=Role.REFERENT, programme=programme).user
    with pytest.raises(PermissionDenied):
        services.programme_update(programme=programme, by=referent, lead_body_name="Piraté")
    with pytest.raises(PermissionDenied):
        services.organisation_create(programme=programme, by=referent, name="X", kind=OrganisationKind.OTHER)
    with pytest.raises(PermissionDenied):
        services.charter_publish(programme=programme, by=referent, title="T", body="B")


# --- partner directory ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_partner_directory_is_open_to_every_role_but_network(client, login_as, programme, role):
    login_as(role, programme=programme)
    OrganisationFactory(programme=programme, name="Centre social Les Tilleuls")
    response = client.get(reverse("programmes:organisations"))
    if role == Role.NETWORK:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    body = text_of(response)
    assert "Centre social Les Tilleuls" in body
    assert (reverse("programmes:organisation_create") in body) is (role in CONFIGURING_ROLES)


@pytest.fixture
def directory(programme):
    OrganisationFactory(
        programme=programme, name="École élémentaire Jean-Jaurès", kind=OrganisationKind.SCHOOL
    )
    OrganisationFactory(programme=programme, name="Club de judo d'Hérouville", kind=OrganisationKind.CLUB)
    OrganisationFactory(programme=programme, name="PMI Cœur de ville", kind=OrganisationKind.PMI)
    return programme


def listed_names(response) -> list[str]:
    return [organisation.name for organisation in response.context["page_obj"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("jean jaures", ["École élémentaire Jean-Jaurès"]),
        ("ECOLE", ["École élémentaire Jean-Jaurès"]),
        ("herouville judo", ["Club de judo d'Hérouville"]),
        ("coeur", ["PMI Cœur de ville"]),
        ("piscine", []),
    ],
)
def test_the_directory_is_searched_without_caring_for_accents_case_or_hyphens(
    client, login_as, directory, query, expected
):
    login_as(Role.REFERENT, programme=directory)
    response = client.get(reverse("programmes:organisations"), {"q": query})
    assert [name for name in listed_names(response) if "Quartiers" not in name] == expected


def test_the_directory_filters_by_type(client, login_as, directory):
    login_as(Role.REFERENT, programme=directory)
    response = client.get(reverse("programmes:organisations"), {"kind": OrganisationKind.CLUB})
    assert listed_names(response) == ["Club de judo d'Hérouville"]


def test_a_search_with_no_result_says_so(client, login_as, directory):
    login_as(Role.REFERENT, programme=directory)
    body = text_of(client.get(reverse("programmes:organisations"), {"q": "piscine"}))
    assert "Aucun partenaire ne correspond à votre recherche" in body


def _queries_for(client, url, **params) -> int:
    client.get(url, params)  # warm-up: one-off rows (the journal's chain head after a flush)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def test_the_directory_runs_the_same_number_of_queries_for_5_or_50_partners(client, login_as, programme):
    login_as(Role.COORDINATOR, programme=programme)
    url = reverse("programmes:organisations")
    for index in range(4):
        organisation = OrganisationFactory(programme=programme, name=f"Partenaire {index:02d}")
        MembershipFactory(programme=programme, organisation=organisation, role=Role.EPS_MEMBER)
    few = _queries_for(client, url)
    for index in range(4, 49):
        organisation = OrganisationFactory(programme=programme, name=f"Partenaire {index:02d}")
        MembershipFactory(programme=programme, organisation=organisation, role=Role.EPS_MEMBER)
    assert _queries_for(client, url) == few
    assert _queries_for(client, url, page=2) == few
    assert _queries_for(client, url, q="partenaire", kind=OrganisationKind.ASSOCIATION) == few


def test_the_directory_pages_its_rows(client, login_as, programme):
    login_as(Role.COORDINATOR, programme=programme)
    OrganisationFactory.create_batch(30, programme=programme)
    first = client.get(reverse("programmes:organisations"))
    second = client.get(reverse("programmes:organisations"), {"page": 2})
    assert len(first.context["page_obj"]) == 25
    assert len(second.context["page_obj"]) == 6
    assert "fr-pagination" in first.content.decode()


def test_the_partner_page_lists_its_members_with_their_secrecy_and_charter(client, login_as, programme):
    login_as(Role.REFERENT, programme=programme, signed_charter=False)
    organisation = OrganisationFactory(
        programme=programme,
        name="Service social départemental",
        phone="01 23 45 67 89",
        services="Permanences",
    )
    version = CharterVersionFactory(programme=programme)
    signed = MembershipFactory(
        programme=programme,
        signed_charter=False,
        organisation=organisation,
        role=Role.EPS_MEMBER,
        bound_by_secrecy=True,
        user__first_name="Aïcha",
        user__last_name="Benali",
    )
    CharterSignatureFactory(version=version, membership=signed)
    MembershipFactory(
        programme=programme,
        signed_charter=False,
        organisation=organisation,
        role=Role.REFERRER,
        user__first_name="Marc",
        user__last_name="Dupont",
    )
    MembershipFactory(
        programme=programme,
        signed_charter=False,
        organisation=organisation,
        role=Role.REFERRER,
        user__first_name="Ancien",
        user__last_name="Membre",
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date(2020, 6, 1),
    )

    response = client.get(reverse("programmes:organisation", args=[organisation.pk]))

    assert response.status_code == 200
    body = text_of(response)
    assert "01 23 45 67 89" in body and "Permanences" in body
    members = {m.user.get_full_name(): m for m in response.context["members"]}
    assert set(members) == {"Aïcha Benali", "Marc Dupont"}
    assert members["Aïcha Benali"].charter_signed is True
    assert members["Marc Dupont"].charter_signed is False
    assert "Soumis au secret" in body and "Non soumis" in body
    assert reverse("programmes:organisation_edit", args=[organisation.pk]) not in body


def test_a_signature_of_an_old_charter_version_does_not_count_as_signed(client, login_as, programme):
    membership = login_as(Role.COORDINATOR, programme=programme, signed_charter=False)
    old = CharterVersionFactory(programme=programme, number=1)
    CharterSignatureFactory(version=old, membership=membership)
    CharterVersionFactory(programme=programme, number=2)
    response = client.get(reverse("programmes:organisation", args=[membership.organisation_id]))
    assert [m.charter_signed for m in response.context["members"]] == [False]


def test_the_coordinator_adds_a_partner_and_it_is_journaled(client, login_as, programme):
    login_as(Role.COORDINATOR, programme=programme)
    response = client.post(
        reverse("programmes:organisation_create"),
        {"name": "Association Lire Ensemble", "kind": OrganisationKind.ASSOCIATION, "is_active": "on"},
    )
    organisation = Organisation.objects.get(name="Association Lire Ensemble")
    assert response["Location"] == reverse("programmes:organisation", args=[organisation.pk])
    assert organisation.programme == programme
    assert organisation.name_normalised == "association lire ensemble"
    assert events("organisation.created").get().target_id == str(organisation.pk)


def test_two_partners_cannot_share_a_name_even_spelled_differently(client, login_as, programme):
    login_as(Role.MANAGER, programme=programme)
    OrganisationFactory(programme=programme, name="Médiathèque Émile-Zola")
    response = client.post(
        reverse("programmes:organisation_create"),
        {"name": "mediatheque emile zola", "kind": OrganisationKind.TOWN},
    )
    assert response.status_code == 200
    assert "Un partenaire du programme porte déjà ce nom." in response.context["form"].errors["name"]


def test_the_manager_edits_a_partner_and_only_changed_fields_are_journaled(client, login_as, programme):
    login_as(Role.MANAGER, programme=programme)
    organisation = OrganisationFactory(programme=programme, name="Club de foot", kind=OrganisationKind.CLUB)
    response = client.post(
        reverse("programmes:organisation_edit", args=[organisation.pk]),
        {
            "name": "Club de football",
            "kind": OrganisationKind.CLUB,
            "email": "club@exemple.test",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.name == "Club de football"
    assert organisation.name_normalised == "club de football"
    assert events("organisation.updated").get().payload == {"fields": ["email", "name"]}


@pytest.mark.parametrize("role", sorted(set(ALL_ROLES) - CONFIGURING_ROLES - {Role.NETWORK}))
def test_other_roles_may_not_add_or_edit_partners(client, login_as, programme, role):
    login_as(role, programme=programme)
    organisation = OrganisationFactory(programme=programme, name="Club de foot")
    assert client.get(reverse("programmes:organisation_create")).status_code == 403
    response = client.post(
        reverse("programmes:organisation_edit", args=[organisation.pk]), {"name": "X", "kind": "club"}
    )
    assert response.status_code == 403
    organisation.refresh_from_db()
    assert organisation.name == "Club de foot"


# --- charter -------------------------------------------------------------------------------------


def test_without_a_published_charter_the_page_explains_what_it_is(client, login_as, programme):
    login_as(Role.REFERENT, programme=programme, signed_charter=False)
    CharterVersionFactory(programme=programme, published_at=None, body="Brouillon secret")
    body = text_of(client.get(reverse("programmes:charter")))
    assert "Aucune charte publiée" in body
    assert "Brouillon secret" not in body
    assert "Signer la charte" not in body


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_member_reads_the_current_charter_and_may_sign_it(client, login_as, programme, role):
    login_as(role, programme=programme, signed_charter=False)
    CharterVersionFactory(programme=programme, number=1, body="Ancien texte.")
    CharterVersionFactory(programme=programme, number=2, body="Premier article.\n\nSecond article.")
    response = client.get(reverse("programmes:charter"))
    assert response.status_code == 200
    body = text_of(response)
    assert "<p>Premier article.</p>" in body and "<p>Second article.</p>" in body
    assert "Ancien texte." not in body
    assert "Version 1 —" in body  # listed among the previous versions
    assert "Signer la charte" in body
    assert (reverse("programmes:charter_publish") in body) is (role == Role.COORDINATOR)


def test_signing_the_charter_records_it_once_and_journals_it(client, login_as, programme):
    membership = login_as(Role.EPS_MEMBER, programme=programme, signed_charter=False)
    version = CharterVersionFactory(programme=programme)

    response = client.post(reverse("programmes:charter_sign"), {"accept": "on"}, follow=True)

    signature = CharterSignature.objects.get()
    assert (signature.version, signature.membership) == (version, membership)
    assert signature.institution == membership.organisation.name
    assert f"Vous avez signé la version {version.number}" in text_of(response)
    assert events("charter.signed").count() == 1

    client.post(reverse("programmes:charter_sign"), {"accept": "on"})
    assert CharterSignature.objects.count() == 1
    assert events("charter.signed").count() == 1, "signing again changes nothing"
    assert "Signer la charte" not in text_of(client.get(reverse("programmes:charter")))


def test_signing_without_ticking_the_commitment_signs_nothing(client, login_as, programme):
    login_as(Role.REFERENT, programme=programme, signed_charter=False)
    CharterVersionFactory(programme=programme)
    response = client.post(reverse("programmes:charter_sign"), {}, follow=True)
    assert not CharterSignature.objects.exists()
    assert "Cochez la case" in text_of(response)


def test_there_is_nothing_to_sign_before_a_publication(client, login_as, programme):
    login_as(Role.REFERENT, programme=programme, signed_charter=False)
    assert client.post(reverse("programmes:charter_sign"), {"accept": "on"}).status_code == 404
    assert client.get(reverse("programmes:charter_sign")).status_code == 405


def test_the_service_signs_only_for_ones_own_membership(programme):
    membership = MembershipFactory(role=Role.REFERENT, programme=programme)
    version = CharterVersionFactory(programme=programme)
    coordinator = MembershipFactory(role=Role.COORDINATOR, programme=programme).user
    with pytest.raises(PermissionDenied):
        services.charter_sign(membership=membership, by=coordinator, version=version)
    elsewhere = CharterVersionFactory()
    with pytest.raises(ValueError):
        services.charter_sign(membership=membership, by=membership.user, version=elsewhere)
    draft = CharterVersionFactory(programme=programme, published_at=None)
    with pytest.raises(ValueError):
        services.charter_sign(membership=membership, by=membership.user, version=draft)


def test_the_coordinator_publishes_a_new_version_after_confirming(client, login_as, programme):
    coordinator = login_as(Role.COORDINATOR, programme=programme, signed_charter=False)
    CharterVersionFactory(programme=programme, number=1, title="Charte 2024", body="Texte 2024")
    referent = MembershipFactory(role=Role.REFERENT, programme=programme)

    form = client.get(reverse("programmes:charter_publish")).context["form"]
    assert form.initial == {"title": "Charte 2024", "body": "Texte 2024"}, (
        "the form starts from the current text"
    )

    unconfirmed = client.post(
        reverse("programmes:charter_publish"), {"title": "Charte 2026", "body": "Texte 2026"}
    )
    assert unconfirmed.status_code == 200
    assert "confirm" in unconfirmed.context["form"].errors
    assert CharterVersion.objects.count() == 1

    response = client.post(
        reverse("programmes:charter_publish"), {"title": "Charte 2026", "body": "Texte 2026", "confirm": "on"}
    )

    assert response["Location"] == reverse("programmes:charter")
    version = CharterVersion.objects.get(number=2)
    assert (version.title, version.published_by) == ("Charte 2026", coordinator.user)
    assert version.published_at is not None
    assert events("charter.published").get().payload == {"number": 2}
    client.force_login(referent.user)
    assert "Texte 2026" in text_of(client.get(reverse("programmes:charter")))


@pytest.mark.parametrize("role", sorted(set(ALL_ROLES) - {Role.COORDINATOR}))
def test_only_the_coordinator_publishes_the_charter(client, login_as, programme, role):
    login_as(role, programme=programme, signed_charter=False)
    assert client.get(reverse("programmes:charter_publish")).status_code == 403
    response = client.post(
        reverse("programmes:charter_publish"), {"title": "T", "body": "B", "confirm": "on"}
    )
    assert response.status_code == 403
    assert not CharterVersion.objects.exists()


def test_a_new_version_asks_everyone_to_sign_again(client, login_as, programme):
    membership = login_as(Role.REFERENT, programme=programme, signed_charter=False)
    coordinator = MembershipFactory(role=Role.COORDINATOR, programme=programme).user
    first = services.charter_publish(programme=programme, by=coordinator, title="Charte", body="v1")
    services.charter_sign(membership=membership, by=membership.user)
    assert 'data-testid="charter-callout"' not in text_of(client.get(reverse("home")))

    services.charter_publish(programme=programme, by=coordinator, title="Charte", body="v2")

    assert 'data-testid="charter-callout"' in text_of(client.get(reverse("home")))
    assert CharterSignature.objects.filter(version=first).exists(), "old signatures stay in the history"


def test_publishing_numbers_versions_one_after_the_other(programme):
    coordinator = MembershipFactory(role=Role.COORDINATOR, programme=programme, signed_charter=False).user
    numbers = [
        services.charter_publish(programme=programme, by=coordinator, title="Charte", body=f"v{n}").number
        for n in range(3)
    ]
    assert numbers == [1, 2, 3]


def test_a_charter_typed_in_a_browser_keeps_its_paragraphs(client, login_as, programme):
    login_as(Role.COORDINATOR, programme=programme, signed_charter=False)
    client.post(
        reverse("programmes:charter_publish"),
        {"title": "Charte", "body": "Article 1.\r\n\r\nArticle 2.\r\nsuite", "confirm": "on"},
    )
    body = text_of(client.get(reverse("programmes:charter")))
    assert "<p>Article 1.</p>" in body
    assert "<p>Article 2.<br>suite</p>" in body
