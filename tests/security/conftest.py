"""Fixtures of the security tests: the demo seeded once per module and worker, production settings."""

import base64
import io
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

ROOT = Path(__file__).resolve().parents[2]

# The security settings production derives in config/settings.py, read from a real production start.
PRODUCTION_SECURITY_SETTINGS = (
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_NAME",
)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo programme, seeded once for the module inside a transaction rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", force=True, stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture(scope="session")
def production_security_settings() -> dict:
    """What ``MAILLAGE_ENV=production`` sets, as ``.ci/run``'s deploy check starts it (random secrets)."""
    environment = {
        **os.environ,
        "MAILLAGE_ENV": "production",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "MAILLAGE_ENCRYPTION_KEYS": "ci1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "MAILLAGE_AUDIT_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "testserver",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {PRODUCTION_SECURITY_SETTINGS!r}}}))"
    )
    output = subprocess.run(  # noqa: S603 -- fixed command, this interpreter
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    ).stdout
    values = json.loads(output.strip().splitlines()[-1])
    if values["SECURE_PROXY_SSL_HEADER"] is not None:
        values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture(autouse=True, scope="module")
def _lean_test_client():
    """Skip the test client's copy of every template context: these tests read the HTML only.

    A page of the interface renders hundreds of small templates (one per form widget); the test
    client keeps a copy of each context for ``response.context``, which more than doubled the time
    of a submission of the form fuzzer.
    """
    import django.test.client as test_client
    from django.template.base import Template
    from django.test.utils import _TestState

    saved = (test_client.store_rendered_templates, Template._render)
    test_client.store_rendered_templates = lambda *args, **kwargs: None
    Template._render = _TestState.saved_data.template_render
    try:
        yield
    finally:
        test_client.store_rendered_templates, Template._render = saved
