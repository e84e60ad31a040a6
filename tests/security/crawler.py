"""A breadth-first crawler over the test client, shared by the crawl test and the form fuzzer.

It logs in as a demo account (``login_demo``), starts from the home page and follows every same-site
link (``href``, ``hx-get``) with GET only, never logout nor anything outside the site. Addresses are
grouped by shape (digits replaced, query keys only): at most ``per_shape`` pages of one shape are
visited, so that a list of 50 children costs a few visits, not 50, while every kind of page is seen.
Every HTML page met is handed to a callback and its forms are collected (method, action, fields).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

from django.conf import settings
from django.test import Client
from django.urls import reverse

from maillage.demo import foundation
from maillage.programmes.enums import Role
from maillage.www.context import SESSION_KEY

# One demo account per role: the first account of that role in the demo.
DEMO_ROLES: dict[str, str] = {}
for _email, _first, _last, _role, _org, _job, _bound in foundation.ACCOUNTS:
    DEMO_ROLES.setdefault(str(_role), _email)
ROLES = [role for role in Role.values if role in DEMO_ROLES]


@dataclass
class FormField:
    name: str
    kind: str  # input type, "select", "textarea", "button"
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class FoundForm:
    method: str  # "get" or "post"
    action: str  # absolute path (with query) the form submits to
    page: str  # the page that shows it
    enctype: str = "application/x-www-form-urlencoded"
    fields: list[FormField] = field(default_factory=list)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted({f.name for f in self.fields if f.name}))

    @property
    def key(self) -> tuple:
        """Forms of the same shape (same target shape, same fields) are the same form."""
        return (self.method, shape(self.action), self.names)

    @property
    def has_file(self) -> bool:
        return any(f.kind == "file" for f in self.fields)


@dataclass
class Page:
    url: str
    status: int
    content_type: str
    response: object


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict] = []
        self.scripts: list[dict] = []  # attributes of every <script>, with "inline": bool
        self.handlers: list[str] = []  # inline event handler attributes (onclick=…) and javascript: URLs
        self._form: dict | None = None
        self._select: FormField | None = None
        self._script: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {name: (value or "") for name, value in attrs}
        for name, value in attributes.items():
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}=…>")
            if name in {"href", "src", "action", "formaction"} and value.strip().lower().startswith(
                "javascript:"
            ):
                self.handlers.append(f"<{tag} {name}={value[:40]}>")
        if tag in {"a", "area"} and attributes.get("href"):
            self.links.append(attributes["href"])
        for name in ("hx-get", "data-hx-get"):
            if attributes.get(name):
                self.links.append(attributes[name])
        if tag == "script":
            self._script = {**attributes, "inline": "src" not in attributes, "text": ""}
            self.scripts.append(self._script)
        if tag == "form":
            self._form = {
                "method": (attributes.get("method") or "get").lower(),
                "action": attributes.get("action", ""),
                "enctype": attributes.get("enctype") or "application/x-www-form-urlencoded",
                "fields": [],
            }
            self.forms.append(self._form)
        elif self._form is not None:
            name = attributes.get("name", "")
            if tag == "input" and name:
                kind = (attributes.get("type") or "text").lower()
                self._form["fields"].append(FormField(name, kind, attributes.get("value", "")))
            elif tag == "textarea" and name:
                self._form["fields"].append(FormField(name, "textarea"))
            elif tag == "select" and name:
                self._select = FormField(name, "select")
                self._form["fields"].append(self._select)
            elif tag == "option" and self._select is not None:
                self._select.options.append(attributes.get("value", ""))
            elif tag == "button" and name:
                self._form["fields"].append(FormField(name, "button", attributes.get("value", "")))

    def handle_data(self, data):
        if self._script is not None:
            self._script["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "script":
            self._script = None


def parse(html: str) -> _Parser:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser


def shape(url: str) -> str:
    """``/parcours/12/suivi/3/?page=2`` → ``/parcours/N/suivi/N/?page``."""
    parts = urlsplit(url)
    keys = sorted({key for key, _value in parse_qsl(parts.query, keep_blank_values=True)})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def skipped_prefixes() -> tuple[str, ...]:
    """Addresses the crawler never opens: logging out, changing the language, files, the admin."""
    prefixes = [reverse("account_logout"), "/i18n/", settings.STATIC_URL, "/gestion-technique/"]
    if settings.MEDIA_URL:
        prefixes.append(settings.MEDIA_URL)
    return tuple(p for p in prefixes if p and p != "/")


def same_site_path(href: str, base: str) -> str | None:
    href = href.strip()
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    absolute = urldefrag(urljoin("http://testserver" + base, href))[0]
    parts = urlsplit(absolute)
    if parts.scheme not in {"http", "https"} or parts.netloc != "testserver":
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def login_demo(client: Client, role: str):
    """Log ``client`` in as the demo account of ``role``, that membership chosen, second factor set."""
    from maillage.accounts.models import User
    from maillage.programmes.models import Membership
    from tests.factories import enrol_totp

    user = User.objects.get(email=DEMO_ROLES[role])
    enrol_totp(user)  # the demo accounts have one; make sure, the MFA gate is not this test's subject
    membership = Membership.objects.active().filter(user=user, role=role).order_by("pk").first()
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = membership.pk
    session.save()
    return user, membership


def crawl(
    client: Client,
    *,
    start: str = "/",
    on_page: Callable[[Page], None] | None = None,
    max_pages: int = 120,
    per_shape: int = 2,
    stats: dict | None = None,
    also: tuple[str, ...] = (),
) -> tuple[list[Page], list[FoundForm]]:
    """Visit the site breadth-first from ``start``; return the pages visited and the forms found.

    ``stats`` (a dict, optional) receives ``left``: addresses still queued when ``max_pages`` stopped
    the crawl (0: everything reachable was visited, up to ``per_shape`` pages of each shape).
    ``also``: addresses visited after ``start`` whatever their shape (one page per state of an object).
    """
    skip = skipped_prefixes()
    queue = deque([start, *also])
    seen = {start, *also}
    forced = set(also)
    shapes: dict[str, int] = {}
    pages: list[Page] = []
    forms: dict[tuple, FoundForm] = {}
    while queue and len(pages) < max_pages:
        url = queue.popleft()
        key = shape(url)
        if shapes.get(key, 0) >= per_shape and url not in forced:
            continue
        shapes[key] = shapes.get(key, 0) + 1
        response = client.get(url)
        page = Page(url, response.status_code, response.get("Content-Type", ""), response)
        pages.append(page)
        if on_page is not None:
            on_page(page)
        if response.status_code in {301, 302, 303, 307, 308}:
            target = same_site_path(response["Location"], url)
            if target and target not in seen and not target.startswith(skip):
                seen.add(target)
                queue.append(target)
            continue
        if not is_html(response) or response.status_code != 200:
            continue
        parsed = parse(response.content.decode(response.charset or "utf-8", errors="replace"))
        for found in parsed.forms:
            action = same_site_path(found["action"] or url, url)
            if action is None:
                continue
            form = FoundForm(found["method"], action, url, found["enctype"], found["fields"])
            forms.setdefault(form.key, form)
        for href in parsed.links:
            target = same_site_path(href, url)
            if target is None or target in seen or target.startswith(skip):
                continue
            seen.add(target)
            queue.append(target)
    if stats is not None:
        stats["left"] = sum(1 for url in queue if shapes.get(shape(url), 0) < per_shape)
    return pages, list(forms.values())


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def header_problems(response, *, authenticated: bool = True) -> list[str]:
    """What is wrong with the security headers (and inline scripts) of one HTML response."""
    problems = []
    csp = response.get("Content-Security-Policy", "")
    directives = csp_directives(csp)
    if not csp:
        problems.append("no Content-Security-Policy header")
    script_src = directives.get("script-src", directives.get("default-src", []))
    if not script_src:
        problems.append("CSP without script-src nor default-src")
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
        if unsafe in script_src:
            problems.append(f"script-src allows {unsafe}")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors is {directives.get('frame-ancestors')}, not 'none'")
    if directives.get("object-src") != ["'none'"]:
        problems.append("object-src is not 'none'")
    if "base-uri" not in directives:
        problems.append("no base-uri")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if response.get("X-Frame-Options") != "DENY":
        problems.append("X-Frame-Options is not DENY")
    if response.get("Referrer-Policy") not in {"same-origin", "no-referrer"}:
        problems.append(f"Referrer-Policy is {response.get('Referrer-Policy')!r}")
    if authenticated and "no-store" not in response.get("Cache-Control", ""):
        problems.append(f"Cache-Control is {response.get('Cache-Control')!r}, without no-store")
    if is_html(response) and response.status_code == 200:
        nonces = {s[len("'nonce-") : -1] for s in script_src if s.startswith("'nonce-")}
        parsed = parse(response.content.decode(response.charset or "utf-8", errors="replace"))
        for script in parsed.scripts:
            if script["inline"] and script.get("type", "") not in {"application/json", "application/ld+json"}:
                if script.get("nonce") not in nonces:
                    problems.append(f"inline script without the response's nonce: {script['text'][:60]!r}")
            elif not script["inline"] and not script["src"].startswith("/"):
                problems.append(f"script from another origin: {script['src']}")
        problems.extend(f"inline event handler or javascript: URL {h}" for h in parsed.handlers)
    return problems
