"""Downloading the family documents: who may, what the response looks like, and the journal."""

import io
from urllib.parse import unquote

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone
from pypdf import PdfReader

from maillage import permissions as perms
from maillage.audit.models import AuditEvent
from maillage.pathways import services
from maillage.pathways.models import Pathway
from maillage.programmes.enums import ListKind, Role
from maillage.programmes.models import ListItem
from tests.factories import (
    ChildFactory,
    GuardianFactory,
    MembershipFactory,
    ProgrammeFactory,
    open_pathway,
    programme_with_lists,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
URL_NAMES = [
    "documents:consent_form",
    "documents:notice_parents",
    "documents:notice_child",
    "documents:plan_summary",
]
KINDS = {
    "documents:consent_form": "consent_form",
    "documents:notice_parents": "notice_parents",
    "documents:notice_child": "notice_child",
    "documents:plan_summary": "plan_summary",
}
# Roles that run a pathway (coordinator: the programme; référent: their case team).
RUNNING_ROLES = [Role.COORDINATOR, Role.REFERENT]
OTHER_ROLES = [role for role in Role.values if role not in RUNNING_ROLES]


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def url_of(url_name: str, pathway: Pathway, guardian=None) -> str:
    kwargs = {"pathway_pk": pathway.pk}
    if url_name == "documents:consent_form":
        kwargs["guardian_pk"] = (guardian or pathway.child.household.guardians.first()).pk
    return reverse(url_name, kwargs=kwargs)


def generated(pathway: Pathway):
    return AuditEvent.objects.filter(
        verb="document.generated", target_type="pathways.pathway", target_id=str(pathway.pk)
    )


@pytest.fixture
def programme():
    return programme_with_lists(name="PRE de Villeneuve-sur-Démo", lead_body_name="CCAS de Villeneuve")


@pytest.fixture
def coordinator(programme):
    return MembershipFactory(programme=programme, role=Role.COORDINATOR).user


def new_pathway(programme, coordinator, referent=None) -> Pathway:
    child = ChildFactory(programme=programme, first_name="Timéo", last_name="Lemaire")
    GuardianFactory(household=child.household, first_name="Nadia", last_name="Lemaire")
    return open_pathway(programme=programme, child=child, by=coordinator, referent=referent)


@pytest.fixture
def pathway_as(client, login_as, programme, coordinator):
    """Log in with ``role`` and return a pathway; a référent logged in this way is its référent."""

    def _make(role: str, **membership_fields) -> Pathway:
        membership = login_as(role, programme=programme, **membership_fields)
        referent = membership.user if role == Role.REFERENT else None
        return new_pathway(programme, coordinator, referent=referent)

    return _make


# --- who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", URL_NAMES)
@pytest.mark.parametrize("role", RUNNING_ROLES)
def test_the_coordinator_and_the_referent_download_each_document_as_a_pdf(client, pathway_as, role, url_name):
    pathway = pathway_as(role)

    response = client.get(url_of(url_name, pathway))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "Timéo Lemaire" in text
    assert "PRE de Villeneuve-sur-Démo" in text


@pytest.mark.parametrize("url_name", URL_NAMES)
@pytest.mark.parametrize("role", OTHER_ROLES)
def test_roles_that_do_not_run_the_pathway_get_a_404(client, pathway_as, role, url_name):
    pathway = pathway_as(role)

    response = client.get(url_of(url_name, pathway))

    assert response.status_code == 404
    assert "Lemaire" not in response.content.decode()
    assert not generated(pathway).exists()


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_a_referent_outside_the_case_team_gets_a_404(client, login_as, programme, coordinator, url_name):
    login_as(Role.REFERENT, programme=programme)
    someone_else = MembershipFactory(programme=programme, role=Role.REFERENT).user
    pathway = new_pathway(programme, coordinator, referent=someone_else)

    assert client.get(url_of(url_name, pathway)).status_code == 404


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_a_coordinator_who_has_not_signed_the_charter_gets_the_charter_not_a_document(
    client, pathway_as, url_name
):
    pathway = pathway_as(Role.COORDINATOR, signed_charter=False)

    response = client.get(url_of(url_name, pathway))

    assert response.status_code == 200
    # The charter gate answers instead: the charter and its sign button, never the file.
    assert "programmes/charter.html" in [t.name for t in response.templates]
    assert pathway.child.last_name not in response.content.decode()


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_a_case_team_member_who_sees_the_childs_name_still_cannot_generate_documents(
    client, login_as, programme, coordinator, url_name
):
    eps = login_as(Role.EPS_MEMBER, programme=programme, bound_by_secrecy=True)
    pathway = new_pathway(programme, coordinator)
    guardian = pathway.child.household.guardians.get()
    services.consent_record(
        pathway=pathway, guardian=guardian, given_on=TODAY, by=coordinator, shared_with=[eps.organisation]
    )
    services.case_team_add(pathway=pathway, membership=eps, reason="Suivi en PMI", by=coordinator)
    assert perms.identity_visible(eps.user, pathway)

    assert client.get(url_of(url_name, pathway)).status_code == 404


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_a_coordinator_of_another_programme_gets_a_404(client, login_as, programme, coordinator, url_name):
    login_as(Role.COORDINATOR, programme=ProgrammeFactory())
    pathway = new_pathway(programme, coordinator)

    assert client.get(url_of(url_name, pathway)).status_code == 404


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_documents_are_no_longer_generated_once_the_pathway_is_closed(
    client, pathway_as, coordinator, url_name
):
    pathway = pathway_as(Role.COORDINATOR)
    reason = ListItem.objects.filter(
        programme=pathway.programme, kind=ListKind.EXIT_REASON, needs_final_review=False
    ).first()
    services.pathway_close(pathway=pathway, exit_reason=reason, closed_on=TODAY, by=coordinator)

    assert client.get(url_of(url_name, pathway)).status_code == 404


# --- the consent form's holder -----------------------------------------------------------------------


def test_a_consent_form_is_made_for_each_holder_of_parental_authority_of_the_child(client, pathway_as):
    pathway = pathway_as(Role.REFERENT)
    second = GuardianFactory(household=pathway.child.household, first_name="Karim", last_name="Lemaire")

    response = client.get(url_of("documents:consent_form", pathway, guardian=second))

    assert response.status_code == 200
    assert "Karim Lemaire" in pdf_text(response.content)


def test_no_consent_form_for_an_adult_without_parental_authority(client, pathway_as):
    pathway = pathway_as(Role.COORDINATOR)
    adult = GuardianFactory(household=pathway.child.household, has_parental_authority=False)

    assert client.get(url_of("documents:consent_form", pathway, guardian=adult)).status_code == 404


def test_no_consent_form_for_a_parent_of_another_household(client, pathway_as, programme):
    pathway = pathway_as(Role.COORDINATOR)
    stranger = GuardianFactory(household__programme=programme)

    assert client.get(url_of("documents:consent_form", pathway, guardian=stranger)).status_code == 404


# --- the response ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_the_pdf_is_an_attachment_named_by_the_case_code_and_never_cached(client, pathway_as, url_name):
    pathway = pathway_as(Role.REFERENT)

    response = client.get(url_of(url_name, pathway))

    disposition = unquote(response["Content-Disposition"])
    assert disposition.startswith("attachment;")
    assert f'filename="{pathway.case_code}_' in disposition
    assert disposition.endswith('.pdf"')
    assert "Lemaire" not in disposition and "Timéo" not in disposition
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_each_generation_leaves_one_entry_in_the_journal(client, pathway_as, url_name):
    pathway = pathway_as(Role.REFERENT)
    before = generated(pathway).count()

    client.get(url_of(url_name, pathway))
    client.get(url_of(url_name, pathway))

    entries = list(generated(pathway).order_by("id"))
    assert len(entries) == before + 2
    for entry in entries[before:]:
        assert entry.payload["document"] == KINDS[url_name]
        assert entry.role == Role.REFERENT
        assert entry.actor == pathway.referent
        assert entry.programme_id == pathway.programme_id


def test_the_journal_entry_of_a_consent_form_names_the_holder(client, pathway_as):
    pathway = pathway_as(Role.REFERENT)
    guardian = pathway.child.household.guardians.get()

    client.get(url_of("documents:consent_form", pathway, guardian=guardian))

    assert generated(pathway).get().payload["guardian"] == guardian.pk


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_documents_are_downloaded_not_posted(client, pathway_as, url_name):
    pathway = pathway_as(Role.COORDINATOR)

    assert client.post(url_of(url_name, pathway)).status_code == 405
    assert not generated(pathway).exists()


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, programme, coordinator, url_name):
    pathway = new_pathway(programme, coordinator)

    response = client.get(url_of(url_name, pathway))

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_every_document_view_is_classified_as_showing_nominative_data():
    patterns = get_resolver().namespace_dict["documents"][1].url_patterns

    assert {f"documents:{p.name}" for p in patterns} == set(URL_NAMES)
    for pattern in patterns:
        assert getattr(pattern.callback, "sensitivity", None) == "nominative", pattern.name
        assert pattern.callback.access_verb == "document.generated"
