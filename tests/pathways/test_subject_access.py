"""Right of access: the family gets everything held, withheld items only as such (RGPD art. 15)."""

import datetime
import io
import json
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from pypdf import PdfReader

from maillage.audit.access import record_access
from maillage.audit.models import AuditEvent
from maillage.pathways import services
from maillage.pathways.enums import Circle
from maillage.pathways.models import Consent, Contact, Review
from maillage.pathways.subject_access import build_subject_access, render_subject_access_pdf
from maillage.people.enums import GuardianRelation
from maillage.programmes.enums import Role
from tests.factories import GuardianFactory, MembershipFactory, programme_with_lists
from tests.pathways.test_retention import full_pathway

pytestmark = pytest.mark.django_db

WITHHELD_TEXTS = [
    "Propos de l'oncle sur le conflit familial",
    "Signalement du voisin",
    "Le père nous a confié",
]
VISIBLE_TEXTS = [
    "Difficultés de lecture en classe",
    "Aime le dessin",
    "Absences répétées le lundi",
    "Besoin d'un soutien régulier",
    "Lire un album seul avant juin",
    "Club lecture du mercredi",
    "La mère et la grand-mère",
    "Visite au domicile : la famille est preneuse d'un soutien",
    "Maman joignable après 17 h",
    "Note du cercle du secret partagé",
    "Progrès nets, relais par l'école",
    "Lit seule des albums courts",
    "La maîtresse s'inquiète des absences",
]


class FakeRequest:
    """What ``record_access`` reads from a request."""

    def __init__(self, user):
        self.user = user
        self.request_id = "req-test"
        self.client_ip = "192.0.2.10"


@pytest.fixture
def scenario():
    programme = programme_with_lists(name="PRE de Villeneuve")
    coordinator_membership = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    coordinator = coordinator_membership.user
    pathway = full_pathway(programme, coordinator, close=False)
    child = pathway.child
    # A second holder of parental authority agrees, then withdraws: both consents must be listed.
    father = GuardianFactory(household=child.household, relation=GuardianRelation.FATHER, first_name="Karim")
    second = services.consent_record(
        pathway=pathway, guardian=father, given_on=timezone.localdate(), by=coordinator
    )
    services.consent_withdraw(
        consent=second, withdrawn_on=timezone.localdate(), by=coordinator, note="Le père préfère attendre"
    )
    services.note_add(
        pathway=pathway, body="Note du cercle du secret partagé", by=coordinator, circle=Circle.SECRET
    )
    contact = services.contact_add(
        pathway=pathway,
        by=coordinator,
        kind="phone",
        occurred_on=timezone.localdate(),
        summary="Le père nous a confié des difficultés au travail",
    )
    Contact.objects.filter(pk=contact.pk).update(
        withheld=True, withheld_reason="Informations concernant un tiers"
    )
    # A référent reads the child's file: the family must see it in the list of accesses.
    referent_membership = MembershipFactory(programme=programme, role=Role.REFERENT)
    record_access(FakeRequest(referent_membership.user), child, verb="child.viewed")
    return {
        "programme": programme,
        "coordinator": coordinator,
        "coordinator_membership": coordinator_membership,
        "referent_membership": referent_membership,
        "pathway": pathway,
        "child": child,
    }


def _pdf_text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def test_the_json_holds_identity_household_every_consent_the_plan_and_every_item(scenario):
    child = scenario["child"]
    data = build_subject_access(child)
    dumped = json.dumps(data, ensure_ascii=False)

    assert data["child"]["first_name"] == child.first_name and data["child"]["last_name"] == child.last_name
    assert data["child"]["birth_date"] == child.birth_date.isoformat()
    assert data["household"]["name"] == child.household.name
    assert {g["first_name"] for g in data["guardians"]} >= {"Karim"}
    (pathway,) = data["pathways"]
    consents = pathway["consents"]
    assert len(consents) == Consent.objects.filter(pathway=scenario["pathway"]).count() == 2
    withdrawn = [c for c in consents if c["withdrawn_on"]]
    assert len(withdrawn) == 1 and withdrawn[0]["withdrawal_note"] == "Le père préfère attendre"
    assert any(c["signed_document_kept"] and c["evaluation_use"] for c in consents)
    assert [o["wording"] for o in pathway["objectives"]] == ["Lire un album seul avant juin"]
    assert [a["title"] for a in pathway["plan_actions"]] == ["Club lecture du mercredi"]
    assert [t["to"] for t in pathway["transitions"]] == ["Premier contact", "Diagnostic"]
    assert data["referrals"][0]["context"] == "La maîtresse s'inquiète des absences"
    for text in VISIBLE_TEXTS:
        assert text in dumped, text


def test_withheld_items_appear_only_as_withheld_with_their_reason(scenario):
    data = build_subject_access(scenario["child"])
    dumped = json.dumps(data, ensure_ascii=False)
    (pathway,) = data["pathways"]

    for text in WITHHELD_TEXTS:
        assert text not in dumped, text
    withheld = [
        entry
        for kind in ("diagnosis", "contacts", "notes", "reviews")
        for entry in pathway[kind]
        if entry.get("withheld")
    ]
    assert sorted(withheld, key=lambda e: e["reason"]) == [
        {"withheld": True, "reason": "Informations concernant un tiers"},
        {"withheld": True, "reason": "Informations concernant un tiers"},
        {"withheld": True, "reason": "Source à protéger"},
    ]
    assert data["counts"]["withheld"] == 3


def test_a_withheld_bilan_hides_its_ratings_too(scenario):
    Review.objects.filter(pathway=scenario["pathway"]).update(
        withheld=True, withheld_reason="Rédigé avec un tiers"
    )
    data = build_subject_access(scenario["child"])
    dumped = json.dumps(data, ensure_ascii=False)
    assert data["pathways"][0]["reviews"] == [{"withheld": True, "reason": "Rédigé avec un tiers"}]
    assert "Lit seule des albums courts" not in dumped and "Progrès nets" not in dumped


def test_the_pdf_shows_the_same_content_in_plain_french(scenario):
    child = scenario["child"]
    data = build_subject_access(child)
    pdf = render_subject_access_pdf(data)
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)

    assert "Vos données dans le programme" in text
    assert f"{child.first_name} {child.last_name}" in text
    for text_shown in VISIBLE_TEXTS:
        assert text_shown in text, text_shown
    for text_hidden in WITHHELD_TEXTS:
        assert text_hidden not in text, text_hidden
    assert text.count("Information réservée, non communiquée") == 3
    assert "Raison : Source à protéger" in text
    # Every consent, the withdrawn one too.
    assert text.count("Accord du ") == 2 and "retiré le" in text
    assert "Qui a consulté ou modifié le dossier" in text


def test_the_pdf_metadata_does_not_carry_the_childs_name(scenario):
    child = scenario["child"]
    reader = PdfReader(io.BytesIO(render_subject_access_pdf(build_subject_access(child))))
    assert child.last_name not in (reader.metadata.title or "")


def test_the_access_list_names_organisation_and_role_but_not_the_person(scenario):
    referent = scenario["referent_membership"]
    data = build_subject_access(scenario["child"])
    views = [e for e in data["access_events"] if e["verb"] == "child.viewed"]
    assert views == [
        {
            "at": views[0]["at"],
            "action": "Consultation",
            "verb": "child.viewed",
            "object": "Identité de l'enfant",
            "organisation": referent.organisation.name,
            "role": "Référent·e de parcours",
        }
    ]
    dumped = json.dumps(data, ensure_ascii=False)
    assert referent.user.email not in dumped and referent.user.last_name not in dumped
    # Writes on the pathway are listed too (opening, consent, notes…).
    assert any(
        e["object"] == "Parcours" and e["action"] == "Enregistrement ou modification"
        for e in data["access_events"]
    )


def test_staff_names_appear_only_when_asked(scenario):
    referent = scenario["referent_membership"]
    data = build_subject_access(scenario["child"], include_staff_names=True)
    (view,) = [e for e in data["access_events"] if e["verb"] == "child.viewed"]
    assert view["name"] == referent.user.get_full_name()


def test_the_command_writes_both_files_privately_and_journals_the_export(scenario, tmp_path, capsys):
    child = scenario["child"]
    coordinator = scenario["coordinator"]
    call_command(
        "subject_access_export",
        "--child",
        str(child.pk),
        "--out",
        str(tmp_path / "export"),
        "--by",
        coordinator.email,
    )

    (pdf_path,) = (tmp_path / "export").glob("*.pdf")
    (json_path,) = (tmp_path / "export").glob("*.json")
    assert child.last_name not in pdf_path.name and child.first_name not in json_path.name
    assert stat.S_IMODE(json_path.stat().st_mode) == 0o600 and stat.S_IMODE(pdf_path.stat().st_mode) == 0o600
    data = json.loads(json_path.read_text())
    assert data["child"]["last_name"] == child.last_name
    assert "Club lecture du mercredi" in _pdf_text(pdf_path.read_bytes())

    entry = AuditEvent.objects.get(verb="subject_access.exported")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        coordinator.pk,
        "people.child",
        str(child.pk),
    )
    assert entry.role == Role.COORDINATOR
    assert entry.payload["counts"]["consents"] == 2 and entry.payload["counts"]["withheld"] == 3
    assert "Written" in capsys.readouterr().out


def test_a_later_export_lists_the_earlier_one_among_the_accesses(scenario, tmp_path):
    child, coordinator = scenario["child"], scenario["coordinator"]
    args = [
        "subject_access_export",
        "--child",
        str(child.pk),
        "--out",
        str(tmp_path / "export"),
        "--by",
        coordinator.email,
    ]
    call_command(*args)
    data = build_subject_access(child)
    assert any(
        e["verb"] == "subject_access.exported" and e["action"].startswith("Export")
        for e in data["access_events"]
    )


@pytest.mark.parametrize("role", [Role.REFERENT, Role.EPS_MEMBER, Role.STEERING])
def test_only_the_coordination_or_the_dpo_may_export(scenario, tmp_path, role):
    someone = MembershipFactory(programme=scenario["programme"], role=role).user
    with pytest.raises(CommandError, match="not coordinator or DPO"):
        call_command(
            "subject_access_export",
            "--child",
            str(scenario["child"].pk),
            "--out",
            str(tmp_path / "export"),
            "--by",
            someone.email,
        )
    assert not (tmp_path / "export").exists()
    assert not AuditEvent.objects.filter(verb="subject_access.exported").exists()


def test_the_dpo_of_the_programme_may_export(scenario, tmp_path):
    dpo = MembershipFactory(programme=scenario["programme"], role=Role.DPO).user
    call_command(
        "subject_access_export",
        "--child",
        str(scenario["child"].pk),
        "--out",
        str(tmp_path / "export"),
        "--by",
        dpo.email,
    )
    assert AuditEvent.objects.get(verb="subject_access.exported").role == Role.DPO


def test_a_coordinator_of_another_programme_may_not_export(scenario, tmp_path):
    other = MembershipFactory(role=Role.COORDINATOR).user
    with pytest.raises(CommandError):
        call_command(
            "subject_access_export",
            "--child",
            str(scenario["child"].pk),
            "--out",
            str(tmp_path / "export"),
            "--by",
            other.email,
        )


def test_an_unknown_child_or_account_is_refused_clearly(scenario, tmp_path):
    with pytest.raises(CommandError, match="No child"):
        call_command(
            "subject_access_export",
            "--child",
            "999999",
            "--out",
            str(tmp_path / "export"),
            "--by",
            scenario["coordinator"].email,
        )
    with pytest.raises(CommandError, match="No active account"):
        call_command(
            "subject_access_export",
            "--child",
            str(scenario["child"].pk),
            "--out",
            str(tmp_path / "export"),
            "--by",
            "x@y.test",
        )


def test_dates_are_iso_in_the_json(scenario):
    data = build_subject_access(scenario["child"])
    opened = data["pathways"][0]["opened_on"]
    assert datetime.date.fromisoformat(opened) == scenario["pathway"].opened_on
    assert datetime.datetime.fromisoformat(data["generated_at"]).tzinfo is not None
