"""The invitation page and the team page, through the browser's eyes (Django's test client)."""

import datetime
import re

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from maillage.accounts import services
from maillage.accounts.models import Invitation, User
from maillage.programmes.enums import Role
from maillage.programmes.models import Membership
from tests.factories import TEST_PASSWORD, MembershipFactory, OrganisationFactory, UserFactory, enrol_totp

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "cerf-volant lavande orage"  # noqa: S105 -- synthetic test passphrase
INVALID_PAGE_TEXT = "Ce lien d'invitation n'est pas valide"


@pytest.fixture
def coordinator():
    return MembershipFactory(role=Role.COORDINATOR)


@pytest.fixture
def invitation_and_token(coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.invitation_create(
            programme=coordinator.programme,
            email="sacha.robert@exemple.test",
            first_name="Sacha",
            last_name="Robert",
            role=Role.EPS_MEMBER,
            organisation=OrganisationFactory(programme=coordinator.programme, name="Collège Jean Moulin"),
            by=coordinator.user,
        )


def accept_url(token: str) -> str:
    return reverse("accounts:invitation_accept", kwargs={"token": token})


# --- accepting -------------------------------------------------------------------------------------


def test_the_link_in_the_email_opens_the_invitation_page(client, invitation_and_token):
    _, token = invitation_and_token
    link = next(word for word in mail.outbox[0].body.split() if "/compte/invitation/" in word)
    assert link.endswith(accept_url(token))

    response = client.get(accept_url(token))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'lang="fr"' in page
    assert "PRE de la Ville" in page
    assert "Membre d&#x27;équipe pluridisciplinaire (EPS)" in page
    assert "Collège Jean Moulin" in page
    assert "12 caractères" in page, "the password rules are shown"
    assert 'class="fr-password__input fr-input"' in page


def test_accepting_signs_the_person_in_then_asks_for_a_second_factor_before_home(
    client, invitation_and_token
):
    invitation, token = invitation_and_token

    response = client.post(accept_url(token), {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get(email="sacha.robert@exemple.test")
    assert int(client.session["_auth_user_id"]) == user.pk
    home = client.get(reverse("home"))
    assert home.status_code == 302
    assert home["Location"] == reverse("mfa_activate_totp"), "an EPS member sees names: a second factor first"
    enrol_totp(user)
    home = client.get(reverse("home"))
    assert "Bienvenue" in home.content.decode()
    assert Membership.objects.get(user=user).role == Role.EPS_MEMBER


def test_the_link_cannot_be_used_twice(client, invitation_and_token):
    _, token = invitation_and_token
    client.post(accept_url(token), {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
    client.logout()

    again = client.post(accept_url(token), {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
    assert again.status_code == 404
    assert INVALID_PAGE_TEXT in again.content.decode()
    assert client.get(accept_url(token)).status_code == 404


def test_unknown_expired_used_and_revoked_links_show_the_same_page(
    client, coordinator, invitation_and_token, django_capture_on_commit_callbacks
):
    invitation, token = invitation_and_token
    unknown = client.get(accept_url("lien-inconnu"))

    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        expired = client.get(accept_url(token))

    services.invitation_revoke(invitation=invitation, by=coordinator.user)
    revoked = client.get(accept_url(token))

    with django_capture_on_commit_callbacks(execute=True):
        _, used_token = services.invitation_create(
            programme=coordinator.programme,
            email="autre@exemple.test",
            first_name="Noa",
            last_name="Girard",
            role=Role.PROVIDER,
            by=coordinator.user,
        )
    services.invitation_accept(token=used_token, password=GOOD_PASSWORD)
    used = client.get(accept_url(used_token))

    def main(response):
        html = response.content.decode()
        return html[html.index("<main") : html.index("</main>")]

    assert {r.status_code for r in (unknown, expired, revoked, used)} == {404}
    assert main(unknown) == main(expired) == main(revoked) == main(used)
    assert INVALID_PAGE_TEXT in main(unknown)


def test_a_short_password_is_refused_on_the_page_with_the_rule(client, invitation_and_token):
    _, token = invitation_and_token

    response = client.post(accept_url(token), {"password1": "Lavande2026", "password2": "Lavande2026"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "fr-input-group--error" in page
    assert "trop court" in page
    assert not User.objects.filter(email="sacha.robert@exemple.test").exists()


def test_two_different_passwords_are_refused(client, invitation_and_token):
    _, token = invitation_and_token
    response = client.post(accept_url(token), {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD + "x"})
    assert "ne sont pas identiques" in response.content.decode()
    assert not User.objects.filter(email="sacha.robert@exemple.test").exists()


def test_an_existing_account_confirms_with_its_password_which_does_not_change(client, invitation_and_token):
    _, token = invitation_and_token
    existing = UserFactory(email="sacha.robert@exemple.test")

    page = client.get(accept_url(token)).content.decode()
    assert "Vous avez déjà un compte" in page

    wrong = client.post(accept_url(token), {"password1": "pas le bon mot de passe"})
    assert wrong.status_code == 200
    assert "Mot de passe incorrect" in wrong.content.decode()

    response = client.post(accept_url(token), {"password1": TEST_PASSWORD})
    assert response.status_code == 302
    existing.refresh_from_db()
    assert existing.check_password(TEST_PASSWORD)
    assert existing.memberships.filter(role=Role.EPS_MEMBER).exists()


def test_the_owner_already_signed_in_joins_with_one_click(client, invitation_and_token):
    invitation, token = invitation_and_token
    existing = UserFactory(email="sacha.robert@exemple.test")
    client.force_login(existing)

    page = client.get(accept_url(token)).content.decode()
    assert "Confirmez pour ajouter ce rôle à votre compte." in page
    assert 'type="password"' not in page

    response = client.post(accept_url(token))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert existing.memberships.filter(programme=invitation.programme, role=Role.EPS_MEMBER).exists()


def test_an_account_with_a_second_factor_is_not_signed_in_by_the_link(client, invitation_and_token):
    invitation, token = invitation_and_token
    existing = UserFactory(email="sacha.robert@exemple.test")
    Authenticator.objects.create(
        user=existing, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )

    response = client.post(accept_url(token), {"password1": TEST_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert "_auth_user_id" not in client.session
    assert existing.memberships.filter(programme=invitation.programme).exists()


def test_someone_signed_in_with_another_account_is_asked_to_sign_out(client, invitation_and_token):
    _, token = invitation_and_token
    client.force_login(UserFactory())

    response = client.post(accept_url(token), {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})

    assert response.status_code == 200
    assert "avec un autre compte" in response.content.decode()
    assert not User.objects.filter(email="sacha.robert@exemple.test").exists()


# --- the team page ---------------------------------------------------------------------------------


def test_the_team_page_lists_members_and_pending_invitations(client, coordinator, invitation_and_token):
    colleague = MembershipFactory(programme=coordinator.programme, role=Role.REFERENT, job_title="Éducateur")
    MembershipFactory(role=Role.REFERENT)  # another programme: not listed
    client.force_login(coordinator.user)

    response = client.get(reverse("accounts:team"))

    assert response.status_code == 200
    page = response.content.decode()
    assert colleague.user.email in page
    assert "Éducateur" in page
    assert "sacha.robert@exemple.test" in page
    assert "En attente" in page
    assert reverse("accounts:invite") in page
    assert Membership.objects.exclude(programme=coordinator.programme).get().user.email not in page


def test_the_team_page_runs_a_constant_number_of_queries(
    client, coordinator, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    client.force_login(coordinator.user)
    for n in range(3):
        MembershipFactory(programme=coordinator.programme, role=Role.REFERENT)
        with django_capture_on_commit_callbacks(execute=True):
            services.invitation_create(
                programme=coordinator.programme,
                email=f"invite{n}@exemple.test",
                first_name="Eden",
                last_name="Faure",
                role=Role.PROVIDER,
                organisation=OrganisationFactory(programme=coordinator.programme),
                by=coordinator.user,
            )
    client.get(reverse("accounts:team"))  # warm the session
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("accounts:team"))
    baseline = len(few.captured_queries)
    for _ in range(10):
        MembershipFactory(programme=coordinator.programme, role=Role.PROVIDER)
    with django_assert_max_num_queries(baseline):
        client.get(reverse("accounts:team"))


def test_a_manager_sees_the_team_page(client):
    manager = MembershipFactory(role=Role.MANAGER)
    client.force_login(manager.user)
    assert client.get(reverse("accounts:team")).status_code == 200


@pytest.mark.parametrize("role", [Role.REFERENT, Role.EPS_MEMBER, Role.PROVIDER, Role.STEERING, Role.DPO])
def test_other_roles_get_a_404_on_the_team_pages(client, role, coordinator, invitation_and_token):
    invitation, _ = invitation_and_token
    member = MembershipFactory(programme=coordinator.programme, role=role)
    client.force_login(member.user)

    assert client.get(reverse("accounts:team")).status_code == 404
    assert client.post(reverse("accounts:invite"), {"email": "x@exemple.test"}).status_code == 404
    revoke = reverse("accounts:invitation_revoke", kwargs={"pk": invitation.pk})
    assert client.post(revoke).status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
    assert Invitation.objects.count() == 1


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse("accounts:team"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_inviting_from_the_team_page_sends_the_email(client, coordinator, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory(programme=coordinator.programme)
    client.force_login(coordinator.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:invite"),
            {
                "email": "Alix.Moreau@Exemple.test",
                "first_name": "Alix",
                "last_name": "Moreau",
                "role": Role.REFERENT,
                "organisation": organisation.pk,
                "job_title": "Assistante sociale",
                "bound_by_secrecy": "on",
            },
        )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:team")
    invitation = Invitation.objects.get()
    assert invitation.email == "alix.moreau@exemple.test"
    assert invitation.bound_by_secrecy is True
    assert invitation.organisation == organisation
    assert mail.outbox[0].to == ["alix.moreau@exemple.test"]
    assert "http://testserver/compte/invitation/" in mail.outbox[0].body
    assert "Invitation envoyée" in client.get(reverse("accounts:team")).content.decode()


def test_an_organisation_of_another_programme_cannot_be_chosen(client, coordinator):
    client.force_login(coordinator.user)
    response = client.post(
        reverse("accounts:invite"),
        {
            "email": "alix@exemple.test",
            "first_name": "Alix",
            "last_name": "Moreau",
            "role": Role.REFERENT,
            "organisation": OrganisationFactory().pk,
        },
    )
    assert response.status_code == 200
    assert "fr-select-group--error" in response.content.decode()
    assert not Invitation.objects.exists()


def test_an_incomplete_invitation_form_shows_dsfr_errors(client, coordinator):
    client.force_login(coordinator.user)
    response = client.post(reverse("accounts:invite"), {"email": "pas-une-adresse"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="fr-error-text"' in page
    assert re.search(r'aria-describedby="[^"]*id_email-desc-error"', page), "the error is linked to the field"
    assert 'id="id_email-desc-error"' in page
    assert not Invitation.objects.exists()


def test_revoking_asks_for_confirmation_first(client, coordinator, invitation_and_token):
    invitation, token = invitation_and_token
    client.force_login(coordinator.user)
    revoke = reverse("accounts:invitation_revoke", kwargs={"pk": invitation.pk})

    confirmation = client.get(revoke)
    assert confirmation.status_code == 200
    assert "Annuler l'invitation ?" in confirmation.content.decode()
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None

    response = client.post(revoke)
    assert response.status_code == 302
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None
    client.logout()
    assert client.get(accept_url(token)).status_code == 404


def test_a_coordinator_cannot_revoke_an_invitation_of_another_programme(client, invitation_and_token):
    invitation, _ = invitation_and_token
    other = MembershipFactory(role=Role.COORDINATOR)
    client.force_login(other.user)

    response = client.post(reverse("accounts:invitation_revoke", kwargs={"pk": invitation.pk}))

    assert response.status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
