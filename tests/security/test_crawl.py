"""Crawl test (issue 5, point 5): every page a demo role reaches from the navigation has the headers.

The demo is seeded once for the module. For each role, the crawler (``tests/security/crawler.py``)
logs in as that role's demo account, follows every same-site link with GET only (never logout) and
checks every response: a Content Security Policy whose ``script-src`` has no ``'unsafe-inline'``
and whose inline scripts all carry the response's nonce, ``frame-ancestors 'none'``, nosniff, a
strict Referrer-Policy, ``Cache-Control: no-store``, no inline event handler, and no server error.
HSTS is checked on a second crawl under the security settings production derives.
"""

import pytest
from django.test import Client
from django.urls import reverse

from maillage.www.context import current_membership
from maillage.www.navigation import menu_for
from tests.security.crawler import ROLES, crawl, header_problems, is_html, login_demo

# One page of each shape (``/parcours/N/`` once, not once per pathway): every kind of page, bounded.
MAX_PAGES = 300
PER_SHAPE = 1


def check_pages(client, *, max_pages=MAX_PAGES, extra_check=None, start="/", authenticated=True):
    problems: list[str] = []

    def on_page(page):
        response = page.response
        if response.status_code >= 500:
            problems.append(f"{page.url}: HTTP {response.status_code}")
        if is_html(response) or response.status_code in {301, 302, 303}:
            found = header_problems(response, authenticated=authenticated)
            problems.extend(f"{page.url}: {problem}" for problem in found)
        if extra_check is not None:
            problems.extend(f"{page.url}: {problem}" for problem in extra_check(response))

    stats: dict = {}
    pages, forms = crawl(
        client, start=start, on_page=on_page, max_pages=max_pages, per_shape=PER_SHAPE, stats=stats
    )
    return pages, forms, problems, stats


def menu_urls(client) -> set[str]:
    request = client.get("/").wsgi_request
    return {item["url"] for item in menu_for(request, current_membership(request))}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_demo_role_reaches_has_the_security_headers_and_no_server_error(demo, db, client, role):
    login_demo(client, role)

    pages, forms, problems, stats = check_pages(client)

    html = [p for p in pages if is_html(p.response) and p.status == 200]
    print(
        f"{role}: {len(pages)} responses ({len(html)} HTML pages), {len(forms)} forms, {stats['left']} left"
    )
    assert not problems, "\n".join(problems)
    assert len(html) >= 3
    visited = {p.url for p in pages}
    assert menu_urls(client) <= visited, "a navigation entry was not crawled"
    assert stats["left"] == 0, "the crawl stopped before seeing every kind of page: raise MAX_PAGES"


def test_the_public_pages_have_the_security_headers_too(demo, db, client):
    pages, forms, problems, stats = check_pages(client, start=reverse("account_login"), authenticated=False)

    print(f"anonymous: {len(pages)} responses, {len(forms)} forms, {stats['left']} left")
    assert not problems, "\n".join(problems)
    assert len(pages) >= 4  # login, password reset, legal notice, accessibility, privacy


@pytest.mark.parametrize("role", ["coordinator", "referent", "dpo"])
def test_under_production_settings_every_page_carries_hsts_for_a_year_with_subdomains(
    demo, db, settings, production_security_settings, role
):
    for name, value in production_security_settings.items():
        setattr(settings, name, value)
    assert settings.SECURE_HSTS_SECONDS >= 365 * 24 * 3600
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS
    assert settings.SESSION_COOKIE_NAME.startswith("__Host-")
    # Behind the production proxy: HTTPS announced by X-Forwarded-Proto.
    client = Client(HTTP_X_FORWARDED_PROTO="https", secure=True)
    login_demo(client, role)

    def hsts(response):
        value = response.get("Strict-Transport-Security", "")
        parts = {p.strip().split("=")[0].lower(): p.strip() for p in value.split(";") if p.strip()}
        max_age = int(parts.get("max-age", "max-age=0").split("=")[1])
        if max_age < 365 * 24 * 3600 or "includesubdomains" not in parts:
            return [f"Strict-Transport-Security is {value!r}"]
        return []

    pages, _forms, problems, _stats = check_pages(client, max_pages=40, extra_check=hsts)

    print(f"{role} (production settings): {len(pages)} responses")
    assert not problems, "\n".join(problems)
    assert len(pages) >= 3


def test_an_http_request_under_production_settings_is_redirected_to_https(
    demo, db, settings, production_security_settings
):
    for name, value in production_security_settings.items():
        setattr(settings, name, value)

    response = Client().get("/mentions-legales/")

    assert response.status_code == 301
    assert response["Location"].startswith("https://")
