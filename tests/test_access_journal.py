"""Every page is journaled (CONFIDENTIALITY.md, principle 7).

(a) Every URL of the project resolves to a view classified ``@sensitive`` or ``@not_sensitive``
    (Django's admin, allauth and two technical views are excluded, listed in
    tests/www/journal/sensitive_urls.py with the reason). A new unclassified view fails here.
(b) Every sensitive URL, fetched as the coordinator (or the one role that reaches it), leaves
    exactly one journal entry per object it shows — detail pages one entry for their object, list
    pages one per row — and never two for the same object. The registry of sensitive URLs must
    cover them all.
(c) Every verb the code journals has a French label in ``maillage.audit.queries.VERB_LABELS``.
"""

import ast
import re
from collections import Counter
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path, reverse

from maillage.audit import queries
from maillage.audit.access import NOT_SENSITIVE, SENSITIVE, not_sensitive, sensitive
from maillage.audit.models import AuditEvent
from tests.www.journal.sensitive_urls import (
    EXCLUDED_NAMESPACES,
    EXCLUDED_URLCONFS,
    EXCLUDED_VIEWS,
    SENSITIVE_URLS,
    exclusion,
    new_world,
    sensitive_routes,
    unclassified,
    walk,
)

MAILLAGE = Path(__file__).resolve().parent.parent / "maillage"

# --- (a) classification ----------------------------------------------------------------------------


def test_every_url_of_the_project_resolves_to_a_classified_view():
    missing = unclassified(walk())
    assert not missing, (
        "decorate these views with @sensitive(<verb>) or @not_sensitive (maillage.audit.access): "
        + ", ".join(missing)
    )


def test_a_new_view_without_a_decorator_is_reported():
    def forgotten(request):
        return HttpResponse()

    @not_sensitive
    def settings_page(request):
        return HttpResponse()

    @sensitive("child.viewed")
    def child_page(request):
        return HttpResponse()

    patterns = [
        path("oublie/", forgotten, name="forgotten"),
        path("reglages/", settings_page, name="settings_page"),
        path("enfant/", child_page, name="child_page"),
    ]
    assert unclassified(walk(patterns)) == [f"forgotten → {forgotten.__module__}.{forgotten.__qualname__}"]


def test_each_exclusion_matches_urls_that_exist():
    routes = list(walk())
    reasons = {exclusion(route) for route in routes}
    assert set(EXCLUDED_NAMESPACES) <= reasons
    assert set(EXCLUDED_URLCONFS) <= reasons
    assert set(EXCLUDED_VIEWS) <= reasons


def test_the_project_has_both_kinds_of_pages():
    kinds = {route.sensitivity for route in walk() if exclusion(route) is None}
    assert kinds == {SENSITIVE, NOT_SENSITIVE}


def test_a_sensitive_view_says_which_verb_it_journals():
    for name, route in sensitive_routes().items():
        assert getattr(route.pattern.callback, "access_verb", ""), name


# --- (b) one entry per object shown ----------------------------------------------------------------


def test_the_registry_covers_every_sensitive_url():
    missing = set(sensitive_routes()) - set(SENSITIVE_URLS)
    assert not missing, (
        f"add these URLs to SENSITIVE_URLS in tests/www/journal/sensitive_urls.py: {sorted(missing)}"
    )


def test_the_registry_names_only_sensitive_urls():
    assert set(SENSITIVE_URLS) <= set(sensitive_routes())


def _key(obj) -> tuple[str, str]:
    return obj._meta.label_lower, str(obj.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", sorted(SENSITIVE_URLS))
def test_a_sensitive_page_journals_exactly_one_entry_per_object_it_shows(url_name):
    world = new_world()
    case = SENSITIVE_URLS[url_name](world)
    user = case.user or world.coordinator.user
    client = Client()
    client.force_login(user)
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    response = client.get(reverse(url_name, kwargs=case.kwargs), case.query)

    assert response.status_code == 200, f"{url_name} answered {response.status_code}"
    events = list(AuditEvent.objects.filter(pk__gt=before))
    per_target = Counter((event.target_type, event.target_id) for event in events if event.target_id)
    for obj in case.shown:
        assert per_target[_key(obj)] == 1, f"{url_name}: {per_target[_key(obj)]} entries for {_key(obj)}"
    duplicates = {target: count for target, count in per_target.items() if count > 1}
    assert not duplicates, f"{url_name} journaled an object more than once: {duplicates}"
    assert all(event.actor_id == user.pk for event in events)


# --- (c) verbs -------------------------------------------------------------------------------------


VERB_SHAPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def _strings(node, constants: dict[str, str]) -> list[str]:
    """The text values an expression may take: a literal, a module constant, either branch of an if."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    if isinstance(node, ast.Attribute) and node.attr in constants:
        return [constants[node.attr]]
    if isinstance(node, ast.IfExp):
        return _strings(node.body, constants) + _strings(node.orelse, constants)
    return []


def verbs_in_code() -> tuple[set[str], set[str]]:
    """Verbs journaled by the code (``verb=…``, ``"verb": …``, ``@sensitive(…)``, helpers whose first
    parameter is ``verb``), and the fixed prefixes of verbs built with f-strings."""
    verbs: set[str] = set()
    prefixes: set[str] = set()
    for source in MAILLAGE.rglob("*.py"):
        if "migrations" in source.parts:
            continue
        tree = ast.parse(source.read_text(), filename=str(source))
        constants = {
            target.id: node.value.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        verb_first = {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.args.args and node.args.args[0].arg == "verb"
        }
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                callee = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                for keyword in node.keywords:
                    if keyword.arg == "verb":
                        found.append(keyword.value)
                if callee in verb_first | {"sensitive"} and node.args:
                    found.append(node.args[0])
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "verb":
                        found.append(value)
        for value in found:
            if isinstance(value, ast.JoinedStr):
                head = value.values[0] if value.values else None
                if isinstance(head, ast.Constant):
                    prefixes.add(head.value)
                continue
            verbs.update(text for text in _strings(value, constants) if VERB_SHAPE.match(text))
    return verbs, prefixes


def test_every_verb_of_the_code_has_a_french_label():
    verbs, prefixes = verbs_in_code()
    assert len(verbs) > 40  # the scan finds the code's verbs at all
    assert not verbs - set(queries.VERB_LABELS), "add to VERB_LABELS: " + ", ".join(
        sorted(verbs - set(queries.VERB_LABELS))
    )
    for prefix in prefixes:
        assert any(prefix.startswith(known) for known in queries.VERB_PREFIX_LABELS), prefix


def test_every_verb_of_a_sensitive_page_is_classified_for_the_familys_report():
    journal_pages = {"journal.searched", "journal.consultations_viewed", "journal.consultations_exported"}
    looked_up = {"break_glass.searched"}
    for name, route in sensitive_routes().items():
        verb = route.pattern.callback.access_verb
        assert verb in queries.VERB_LABELS, name
        assert verb in queries.ACCESS_VERBS | journal_pages | looked_up, (
            f"{name}: add {verb} to CONSULTATION_VERBS or EXPORT_VERBS in maillage/audit/queries.py"
        )


def test_a_verb_reads_in_plain_french():
    assert queries.verb_label("pathway.viewed") == "Consultation d'un parcours"
    assert queries.verb_label("admin.programme.changed") == "Modification par l'administration technique"
    assert queries.verb_label("inconnu.verbe") == "inconnu.verbe"
