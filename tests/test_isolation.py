"""Programme isolation: nothing of programme B is reachable from programme A, whatever the role.

Every URL of the project that takes an object id must be listed in ``PK_URLS`` with a factory that
builds one object of a given programme. The first test fails when a new id-taking URL appears without
being covered here: add it to the registry in the same change.
"""

import datetime

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from maillage.accounts.models import Invitation
from maillage.programmes.enums import Role
from maillage.www.context import SESSION_KEY
from tests.factories import (
    CharterVersionFactory,
    ChildFactory,
    GuardianFactory,
    HouseholdFactory,
    MembershipFactory,
    OrganisationFactory,
    ProgrammeFactory,
    UserFactory,
)
from tests.governance import registries as governance_registries
from tests.www.offers.registry import pk_urls as offers_pk_urls

pytestmark = pytest.mark.django_db

ROLES = list(Role.values)

# Text that exists only in programme B: it must never appear in a response to a user of programme A.
SECRET = "Zéphyrine-Isolée"


def _organisation(programme):
    organisation = OrganisationFactory(programme=programme, name=f"Partenaire {SECRET}")
    return {"pk": organisation.pk}, organisation


def _child(programme):
    child = ChildFactory(programme=programme, last_name=SECRET, household__name=f"Foyer {SECRET}")
    GuardianFactory(household=child.household, last_name=SECRET)
    return {"pk": child.pk}, child


def _household(programme):
    household = HouseholdFactory(programme=programme, name=f"Foyer {SECRET}")
    GuardianFactory(household=household, last_name=SECRET)
    ChildFactory(programme=programme, household=household, last_name=SECRET)
    return {"pk": household.pk}, household


def _invitation(programme):
    invitation = Invitation.objects.create(
        email="zephyrine.isolee@exemple.test",
        first_name="Zéphyrine",
        last_name=SECRET,
        programme=programme,
        role=Role.REFERENT,
        invited_by=UserFactory(),
        token_hash=Invitation.hash_token(Invitation.new_token()),
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    return {"pk": invitation.pk}, invitation


def _proposal(programme):
    """A manager's proposal waiting for a coordinator: no link, no expiry until confirmed."""
    invitation = Invitation.objects.create(
        email="zephyrine.proposee@exemple.test",
        first_name="Zéphyrine",
        last_name=SECRET,
        programme=programme,
        role=Role.REFERENT,
        invited_by=UserFactory(),
    )
    assert invitation.is_proposal
    return {"pk": invitation.pk}, invitation


def _membership(programme):
    membership = MembershipFactory(programme=programme, role=Role.REFERENT, user__last_name=SECRET)
    return {"pk": membership.pk}, membership


def _pathway(programme):
    from maillage.programmes.defaults import ensure_default_lists
    from tests.factories import open_pathway

    ensure_default_lists(programme)
    child = ChildFactory(programme=programme, last_name=SECRET, household__name=f"Foyer {SECRET}")
    pathway = open_pathway(programme=programme, child=child)
    return {"pk": pathway.pk}, pathway


def _closed_pathway(programme):
    from maillage.pathways.services import pathway_close
    from maillage.programmes.models import ListItem

    kwargs, pathway = _pathway(programme)
    reason = ListItem.objects.get(programme=programme, kind="exit_reason", code="perte_contact")
    pathway = pathway_close(
        pathway=pathway, exit_reason=reason, closed_on=pathway.opened_on, by=pathway.transitions.first().by
    )
    return kwargs, pathway


def _case_team_member(programme):
    from maillage.pathways.services import case_team_add

    kwargs, pathway = _pathway(programme)
    member = case_team_add(
        pathway=pathway,
        membership=MembershipFactory(programme=programme, role=Role.EPS_MEMBER),
        reason=f"Enseignante {SECRET}",
        by=pathway.transitions.first().by,
    )
    return {"pk": pathway.pk, "member_pk": member.pk}, member


def _referral(programme):
    from tests.www.referrals.helpers import make_referral

    referral = make_referral(programme, child_last_name=SECRET, guardian_name=f"Parent {SECRET}")
    return {"pk": referral.pk}, referral


def _pathway_document(programme):
    _kwargs, pathway = _pathway(programme)
    return {"pathway_pk": pathway.pk}, pathway


def _pathway_consent_form(programme):
    _kwargs, pathway = _pathway(programme)
    guardian = pathway.child.household.guardians.get()
    return {"pathway_pk": pathway.pk, "guardian_pk": guardian.pk}, pathway


def _followup_diagnostic(programme):
    _kwargs, pathway = _pathway(programme)
    return {"pathway_pk": pathway.pk, "dimension": "school"}, pathway


def _followup_consent(programme):
    from django.core.files.base import ContentFile

    from maillage.pathways.services import consent_record

    _kwargs, pathway = _pathway(programme)
    consent = consent_record(
        pathway=pathway,
        guardian=pathway.child.household.guardians.get(),
        given_on=pathway.opened_on,
        by=pathway.transitions.first().by,
        proof=ContentFile(b"%PDF-1.4\n% " + SECRET.encode() + b"\n%%EOF\n", name="accord.pdf"),
        proof_content_type="application/pdf",
    )
    return {"pathway_pk": pathway.pk, "pk": consent.pk}, consent


def _followup_objective(programme):
    from maillage.pathways.services import objective_add

    _kwargs, pathway = _pathway(programme)
    objective = objective_add(
        pathway=pathway, dimension="school", wording=f"Objectif {SECRET}", by=pathway.transitions.first().by
    )
    return {"pathway_pk": pathway.pk, "pk": objective.pk}, objective


def _barometer_round(programme):
    from maillage.steering.services import open_barometer_round

    coordinator = MembershipFactory(role=Role.COORDINATOR, programme=programme).user
    barometer_round = open_barometer_round(programme=programme, title=f"Baromètre {SECRET}", by=coordinator)
    return {"pk": barometer_round.pk}, barometer_round


def _export_job(programme):
    """A comité pack the worker prepared for programme B, its file and name carrying the secret."""
    from django.core.files.base import ContentFile

    from maillage.steering.enums import ExportKind, ExportState
    from maillage.steering.models import ExportJob

    coordinator = MembershipFactory(role=Role.COORDINATOR, programme=programme).user
    job = ExportJob(
        kind=ExportKind.COPIL_PDF,
        programme=programme,
        fingerprint=f"isolation-{programme.pk}",
        requested_by=coordinator,
        state=ExportState.DONE,
        progress=100,
        filename=f"comite-{SECRET}.pdf",
        finished_at=timezone.now(),
    )
    job.file.save("comite.pdf", ContentFile(b"%PDF-1.4\n% " + SECRET.encode() + b"\n%%EOF\n"), save=False)
    job.save()
    return {"pk": job.pk}, job


# url name → factory(programme) returning (reverse kwargs, the object).
PK_URLS = {
    **offers_pk_urls(SECRET),
    "steering:barometer_results": _barometer_round,
    "steering:barometer_answer": _barometer_round,
    "steering:export_status": _export_job,
    "steering:export_download": _export_job,
    "documents:consent_form": _pathway_consent_form,
    "documents:notice_parents": _pathway_document,
    "documents:notice_child": _pathway_document,
    "documents:plan_summary": _pathway_document,
    "followup:consent_add": _pathway_document,
    "followup:consent_withdraw": _followup_consent,
    "followup:consent_proof": _followup_consent,
    "followup:diagnostic_edit": _followup_diagnostic,
    "followup:objective_add": _pathway_document,
    "followup:objective_status": _followup_objective,
    "followup:action_add": _pathway_document,
    "followup:contact_add": _pathway_document,
    "followup:note_add": _pathway_document,
    "followup:review_add": _pathway_document,
    "pathways:detail": _pathway,
    "pathways:transition": _pathway,
    "pathways:referent": _pathway,
    "pathways:team_add": _pathway,
    "pathways:team_remove": _case_team_member,
    "pathways:close": _pathway,
    "pathways:reopen": _closed_pathway,
    "programmes:organisation": _organisation,
    "programmes:organisation_edit": _organisation,
    "people:child": _child,
    "people:household": _household,
    "journal:consultations": _child,
    "journal:consultations_pdf": _child,
    "journal:pathway_consultations": _pathway,
    "accounts:invitation_revoke": _invitation,
    "accounts:proposal_confirm": _proposal,
    "accounts:proposal_decline": _proposal,
    "governance:pathway_to_eps": _pathway,
    "accounts:membership_end": _membership,
    "referrals:detail": _referral,
    **governance_registries.pk_urls(SECRET),
}


def _walk(patterns, namespace=None, kwargs=()):
    """(name, pattern, kwargs) of every URL; kwargs include those of the enclosing ``include()``s."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, inner, (*kwargs, *pattern.pattern.converters))
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, pattern, (*kwargs, *pattern.pattern.converters)


def project_pk_url_names() -> set[str]:
    """Names of the project's own URLs (not Django's admin nor allauth) that take an object id."""
    names = set()
    for name, pattern, kwargs in _walk(get_resolver().url_patterns):
        if not pattern.callback.__module__.startswith("maillage."):
            continue
        if any(kwarg == "pk" or kwarg.endswith("_pk") or kwarg.endswith("_id") for kwarg in kwargs):
            assert name, f"an id-taking URL has no name: {pattern.pattern}"
            names.add(name)
    return names


def test_every_url_taking_an_object_id_is_in_the_isolation_registry():
    missing = project_pk_url_names() - set(PK_URLS)
    assert not missing, f"add these URLs to PK_URLS in tests/test_isolation.py: {sorted(missing)}"


def test_the_registry_names_only_urls_that_exist():
    assert set(PK_URLS) <= project_pk_url_names()


def _client_of(role, programme) -> Client:
    client = Client()
    client.force_login(MembershipFactory(role=role, programme=programme).user)
    return client


@pytest.fixture(scope="module")
def two_programmes(django_db_setup, django_db_blocker):
    """Built once for the module, rolled back at its end: a member of each role in programme A, and
    for each URL of the registry its object in a programme B of its own. Each test then only sends its
    two requests (and whatever a test changes is rolled back after it)."""
    with django_db_blocker.unblock(), transaction.atomic():
        programme_a = ProgrammeFactory()
        users = {role: MembershipFactory(role=role, programme=programme_a).user for role in ROLES}
        objects = {url_name: PK_URLS[url_name](ProgrammeFactory()) for url_name in sorted(PK_URLS)}
        yield users, objects
        transaction.set_rollback(True)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", sorted(PK_URLS))
def test_no_role_of_programme_a_reaches_an_object_of_programme_b(url_name, role, two_programmes):
    users, objects = two_programmes
    kwargs, obj = objects[url_name]
    updated_at = type(obj).objects.filter(pk=obj.pk).values_list("updated_at", flat=True).get()
    client = Client()
    client.force_login(users[role])
    url = reverse(url_name, kwargs=kwargs)

    get = client.get(url)
    post = client.post(url, {"name": "Renommé", "kind": "other", "confirm": "on"})

    assert 404 in (get.status_code, post.status_code)
    for response in (get, post):
        assert response.status_code in (404, 405), f"{url_name} answered {response.status_code} to a {role}"
        assert SECRET not in response.content.decode()
    assert type(obj).objects.filter(pk=obj.pk).values_list("updated_at", flat=True).get() == updated_at


@pytest.mark.parametrize("url_name", sorted(PK_URLS))
def test_a_coordinator_of_both_programmes_reaches_the_object_only_through_the_programme_of_b(url_name):
    """The control case: the registry's objects are reachable at all, so the 404s above mean something."""
    programme_b = ProgrammeFactory()
    kwargs, _obj = PK_URLS[url_name](programme_b)
    client = Client()
    membership = MembershipFactory(role=Role.COORDINATOR, programme=programme_b)
    client.force_login(membership.user)
    if url_name.startswith("accounts:"):
        # The team pages act on the current programme: make B's membership the current one.
        session = client.session
        session[SESSION_KEY] = membership.pk
        session.save()
    assert client.get(reverse(url_name, kwargs=kwargs)).status_code == 200


# --- pages of the current programme: a forged session cannot reach another programme ----------


CURRENT_PROGRAMME_PAGES = [
    "home",
    "programmes:profile",
    "programmes:profile_edit",
    "programmes:organisations",
    "programmes:charter",
    "programmes:charter_publish",
    "people:children",
    "referrals:list",
    "referrals:new",
    "pathways:list",
    "pathways:caseload",
    "journal:search",
    "journal:break_glass",
    "steering:dashboard",
    "steering:objectives",
    "steering:budget",
    "steering:copil",
    "steering:diagnosis",
    "steering:barometer",
]


@pytest.fixture
def programme_b_with_secrets():
    programme_b = ProgrammeFactory(name=f"PRE {SECRET}")
    _organisation(programme_b)
    _child(programme_b)
    CharterVersionFactory(programme=programme_b, title=f"Charte {SECRET}")
    return programme_b


@pytest.mark.parametrize("url_name", CURRENT_PROGRAMME_PAGES)
def test_pointing_the_session_at_someone_elses_membership_shows_only_ones_own_programme(
    url_name, programme_b_with_secrets
):
    someone_in_b = MembershipFactory(role=Role.COORDINATOR, programme=programme_b_with_secrets)
    client = _client_of(Role.COORDINATOR, ProgrammeFactory())
    session = client.session
    session[SESSION_KEY] = someone_in_b.pk
    session.save()

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert SECRET not in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_switching_to_a_membership_of_another_person_is_refused(role, programme_b_with_secrets):
    someone_in_b = MembershipFactory(role=role, programme=programme_b_with_secrets)
    client = _client_of(role, ProgrammeFactory())

    response = client.post(reverse("switch_membership"), {"membership": someone_in_b.pk})

    assert response.status_code == 404
    assert SESSION_KEY not in client.session
    assert SECRET not in client.get(reverse("home")).content.decode()


def test_search_in_lists_never_returns_rows_of_another_programme(programme_b_with_secrets):
    client = _client_of(Role.COORDINATOR, ProgrammeFactory())
    for url_name in ("people:children", "programmes:organisations"):
        response = client.get(reverse(url_name), {"q": "zephyrine isolee"})
        assert response.status_code == 200
        assert SECRET not in response.content.decode()
