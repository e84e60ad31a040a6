"""Break-glass: a motivated, journaled, one-hour opening of a file, signalled to the DPO."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from maillage import permissions as perms
from maillage.audit.models import AuditEvent
from maillage.pathways.break_glass import break_glass_open
from maillage.pathways.models import BreakGlass, Pathway
from maillage.pathways.services import JourneyError
from maillage.programmes.enums import Role
from tests.factories import MembershipFactory
from tests.www.journal.conftest import CHILD_LAST_NAME, client_for, text_of

pytestmark = pytest.mark.django_db

PAGE = reverse("journal:break_glass")
REASON = "Demande d'accès de la famille reçue le 12 mars"


def _detail(pathway) -> str:
    return reverse("pathways:detail", args=[pathway.pk])


def _archive(pathway):
    Pathway.objects.filter(pk=pathway.pk).update(archived_at=timezone.now())
    pathway.refresh_from_db()
    return pathway


def _open(client, pathway, reason=REASON, confirm=True):
    data = {"code": pathway.case_code, "reason": reason}
    if confirm:
        data["confirm"] = "on"
    return client.post(PAGE, data)


# --- the service -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_the_reason_is_mandatory(world, reason):
    with pytest.raises(JourneyError, match="motif"):
        break_glass_open(pathway=world.pathway, by=world.dpo.user, reason=reason)
    assert not BreakGlass.objects.exists()


def test_the_grant_opens_the_pathway_for_one_hour_and_not_after(world):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        dpo = client_for(world.dpo.user)
        assert dpo.get(_detail(world.pathway)).status_code == 404

        break_glass_open(pathway=world.pathway, by=world.dpo.user, reason=REASON)
        assert dpo.get(_detail(world.pathway)).status_code == 200

        # A page every 20 minutes keeps the session alive (30 minutes idle end it): minute 59.
        for minutes in (20, 20, 19):
            traveller.shift(datetime.timedelta(minutes=minutes))
            assert dpo.get(_detail(world.pathway)).status_code == 200
        assert perms.pathways_visible_to(world.dpo.user).filter(pk=world.pathway.pk).exists()

        traveller.shift(datetime.timedelta(minutes=2))
        assert dpo.get(_detail(world.pathway)).status_code == 404
        assert not perms.pathways_visible_to(world.dpo.user).exists()


def test_the_grant_reads_but_never_writes(world):
    break_glass_open(pathway=world.pathway, by=world.dpo.user, reason=REASON)

    assert not perms.can_edit_pathway(world.dpo.user, world.pathway)
    assert not perms.can_write_items(world.dpo.user, world.pathway)


def test_the_grant_opens_that_pathway_only(world):
    break_glass_open(pathway=world.pathway, by=world.dpo.user, reason=REASON)

    assert list(perms.pathways_visible_to(world.dpo.user)) == [world.pathway]


def test_the_opening_is_journaled_with_its_reason(world):
    grant = break_glass_open(pathway=world.pathway, by=world.dpo.user, reason=f"  {REASON}  ")

    entry = AuditEvent.objects.get(verb="break_glass.opened")
    assert (entry.target_type, entry.target_id) == ("pathways.pathway", str(world.pathway.pk))
    assert entry.actor == world.dpo.user
    assert entry.role == Role.DPO
    assert entry.programme == world.programme
    assert entry.payload["reason"] == REASON
    assert grant.reason == REASON
    assert grant.expires_at - grant.created_at == datetime.timedelta(hours=1)


def test_the_dpos_of_the_programme_are_emailed_after_the_commit(world, django_capture_on_commit_callbacks):
    other_dpo = MembershipFactory(programme=world.programme, role=Role.DPO, user__email="dpo2@exemple.test")
    MembershipFactory(programme=world.elsewhere, role=Role.DPO, user__email="dpo-ailleurs@exemple.test")
    MembershipFactory(
        programme=world.programme,
        role=Role.DPO,
        user__email="ancien-dpo@exemple.test",
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date(2021, 1, 1),
    )
    _archive(world.pathway)

    with django_capture_on_commit_callbacks(execute=True):
        break_glass_open(pathway=world.pathway, by=world.coordinator.user, reason=REASON)

    (message,) = mail.outbox
    assert sorted(message.to) == sorted([world.dpo.user.email, other_dpo.user.email])
    assert world.pathway.case_code in message.subject
    assert world.pathway.case_code in message.body
    assert world.coordinator.user.email in message.body
    assert "/journal/?" in message.body
    assert REASON not in message.body
    assert CHILD_LAST_NAME not in message.body and CHILD_LAST_NAME not in message.subject


def test_no_email_leaves_before_the_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        break_glass_open(pathway=world.pathway, by=world.dpo.user, reason=REASON)

    assert mail.outbox == []
    assert len(callbacks) == 1


def test_a_pathway_already_within_reach_needs_no_break_glass(world):
    with pytest.raises(JourneyError, match="déjà accès"):
        break_glass_open(pathway=world.pathway, by=world.coordinator.user, reason=REASON)


@pytest.mark.parametrize("role", [r for r in Role.values if r not in {Role.COORDINATOR, Role.DPO}])
def test_other_roles_cannot_break_the_glass(world, role):
    member = MembershipFactory(programme=world.programme, role=role)
    with pytest.raises(JourneyError):
        break_glass_open(pathway=world.pathway, by=member.user, reason=REASON)


def test_a_dpo_of_another_programme_cannot_break_the_glass(world):
    foreign_dpo = MembershipFactory(programme=world.elsewhere, role=Role.DPO)
    with pytest.raises(JourneyError):
        break_glass_open(pathway=world.pathway, by=foreign_dpo.user, reason=REASON)


def test_a_dpo_who_has_not_signed_the_charter_cannot_break_the_glass(world):
    unsigned = MembershipFactory(programme=world.programme, role=Role.DPO, signed_charter=False)
    with pytest.raises(JourneyError):
        break_glass_open(pathway=world.pathway, by=unsigned.user, reason=REASON)


# --- the page --------------------------------------------------------------------------------------


def test_the_coordinator_opens_an_archived_pathway_with_a_reason(world, django_capture_on_commit_callbacks):
    _archive(world.pathway)
    coordinator = client_for(world.coordinator.user)
    assert coordinator.get(_detail(world.pathway)).status_code == 404

    found = coordinator.get(PAGE, {"code": world.pathway.case_code})
    assert found.status_code == 200
    body = text_of(found)
    assert "Ce dossier est archivé" in body
    assert "Motif de l'accès exceptionnel" in body
    assert CHILD_LAST_NAME not in body and CHILD_LAST_NAME.upper() not in body

    with django_capture_on_commit_callbacks(execute=True):
        response = _open(coordinator, world.pathway)

    assert response.status_code == 302
    assert response["Location"] == _detail(world.pathway)
    assert coordinator.get(_detail(world.pathway)).status_code == 200
    assert len(mail.outbox) == 1


def test_the_dpo_opens_any_pathway_of_the_programme(world):
    dpo = client_for(world.dpo.user)

    response = _open(dpo, world.pathway)

    assert response.status_code == 302
    assert dpo.get(_detail(world.pathway)).status_code == 200


@pytest.mark.parametrize("reason", ["", "court"])
def test_without_a_real_reason_nothing_opens(world, reason):
    response = _open(client_for(world.dpo.user), world.pathway, reason=reason)

    assert response.status_code == 200
    assert not BreakGlass.objects.exists()
    assert 'id="form-errors"' in text_of(response)


def test_without_the_confirmation_nothing_opens(world):
    response = _open(client_for(world.dpo.user), world.pathway, confirm=False)

    assert response.status_code == 200
    assert not BreakGlass.objects.exists()
    assert "Cochez la case pour confirmer l'accès exceptionnel." in text_of(response)


def test_a_current_grant_is_shown_instead_of_the_form(world):
    break_glass_open(pathway=world.pathway, by=world.dpo.user, reason=REASON)

    body = text_of(client_for(world.dpo.user).get(PAGE, {"code": world.pathway.case_code}))

    assert "Votre accès exceptionnel à ce dossier est ouvert jusqu'à" in body
    assert "Motif de l'accès exceptionnel" not in body


def test_a_pathway_already_within_reach_offers_no_form(world):
    body = text_of(client_for(world.coordinator.user).get(PAGE, {"code": world.pathway.case_code}))

    assert "Vous avez déjà accès à ce parcours" in body
    assert "Motif de l'accès exceptionnel" not in body


def test_an_unknown_code_and_a_code_of_another_programme_get_the_same_answer(world):
    dpo = client_for(world.dpo.user)

    unknown = dpo.get(PAGE, {"code": "NULLE-2026-9999"})
    foreign = dpo.get(PAGE, {"code": world.foreign_pathway.case_code})

    for response in (unknown, foreign):
        assert response.status_code == 200
        assert response.context["pathway"] is None
        assert "Aucun dossier de vos programmes ne porte ce code." in text_of(response)
    assert (
        dpo.post(
            PAGE, {"code": world.foreign_pathway.case_code, "reason": REASON, "confirm": "on"}
        ).status_code
        == 404
    )
    assert not BreakGlass.objects.exists()


def test_looking_up_a_code_is_journaled(world):
    client_for(world.dpo.user).get(PAGE, {"code": world.pathway.case_code})

    entry = AuditEvent.objects.get(verb="break_glass.searched")
    assert (entry.target_type, entry.target_id) == ("pathways.pathway", str(world.pathway.pk))
    assert entry.payload["identity"] is False


@pytest.mark.parametrize("role", [r for r in Role.values if r not in {Role.COORDINATOR, Role.DPO}])
def test_other_roles_get_a_404(world, role):
    member = MembershipFactory(programme=world.programme, role=role)
    client = client_for(member.user)

    assert client.get(PAGE).status_code == 404
    assert client.get(PAGE, {"code": world.pathway.case_code}).status_code == 404
    assert _open(client, world.pathway).status_code == 404
    assert not BreakGlass.objects.exists()


def test_the_menu_offers_the_journal_to_the_coordinator_and_break_glass_to_the_dpo(world):
    coordinator = text_of(client_for(world.coordinator.user).get(reverse("home")))
    dpo = text_of(client_for(world.dpo.user).get(reverse("home")))
    referent = text_of(client_for(world.referent.user).get(reverse("home")))

    assert f'href="{reverse("journal:search")}"' in coordinator
    assert f'href="{reverse("journal:search")}"' in dpo
    assert f'href="{PAGE}"' in dpo
    assert f'href="{reverse("journal:search")}"' not in referent
