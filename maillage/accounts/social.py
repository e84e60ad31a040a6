"""ProConnect: the State's OpenID Connect for public agents, as an optional way to log in.

Configured by environment only (``PROCONNECT_CLIENT_ID``, ``PROCONNECT_CLIENT_SECRET``,
``PROCONNECT_SERVER_URL``…, see ``config/settings.py`` and the README). Without them no provider app
exists: the login page shows no ProConnect button and the ProConnect URLs answer 404.

Built on allauth's OpenID Connect provider, with what ProConnect requires and allauth lacks:

- a random ``nonce`` (≥ 32 characters) sent with the authorisation request, kept in the login's
  state and checked against the ID token's ``nonce`` (replay protection);
- a ``state`` of at least 32 characters (``SocialAccountAdapter.generate_state_param``);
- the ID token's signature always checked against the provider's JWKS with the algorithms allowed
  (allauth skips the check when the token came straight from the token endpoint);
- the userinfo answer read as a signed JWT (``application/jwt``, ProConnect's format) and checked
  like the ID token, or as plain JSON for other providers;
- no dynamic scope or extra parameter from the request (ProConnect rejects unknown parameters).

Who may log in (``SocialAccountAdapter``): a ProConnect identity maps **only** to an existing,
active Maillage account, created by an invitation and holding a membership in force, whose
address is the ProConnect address (verified). The first time, the identity is connected to that
account automatically; never is an account created (``is_open_for_signup`` is ``False``). Anyone
else sees a page saying no Maillage account is associated with the address. Every acceptance,
refusal and failure is journaled.

MFA: a ProConnect login is not trusted as a second factor. It goes through allauth's login
stages like a password login: a user who has a TOTP authenticator is asked for a code before the
session is logged in (``allauth.mfa.stages.AuthenticateStage``; tested in
``tests/accounts/test_proconnect.py``). Forced enrolment for nominative roles applies as for
any login.

The login and callback views live here (mounted at ``compte/oidc/proconnect/`` by
``config/urls.py``, before allauth's own URLs) because allauth's OpenID Connect views hard-code
their adapter, and that adapter cannot read ProConnect's JWT userinfo.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

import jwt
from allauth.account.internal.decorators import login_not_required
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.utils import build_absolute_uri
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import urlencode

from maillage.audit.access import not_sensitive
from maillage.audit.services import record

#: ``provider_id`` of the ProConnect app (settings) and of its URLs.
PROVIDER_ID = "proconnect"
#: Signature algorithms accepted for the ID token and the userinfo JWT (ProConnect: RS256 or ES256).
DEFAULT_ALGORITHMS = ("RS256", "ES256")
NONCE_STATE_KEY = "nonce"

ACCEPTED_VERB = "proconnect.accepted"
REFUSED_VERB = "proconnect.refused"
FAILED_VERB = "proconnect.failed"


def _algorithms(app: SocialApp) -> list[str]:
    return list(app.settings.get("algorithms") or DEFAULT_ALGORITHMS)


class ProConnectOAuth2Adapter(OpenIDConnectOAuth2Adapter):
    """allauth's OpenID Connect adapter, checking every JWT's signature and reading JWT userinfo."""

    def get_callback_url(self, request: HttpRequest, app) -> str:
        if self.provider_id != PROVIDER_ID:
            return super().get_callback_url(request, app)
        return build_absolute_uri(request, reverse("proconnect_callback"), self.redirect_uri_protocol)

    def _verify_jwt(self, app: SocialApp, credential: str, *, userinfo: bool = False) -> dict:
        alg = jwt.get_unverified_header(credential).get("alg")
        if alg not in _algorithms(app):
            raise OAuth2Error(f"Signature algorithm not allowed: {alg!r}")
        issuer, audience = self.openid_config["issuer"], app.client_id
        if userinfo:
            # A signed userinfo SHOULD carry iss and aud (OIDC Core 5.3.2): checked when present.
            claims = jwt.decode(credential, options={"verify_signature": False})
            issuer = issuer if "iss" in claims else None
            audience = audience if "aud" in claims else None
        return jwtkit.verify_and_decode(
            credential=credential,
            keys_url=self.openid_config["jwks_uri"],
            issuer=issuer,
            audience=audience,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict:
        try:
            return self._verify_jwt(app, id_token)
        except (KeyError, ValueError, jwt.PyJWTError) as e:
            raise OAuth2Error("Invalid id_token") from e

    def _fetch_user_info(self, access_token: str) -> dict:
        from allauth.socialaccount.adapter import get_adapter

        headers = {"Authorization": f"Bearer {access_token}"}
        with get_adapter().get_requests_session() as sess:
            response = sess.get(self.profile_url, headers=headers)
            response.raise_for_status()
        if response.headers.get("Content-Type", "").split(";")[0].strip() == "application/jwt":
            app = self.get_provider().app
            try:
                return self._verify_jwt(app, response.text.strip(), userinfo=True)
            except (KeyError, ValueError, jwt.PyJWTError) as e:
                raise OAuth2Error("Invalid userinfo") from e
        return response.json()


class ProConnectProvider(OpenIDConnectProvider):
    """allauth's OpenID Connect provider with a nonce, fixed scope and parameters, login only.

    Replaces allauth's class through ``SOCIALACCOUNT_PROVIDERS["openid_connect"]["provider_class"]``.
    """

    # The URLs allauth builds for this provider stay those of its OpenID Connect package.
    package = "allauth.socialaccount.providers.openid_connect"
    oauth2_adapter_class = ProConnectOAuth2Adapter

    def get_login_url(self, request: HttpRequest, **kwargs) -> str:
        if self.app.provider_id != PROVIDER_ID:
            return super().get_login_url(request, **kwargs)
        url = reverse("proconnect_login")
        return f"{url}?{urlencode(kwargs)}" if kwargs else url

    def get_callback_url(self) -> str:
        if self.app.provider_id != PROVIDER_ID:
            return super().get_callback_url()
        return reverse("proconnect_callback")

    def get_scope_from_request(self, request: HttpRequest) -> list[str]:
        return self.get_scope()

    def get_auth_params_from_request(self, request: HttpRequest, action) -> dict:
        return self.get_auth_params()

    def get_redirect_from_request_kwargs(self, request: HttpRequest) -> dict:
        kwargs = super().get_redirect_from_request_kwargs(request)
        kwargs["process"] = AuthProcess.LOGIN  # connecting from a logged-in session: not offered
        return kwargs

    def redirect(self, request: HttpRequest, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params["nonce"] = nonce
        # Extra keyword arguments land in the login's state, kept in the session until the callback.
        return super().redirect(
            request, process, next_url, data, auth_params=auth_params, **{NONCE_STATE_KEY: nonce}, **kwargs
        )


def _claims(sociallogin: SocialLogin) -> tuple[dict[str, Any], dict[str, Any]]:
    """(userinfo, ID token) claims of a login; either may be empty."""
    extra = sociallogin.account.extra_data or {}
    userinfo = extra.get("userinfo") if isinstance(extra.get("userinfo"), dict) else {}
    id_token = extra.get("id_token") if isinstance(extra.get("id_token"), dict) else {}
    return userinfo, id_token


def _is_true(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """ProConnect logs in invited, active accounts only; it never creates one."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def generate_state_param(self, state: dict) -> str:
        # ProConnect wants at least 32 characters; 43 URL-safe characters carry 256 bits.
        return secrets.token_urlsafe(32)

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        userinfo, id_token = _claims(sociallogin)
        expected_nonce = sociallogin.state.get(NONCE_STATE_KEY)
        if isinstance(sociallogin.provider, ProConnectProvider) or expected_nonce is not None:
            received = id_token.get("nonce")
            if not (
                isinstance(expected_nonce, str)
                and isinstance(received, str)
                and hmac.compare_digest(expected_nonce, received)
            ):
                self._refuse(request, sociallogin, "nonce")
        if sociallogin.state.get("process", AuthProcess.LOGIN) != AuthProcess.LOGIN:
            self._refuse(request, sociallogin, "process")
        if userinfo and id_token and userinfo.get("sub") != id_token.get("sub"):
            # OIDC Core 5.3.2: the userinfo must be about the person the ID token names.
            self._refuse(request, sociallogin, "sub")

        claims = {**id_token, **userinfo}
        email = str(claims.get("email") or "").strip().lower()
        if not email:
            self._refuse(request, sociallogin, "no_email")
        verified = claims.get("email_verified")
        app_trusts_addresses = bool(sociallogin.provider.app.settings.get("verified_email"))
        if not (_is_true(verified) or (verified is None and app_trusts_addresses)):
            self._refuse(request, sociallogin, "unverified", email=email)

        user = sociallogin.user if sociallogin.is_existing else None
        if user is None:
            user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            self._refuse(request, sociallogin, "unknown", email=email)
        if user.email.lower() != email:
            # An identity connected earlier now carries another address: the coordination decides.
            self._refuse(request, sociallogin, "mismatch", email=email, user=user)
        if not user.is_active or not user.memberships.active().exists():
            self._refuse(request, sociallogin, "inactive", email=email, user=user)

        first_link = not sociallogin.is_existing
        if first_link:
            sociallogin.connect(request, user)
        record(
            verb=ACCEPTED_VERB,
            actor=user,
            target=user,
            payload={"provider_id": sociallogin.provider.app.provider_id, "first_link": first_link},
            request=request,
        )

    def _refuse(self, request, sociallogin, reason: str, *, email: str = "", user=None):
        record(
            verb=REFUSED_VERB,
            target=user,
            payload={
                "provider_id": sociallogin.provider.app.provider_id,
                "reason": reason,
                # The domain only: the address of someone without an account stays out of the journal.
                "email_domain": email.rpartition("@")[2],
            },
            request=request,
        )
        response = render(request, "socialaccount/proconnect_refused.html", {"reason": reason}, status=403)
        raise ImmediateHttpResponse(response)

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ) -> None:
        record(
            verb=FAILED_VERB,
            payload={
                "provider_id": getattr(getattr(provider, "app", None), "provider_id", ""),
                "error": str(error or ""),
                "exception": type(exception).__name__ if exception is not None else "",
            },
            request=request,
        )


def _view(view_class, request: HttpRequest):
    try:
        view = view_class.adapter_view(ProConnectOAuth2Adapter(request, PROVIDER_ID))
        return view(request)
    except SocialApp.DoesNotExist as e:
        raise Http404 from e


@not_sensitive
@login_not_required
def proconnect_login(request: HttpRequest):
    """POST: redirect to ProConnect (GET shows a confirmation page). 404 when not configured."""
    return _view(OAuth2LoginView, request)


@not_sensitive
@login_not_required
def proconnect_callback(request: HttpRequest):
    """ProConnect's redirect back with ``code`` and ``state``. 404 when not configured."""
    return _view(OAuth2CallbackView, request)


# Mounted by config/urls.py at ``compte/oidc/proconnect/``: the paths allauth would use.
urlpatterns = [
    path("login/", proconnect_login, name="proconnect_login"),
    path("login/callback/", proconnect_callback, name="proconnect_callback"),
]
