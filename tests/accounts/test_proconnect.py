"""ProConnect login, end to end against a local OpenID Connect provider (tests/accounts/oidc_provider.py).

The Django test client plays the browser on Maillage's side; the hop to the provider's
authorisation endpoint goes over HTTP with ``requests`` (the provider answers at once with a
redirect back to Maillage's callback); Maillage itself calls the provider's token, JWKS and
userinfo endpoints over HTTP on 127.0.0.1.
"""

import datetime
import runpy
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import time_machine
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from maillage.accounts import social
from maillage.accounts.models import User
from maillage.audit.models import AuditEvent
from tests.accounts.oidc_provider import OIDCProvider
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

BUTTON = "S'identifier avec ProConnect"
SCOPES = ["openid", "email", "given_name", "usual_name", "siret"]


@pytest.fixture(scope="module")
def op():
    with OIDCProvider(client_id="maillage-test") as provider:
        yield provider


def proconnect_settings(op: OIDCProvider, **app_settings) -> dict:
    """What config/settings.py builds from PROCONNECT_* when set, pointing at the local provider."""
    return {
        "openid_connect": {
            "provider_class": "maillage.accounts.social.ProConnectProvider",
            "APPS": [
                {
                    "provider_id": "proconnect",
                    "name": "ProConnect",
                    "client_id": op.client_id,
                    "secret": op.client_secret,
                    "settings": {
                        "server_url": op.issuer,
                        "scope": SCOPES,
                        "oauth_pkce_enabled": False,
                        "token_auth_method": "client_secret_post",
                        "verified_email": True,
                        **app_settings,
                    },
                }
            ],
        }
    }


@pytest.fixture
def proconnect(settings, op, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    op.tamper_nonce = None
    op.tamper_id_token_key = None
    op.tamper_userinfo_key = None
    op.userinfo_as_jwt = True
    op.userinfo_claims_iss_aud = True
    op.tamper_userinfo_sub = None
    op.authorize_requests.clear()
    op.token_requests.clear()
    settings.SOCIALACCOUNT_PROVIDERS = proconnect_settings(op)
    return op


def agent(op: OIDCProvider, email: str, **claims) -> None:
    op.user = {
        "sub": claims.pop("sub", secrets.token_hex(8)),
        "email": email,
        "email_verified": True,
        "given_name": "Camille",
        "usual_name": "Lefèvre",
        "siret": "21750001600019",
        **claims,
    }


def go_to_provider(client) -> str:
    """Click the button: Maillage answers with a redirect to the provider's authorisation endpoint."""
    response = client.post(reverse("proconnect_login"))
    assert response.status_code == 302
    return response["Location"]


def provider_redirects_back(authorize_url: str) -> str:
    """The provider approves at once and sends the browser back to Maillage's callback."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    back = urlsplit(response.headers["Location"])
    assert back.netloc == "testserver"
    return f"{back.path}?{back.query}"


def log_in_with_proconnect(client):
    return client.get(provider_redirects_back(go_to_provider(client)))


def totp_code_of(user) -> str:
    """The current code of ``user``'s TOTP, enrolling one first if they have none."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        authenticator = TOTP.activate(user, generate_totp_secret()).instance
    secret = get_mfa_adapter().decrypt(authenticator.data["secret"])
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def finish_login(client, response, user):
    """After the callback: give the second factor when Maillage asks for it (as it does for members)."""
    if response.status_code == 302 and response["Location"] == reverse("mfa_authenticate"):
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code_of(user)})
    return response


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


def events(verb):
    return list(AuditEvent.objects.filter(verb=verb).order_by("pk"))


# --- configuration -----------------------------------------------------------------------------


def settings_from_environment(monkeypatch, **environment) -> dict:
    """config/settings.py evaluated afresh with these PROCONNECT_* variables (and no others)."""
    for name in (
        "PROCONNECT_CLIENT_ID",
        "PROCONNECT_CLIENT_SECRET",
        "PROCONNECT_SERVER_URL",
        "PROCONNECT_PKCE",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(django_settings.BASE_DIR / "config" / "settings.py"))


def test_without_the_environment_variables_no_proconnect_app_is_configured(monkeypatch):
    configured = settings_from_environment(monkeypatch, PROCONNECT_CLIENT_ID="seulement-l-identifiant")
    assert configured["SOCIALACCOUNT_PROVIDERS"]["openid_connect"]["APPS"] == []
    assert configured["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"] == ["'self'"]


def test_the_environment_variables_configure_the_proconnect_app_and_let_the_button_redirect_there(
    monkeypatch,
):
    configured = settings_from_environment(
        monkeypatch,
        PROCONNECT_CLIENT_ID="client-de-test",
        PROCONNECT_CLIENT_SECRET="secret-de-test",  # noqa: S106 -- synthetic
        PROCONNECT_SERVER_URL="https://fca.integ01.dev-agentconnect.fr/api/v2",
    )
    (app,) = configured["SOCIALACCOUNT_PROVIDERS"]["openid_connect"]["APPS"]
    assert (app["provider_id"], app["client_id"], app["secret"]) == (
        "proconnect",
        "client-de-test",
        "secret-de-test",
    )
    assert app["settings"]["server_url"] == "https://fca.integ01.dev-agentconnect.fr/api/v2"
    assert app["settings"]["scope"] == SCOPES
    assert app["settings"]["oauth_pkce_enabled"] is False
    # Browsers apply form-action to the redirect that follows the button's POST.
    assert (
        "https://fca.integ01.dev-agentconnect.fr"
        in configured["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"]
    )


def test_without_configuration_the_login_page_has_no_proconnect_button_and_its_urls_answer_404(client):
    page = client.get(reverse("account_login"))
    assert page.status_code == 200
    assert "ProConnect" not in page.content.decode()
    assert client.post(reverse("proconnect_login")).status_code == 404
    assert client.get(reverse("proconnect_login")).status_code == 404
    assert client.get(reverse("proconnect_callback"), {"code": "x", "state": "y"}).status_code == 404
    # allauth's own OpenID Connect URLs for the same provider id are shadowed, and 404 as well.
    assert client.post("/compte/oidc/autre/login/").status_code == 404


def test_with_configuration_the_login_page_shows_the_proconnect_button_posting_to_the_login_url(
    client, proconnect
):
    page = client.get(reverse("account_login")).content.decode()
    assert BUTTON in page
    assert f'action="{reverse("proconnect_login")}"' in page
    assert "<img" not in page[page.index("proconnect-title") : page.index("fr-hr-or")]


def test_opening_the_login_url_by_get_only_asks_for_confirmation(client, proconnect):
    response = client.get(reverse("proconnect_login"))
    assert response.status_code == 200
    assert "Connexion avec ProConnect" in response.content.decode()
    assert proconnect.authorize_requests == []


# --- the happy path ----------------------------------------------------------------------------


def test_an_invited_member_logs_in_with_proconnect_and_lands_logged_in(client, proconnect):
    member = MembershipFactory().user
    code = totp_code_of(member)  # members who see names have a second factor
    agent(proconnect, member.email.upper(), sub="agent-42")

    response = log_in_with_proconnect(client)

    # ProConnect is not a second factor: Maillage asks for the TOTP code before logging in.
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert logged_in_user_id(client) is None
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(member.pk)
    account = SocialAccount.objects.get(provider="proconnect", uid="agent-42")
    assert account.user == member
    (accepted,) = events(social.ACCEPTED_VERB)
    assert accepted.actor == member
    assert accepted.payload == {"provider_id": "proconnect", "first_link": True}
    assert User.objects.count() == 1


def test_the_authorisation_request_carries_a_long_state_a_long_nonce_and_the_configured_scopes_only(
    client, proconnect
):
    member = MembershipFactory().user
    agent(proconnect, member.email)
    log_in_with_proconnect(client)
    (request,) = proconnect.authorize_requests
    assert len(request["state"]) >= 32
    assert len(request["nonce"]) >= 32
    assert sorted(request["scope"].split()) == sorted(SCOPES)
    # ProConnect refuses unknown parameters: PKCE stays off unless PROCONNECT_PKCE is set.
    assert set(request) == {"client_id", "redirect_uri", "scope", "response_type", "state", "nonce"}
    assert request["redirect_uri"] == "http://testserver/compte/oidc/proconnect/login/callback/"


def test_a_second_login_reuses_the_connected_identity(client, proconnect):
    member = MembershipFactory().user
    agent(proconnect, member.email, sub="agent-7")
    finish_login(client, log_in_with_proconnect(client), member)
    client.logout()

    # A minute later (a new TOTP code: a code is accepted once).
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=1)):
        finish_login(client, log_in_with_proconnect(client), member)

    assert logged_in_user_id(client) == str(member.pk)
    assert SocialAccount.objects.filter(user=member).count() == 1
    assert [e.payload["first_link"] for e in events(social.ACCEPTED_VERB)] == [True, False]


def test_with_pkce_the_verifier_is_sent_and_checked_by_the_provider(client, settings, proconnect):
    settings.SOCIALACCOUNT_PROVIDERS = proconnect_settings(proconnect, oauth_pkce_enabled=True)
    member = MembershipFactory().user
    agent(proconnect, member.email)

    finish_login(client, log_in_with_proconnect(client), member)

    assert logged_in_user_id(client) == str(member.pk)
    assert proconnect.authorize_requests[0]["code_challenge_method"] == "S256"
    assert proconnect.token_requests[0]["code_verifier"]


def test_a_provider_answering_userinfo_in_plain_json_works_too(client, proconnect):
    proconnect.userinfo_as_jwt = False
    member = MembershipFactory().user
    agent(proconnect, member.email)
    finish_login(client, log_in_with_proconnect(client), member)
    assert logged_in_user_id(client) == str(member.pk)


def test_a_signed_userinfo_without_iss_and_aud_is_accepted_on_its_signature(client, proconnect):
    proconnect.userinfo_claims_iss_aud = False
    member = MembershipFactory().user
    agent(proconnect, member.email)
    finish_login(client, log_in_with_proconnect(client), member)
    assert logged_in_user_id(client) == str(member.pk)


def test_a_wrong_totp_code_after_proconnect_leaves_the_session_logged_out(client, proconnect):
    member = MembershipFactory().user
    good = totp_code_of(member)
    agent(proconnect, member.email)

    log_in_with_proconnect(client)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    client.post(reverse("mfa_authenticate"), {"code": wrong})

    assert logged_in_user_id(client) is None


# --- refusals ----------------------------------------------------------------------------------


def assert_refused(client, response, reason: str):
    assert response.status_code == 403
    assert logged_in_user_id(client) is None
    refused = events(social.REFUSED_VERB)
    assert refused and refused[-1].payload["reason"] == reason
    return response.content.decode()


def test_an_unknown_address_is_refused_with_a_clear_page_and_no_account_is_created(client, proconnect):
    agent(proconnect, "inconnue@exemple.test")

    page = assert_refused(client, log_in_with_proconnect(client), "unknown")

    assert "Aucun compte Maillage n'est associé à cette adresse" in page
    assert "demandez une invitation à votre coordination" in page
    assert not User.objects.filter(email="inconnue@exemple.test").exists()
    assert not SocialAccount.objects.exists()
    (refused,) = events(social.REFUSED_VERB)
    assert refused.payload["email_domain"] == "exemple.test"
    assert "inconnue" not in str(refused.payload)


def test_a_deactivated_account_is_refused(client, proconnect):
    member = MembershipFactory().user
    member.is_active = False
    member.save(update_fields=["is_active"])
    agent(proconnect, member.email)

    assert_refused(client, log_in_with_proconnect(client), "inactive")
    assert not SocialAccount.objects.exists()


def test_an_account_without_a_membership_in_force_is_refused(client, proconnect):
    ended = MembershipFactory(ends_on=timezone.localdate() - timezone.timedelta(days=1))
    agent(proconnect, ended.user.email)
    assert_refused(client, log_in_with_proconnect(client), "inactive")


def test_an_account_deactivated_after_its_first_proconnect_login_is_refused_next_time(client, proconnect):
    member = MembershipFactory().user
    agent(proconnect, member.email)
    finish_login(client, log_in_with_proconnect(client), member)
    assert logged_in_user_id(client) == str(member.pk)
    client.logout()
    member.is_active = False
    member.save(update_fields=["is_active"])

    assert_refused(client, log_in_with_proconnect(client), "inactive")


def test_an_address_the_provider_says_is_unverified_is_refused(client, proconnect):
    member = MembershipFactory().user
    agent(proconnect, member.email, email_verified=False)
    assert_refused(client, log_in_with_proconnect(client), "unverified")


def test_an_account_with_a_password_only_is_not_a_proconnect_account_for_another_address(client, proconnect):
    UserFactory(email="agent@exemple.test")
    agent(proconnect, "agent@ailleurs.test")
    assert_refused(client, log_in_with_proconnect(client), "unknown")


def test_an_id_token_carrying_another_nonce_is_refused(client, proconnect):
    member = MembershipFactory().user
    agent(proconnect, member.email)
    proconnect.tamper_nonce = secrets.token_urlsafe(32)
    assert_refused(client, log_in_with_proconnect(client), "nonce")


def forged_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def assert_failed(client, response):
    assert response.status_code == 401
    assert "La connexion avec ProConnect n'a pas abouti" in response.content.decode()
    assert logged_in_user_id(client) is None
    assert events(social.FAILED_VERB)[-1].payload["exception"] == "OAuth2Error"
    assert not events(social.ACCEPTED_VERB)


def test_an_id_token_signed_with_another_key_fails_and_is_journaled(client, proconnect):
    member = MembershipFactory().user
    agent(proconnect, member.email)
    proconnect.tamper_id_token_key = forged_key()
    assert_failed(client, log_in_with_proconnect(client))


def test_a_userinfo_signed_with_another_key_fails_and_is_journaled(client, proconnect):
    member = MembershipFactory().user
    agent(proconnect, member.email)
    proconnect.tamper_userinfo_key = forged_key()
    assert_failed(client, log_in_with_proconnect(client))


def test_a_userinfo_about_someone_else_than_the_id_token_is_refused(client, proconnect):
    member = MembershipFactory().user
    agent(proconnect, member.email, sub="agent-1")
    proconnect.tamper_userinfo_sub = "agent-2"
    assert_refused(client, log_in_with_proconnect(client), "sub")
    assert not SocialAccount.objects.exists()


# --- state -------------------------------------------------------------------------------------


def test_a_callback_whose_state_does_not_match_is_refused(client, proconnect):
    member = MembershipFactory().user
    agent(proconnect, member.email)
    callback = urlsplit(provider_redirects_back(go_to_provider(client)))
    query = parse_qs(callback.query)
    forged = f"{callback.path}?{urlencode({'code': query['code'][0], 'state': secrets.token_urlsafe(32)})}"

    response = client.get(forged)

    assert response.status_code == 401
    assert "La connexion avec ProConnect n'a pas abouti" in response.content.decode()
    assert logged_in_user_id(client) is None
    assert proconnect.token_requests == [], "the code is never exchanged"
    assert events(social.FAILED_VERB)


def test_a_callback_reaching_another_browser_is_refused(client, proconnect):
    from django.test import Client

    member = MembershipFactory().user
    agent(proconnect, member.email)
    callback = provider_redirects_back(go_to_provider(client))

    other = Client()
    response = other.get(callback)

    assert response.status_code == 401
    assert other.session.get("_auth_user_id") is None
    assert proconnect.token_requests == []


def test_a_callback_cannot_be_replayed(client, proconnect):
    member = MembershipFactory().user
    agent(proconnect, member.email)
    callback = provider_redirects_back(go_to_provider(client))
    finish_login(client, client.get(callback), member)
    assert logged_in_user_id(client) == str(member.pk)
    client.logout()

    client.get(callback)

    assert logged_in_user_id(client) is None
    assert len(proconnect.token_requests) == 1


# --- in a real browser -------------------------------------------------------------------------


@pytest.fixture
def chromium(browser):
    """The session's Chromium (tests/conftest.py): a second Playwright in the process would fail."""
    return browser


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_in_chromium_the_button_leads_through_proconnect_and_the_second_factor_to_the_dashboard(
    chromium, live_server, settings, proconnect, transactional_db
):
    from playwright.sync_api import expect

    from tests.browser.helpers import assert_no_csp_violation, assert_no_page_error, axe_check, watch_page

    # What config/settings.py adds when ProConnect is configured: the button's POST is redirected there,
    # and Chromium applies form-action to that redirect (without it the navigation is aborted).
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    settings.CONTENT_SECURITY_POLICY = {
        **settings.CONTENT_SECURITY_POLICY,
        "DIRECTIVES": {
            **directives,
            "form-action": [*directives["form-action"], proconnect.issuer.rsplit("/api", 1)[0]],
        },
    }
    member = MembershipFactory().user
    agent(proconnect, member.email)
    context = chromium.new_context(locale="fr-FR")
    page = watch_page(context.new_page())
    try:
        page.goto(live_server.url + reverse("account_login"))
        axe_check(page)
        with page.expect_navigation(url=f"**{reverse('mfa_authenticate')}"):
            page.get_by_role("button", name="S'identifier avec ProConnect").click()
        assert proconnect.authorize_requests, "the browser went to the provider"
        page.locator("input[name='code']").fill(totp_code_of(member))
        with page.expect_navigation():
            page.locator("form").filter(has=page.locator("input[name='code']")).locator(
                "button[type='submit']"
            ).first.click()
        expect(page).to_have_url(live_server.url + reverse("home"))
        assert SocialAccount.objects.filter(user=member, provider="proconnect").exists()
        assert_no_csp_violation(page)
        assert_no_page_error(page)
    finally:
        context.close()
