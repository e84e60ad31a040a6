"""Recording and withdrawing a family's agreement, and the signed copy."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from maillage.audit.models import AuditEvent
from maillage.pathways import services
from maillage.pathways.enums import PathwayState
from maillage.pathways.models import Consent, Pathway
from maillage.pathways.services import JourneyError
from tests.factories import GuardianFactory, HouseholdFactory, OrganisationFactory
from tests.www.followup.conftest import SMALL_PDF, TODAY, detail, image_bytes, url

pytestmark = pytest.mark.django_db

SECRET = "Rue des Lilas, 48.85N"


@pytest.fixture
def second_parent(world):
    return GuardianFactory(
        household=world.pathway.child.household, first_name="Karim", last_name="Benali", relation="father"
    )


def _post(world, data, who="referent", files=None):
    payload = {"given_on": (TODAY - datetime.timedelta(days=1)).isoformat(), "care": "on", **data}
    if files:
        payload.update(files)
    return world.client(who).post(url("consent_add", world.pathway), payload)


def _stored_files(settings):
    root = settings.MEDIA_ROOT
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- recording -------------------------------------------------------------------------------------


def test_the_referent_records_the_second_parents_agreement_with_its_scope_and_signed_copy(
    world, second_parent
):
    other_partner = OrganisationFactory(programme=world.pathway.programme, name="Club de judo")

    response = _post(
        world,
        {
            "guardian": second_parent.pk,
            "shared_with": [world.school.pk, other_partner.pk],
            "image_use": "on",
            "notice_delivered_on": (TODAY - datetime.timedelta(days=3)).isoformat(),
            "child_informed_on": (TODAY - datetime.timedelta(days=2)).isoformat(),
            "proof": SimpleUploadedFile("accord Benali.pdf", SMALL_PDF),
        },
    )

    assert response.status_code == 302
    assert response["Location"] == detail(world.pathway, "consentements")
    consent = Consent.objects.get(guardian=second_parent)
    assert consent.pathway == world.pathway
    assert consent.care is True
    assert consent.image_use is True
    assert consent.evaluation_use is False
    assert set(consent.shared_with.all()) == {world.school, other_partner}
    assert consent.notice_delivered_on == TODAY - datetime.timedelta(days=3)
    assert consent.proof_content_type == "application/pdf"
    assert "Benali" not in consent.proof.name  # stored under a random name
    assert consent.proof.read() == SMALL_PDF
    assert consent.recorded_by == world.referent.user
    event = AuditEvent.objects.filter(verb="consent.recorded").latest("pk")
    assert event.payload["consent"] == consent.pk
    assert event.actor == world.referent.user


def test_only_holders_of_parental_authority_without_an_agreement_in_force_are_offered(world, second_parent):
    no_authority = GuardianFactory(
        household=world.pathway.child.household, last_name="Sansautorité", has_parental_authority=False
    )
    stranger = GuardianFactory(
        household=HouseholdFactory(programme=world.pathway.programme), last_name="Ailleurs"
    )

    page = world.client("coordinator").get(url("consent_add", world.pathway)).content.decode()

    assert "Benali" in page
    assert f'name="guardian" value="{world.guardian.pk}"' not in page  # already agreed
    assert f'name="guardian" value="{second_parent.pk}"' in page
    assert "Sansautorité" not in page
    assert "Ailleurs" not in page
    for guardian in (no_authority, stranger, world.guardian):
        response = _post(world, {"guardian": guardian.pk}, who="coordinator")
        assert response.status_code == 200
        assert "Sélectionnez un choix valide" in response.content.decode()
    assert Consent.objects.count() == 1


def test_when_every_parent_has_agreed_the_page_says_so_instead_of_showing_a_form(world):
    response = world.client("referent").get(url("consent_add", world.pathway))

    page = response.content.decode()
    assert "Aucun accord à recueillir pour l'instant" in page
    assert 'name="guardian"' not in page


def test_only_partners_of_the_programme_can_be_named_for_sharing(world, second_parent):
    elsewhere = OrganisationFactory(name="Partenaire d'un autre programme")

    response = _post(world, {"guardian": second_parent.pk, "shared_with": [elsewhere.pk]})

    assert response.status_code == 200
    assert "Partenaire d'un autre programme" not in response.content.decode()
    assert not Consent.objects.filter(guardian=second_parent).exists()


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("given_on", "La date de l&#x27;accord ne peut pas être dans le futur."),
        ("notice_delivered_on", "La date de remise de la notice ne peut pas être dans le futur."),
        ("child_informed_on", "La date d&#x27;information de l&#x27;enfant ne peut pas être dans le futur."),
    ],
)
def test_dates_in_the_future_are_refused(world, second_parent, field, message):
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()

    response = _post(world, {"guardian": second_parent.pk, field: tomorrow})

    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert f'href="#id_{field}"' in page  # the error summary leads to the field
    assert not Consent.objects.filter(guardian=second_parent).exists()


def test_a_20_mb_upload_gets_a_clear_message_and_nothing_is_saved(world, second_parent, settings):
    before = _stored_files(settings)
    big = SimpleUploadedFile("accord.pdf", SMALL_PDF + b"0" * (20 * 1024 * 1024))

    response = _post(world, {"guardian": second_parent.pk, "proof": big})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Le fichier est trop volumineux" in page
    assert "la taille maximale est de 5 Mo" in page
    assert "choisissez-le de nouveau" in page
    assert not Consent.objects.filter(guardian=second_parent).exists()
    assert _stored_files(settings) == before


def test_a_program_renamed_pdf_gets_a_clear_message_and_nothing_is_saved(world, second_parent, settings):
    before = _stored_files(settings)
    exe = SimpleUploadedFile("accord.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 500)

    response = _post(world, {"guardian": second_parent.pk, "proof": exe})

    assert response.status_code == 200
    assert "ne correspond pas à son extension" in response.content.decode()
    assert not Consent.objects.filter(guardian=second_parent).exists()
    assert _stored_files(settings) == before


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("photo.jpg", image_bytes("jpeg", exif_text=SECRET), "image/jpeg"),
        ("scan.png", image_bytes("png", png_text=SECRET, exif_text=SECRET), "image/png"),
    ],
)
def test_a_photographed_agreement_is_stored_without_its_metadata(
    world, second_parent, name, content, content_type
):
    assert SECRET.encode() in content

    response = _post(world, {"guardian": second_parent.pk, "proof": SimpleUploadedFile(name, content)})

    assert response.status_code == 302
    consent = Consent.objects.get(guardian=second_parent)
    assert consent.proof_content_type == content_type
    stored = consent.proof.read()
    assert SECRET.encode() not in stored
    consent.proof.seek(0)
    image = Image.open(consent.proof)
    assert dict(image.getexif()) == {}
    assert "Comment" not in image.info


def test_a_refusal_of_the_rules_is_shown_on_the_form_and_saves_nothing(
    world, second_parent, monkeypatch, settings
):
    def refuse(**kwargs):
        raise JourneyError("Le parcours est clôturé : un nouvel accord se recueille sur un parcours rouvert.")

    monkeypatch.setattr(services, "consent_record", refuse)
    before = _stored_files(settings)

    response = _post(
        world, {"guardian": second_parent.pk, "proof": SimpleUploadedFile("accord.pdf", SMALL_PDF)}
    )

    assert response.status_code == 200
    assert "un nouvel accord se recueille sur un parcours rouvert" in response.content.decode()
    assert not Consent.objects.filter(guardian=second_parent).exists()
    assert _stored_files(settings) == before


# --- signed copy -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["coordinator", "referent"])
def test_the_signed_copy_downloads_as_an_attachment_that_browsers_must_not_sniff(world, who):
    response = world.client(who).get(url("consent_proof", world.pathway, world.consent.pk))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == SMALL_PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"accord-{world.pathway.case_code}-{world.consent.pk}.pdf" in disposition
    assert world.pathway.child.last_name not in disposition
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.filter(verb="consent.proof_downloaded").latest("pk")
    assert event.actor == getattr(world, who).user
    assert event.target_id == str(world.pathway.pk)
    assert event.payload["consent"] == world.consent.pk


@pytest.mark.parametrize("who", ["teacher", "eps", "referrer", "provider", "outsider"])
def test_the_signed_copy_is_a_404_for_everyone_else(world, who):
    response = world.client(who).get(url("consent_proof", world.pathway, world.consent.pk))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(verb="consent.proof_downloaded").exists()


def test_a_consent_without_signed_copy_has_nothing_to_download(world, second_parent):
    consent = services.consent_record(
        pathway=world.pathway, guardian=second_parent, given_on=TODAY, by=world.referent.user
    )

    assert world.client("coordinator").get(url("consent_proof", world.pathway, consent.pk)).status_code == 404


def test_the_signed_copy_is_not_reachable_through_another_pathway(world):
    from tests.factories import open_pathway

    other = open_pathway(programme=world.pathway.programme, by=world.coordinator.user)

    response = world.client("coordinator").get(url("consent_proof", other, world.consent.pk))

    assert response.status_code == 404


# --- withdrawal ------------------------------------------------------------------------------------


def test_withdrawing_the_last_agreement_warns_that_the_pathway_will_close(world):
    response = world.client("referent").get(url("consent_withdraw", world.pathway, world.consent.pk))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Le parcours sera clôturé avec le motif « Retrait de l&#x27;accord de la famille »" in page
    assert "Confirmer le retrait et clôturer le parcours" in page


def test_withdrawing_one_of_two_agreements_does_not_announce_a_closure(world, second_parent):
    services.consent_record(
        pathway=world.pathway, guardian=second_parent, given_on=TODAY, by=world.referent.user
    )

    page = (
        world.client("referent")
        .get(url("consent_withdraw", world.pathway, world.consent.pk))
        .content.decode()
    )

    assert "Le parcours sera clôturé" not in page
    response = world.client("referent").post(
        url("consent_withdraw", world.pathway, world.consent.pk), {"withdrawn_on": TODAY.isoformat()}
    )
    assert response.status_code == 302
    assert Pathway.objects.get(pk=world.pathway.pk).state != PathwayState.CLOSED


def test_confirming_the_withdrawal_closes_the_pathway_and_keeps_the_history(world):
    response = world.client("referent").post(
        url("consent_withdraw", world.pathway, world.consent.pk),
        {"withdrawn_on": TODAY.isoformat(), "note": "La mère a appelé pour retirer son accord."},
    )

    assert response.status_code == 302
    assert response["Location"] == detail(world.pathway, "consentements")
    pathway = Pathway.objects.get(pk=world.pathway.pk)
    assert pathway.state == PathwayState.CLOSED
    assert pathway.exit_reason.code == "retrait_consentement"
    consent = Consent.objects.get(pk=world.consent.pk)  # still there, marked withdrawn
    assert consent.withdrawn_on == TODAY
    assert consent.withdrawn_by == world.referent.user
    assert consent.withdrawal_note == "La mère a appelé pour retirer son accord."
    verbs = list(AuditEvent.objects.order_by("pk").values_list("verb", flat=True))
    assert verbs[-2:] == ["consent.withdrawn", "pathway.closed"]
    told = [str(m) for m in get_messages(response.wsgi_request)]
    assert told == [
        "Le retrait de l'accord est enregistré. "
        "Le parcours est clôturé avec le motif « Retrait de l'accord de la famille »."
    ]
    # The consent forms close with the pathway.
    assert world.client("referent").get(url("consent_add", world.pathway)).status_code == 404


def test_a_get_never_withdraws_anything(world):
    world.client("referent").get(url("consent_withdraw", world.pathway, world.consent.pk))

    assert Consent.objects.get(pk=world.consent.pk).withdrawn_on is None


@pytest.mark.parametrize(
    ("withdrawn_on", "message"),
    [
        (TODAY + datetime.timedelta(days=1), "La date du retrait ne peut pas être dans le futur."),
        (TODAY - datetime.timedelta(days=30), "Le retrait ne peut pas précéder l&#x27;accord"),
    ],
)
def test_withdrawal_dates_outside_the_agreement_are_refused(world, withdrawn_on, message):
    response = world.client("referent").post(
        url("consent_withdraw", world.pathway, world.consent.pk), {"withdrawn_on": withdrawn_on.isoformat()}
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Consent.objects.get(pk=world.consent.pk).withdrawn_on is None
    assert Pathway.objects.get(pk=world.pathway.pk).state != PathwayState.CLOSED


def test_an_agreement_already_withdrawn_is_not_withdrawn_twice(world, second_parent):
    services.consent_record(
        pathway=world.pathway, guardian=second_parent, given_on=TODAY, by=world.referent.user
    )
    services.consent_withdraw(consent=world.consent, withdrawn_on=TODAY, by=world.referent.user)
    before = AuditEvent.objects.filter(verb="consent.withdrawn").count()

    response = world.client("referent").post(
        url("consent_withdraw", world.pathway, world.consent.pk), {"withdrawn_on": TODAY.isoformat()}
    )

    assert response.status_code == 302
    assert AuditEvent.objects.filter(verb="consent.withdrawn").count() == before


def test_a_consent_of_another_pathway_cannot_be_withdrawn_through_this_one(world):
    from tests.factories import open_pathway

    other = open_pathway(programme=world.pathway.programme, by=world.coordinator.user)

    response = world.client("coordinator").post(
        url("consent_withdraw", other, world.consent.pk), {"withdrawn_on": TODAY.isoformat()}
    )

    assert response.status_code == 404
    assert Consent.objects.get(pk=world.consent.pk).withdrawn_on is None


def test_withdrawal_closes_the_pathway_even_in_a_programme_set_up_without_its_lists(db):
    from tests.factories import MembershipFactory, ProgrammeFactory, open_pathway

    programme = ProgrammeFactory()
    coordinator = MembershipFactory(programme=programme, role="coordinator")
    pathway = open_pathway(programme=programme, by=coordinator.user)
    consent = services.consent_record(
        pathway=pathway, guardian=pathway.child.household.guardians.get(), given_on=TODAY, by=coordinator.user
    )
    client = Client()
    client.force_login(coordinator.user)

    response = client.post(url("consent_withdraw", pathway, consent.pk), {"withdrawn_on": TODAY.isoformat()})

    assert response.status_code == 302
    pathway.refresh_from_db()
    assert pathway.state == PathwayState.CLOSED
    assert pathway.exit_reason.label == "Retrait de l'accord de la famille"
