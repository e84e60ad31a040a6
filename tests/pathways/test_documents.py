"""The PDF documents given to families, read back with pypdf: what they say, and what they never say."""

import datetime
import io
import time

import pytest
from django.utils import timezone
from pypdf import PdfReader
from weasyprint.urls import URLFetchingError

from maillage.pathways import documents, services
from maillage.pathways.documents import DocumentKind, StaticFilesFetcher
from maillage.pathways.enums import ContactKind, Dimension, ObjectiveStatus, Rating, ReviewKind
from maillage.programmes.enums import LeadBodyType, OrganisationKind, Role
from tests.factories import (
    ChildFactory,
    GuardianFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    open_pathway,
    programme_with_lists,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
A4_POINTS = (595, 842)
MAX_SECONDS = 2.0


def pdf_text(content: bytes) -> str:
    """The text of every page, whitespace collapsed (line breaks fall anywhere between words)."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def programme():
    return programme_with_lists(
        name="PRE de Villeneuve-sur-Démo",
        lead_body_type=LeadBodyType.CAISSE_DES_ECOLES,
        lead_body_name="Caisse des écoles de Villeneuve",
    )


@pytest.fixture
def coordinator(programme):
    return MembershipFactory(
        programme=programme,
        role=Role.COORDINATOR,
        user=UserFactory(first_name="Ophélie", last_name="Marchand"),
    ).user


@pytest.fixture
def referent(programme):
    return MembershipFactory(
        programme=programme, role=Role.REFERENT, user=UserFactory(first_name="Yanis", last_name="Berthier")
    ).user


@pytest.fixture
def pathway(programme, coordinator, referent):
    child = ChildFactory(
        programme=programme,
        first_name="Maëlys",
        last_name="Roussel",
        birth_date=datetime.date(2016, 3, 14),
    )
    GuardianFactory(household=child.household, first_name="Sandrine", last_name="Roussel")
    return open_pathway(programme=programme, child=child, by=coordinator, referent=referent)


@pytest.fixture
def guardian(pathway):
    return pathway.child.household.guardians.get()


def render(kind: DocumentKind, pathway, user, guardian=None) -> bytes:
    if kind == DocumentKind.CONSENT_FORM:
        return documents.consent_form_pdf(pathway=pathway, guardian=guardian, user=user)
    function = {
        DocumentKind.PARENT_NOTICE: documents.parent_notice_pdf,
        DocumentKind.CHILD_NOTICE: documents.child_notice_pdf,
        DocumentKind.PLAN_SUMMARY: documents.plan_summary_pdf,
    }[kind]
    return function(pathway=pathway, user=user)


# --- every document ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_each_document_is_an_a4_pdf_naming_the_child_the_programme_and_its_lead_body(
    kind, pathway, guardian, referent
):
    content = render(kind, pathway, referent, guardian)

    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    first_page = reader.pages[0]
    assert (round(float(first_page.mediabox.width)), round(float(first_page.mediabox.height))) == A4_POINTS
    text = pdf_text(content)
    assert "Maëlys Roussel" in text
    assert "PRE de Villeneuve-sur-Démo" in text
    assert "Structure porteuse : Caisse des écoles de Villeneuve" in text
    assert pathway.case_code in text


def test_each_document_renders_in_under_two_seconds(full_plan, guardian, referent):
    render(DocumentKind.CHILD_NOTICE, full_plan, referent, guardian)  # warm up fonts and Pango once
    for kind in DocumentKind:
        started = time.perf_counter()
        render(kind, full_plan, referent, guardian)
        elapsed = time.perf_counter() - started
        assert elapsed < MAX_SECONDS, f"{kind} took {elapsed:.2f} s"


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_the_pdf_metadata_carry_the_case_code_never_the_childs_name(kind, pathway, guardian, referent):
    metadata = PdfReader(io.BytesIO(render(kind, pathway, referent, guardian))).metadata

    assert pathway.case_code in metadata.title
    assert "Roussel" not in metadata.title
    assert "Maëlys" not in metadata.title


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_the_documents_embed_the_marianne_font_they_ship_with(kind, pathway, guardian, referent):
    reader = PdfReader(io.BytesIO(render(kind, pathway, referent, guardian)))

    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all("Marianne" in name for name in fonts), fonts


def test_without_a_structure_name_the_header_names_its_kind(coordinator):
    programme = programme_with_lists(
        name="PRE des Collines", lead_body_type=LeadBodyType.CCAS, lead_body_name=""
    )
    pathway = open_pathway(programme=programme, by=MembershipFactory(programme=programme).user)

    text = pdf_text(documents.child_notice_pdf(pathway=pathway, user=pathway.transitions.get().by))

    assert "Structure porteuse : CCAS" in text


def test_the_file_name_carries_the_case_code_and_never_a_name(pathway, guardian):
    assert (
        documents.filename(DocumentKind.PLAN_SUMMARY, pathway)
        == f"{pathway.case_code}_plan-accompagnement.pdf"
    )
    consent_name = documents.filename(DocumentKind.CONSENT_FORM, pathway, guardian)
    assert consent_name == f"{pathway.case_code}_accord-ecrit_{guardian.pk}.pdf"
    for kind in DocumentKind:
        assert "Roussel" not in documents.filename(kind, pathway, guardian)


# --- consent form --------------------------------------------------------------------------------


def test_the_consent_form_offers_one_box_per_partner_of_the_programme_and_each_scope(
    programme, pathway, guardian, referent
):
    OrganisationFactory(
        programme=programme, name="Service social départemental", kind=OrganisationKind.CD_SOCIAL
    )
    OrganisationFactory(programme=programme, name="Club omnisports des Tilleuls", kind=OrganisationKind.CLUB)
    OrganisationFactory(programme=programme, name="Ancienne ludothèque", is_active=False)
    OrganisationFactory(name="Partenaire d'un autre programme")
    partners = list(programme.organisations.filter(is_active=True))

    text = pdf_text(documents.consent_form_pdf(pathway=pathway, guardian=guardian, user=referent))

    assert "Accord écrit pour l'accompagnement de votre enfant" in text
    assert "Sandrine Roussel" in text
    assert "14 mars 2016" in text
    for partner in partners:
        assert partner.name in text
    assert "Ancienne ludothèque" not in text
    assert "Partenaire d'un autre programme" not in text
    assert "J'accepte que mon enfant soit accompagné" in text
    assert "Droit à l'image" in text
    assert "Évaluation" in text
    assert "Je peux retirer mon accord à tout moment" in text
    assert "Signature du ou de la titulaire de l'autorité parentale" in text


def test_the_consent_form_names_the_programmes_contacts_and_dpo(settings, pathway, guardian, referent):
    settings.MAILLAGE_DPO_EMAIL = "dpo@caisse-des-ecoles.exemple.test"

    text = pdf_text(documents.consent_form_pdf(pathway=pathway, guardian=guardian, user=referent))

    assert "Yanis Berthier" in text
    assert "Ophélie Marchand" in text
    assert "dpo@caisse-des-ecoles.exemple.test" in text


# --- notices -------------------------------------------------------------------------------------


def test_the_parents_notice_gives_the_legal_facts_and_the_rights(settings, programme, pathway, referent):
    settings.MAILLAGE_DPO_EMAIL = "dpo@caisse-des-ecoles.exemple.test"

    text = pdf_text(documents.parent_notice_pdf(pathway=pathway, user=referent))

    assert "Notice d'information" in text
    assert "Caisse des écoles de Villeneuve, structure porteuse du programme" in text
    assert "mission d'intérêt public" in text
    assert "Votre accord écrit est la condition de l'accompagnement" in text
    assert "L.121-6-2" in text and "L.226-2-2" in text
    assert "strictement nécessaires" in text
    assert "conservées 2 ans après le dernier contact" in text
    for right in ("droit d'accès", "droit de rectification", "droit à la limitation", "droit d'opposition"):
        assert right in text
    assert "CNIL" in text
    assert "dpo@caisse-des-ecoles.exemple.test" in text


def test_the_parents_notice_says_when_the_dpo_contact_is_still_to_be_filled(settings, pathway, referent):
    settings.MAILLAGE_DPO_EMAIL = ""

    text = pdf_text(documents.parent_notice_pdf(pathway=pathway, user=referent))

    assert "[à compléter]" in text


def test_the_parents_notice_follows_the_programmes_retention_setting(programme, pathway, referent):
    programme.active_retention_years = 3
    programme.save(update_fields=["active_retention_years"])
    pathway.refresh_from_db()

    text = pdf_text(documents.parent_notice_pdf(pathway=pathway, user=referent))

    assert "conservées 3 ans après le dernier contact" in text


def test_the_parents_notice_lists_the_partners_named_in_the_agreements_in_force(
    programme, pathway, guardian, coordinator, referent
):
    chosen = OrganisationFactory(programme=programme, name="Centre médico-psycho-pédagogique")
    OrganisationFactory(programme=programme, name="Médiathèque des Lilas")
    services.consent_record(
        pathway=pathway, guardian=guardian, given_on=TODAY, by=coordinator, shared_with=[chosen]
    )

    text = pdf_text(documents.parent_notice_pdf(pathway=pathway, user=referent))

    assert "Partenaires désignés dans votre accord : Centre médico-psycho-pédagogique." in text
    assert "Médiathèque des Lilas" not in text


def test_the_childs_notice_is_easy_to_read_with_its_friendly_headings(pathway, referent):
    text = pdf_text(documents.child_notice_pdf(pathway=pathway, user=referent))

    assert "Facile à lire et à comprendre" in text
    for heading in (
        "Qui sommes-nous ?",
        "Qui saura des choses sur toi ?",
        "Tu peux dire non",
        "À qui en parler ?",
    ):
        assert heading in text
    assert "La personne qui t'accompagne s'appelle Yanis Berthier." in text
    assert "119" in text


# --- plan summary --------------------------------------------------------------------------------


@pytest.fixture
def full_plan(programme, pathway, guardian, coordinator, referent):
    """A pathway with a plan, and every kind of written item the family summary must leave out."""
    club = OrganisationFactory(programme=programme, name="Club de judo du Parc")
    services.consent_record(pathway=pathway, guardian=guardian, given_on=TODAY, by=coordinator)
    reading = services.objective_add(
        pathway=pathway,
        dimension=Dimension.SCHOOL,
        wording="Lire seule une histoire courte avant les vacances d'hiver",
        target_date=datetime.date(TODAY.year + 1, 2, 10),
        by=referent,
    )
    sport = services.objective_add(
        pathway=pathway, dimension=Dimension.SPORT_LEISURE, wording="Pratiquer un sport en club", by=referent
    )
    services.objective_set_status(objective=sport, status=ObjectiveStatus.PARTLY, by=referent)
    services.plan_action_add(
        pathway=pathway,
        title="Accompagnement à la lecture",
        objective=reading,
        starts_on=TODAY,
        ends_on=TODAY + datetime.timedelta(days=90),
        frequency="deux fois par semaine",
        cost=4321,
        funding_line="Crédits politique de la ville",
        by=referent,
    )
    services.plan_action_add(
        pathway=pathway,
        title="Séances de judo",
        objective=sport,
        provider=club,
        frequency="le mercredi",
        by=referent,
    )
    services.plan_action_add(pathway=pathway, title="Sortie au musée en famille", by=referent)
    services.note_add(pathway=pathway, body="Note confidentielle Zorglub sur la fratrie", by=referent)
    services.diagnostic_section_save(
        pathway=pathway,
        dimension=Dimension.FAMILY,
        by=referent,
        difficulties="Difficultés Quetzalcoatl à la maison",
        resources="Ressource Brocéliande",
        facts="Fait observé Tintagel",
        assessment="Appréciation Xylophage du référent",
    )
    services.contact_add(
        pathway=pathway,
        by=referent,
        kind=ContactKind.HOME_VISIT,
        occurred_on=TODAY,
        summary="Compte rendu Pangolin de la visite",
    )
    services.review_add(
        pathway=pathway,
        kind=ReviewKind.INTERMEDIATE,
        held_on=TODAY,
        by=referent,
        summary="Synthèse Ornithorynque du bilan",
        ratings={reading.pk: (Rating.PARTLY, "Commentaire Capybara"), sport.pk: (Rating.REACHED, "")},
    )
    pathway.refresh_from_db()
    return pathway


def test_the_plan_summary_shows_objectives_by_dimension_with_status_dates_and_actions(full_plan, referent):
    text = pdf_text(documents.plan_summary_pdf(pathway=full_plan, user=referent))

    for objective in full_plan.objectives.all():
        assert objective.wording in text
    assert "Scolarité" in text and "Sport et loisirs" in text
    assert text.index("Scolarité") < text.index("Sport et loisirs")
    assert "En cours" in text and "Partiellement atteint" in text
    assert f"échéance : 10 février {TODAY.year + 1}" in text
    assert "Accompagnement à la lecture" in text and "deux fois par semaine" in text
    assert "Séances de judo" in text and "Club de judo du Parc" in text and "le mercredi" in text
    assert "Les autres actions" in text and "Sortie au musée en famille" in text
    assert "Yanis Berthier" in text
    assert "Ophélie Marchand" in text
    next_review = full_plan.next_review_on
    assert next_review is not None
    assert f"Prochain bilan {next_review.day} " in text


def test_the_plan_summary_never_shows_the_diagnosis_notes_contacts_bilans_or_costs(full_plan, referent):
    text = pdf_text(documents.plan_summary_pdf(pathway=full_plan, user=referent))

    for secret in (
        "Zorglub",  # note
        "Quetzalcoatl",  # diagnosis: difficulties
        "Brocéliande",  # diagnosis: resources
        "Tintagel",  # diagnosis: facts
        "Xylophage",  # diagnosis: assessment
        "Pangolin",  # contact
        "Ornithorynque",  # bilan
        "Capybara",  # bilan's rating comment
        "Crédits politique de la ville",  # funding line
    ):
        assert secret not in text
    assert "€" not in text and "4321" not in text and "4 321" not in text  # cost


def test_a_plan_without_objectives_says_they_will_be_decided_with_the_family(pathway, referent):
    text = pdf_text(documents.plan_summary_pdf(pathway=pathway, user=referent))

    assert "Aucun objectif n'est encore fixé" in text
    assert "date à fixer avec vous" in text


# --- rendering stays on the server's own files ---------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://exemple.test/police.woff",
        "http://127.0.0.1:8000/static/maillage/maillage.css",
        "file:///etc/passwd",
        "file:///maillage-static/../../etc/passwd",
        "file:///maillage-static/%2e%2e/%2e%2e/etc/passwd",
        "data:text/plain,bonjour",
    ],
)
def test_the_pdf_renderer_fetches_nothing_but_static_files(url):
    fetcher = StaticFilesFetcher()

    with pytest.raises((ValueError, URLFetchingError)):
        fetcher.fetch(url)


def test_the_pdf_renderer_reads_the_bundled_fonts_from_the_static_files():
    response = StaticFilesFetcher().fetch(documents.BASE_URL + "dsfr/dist/fonts/Marianne-Regular.woff")

    assert response.read(4) == b"wOFF"
