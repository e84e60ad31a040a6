"""Architecture rules that keep the policy in one place."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENSITIVE_MODELS = [
    "Child",
    "Household",
    "Guardian",
    "Referral",
    "Pathway",
    "Consent",
    "DiagnosticSection",
    "Objective",
    "PlanAction",
    "Contact",
    "Note",
    "Review",
    "ReviewRating",
    "CaseTeamMember",
]
# The referrer's status page reads whether the pathway of *their own* referral is still open.
ALLOWED = {("maillage/www/referrals/views.py", "Pathway.objects.filter(referral=OuterRef")}


def test_views_never_fetch_a_sensitive_model_outside_the_scopes():
    pattern = re.compile(r"\b(" + "|".join(SENSITIVE_MODELS) + r")\.objects\.")
    offenders = []
    for path in sorted((ROOT / "maillage" / "www").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            # A Prefetch under an already scoped queryset (ratings of readable bilans) is fine.
            if "Prefetch(" in line:
                continue
            if pattern.search(line) and not any(relative == f and snippet in line for f, snippet in ALLOWED):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "fetch these through maillage.permissions scopes:\n" + "\n".join(offenders)


def test_no_module_is_called_actions():
    # "Action" is a domain word here (plan actions, collective actions).
    assert not list((ROOT / "maillage").rglob("actions.py"))


def test_the_admin_registers_no_nominative_model():
    from django.contrib import admin

    registered = {model.__name__ for model in admin.site._registry}
    assert not registered & {*SENSITIVE_MODELS, "AuditEvent", "BreakGlass"}
