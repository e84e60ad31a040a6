"""Home dashboard, public legal pages and error pages."""

import datetime
import html

import pytest
from django.test import RequestFactory
from django.urls import reverse

from maillage.programmes.enums import Role
from maillage.www.pages import views
from tests.factories import (
    CharterSignatureFactory,
    CharterVersionFactory,
    ChildFactory,
    HouseholdFactory,
    MembershipFactory,
    OrganisationFactory,
)

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def counts_of(response) -> dict[str, int]:
    return {str(count["label"]): count["value"] for count in response.context["counts"]}


# --- home ----------------------------------------------------------------------------------------


def test_the_coordinator_sees_how_many_children_and_households_the_programme_follows(
    client, login_as, programme, other_programme
):
    login_as(Role.COORDINATOR, programme=programme)
    household = HouseholdFactory(programme=programme)
    ChildFactory.create_batch(2, programme=programme, household=household)
    ChildFactory(programme=programme)
    ChildFactory.create_batch(4, programme=other_programme)

    response = client.get(reverse("home"))

    counts = counts_of(response)
    assert counts["enfants connus du programme"] == 3
    assert counts["foyers"] == 2
    assert f'href="{reverse("people:children")}"' in response.content.decode()


def test_the_manager_sees_members_and_partners_but_no_child_count(
    client, login_as, programme, other_programme
):
    login_as(Role.MANAGER, programme=programme)  # the factory adds the manager's own organisation
    MembershipFactory(role=Role.REFERENT, programme=programme)
    MembershipFactory(
        role=Role.REFERENT,
        programme=programme,
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date(2020, 12, 31),
    )
    OrganisationFactory(programme=programme, is_active=False)
    MembershipFactory(role=Role.REFERENT, programme=other_programme)
    ChildFactory(programme=programme)

    counts = counts_of(client.get(reverse("home")))

    assert counts == {"membres actifs de l'équipe et des partenaires": 2, "organisations partenaires": 3}


@pytest.mark.parametrize("role", [Role.REFERENT, Role.EPS_MEMBER, Role.STEERING, Role.PROVIDER, Role.DPO])
def test_other_roles_get_a_plain_welcome_and_no_counts(client, login_as, programme, role):
    login_as(role, programme=programme)
    ChildFactory(programme=programme)

    response = client.get(reverse("home"))

    assert response.context["counts"] == []
    assert str(views.ROLE_INTRODUCTIONS[role]) in text_of(response)
    assert f'href="{reverse("programmes:profile")}"' in response.content.decode()


def test_every_role_has_a_welcome_text():
    assert set(views.ROLE_INTRODUCTIONS) == set(Role.values)


def test_the_coordinator_gets_helpful_empty_states(client, login_as):
    login_as(Role.COORDINATOR)
    body = text_of(client.get(reverse("home")))
    assert "Aucun enfant n'est encore enregistré" in body


def test_a_member_who_has_not_signed_the_current_charter_is_asked_to(client, login_as, programme):
    membership = login_as(Role.REFERENT, programme=programme)
    version = CharterVersionFactory(programme=programme)

    body = text_of(client.get(reverse("home")))
    assert 'data-testid="charter-callout"' in body
    assert f'href="{reverse("programmes:charter")}"' in body

    CharterSignatureFactory(version=version, membership=membership)
    assert 'data-testid="charter-callout"' not in text_of(client.get(reverse("home")))


def test_no_charter_callout_when_nothing_is_published_or_the_role_sees_aggregates_only(
    client, login_as, programme
):
    login_as(Role.STEERING, programme=programme)
    CharterVersionFactory(programme=programme, published_at=None)
    assert 'data-testid="charter-callout"' not in text_of(client.get(reverse("home")))
    CharterVersionFactory(programme=programme)
    assert 'data-testid="charter-callout"' not in text_of(client.get(reverse("home")))


def test_someone_without_a_membership_in_force_is_told_so(client, login_as):
    login_as(Role.COORDINATOR, starts_on=datetime.date(2020, 1, 1), ends_on=datetime.date(2021, 1, 1))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["current_membership"] is None
    assert "Vous n'intervenez dans aucun programme pour le moment" in text_of(response)


@pytest.mark.parametrize(
    "url_name", ["programmes:profile", "programmes:organisations", "programmes:charter", "people:children"]
)
def test_an_ended_membership_gives_access_to_no_programme_page(client, login_as, url_name):
    membership = login_as(
        Role.COORDINATOR, starts_on=datetime.date(2020, 1, 1), ends_on=datetime.date(2021, 1, 1)
    )
    ChildFactory(programme=membership.programme)
    assert client.get(reverse(url_name)).status_code == 404


@pytest.mark.parametrize("url_name", ["home", "programmes:profile", "people:children"])
def test_a_deactivated_account_is_sent_back_to_the_login_page(client, login_as, url_name):
    membership = login_as(Role.COORDINATOR)
    membership.user.is_active = False
    membership.user.save(update_fields=["is_active"])

    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


# --- legal pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "title", "phrases"),
    [
        (
            "accessibility",
            "Déclaration d'accessibilité",
            ["RGAA", "4.1", "partiellement conforme", "Défenseur des droits", "Libre réponse 71120", "audit"],
        ),
        (
            "legal",
            "Mentions légales",
            [
                "Éditeur du service",
                "Directeur ou directrice de la publication",
                "Hébergement",
                "Structure porteuse",
            ],
        ),
        (
            "privacy",
            "Politique de confidentialité",
            [
                "Responsable de traitement",
                "mission d'intérêt public",
                "autorité parentale",
                "L.121-6-2",
                "L.226-2-2",
                "2 ans après la dernière action",
                "Journal des accès : 12 mois",
                "CNIL",
                "Archivage intermédiaire",
            ],
        ),
    ],
)
def test_legal_pages_are_public_and_written_in_french(client, url_name, title, phrases):
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    body = text_of(response)
    assert f"<h1>{title}</h1>" in body
    for phrase in phrases:
        assert phrase in body, phrase
    assert "lorem" not in body.lower()


def test_the_legal_notice_shows_what_the_operator_configured(client, settings):
    settings.MAILLAGE_OPERATOR_NAME = "Ville de Démo"
    settings.MAILLAGE_PUBLICATION_DIRECTOR = "Mme la Maire de Démo"
    settings.MAILLAGE_HOSTING_NAME = "Hébergeur Exemple SAS"
    settings.MAILLAGE_HOSTING_ADDRESS = "1 rue de l'Exemple, 75000 Paris"
    body = text_of(client.get(reverse("legal")))
    assert "Mme la Maire de Démo" in body
    assert "Hébergeur Exemple SAS" in body
    assert "Ville de Démo" in body


def test_the_legal_notice_says_what_is_still_to_be_filled_in(client, settings):
    settings.MAILLAGE_HOSTING_NAME = ""
    body = text_of(client.get(reverse("legal")))
    assert "[à compléter par l'opérateur]" in body


def test_the_privacy_notice_of_a_member_uses_the_programmes_own_retention_and_lead_body(
    client, login_as, programme
):
    programme.lead_body_name = "CCAS de Villeneuve-sur-Démo"
    programme.active_retention_years = 3
    programme.log_retention_months = 24
    programme.save(update_fields=["lead_body_name", "active_retention_years", "log_retention_months"])
    login_as(Role.REFERENT, programme=programme)

    body = text_of(client.get(reverse("privacy")))

    assert "CCAS de Villeneuve-sur-Démo" in body
    assert "3 ans après la dernière action" in body
    assert "Journal des accès : 24 mois" in body


# --- error pages ---------------------------------------------------------------------------------


def test_an_unknown_address_renders_the_dsfr_404_page(client, login_as):
    login_as(Role.COORDINATOR)
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    body = text_of(response)
    assert "Page non trouvée" in body
    assert "fr-header" in body


def test_the_403_page_explains_and_leads_home():
    request = RequestFactory().get("/")
    request.user = MembershipFactory(role=Role.REFERENT).user
    request.session = {}
    request.csp_nonce = "nonce"
    response = views.error_403(request)
    assert response.status_code == 403
    assert "Action non autorisée" in response.content.decode()


def test_the_500_page_renders_without_database_nor_request_context(django_assert_num_queries):
    request = RequestFactory().get("/")  # no user, no session, no middleware
    with django_assert_num_queries(0):
        response = views.error_500(request)
    assert response.status_code == 500
    body = text_of(response)
    assert "Erreur inattendue" in body
    assert "dsfr.min.css" in body
    assert "<title>Erreur du serveur — Maillage</title>" in body


def test_the_project_uses_these_error_handlers():
    from config import urls

    assert urls.handler403 == "maillage.www.pages.views.error_403"
    assert urls.handler404 == "maillage.www.pages.views.error_404"
    assert urls.handler500 == "maillage.www.pages.views.error_500"
