"""The allauth pages we use: DSFR markup, in French, with no way to sign up and no user enumeration."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from maillage.accounts.models import User
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "hibou tartine velours"  # noqa: S105 -- synthetic test passphrase
ENGLISH = ["Sign In", "Sign Up", "Forgot your password", "Password Reset", "Change Password", "Sign Out"]


def main_of(response) -> str:
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def assert_dsfr_page_in_french(response):
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr"' in html
    assert "fr-header" in html and "fr-footer" in html, "the page uses the DSFR layout"
    main = main_of(response)
    assert "<h1" in main
    for english in ENGLISH:
        assert english not in main
    return main


def assert_dsfr_form(main: str):
    assert "fr-btn" in main
    assert 'class="fr-label"' in main
    assert re.search(r'class="[^"]*fr-input[^"]*"', main), "inputs carry the DSFR class"
    assert "placeholder=" not in main, "labels are visible, never replaced by placeholders"


def reset_link(email: str) -> str:
    message = next(m for m in mail.outbox if email in m.to)
    return re.search(r"https?://testserver(/compte/password/reset/key/\S+/)", message.body).group(1)


# --- login -----------------------------------------------------------------------------------------


def test_the_login_page_is_dsfr_in_french_and_offers_no_sign_up(client):
    main = assert_dsfr_page_in_french(client.get(reverse("account_login")))
    assert_dsfr_form(main)
    assert "Adresse électronique" in main
    assert "Mot de passe oublié ?" in main
    assert "Les comptes sont créés sur invitation de la coordination du programme." in main
    assert reverse("account_signup") not in main


def test_logging_in_with_email_and_password_lands_on_home(client):
    user = UserFactory(email="dominique@exemple.test")

    response = client.post(
        reverse("account_login"), {"login": "Dominique@Exemple.test", "password": TEST_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert int(client.session["_auth_user_id"]) == user.pk


def test_a_wrong_password_and_an_unknown_email_get_the_same_generic_error(client):
    UserFactory(email="dominique@exemple.test")

    wrong_password = client.post(
        reverse("account_login"), {"login": "dominique@exemple.test", "password": "pas le bon mot de passe"}
    )
    unknown_email = client.post(
        reverse("account_login"), {"login": "personne@exemple.test", "password": "pas le bon mot de passe"}
    )

    assert wrong_password.status_code == unknown_email.status_code == 200
    generic = "L’adresse e-mail ou le mot de passe sont incorrects."
    assert generic in main_of(wrong_password)
    assert generic in main_of(unknown_email)

    def without_variables(response):
        main = main_of(response)
        main = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main)
        return main.replace("dominique@exemple.test", "EMAIL").replace("personne@exemple.test", "EMAIL")

    assert without_variables(wrong_password) == without_variables(unknown_email)
    assert "_auth_user_id" not in client.session


def test_an_inactive_account_cannot_log_in(client):
    UserFactory(email="ancien@exemple.test", is_active=False)
    response = client.post(
        reverse("account_login"), {"login": "ancien@exemple.test", "password": TEST_PASSWORD}
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code in {200, 302}


# --- logout ----------------------------------------------------------------------------------------


def test_logout_asks_for_confirmation_and_only_a_post_signs_out(client):
    client.force_login(UserFactory())

    confirmation = client.get(reverse("account_logout"))
    main = assert_dsfr_page_in_french(confirmation)
    assert "Voulez-vous vraiment vous déconnecter ?" in main
    assert 'method="post"' in main
    assert "_auth_user_id" in client.session, "a GET never signs out"

    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert "_auth_user_id" not in client.session


def test_the_header_signs_out_with_a_post_form(client):
    client.force_login(UserFactory())
    html = client.get(reverse("home")).content.decode()
    assert f'<form method="post" action="{reverse("account_logout")}">' in html


# --- password reset --------------------------------------------------------------------------------


def test_the_password_reset_page_is_dsfr_in_french(client):
    main = assert_dsfr_page_in_french(client.get(reverse("account_reset_password")))
    assert_dsfr_form(main)
    assert "Mot de passe oublié" in main


def test_a_reset_request_for_a_known_address_sends_a_french_email_with_a_link(client):
    UserFactory(email="dominique@exemple.test")

    response = client.post(reverse("account_reset_password"), {"email": "dominique@exemple.test"})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject.startswith("[Maillage] ")
    assert "Choisir un nouveau mot de passe" in message.subject
    assert message.body.startswith("Bonjour,")
    assert reset_link("dominique@exemple.test")


def test_a_reset_request_for_an_unknown_address_looks_exactly_the_same(client):
    UserFactory(email="dominique@exemple.test")

    known = client.post(reverse("account_reset_password"), {"email": "dominique@exemple.test"})
    unknown = client.post(reverse("account_reset_password"), {"email": "inconnu@exemple.test"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert main_of(client.get(known["Location"])) == main_of(client.get(unknown["Location"]))
    # allauth tells the unknown address that no account uses it; never how to sign up.
    notice = next(m for m in mail.outbox if m.to == ["inconnu@exemple.test"])
    assert "invitation" in notice.body
    assert "signup" not in notice.body
    assert "/compte/password/reset/key/" not in notice.body


def test_the_reset_done_page_is_dsfr_in_french(client):
    main = assert_dsfr_page_in_french(client.get(reverse("account_reset_password_done")))
    assert "Vérifiez votre messagerie" in main


def test_the_reset_link_sets_a_new_password_following_the_rules(client):
    user = UserFactory(email="dominique@exemple.test")
    client.post(reverse("account_reset_password"), {"email": "dominique@exemple.test"})

    form_page = client.get(reset_link("dominique@exemple.test"), follow=True)
    main = assert_dsfr_page_in_french(form_page)
    assert_dsfr_form(main)
    assert "Choisir un nouveau mot de passe" in main
    assert "12 caractères" in main
    action = form_page.redirect_chain[-1][0]

    short = client.post(action, {"password1": "Lavande2026", "password2": "Lavande2026"})
    assert short.status_code == 200
    assert "fr-input-group--error" in main_of(short)

    done = client.post(action, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True)
    main = assert_dsfr_page_in_french(done)
    assert "Mot de passe modifié" in main
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    used_again = client.get(reset_link("dominique@exemple.test"), follow=True)
    assert "Lien expiré ou déjà utilisé" in main_of(used_again)


def test_the_reset_key_done_page_is_dsfr_in_french(client):
    assert_dsfr_page_in_french(client.get(reverse("account_reset_password_from_key_done")))


# --- password change -------------------------------------------------------------------------------


def test_the_password_change_page_is_dsfr_in_french_with_the_rules(client):
    client.force_login(UserFactory())
    main = assert_dsfr_page_in_french(client.get(reverse("account_change_password")))
    assert_dsfr_form(main)
    assert "Mot de passe actuel" in main
    assert "Nouveau mot de passe" in main
    assert "Votre mot de passe doit respecter ces règles" in main
    assert "fr-password" in main


# --- sign-up ---------------------------------------------------------------------------------------


def test_sign_up_is_closed_with_a_french_explanation(client):
    response = client.get(reverse("account_signup"))
    main = assert_dsfr_page_in_french(response)
    assert "Les comptes sont créés sur invitation de la coordination du programme." in main
    assert "<form" not in main


def test_posting_to_the_sign_up_url_creates_no_account(client):
    client.post(
        reverse("account_signup"),
        {"email": "intrus@exemple.test", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert not User.objects.filter(email="intrus@exemple.test").exists()
