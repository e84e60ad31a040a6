"""Views of the platform itself (not of a programme)."""

import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from maillage.audit.access import not_sensitive

# RFC 9116 asks for an expiry date less than a year ahead, so that a stale file is noticed.
SECURITY_TXT_VALIDITY = datetime.timedelta(days=180)


def security_contact(request: HttpRequest) -> str:
    """The address where a flaw is reported: MAILLAGE_SECURITY_EMAIL, else security@ this host."""
    configured = getattr(settings, "MAILLAGE_SECURITY_EMAIL", "")
    if configured:
        return configured
    return "security@" + request.get_host().rsplit(":", 1)[0]


@not_sensitive
@require_safe
def security_txt(request: HttpRequest) -> HttpResponse:
    """``/.well-known/security.txt`` (RFC 9116): whom to tell about a security flaw, and how."""
    expires = (timezone.now() + SECURITY_TXT_VALIDITY).astimezone(datetime.UTC).replace(microsecond=0)
    lines = [
        f"Contact: mailto:{security_contact(request)}",
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "Preferred-Languages: fr, en",
        f"Canonical: {request.build_absolute_uri()}",
    ]
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
