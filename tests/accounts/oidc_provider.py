"""A small OpenID Connect provider for the tests, on 127.0.0.1 in a thread (no outside network).

It behaves like ProConnect where it matters: discovery document, JWKS (an RSA key generated at
start), an authorisation endpoint that approves the configured user at once and redirects back
with ``code`` and ``state``, a token endpoint that checks the code, the client secret, the
redirect URI and the PKCE verifier (when a challenge was sent) and returns an RS256-signed ID
token carrying the ``nonce``, and a userinfo endpoint answering a signed JWT
(``application/jwt``, as ProConnect does; with ``iss`` and ``aud`` unless
``userinfo_claims_iss_aud=False``) or plain JSON (``userinfo_as_jwt=False``).

Only the standard library's ``http.server``, ``cryptography`` and PyJWT::

    with OIDCProvider(client_id="maillage", client_secret="…") as op:
        op.user = {"sub": "agent-1", "email": "a@b.fr", "email_verified": True}
        op.issuer  # http://127.0.0.1:<port>/api/v2, the server_url to configure

``authorize_requests`` keeps the query of every authorisation request, ``token_requests`` the
form of every token request, for the tests to inspect. The ``tamper_*`` attributes make it
misbehave on purpose (another nonce, another key signing the ID token or the userinfo).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CODE_LIFETIME = 30  # seconds, as ProConnect


def _new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class OIDCProvider:
    def __init__(self, *, client_id: str = "maillage-test", client_secret: str | None = None) -> None:
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.key = _new_key()
        self.kid = secrets.token_hex(8)
        self.user: dict[str, Any] = {}
        self.userinfo_as_jwt = True
        self.tamper_nonce: str | None = None
        self.tamper_id_token_key = None
        self.tamper_userinfo_key = None
        self.tamper_userinfo_sub: str | None = None
        self.userinfo_claims_iss_aud = True
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> OIDCProvider:
        provider = self

        class Handler(_Handler):
            op = provider

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OIDCProvider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def issuer(self) -> str:
        assert self._server is not None, "start() the provider first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/v2"

    # --- documents ------------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "end_session_endpoint": f"{self.issuer}/session/end",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "userinfo_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "given_name", "usual_name", "siret", "uid"],
        }

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def sign(self, claims: dict[str, Any], key=None) -> str:
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    # --- endpoints (called by the handler) --------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.authorize_requests.append(query)
        redirect_uri = query.get("redirect_uri", "")
        if (
            query.get("client_id") != self.client_id
            or not redirect_uri
            or query.get("response_type") != "code"
        ):
            return _json(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {
                "redirect_uri": redirect_uri,
                "nonce": query.get("nonce"),
                "code_challenge": query.get("code_challenge"),
                "code_challenge_method": query.get("code_challenge_method"),
                "user": dict(self.user),
                "expires": time.time() + CODE_LIFETIME,
            }
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        return 302, {"Location": f"{redirect_uri}?{urlencode(params)}"}, b""

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, str], bytes]:
        self.token_requests.append(form)
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
            form.get("client_secret", ""), self.client_secret
        ):
            return _json(401, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "unsupported_grant_type"})
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # a code works once
        if grant is None or grant["expires"] < time.time():
            return _json(400, {"error": "invalid_grant"})
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return _json(400, {"error": "invalid_grant", "error_description": "redirect_uri"})
        verifier = form.get("code_verifier")
        if grant["code_challenge"]:
            if grant["code_challenge_method"] != "S256" or not verifier:
                return _json(400, {"error": "invalid_grant", "error_description": "pkce"})
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["code_challenge"]:
                return _json(400, {"error": "invalid_grant", "error_description": "pkce"})
        elif verifier:
            return _json(400, {"error": "invalid_grant", "error_description": "no challenge"})
        user = grant["user"]
        now = int(time.time())
        id_token = self.sign(
            {
                "iss": self.issuer,
                "sub": user["sub"],
                "aud": self.client_id,
                "iat": now,
                "exp": now + 60,
                "auth_time": now,
                "nonce": self.tamper_nonce if self.tamper_nonce is not None else grant["nonce"],
                "acr": "eidas1",
                "amr": ["pwd"],
                **{k: user[k] for k in ("email", "email_verified") if k in user},
            },
            key=self.tamper_id_token_key,
        )
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[access_token] = {"user": user, "expires": now + 60}
        return _json(
            200,
            {"access_token": access_token, "token_type": "Bearer", "expires_in": 60, "id_token": id_token},
        )

    def userinfo(self, authorization: str) -> tuple[int, dict[str, str], bytes]:
        scheme, _, access_token = authorization.partition(" ")
        with self._lock:
            grant = self._tokens.get(access_token) if scheme.lower() == "bearer" else None
        if grant is None or grant["expires"] < time.time():
            return _json(401, {"error": "invalid_token"})
        claims = dict(grant["user"])
        if self.tamper_userinfo_sub is not None:
            claims["sub"] = self.tamper_userinfo_sub
        if not self.userinfo_as_jwt:
            return _json(200, claims)
        now = int(time.time())
        registered = {"iss": self.issuer, "aud": self.client_id} if self.userinfo_claims_iss_aud else {}
        body = self.sign({**registered, "iat": now, **claims}, key=self.tamper_userinfo_key)
        return 200, {"Content-Type": "application/jwt"}, body.encode()


def _json(status: int, payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json;charset=utf-8"}, json.dumps(payload).encode()


class _Handler(BaseHTTPRequestHandler):
    op: OIDCProvider

    def log_message(self, format, *args) -> None:  # quiet in the test output
        pass

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        route = url.path.removeprefix("/api/v2")
        if route == "/.well-known/openid-configuration":
            self._send(*_json(200, self.op.discovery()))
        elif route == "/jwks":
            self._send(*_json(200, self.op.jwks()))
        elif route == "/authorize":
            self._send(*self.op.authorize(query))
        elif route == "/userinfo":
            self._send(*self.op.userinfo(self.headers.get("Authorization", "")))
        else:
            self._send(*_json(404, {"error": "not_found"}))

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if url.path.removeprefix("/api/v2") == "/token":
            self._send(*self.op.token(form, self.headers.get("Authorization", "")))
        else:
            self._send(*_json(404, {"error": "not_found"}))
