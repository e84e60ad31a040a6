"""Form fuzzing (issue 5): every form of the application survives ≥ 200 hypothesis-generated submissions.

Forms are discovered, not listed: the crawler (``tests/security/crawler.py``) visits the demo as each
role, and anonymously from the login page, and collects every ``<form>`` with its target and field
names; a new form on a reachable page is fuzzed without anyone editing this file. Each form is then
submitted ``EXAMPLES`` times by the role that found it first, with payloads built from its field
names: random and huge strings, NUL and control characters, numbers out of range, impossible dates,
unknown choices, repeated values, dropped fields, extra fields, random files, and raw bodies that are
not valid UTF-8 or not what their content type says. Every submission runs in a transaction rolled
back after it (and the session cookie is restored), so that state-changing submissions never pile up.

Where the payload goes. A whole request costs the middleware, the view and a page: ``EXAMPLES``
requests per form did not fit the suite's time. The discovery's plain submission records how the view
binds its form classes (``recording_bound_forms``: the class and the arguments of each bound form).
Each of the ``EXAMPLES`` payloads is then given to those forms exactly as the view does — same class,
same arguments, the payload in place of ``request.POST``/``request.FILES`` — and validated (its
errors rendered); the payloads the forms accept (up to ``HTTP_ACCEPTED_MAX``) are then submitted
through the view (that is where a valid but absurd value could still break a service), with
``HTTP_EXAMPLES`` random payloads and raw bodies besides (request parsing, rejected forms rendered
again in their page). A form whose view binds no form class on its plain submission gets all its
``EXAMPLES`` through the view.

Zero HTTP 5xx and zero unhandled exception are allowed (the test client re-raises a view's
exception). The run prints the number of forms and submissions.

``test_every_form_class_of_the_interface_is_reached_by_the_discovery`` keeps the discovery honest:
every ``Form``/``ModelForm`` subclass defined in ``maillage.www`` must have been built while the
crawler visited the pages and sent each form once, or be listed in ``NOT_DISCOVERED`` with a reason.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import os
import pkgutil
import re
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest
from django import forms as django_forms
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Model
from django.http import QueryDict
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maillage.www
from tests.security.crawler import DEMO_ROLES, ROLES, FoundForm, crawl, login_demo

EXAMPLES = int(os.environ.get("MAILLAGE_FUZZ_EXAMPLES", 200))
# Besides every payload the forms accept: random payloads and raw bodies sent through the view.
HTTP_EXAMPLES = int(os.environ.get("MAILLAGE_FUZZ_HTTP_EXAMPLES", 25))
# At most this many accepted payloads replayed through the view, per form.
HTTP_ACCEPTED_MAX = 30
# The forms are shared out among this many tests, so that pytest -n 2 spreads them over both workers.
SLOTS = 8
# The discovery crawl: pages of one shape visited (more finds forms shown in one state only), pages at most.
PER_SHAPE = int(os.environ.get("MAILLAGE_FUZZ_PER_SHAPE", 1))
MAX_PAGES = 250
ANONYMOUS = "anonymous"
DISCOVERY_ROLES = [*ROLES, ANONYMOUS]
# PDF downloads hold no form and take a second each to render: the discovery does not open them.
NOT_CRAWLED = re.compile(r"/documents/|/export")

# Form classes of maillage.www the discovery may not reach, each with the reason (keep it short).
# Review this list when the areas settle: every entry is a form no fuzzing reaches.
NOT_DISCOVERED: dict[str, str] = {}

# --- discovery -----------------------------------------------------------------------------------


@contextmanager
def recording_form_classes():
    """Collect every form class instantiated meanwhile (GET pages build them, POSTs bind them)."""
    seen: set[type] = set()
    original = django_forms.BaseForm.__init__

    def init(self, *args, **kwargs):
        seen.add(type(self))
        original(self, *args, **kwargs)

    django_forms.BaseForm.__init__ = init
    try:
        yield seen
    finally:
        django_forms.BaseForm.__init__ = original


@dataclasses.dataclass
class BoundForm:
    """How a view built one bound form: its class and arguments, and which of them were the data."""

    cls: type
    args: tuple
    kwargs: dict
    data: object
    files: object

    def rebuild(self, data: QueryDict, files: MultiValueDict):
        def swap(value):
            if value is self.data:
                return data
            if value is self.files:
                return files
            if isinstance(value, Model):
                return copy.copy(value)  # a ModelForm writes the cleaned values onto its instance
            return value

        return self.cls(*map(swap, self.args), **{name: swap(v) for name, v in self.kwargs.items()})


@contextmanager
def recording_bound_forms():
    """Collect how every bound form is built meanwhile: the class called and its arguments."""
    bound: list[BoundForm] = []
    metaclass = django_forms.forms.DeclarativeFieldsMetaclass
    original = metaclass.__call__

    def call(cls, *args, **kwargs):
        form = original(cls, *args, **kwargs)
        if getattr(form, "is_bound", False):
            given = (*args, *kwargs.values())
            # A form that copied its data before binding it cannot be given another payload.
            usable = any(value is form.data for value in given)
            bound.append(BoundForm(cls, args, kwargs, form.data, form.files) if usable else None)
        return form

    assert "__call__" not in metaclass.__dict__
    metaclass.__call__ = call
    try:
        yield bound
    finally:
        del metaclass.__call__


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def client_for(role: str) -> Client:
    client = Client()
    if role != ANONYMOUS:
        login_demo(client, role)
    return client


@contextmanager
def cookies_kept(client: Client):
    """Give ``client`` its cookies back afterwards: a submission may log out or rotate the session."""
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    try:
        yield
    finally:
        client.cookies = SimpleCookie(cookies)
        mail.outbox = []


def state_pages(role: str) -> list[str]:
    """Pages that show different forms depending on the state of their object: one per state.

    The crawler opens one page of each shape; a closed pathway shows "reopen", an accepted referral
    does not show "accept"… so it is also given one pathway and one referral per state, and the pages
    only a search or an invitation link lead to.
    """
    from maillage import permissions as perms
    from maillage.accounts import services as accounts
    from maillage.accounts.models import User
    from maillage.governance.models import AgendaItem
    from maillage.offers.models import FundRequest
    from maillage.pathways import break_glass as glass
    from maillage.pathways.models import Pathway
    from maillage.programmes.models import Membership
    from maillage.referrals.models import Referral

    coordinator = Membership.objects.active().filter(role="coordinator").order_by("pk").first()

    def invitation(email: str) -> str:
        _invitation, token = accounts.invitation_create(
            programme=coordinator.programme,
            email=email,
            first_name="Nouvelle",
            last_name="Personne",
            role="referrer",
            by=coordinator.user,
        )
        return reverse("accounts:invitation_accept", args=[token])

    if role == ANONYMOUS:
        # A new person sets a password; a person who has an account confirms with it.
        return [invitation("nouvelle.personne@exemple.test"), invitation(DEMO_ROLES["network"])]
    user = User.objects.get(email=DEMO_ROLES[role])
    # Signed in as the invited person: accepting only needs a confirmation.
    urls = [invitation(user.email)] if role == "network" else []
    if role == "coordinator":
        # A manager's proposal waits for the coordinator: its confirmation and decline pages.
        manager = (
            Membership.objects.active()
            .filter(programme=coordinator.programme, role="manager")
            .order_by("pk")
            .first()
        )
        if manager is not None:
            proposal = accounts.invitation_propose(
                programme=coordinator.programme,
                email="personne.proposee@exemple.test",
                first_name="Personne",
                last_name="Proposée",
                role="provider",
                by=manager.user,
            )
            urls += [
                reverse("accounts:proposal_confirm", args=[proposal.pk]),
                reverse("accounts:proposal_decline", args=[proposal.pk]),
            ]
    pathways = perms.pathways_visible_to(user)
    for state in Pathway._meta.get_field("state").choices:
        pathway = pathways.filter(state=state[0]).order_by("pk").first()
        if pathway is not None:
            urls.append(reverse("pathways:detail", args=[pathway.pk]))
    referrals = perms.referrals_visible_to(user)
    for state in Referral._meta.get_field("state").choices:
        referral = referrals.filter(state=state[0]).order_by("pk").first()
        if referral is not None:
            urls.append(reverse("referrals:detail", args=[referral.pk]))
    # Actions: a contract signed and one to sign; a fund request in each state.
    for signed in (True, False):
        contract = (
            perms.contracts_visible_to(user).filter(signed_on__isnull=not signed).order_by("pk").first()
        )
        if contract is not None:
            urls.append(reverse("offers:contract", args=[contract.pk]))
    for request_state in FundRequest._meta.get_field("state").choices:
        fund_request = (
            perms.fund_requests_visible_to(user).filter(state=request_state[0]).order_by("pk").first()
        )
        if fund_request is not None:
            urls.append(reverse("offers:fund_request", args=[fund_request.pk]))
    # Partnership: the decision form of an EPS situation and of a committee point.
    for has_pathway in (True, False):
        item = (
            AgendaItem.objects.filter(
                meeting__body__in=perms.bodies_manageable_by(user),
                meeting__cancelled=False,
                pathway__isnull=not has_pathway,
            )
            .order_by("pk")
            .first()
        )
        if item is not None:
            urls.append(reverse("governance:decision", args=[item.pk]))
    openable = glass.pathways_openable_by(user).order_by("pk").first()
    if openable is not None:
        urls.append(reverse("journal:break_glass") + f"?code={openable.case_code}")
    return urls


def crawl_as(role: str, client: Client, also: list[str], pages: list | None = None) -> list[FoundForm]:
    """The forms ``role`` reaches; the pages visited are appended to ``pages`` (the parameter fuzzer's)."""
    start = reverse("account_login") if role == ANONYMOUS else "/"
    visited, found = crawl(client, start=start, also=tuple(also), max_pages=MAX_PAGES, per_shape=PER_SHAPE)
    if pages is not None:
        pages.extend(visited)
    return [f for f in found if not NOT_CRAWLED.search(f.action)]


def default_data(form: FoundForm) -> dict:
    data: dict[str, list] = defaultdict(list)
    for field in form.fields:
        if field.kind in {"checkbox", "radio"} and data.get(field.name):
            continue
        if field.kind == "select":
            data[field.name].append(next((o for o in field.options if o), ""))
        elif field.kind == "file":
            data[field.name].append(SimpleUploadedFile("vide.pdf", b"%PDF-1.4\n%%EOF\n"))
        else:
            data[field.name].append(field.value)
    return dict(data)


def view_of(form: FoundForm):
    try:
        return resolve(urlsplit(form.action).path).func
    except Resolver404:
        return form.action


@pytest.fixture(scope="module")
def discovered(demo, django_db_blocker):
    """The forms to fuzz, each with the role that found it first, and every form class built meanwhile.

    Forms of the same view built from the same form classes (a diagnostic section of each dimension,
    a note on each pathway) are one form: only the first one found is fuzzed.
    """
    plan: list[tuple[str, FoundForm]] = []
    seen_keys: set[tuple] = set()
    fuzz_keys: set[tuple] = set()
    found_by_role: dict[str, int] = {}
    pages_by_role: dict[str, list] = {}
    binding: dict[tuple, list[BoundForm]] = {}
    with django_db_blocker.unblock(), recording_form_classes() as classes:
        for role in DISCOVERY_ROLES:
            # Kept for the module (not rolled back): the fuzzing needs these invitations to exist.
            also = state_pages(role)
            with rolled_back():
                client = client_for(role)
                pages_by_role[role] = []
                crawled = crawl_as(role, client, also, pages_by_role[role])
                # Every GET form (filters, searches) is kept for the query-parameter fuzzer.
                pages_by_role[role].extend(f for f in crawled if f.method == "get")
                found = [f for f in crawled if f.key not in seen_keys]
                seen_keys.update(f.key for f in found)
                found_by_role[role] = len(found)
                for form in found:
                    # One plain submission: forms built only on POST are seen too, and the form
                    # classes the view builds tell which forms are the same.
                    with (
                        rolled_back(),
                        cookies_kept(client),
                        recording_form_classes() as built,
                        recording_bound_forms() as bound,
                    ):
                        submit(client, form, default_data(form))
                    classes.update(built)
                    key = (form.method, view_of(form), frozenset(built) or form.key)
                    if key not in fuzz_keys:
                        fuzz_keys.add(key)
                        plan.append((role, form))
                        # Any form the view binds in a way that cannot be replayed: all through the view.
                        binding[form.key] = [] if None in bound else bound
    return {
        "plan": plan,
        "binding": binding,
        "classes": classes,
        "found_by_role": found_by_role,
        "pages": pages_by_role,
    }


# --- payloads ------------------------------------------------------------------------------------

MISSING = object()
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
CONTROL = st.text(alphabet=st.sampled_from("\x00\x01\x08\x0b\x1b\x7f\u200b\u202e\ufeff\r\n\t"), max_size=8)
ODD = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "1.5",
        "1e309",
        "NaN",
        "-inf",
        "99999999999999999999999999",
        "-9223372036854775809",
        "2026-02-30",
        "0000-00-00",
        "9999-12-31",
        "31/12/99999",
        "24:61",
        "true",
        "on",
        "null",
        "None",
        "[]",
        "{}",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        '=HYPERLINK("http://x")',
        "%00",
        "\x00",
    ]
)


def huge(draw) -> str:
    return draw(st.sampled_from(["x", "é", "9", "<a>", "\U0001f600"])) * draw(
        st.sampled_from([1000, 20_000, 200_000])
    )


@st.composite
def field_value(draw, field):
    choice = draw(st.integers(0, 9))
    if field.kind == "file":
        if choice < 3:
            return MISSING
        name = draw(st.sampled_from(["a.pdf", "a.png", "a.jpg", "a.exe", "", "x" * 300 + ".pdf", "../a.pdf"]))
        head = draw(st.sampled_from([b"", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"MZ"]))
        return SimpleUploadedFile(name or "sans-nom", head + draw(st.binary(max_size=200)))
    if choice == 0:
        return MISSING
    if choice == 1:
        return field.value
    if choice == 2 and field.options:
        return draw(st.sampled_from(field.options))
    if choice == 3:
        return draw(ODD)
    if choice == 4:
        return huge(draw)
    if choice == 5:
        return draw(CONTROL) + draw(TEXT)
    if choice == 6:
        return [draw(TEXT) for _ in range(draw(st.integers(2, 4)))]
    if choice == 7:
        return str(draw(st.integers(-(2**70), 2**70)))
    return draw(TEXT)


@st.composite
def form_payload(draw, form: FoundForm):
    data = {}
    for field in form.fields:
        value = draw(field_value(field))
        if value is not MISSING:
            data[field.name] = value
    extra = draw(st.dictionaries(TEXT.filter(bool), TEXT, max_size=3))
    for name, value in extra.items():
        data.setdefault(name, value)
    return data


RAW_KINDS = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "multipart/form-data; boundary=BoUnDaRy",
    "multipart/form-data",
    "application/json",
    "text/plain",
]


@st.composite
def raw_body(draw, form: FoundForm):
    """A body whose bytes are not valid UTF-8, or not what its content type announces."""
    content_type = draw(st.sampled_from(RAW_KINDS))
    junk = st.binary(max_size=40).map(lambda b: b + b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1")
    names = [f.name.encode() for f in form.fields] or [b"x"]
    if content_type.startswith("multipart") and "boundary" in content_type:
        parts = [
            b'--BoUnDaRy\r\nContent-Disposition: form-data; name="'
            + name
            + b'"\r\n\r\n'
            + draw(junk)
            + b"\r\n"
            for name in names
            if draw(st.booleans())
        ]
        body = b"".join(parts) + draw(st.sampled_from([b"--BoUnDaRy--\r\n", b"", b"--BoUnDaRy"]))
    else:
        body = b"&".join(name + b"=" + draw(junk) for name in names if draw(st.booleans())) + draw(junk)
    return content_type, body


# --- submitting ----------------------------------------------------------------------------------


def submit(client: Client, form: FoundForm, data, *, raw=None):
    if raw is not None:
        content_type, body = raw
        if form.method == "get":
            return client.generic("GET", form.action, body, content_type=content_type)
        return client.generic("POST", form.action, body, content_type=content_type)
    if form.method == "get":
        flat = {k: v for k, v in data.items() if not isinstance(v, SimpleUploadedFile)}
        return client.get(form.action, flat)
    # The test client sends multipart bodies, as a browser does for forms with files.
    return client.post(form.action, data)


def as_request_data(payload: dict) -> tuple[QueryDict, MultiValueDict]:
    """The payload as the view would read it: ``request.POST`` (or ``GET``) and ``request.FILES``."""
    data, files = QueryDict(mutable=True), MultiValueDict()
    for name, value in payload.items():
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, SimpleUploadedFile):
                one.seek(0)
                files.appendlist(name, one)
            else:
                data.appendlist(name, str(one))
    data._mutable = False
    return data, files


def accepted_by_the_forms(bound: list[BoundForm], payload: dict) -> bool:
    """Bind ``payload`` to the view's forms as the view does; validate and render them."""
    data, files = as_request_data(payload)
    accepted = True
    for entry in bound:
        form = entry.rebuild(data, files)
        accepted &= form.is_valid()
        str(form.errors)  # the fields themselves are rendered by the pages of the submissions below
    return accepted


def fuzz(client: Client, form: FoundForm, bound: list[BoundForm], counter: Counter) -> None:
    accepted: list[dict] = []

    def through_the_view(payload, raw=None):
        with rolled_back(), cookies_kept(client):
            response = submit(client, form, None if raw else payload, raw=raw)
        assert response.status_code < 500, f"HTTP {response.status_code}"

    if bound:

        @settings(
            max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(form_payload(form))
        def one_payload(payload):
            with rolled_back():
                if accepted_by_the_forms(bound, payload) and len(accepted) < HTTP_ACCEPTED_MAX:
                    accepted.append(payload)
            counter[form.key] += 1

        one_payload()
        for payload in accepted:
            through_the_view(payload)
            counter[("view", *form.key)] += 1

    @settings(
        max_examples=HTTP_EXAMPLES if bound else EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.one_of(
            form_payload(form),
            form_payload(form),
            form_payload(form),
            raw_body(form).map(lambda r: ("raw", r)),
        )
    )
    def one_submission(payload):
        raw = payload[1] if isinstance(payload, tuple) else None
        through_the_view(payload, raw)
        counter[("view", *form.key)] += 1
        if not bound:
            counter[form.key] += 1

    one_submission()


def form_label(role: str, form: FoundForm) -> str:
    fields = ", ".join(form.names) or "no field"
    return f"{form.method.upper()} {form.action} as {role} ({fields}), form seen on {form.page}"


@pytest.mark.parametrize("slot", range(SLOTS))
def test_every_form_found_survives_hypothesis_generated_submissions(discovered, db, slot):
    plan = discovered["plan"][slot::SLOTS]
    clients: dict[str, Client] = {}
    counter: Counter = Counter()
    failures = []
    started = time.monotonic()
    for role, form in plan:
        if role not in clients:
            clients[role] = client_for(role)
        try:
            fuzz(clients[role], form, discovered["binding"].get(form.key, []), counter)
        except Exception as error:  # noqa: BLE001 -- collected and reported with the form below
            failures.append(f"{form_label(role, form)}:\n    {type(error).__name__}: {str(error)[:3000]}")

    total = len(discovered["plan"])
    print(
        f"\nslot {slot + 1}/{SLOTS}: {len(plan)} of the {total} forms fuzzed, "
        f"{sum(n for key, n in counter.items() if key[0] != 'view')} payloads, "
        f"{sum(n for key, n in counter.items() if key[0] == 'view')} of them through the view, "
        f"in {time.monotonic() - started:.0f} s"
    )
    assert not failures, f"{len(failures)} form(s) broke:\n" + "\n".join(failures)
    assert all(counter[form.key] >= EXAMPLES for _role, form in plan), "a form got fewer submissions"


def test_the_discovery_finds_the_forms_of_the_main_roles(discovered, db):
    by_role = Counter(role for role, _form in discovered["plan"])
    print(
        f"\nforms found by role (new ones only): {discovered['found_by_role']}; to fuzz, once each: "
        f"{dict(by_role)}, total {len(discovered['plan'])} forms x {EXAMPLES} submissions"
    )
    assert by_role["coordinator"] >= 10
    assert by_role[ANONYMOUS] >= 2  # login and password reset at least


def interface_form_classes() -> set[type]:
    for module in pkgutil.walk_packages(maillage.www.__path__, "maillage.www."):
        importlib.import_module(module.name)
    found = set()
    pending = [django_forms.BaseForm]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("maillage.www."):
                found.add(sub)
    return found


def test_every_form_class_of_the_interface_is_reached_by_the_discovery(discovered, db):
    built = discovered["classes"]
    classes = interface_form_classes()

    def reached(cls) -> bool:
        return any(issubclass(b, cls) for b in built)

    missing = sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in classes
        if not reached(cls) and f"{cls.__module__}.{cls.__qualname__}" not in NOT_DISCOVERED
    )
    print(f"\n{len(classes)} form classes in maillage.www, {len(classes) - len(missing)} reached or listed")
    assert not missing, (
        "Form classes that no crawled page nor submission built (make their page reachable from the "
        "navigation of a demo role, or list them in NOT_DISCOVERED with the reason):\n" + "\n".join(missing)
    )


# --- query parameters of every GET page, as every role ----------------------------------------------
#
# The pages are those the discovery crawl visited, as each role. The parameters of a page are those its
# view reads (recorded while the page is opened with every ``KNOWN_PARAMETERS`` set, so that a view
# reading one only when another is present is seen too), those of the links met to it and the fields of
# the GET forms aimed at it. For the first role reaching a (view, parameter) pair, the parameter gets
# each of ``FIXED_VALUES`` (the classic ones) alone, then hypothesis draws ``PARAM_EXAMPLES`` values per
# new parameter of the page; every other role gets each classic value in all the page's parameters at
# once. No answer may be a 5xx.

KNOWN_PARAMETERS = (
    "page",
    "q",
    "annee",
    "tri",
    "decision",
    "statut",
    "etat",
    "programme",
    "groupe",
    "mois",
    "date",
    "du",
    "au",
    "code",
    "compte-rendu",
    "next",
)
FIXED_VALUES = [
    "0",
    "-1",
    "10000",
    "99999999999999999999999999",
    "abc",
    "2026-02-30",
    "é\u202e\x00🙂",
    ["1", "abc"],  # the parameter repeated
]
PARAM_EXAMPLES = int(os.environ.get("MAILLAGE_FUZZ_PARAM_EXAMPLES", 3))
PARAM_VALUE = st.one_of(
    ODD,
    st.integers(-(2**70), 2**70).map(str),
    TEXT,
    st.lists(TEXT, min_size=2, max_size=3),
)


@contextmanager
def recording_parameter_reads():
    """Collect every key read from a ``QueryDict`` (``request.GET``, ``request.POST``) meanwhile."""
    from django.http import QueryDict

    read: set[str] = set()
    names = ("get", "__getitem__", "getlist", "__contains__")
    own = {name: QueryDict.__dict__.get(name) for name in names}  # inherited ones are None

    def recording(original):
        def method(self, key, *args, **kwargs):
            if isinstance(key, str):
                read.add(key)
            return original(self, key, *args, **kwargs)

        return method

    for name in names:
        setattr(QueryDict, name, recording(getattr(QueryDict, name)))
    try:
        yield read
    finally:
        for name, original in own.items():
            if original is None:
                delattr(QueryDict, name)
            else:
                setattr(QueryDict, name, original)


def url_name(path: str) -> str:
    try:
        return resolve(path).view_name
    except Resolver404:
        return path


def get_targets(discovered) -> list[tuple[str, str, dict, set[str]]]:
    """(role, path, query of the page, parameters seen in links and GET forms) per page and role."""
    from urllib.parse import parse_qs

    targets = []
    for role, visited in discovered["pages"].items():
        linked: dict[str, set[str]] = defaultdict(set)
        pages: dict[tuple, tuple[str, dict]] = {}
        for item in visited:
            if isinstance(item, FoundForm):
                linked[urlsplit(item.action).path].update(item.names)
                continue
            parts = urlsplit(item.url)
            linked[parts.path].update(parse_qs(parts.query, keep_blank_values=True))
            if item.status != 200 or not item.content_type.startswith("text/html"):
                continue
            if NOT_CRAWLED.search(parts.path):
                continue
            query = {k: v for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            pages.setdefault((url_name(parts.path), tuple(sorted(query))), (parts.path, query))
        for path, query in pages.values():
            targets.append((role, path, query, linked[path]))
    return targets


def get_page(client: Client, path: str, query: dict):
    with rolled_back(), cookies_kept(client):
        return client.get(path, query)


def test_every_query_parameter_of_every_get_page_survives_fuzzing_as_every_role(discovered, db):
    clients: dict[str, Client] = {}
    failures: list[str] = []
    requests = parameters = 0
    drawn_pairs: set[tuple[str, str]] = set()
    started = time.monotonic()

    def attempt(role, path, query, param, value):
        nonlocal requests
        requests += 1
        label = f"GET {path}?{param}={value!r} as {role}"
        try:
            status = get_page(clients[role], path, {**query, param: value}).status_code
            problem = None if status < 500 else f"HTTP {status}"
        except Exception as error:  # noqa: BLE001 -- the test client re-raises the view's exception
            problem = f"{type(error).__name__}: {str(error)[:300]}"
        if problem is not None:
            failures.append(f"{label}: {problem}")

    def fuzz_drawn(role, path, query, params):
        @settings(
            max_examples=PARAM_EXAMPLES * len(params),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(param=st.sampled_from(params), value=PARAM_VALUE)
        def drawn(param, value):
            attempt(role, path, query, param, value)

        drawn()

    for role, path, query, linked in get_targets(discovered):
        if role not in clients:
            clients[role] = client_for(role)
        with recording_parameter_reads() as read:
            try:
                get_page(clients[role], path, {**query, **{name: "1" for name in KNOWN_PARAMETERS}})
            except Exception:  # noqa: BLE001, S110 -- the parameters read so far are kept; the values are fuzzed below
                pass
        params = sorted((read | linked | set(query)) - {"csrfmiddlewaretoken"})
        parameters += len(params)
        # The first role to reach a (view, parameter) pair sends each classic value in that parameter
        # alone, then the random draws. Every other role sends each classic value in all the page's
        # parameters at once: its own code paths meet every value, at a fraction of the requests.
        fresh = [param for param in params if (url_name(path), param) not in drawn_pairs]
        drawn_pairs.update((url_name(path), param) for param in fresh)
        for param in fresh:
            for value in FIXED_VALUES:
                attempt(role, path, query, param, value)
        if len(fresh) < len(params):
            for value in FIXED_VALUES:
                attempt(role, path, {**query, **dict.fromkeys(params, value)}, params[0], value)
        if fresh:
            fuzz_drawn(role, path, query, fresh)

    print(
        f"\nquery-parameter fuzzing: {parameters} (page, role, parameter) triples, {requests} requests "
        f"in {time.monotonic() - started:.0f} s"
    )
    assert not failures, f"{len(failures)} malformed parameter(s) answered 5xx:\n" + "\n".join(
        sorted(set(failures))[:60]
    )


def test_no_select_of_any_page_offers_djangos_dashes_as_empty_choice(discovered, db):
    # Every form class is reached by the discovery (test above): a « --------- » empty choice left in
    # any select of any form would show on one of these pages.
    from maillage.core.french import DJANGO_EMPTY_LABEL

    shown = sorted(
        {
            f"{item.url} as {role}"
            for role, visited in discovered["pages"].items()
            for item in visited
            if not isinstance(item, FoundForm)
            and item.content_type.startswith("text/html")
            and f">{DJANGO_EMPTY_LABEL}</option>" in item.response.content.decode(errors="replace")
        }
    )
    assert not shown, "« --------- » as an empty choice on:\n" + "\n".join(shown)
