"""Every sensitive URL of the project, with what a page of it shows (for tests/test_access_journal.py).

``SENSITIVE_URLS`` maps a URL name to a builder. A builder receives a ``World`` (a programme with
its default lists and a coordinator who signed the charter) and returns a ``Case``: the reverse
kwargs, the query string, the objects the page shows (each must get exactly one journal entry),
and who asks (the coordinator unless said otherwise). A new sensitive URL without a builder here
makes tests/test_access_journal.py fail.
"""

import datetime
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from maillage.audit.access import NOT_SENSITIVE, SENSITIVE
from maillage.pathways import services
from maillage.pathways.models import Pathway
from maillage.programmes.enums import ListKind, Role
from maillage.programmes.models import ListItem, Membership, Programme
from tests.factories import (
    ChildFactory,
    GuardianFactory,
    MembershipFactory,
    open_pathway,
    programme_with_lists,
)
from tests.governance import registries as governance_registries
from tests.www.offers.registry import sensitive_urls as offers_sensitive_urls
from tests.www.referrals.helpers import make_referral

SMALL_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class World:
    programme: Programme
    coordinator: Membership

    def pathway(self, **kwargs) -> Pathway:
        return open_pathway(programme=self.programme, by=self.coordinator.user, **kwargs)


@dataclass
class Case:
    kwargs: dict
    shown: list  # objects the page shows: one journal entry each
    query: dict = field(default_factory=dict)
    user: object = None  # the coordinator when None


def new_world() -> World:
    programme = programme_with_lists()
    return World(
        programme=programme, coordinator=MembershipFactory(programme=programme, role=Role.COORDINATOR)
    )


# --- builders --------------------------------------------------------------------------------------


def _home(world: World) -> Case:
    # Two bilans overdue on pathways the coordinator answers for: the home page lists them.
    pathways = [world.pathway(), world.pathway()]
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Pathway.objects.filter(pk__in=[p.pk for p in pathways]).update(next_review_on=yesterday)
    return Case({}, pathways)


def _children(world: World) -> Case:
    children = [ChildFactory(programme=world.programme), ChildFactory(programme=world.programme)]
    return Case({}, children)


def _child(world: World) -> Case:
    child = ChildFactory(programme=world.programme)
    GuardianFactory(household=child.household)
    ChildFactory(programme=world.programme, household=child.household)  # a sibling on the page
    return Case({"pk": child.pk}, [child])


def _household(world: World) -> Case:
    child = ChildFactory(programme=world.programme)
    GuardianFactory(household=child.household)
    return Case({"pk": child.household_id}, [child.household])


def _referral_list(world: World) -> Case:
    return Case({}, [make_referral(world.programme), make_referral(world.programme, child_first_name="Nour")])


def _referral_mine(world: World) -> Case:
    referrer = MembershipFactory(programme=world.programme, role=Role.REFERRER)
    referrals = [
        make_referral(world.programme, by=referrer.user),
        make_referral(world.programme, by=referrer.user),
    ]
    return Case({}, referrals, user=referrer.user)


def _referral_detail(world: World) -> Case:
    referral = make_referral(world.programme)
    return Case({"pk": referral.pk}, [referral])


def _pathway_list(world: World) -> Case:
    return Case({}, [world.pathway(), world.pathway()])


def _caseload(world: World) -> Case:
    user = world.coordinator.user
    return Case({}, [world.pathway(referent=user), world.pathway(referent=user)])


def _pathway(world: World) -> Case:
    pathway = world.pathway()
    return Case({"pk": pathway.pk}, [pathway])


def _team_member(world: World) -> Case:
    pathway = world.pathway()
    member = services.case_team_add(
        pathway=pathway,
        membership=MembershipFactory(programme=world.programme, role=Role.EPS_MEMBER),
        reason="Enseignante de CE2",
        by=world.coordinator.user,
    )
    return Case({"pk": pathway.pk, "member_pk": member.pk}, [pathway])


def _closed_pathway(world: World) -> Case:
    pathway = world.pathway()
    reason = ListItem.objects.get(programme=world.programme, kind=ListKind.EXIT_REASON, code="perte_contact")
    pathway = services.pathway_close(
        pathway=pathway, exit_reason=reason, closed_on=pathway.opened_on, by=world.coordinator.user
    )
    return Case({"pk": pathway.pk}, [pathway])


def _on_pathway(world: World) -> Case:
    pathway = world.pathway()
    return Case({"pathway_pk": pathway.pk}, [pathway])


def _consent(world: World) -> Case:
    pathway = world.pathway()
    consent = services.consent_record(
        pathway=pathway,
        guardian=pathway.child.household.guardians.get(),
        given_on=pathway.opened_on,
        by=world.coordinator.user,
        proof=ContentFile(SMALL_PDF, name="accord.pdf"),
        proof_content_type="application/pdf",
    )
    return Case({"pathway_pk": pathway.pk, "pk": consent.pk}, [pathway])


def _diagnostic(world: World) -> Case:
    pathway = world.pathway()
    return Case({"pathway_pk": pathway.pk, "dimension": "school"}, [pathway])


def _objective(world: World) -> Case:
    pathway = world.pathway()
    objective = services.objective_add(
        pathway=pathway,
        dimension="school",
        wording="Retrouver le goût de la lecture",
        by=world.coordinator.user,
    )
    return Case({"pathway_pk": pathway.pk, "pk": objective.pk}, [pathway])


def _consent_form(world: World) -> Case:
    pathway = world.pathway()
    guardian = pathway.child.household.guardians.get()
    return Case({"pathway_pk": pathway.pk, "guardian_pk": guardian.pk}, [pathway])


def _journal_search(world: World) -> Case:
    # The rows of the journal are journal entries (metadata), not nominative data: the page's one
    # entry points at the child the search names.
    pathway = world.pathway()
    return Case({}, [pathway.child], query={"child": pathway.case_code})


def _consultations(world: World) -> Case:
    pathway = world.pathway()
    return Case({"pk": pathway.child_id}, [pathway.child])


def _pathway_consultations(world: World) -> Case:
    pathway = world.pathway()
    return Case({"pk": pathway.pk}, [pathway.child])


def _break_glass(world: World) -> Case:
    pathway = world.pathway()
    Pathway.objects.filter(pk=pathway.pk).update(archived_at=timezone.now())
    return Case({}, [pathway], query={"code": pathway.case_code})


SENSITIVE_URLS = {
    **offers_sensitive_urls(Case),
    "home": _home,
    "people:children": _children,
    "people:child": _child,
    "people:household": _household,
    "referrals:list": _referral_list,
    "referrals:mine": _referral_mine,
    "referrals:detail": _referral_detail,
    "pathways:list": _pathway_list,
    "pathways:caseload": _caseload,
    "pathways:detail": _pathway,
    "pathways:transition": _pathway,
    "pathways:referent": _pathway,
    "pathways:team_add": _pathway,
    "pathways:team_remove": _team_member,
    "pathways:close": _pathway,
    "pathways:reopen": _closed_pathway,
    "followup:consent_add": _on_pathway,
    "followup:consent_withdraw": _consent,
    "followup:consent_proof": _consent,
    "followup:diagnostic_edit": _diagnostic,
    "followup:objective_add": _on_pathway,
    "followup:objective_status": _objective,
    "followup:action_add": _on_pathway,
    "followup:contact_add": _on_pathway,
    "followup:note_add": _on_pathway,
    "followup:review_add": _on_pathway,
    "documents:consent_form": _consent_form,
    "documents:notice_parents": _on_pathway,
    "documents:notice_child": _on_pathway,
    "documents:plan_summary": _on_pathway,
    "journal:search": _journal_search,
    "journal:consultations": _consultations,
    "journal:consultations_pdf": _consultations,
    "journal:pathway_consultations": _pathway_consultations,
    "journal:break_glass": _break_glass,
    **governance_registries.sensitive_urls(Case),
}


# --- walking the project's URLs --------------------------------------------------------------------

# URLs that are not the project's own views, excluded from the classification, and why.
EXCLUDED_NAMESPACES = {
    "admin": "Django's technical administration: staff accounts only, changes journaled by the admin",
}
EXCLUDED_URLCONFS = {
    "allauth.urls": "allauth's sign-in, sign-out, password and MFA pages: no programme data",
}
EXCLUDED_VIEWS = {
    "django.views.i18n.set_language": "Django's language switch: a redirect, no data",
    "config.urls.not_found": "allauth's address page, closed by config/urls.py: always a 404",
}


@dataclass
class Route:
    name: str | None
    pattern: URLPattern
    namespaces: tuple
    urlconfs: tuple

    @property
    def view_path(self) -> str:
        callback = self.pattern.callback
        return f"{callback.__module__}.{callback.__qualname__}"

    @property
    def sensitivity(self):
        return getattr(self.pattern.callback, "sensitivity", None)


def walk(patterns=None, namespaces=(), urlconfs=()):
    """Every URL pattern, with the namespaces and URL modules it is included through."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            module = pattern.urlconf_module
            module_name = getattr(module, "__name__", "") if not isinstance(module, list | tuple) else ""
            yield from walk(
                pattern.url_patterns,
                (*namespaces, pattern.namespace) if pattern.namespace else namespaces,
                (*urlconfs, module_name) if module_name else urlconfs,
            )
        elif isinstance(pattern, URLPattern):
            qualified = ":".join([*namespaces, pattern.name]) if pattern.name else None
            yield Route(qualified, pattern, namespaces, urlconfs)


def exclusion(route: Route) -> str | None:
    """Why a route is left out of the classification, or None when it is the project's own view."""
    for namespace in route.namespaces:
        if namespace in EXCLUDED_NAMESPACES:
            return namespace
    for urlconf in route.urlconfs:
        if urlconf in EXCLUDED_URLCONFS:
            return urlconf
    if route.view_path in EXCLUDED_VIEWS:
        return route.view_path
    return None


def unclassified(routes) -> list[str]:
    """Routes whose view is neither ``@sensitive`` nor ``@not_sensitive`` (and not excluded)."""
    return sorted(
        f"{route.name or route.pattern.pattern} → {route.view_path}"
        for route in routes
        if exclusion(route) is None and route.sensitivity not in (SENSITIVE, NOT_SENSITIVE)
    )


def sensitive_routes() -> dict[str, Route]:
    return {
        route.name: route for route in walk() if exclusion(route) is None and route.sensitivity == SENSITIVE
    }
