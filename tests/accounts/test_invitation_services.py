"""Invitations as services: creation, single use, expiry, revocation, who may invite."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from maillage.accounts import services
from maillage.accounts.models import Invitation, User
from maillage.audit.models import AuditEvent
from maillage.audit.services import verify_chain
from maillage.programmes.enums import Role
from maillage.programmes.models import Membership
from tests.factories import MembershipFactory, OrganisationFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "cerf-volant lavande orage"  # noqa: S105 -- synthetic test passphrase


@pytest.fixture
def coordinator():
    return MembershipFactory(role=Role.COORDINATOR)


def invite(membership, django_capture_on_commit_callbacks, **overrides):
    organisation = overrides.pop("organisation", None) or OrganisationFactory(programme=membership.programme)
    fields = {
        "programme": membership.programme,
        "email": "Camille.Martin@Exemple.test",
        "first_name": "Camille",
        "last_name": "Martin",
        "role": Role.REFERENT,
        "organisation": organisation,
        "job_title": "Éducatrice spécialisée",
        "bound_by_secrecy": True,
        "by": membership.user,
        **overrides,
    }
    with django_capture_on_commit_callbacks(execute=True):
        return services.invitation_create(**fields)


def test_creating_an_invitation_sends_a_french_email_with_the_single_use_link(
    coordinator, django_capture_on_commit_callbacks
):
    invitation, token = invite(coordinator, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["camille.martin@exemple.test"]
    assert "Invitation à rejoindre" in message.subject
    assert f"/compte/invitation/{token}/" in message.body
    assert message.body.startswith("Bonjour Camille")
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f"/compte/invitation/{token}/" in html
    assert re.search(r"https?://[^/\s]+/compte/invitation/", message.body), "the link must be absolute"
    assert message.reply_to == [coordinator.user.email]


def test_only_the_hash_of_the_token_is_stored(coordinator, django_capture_on_commit_callbacks):
    invitation, token = invite(coordinator, django_capture_on_commit_callbacks)

    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in {str(value) for value in stored.values()}
    assert stored["token_hash"] == Invitation.hash_token(token)


def test_the_invitation_expires_after_the_configured_seven_days(
    settings, coordinator, django_capture_on_commit_callbacks
):
    assert settings.MAILLAGE_INVITATION_DAYS == 7
    invitation, _ = invite(coordinator, django_capture_on_commit_callbacks)

    lifetime = invitation.expires_at - invitation.created_at
    assert datetime.timedelta(days=6, hours=23) < lifetime <= datetime.timedelta(days=7)


def test_the_creation_is_journaled_without_the_token(coordinator, django_capture_on_commit_callbacks):
    invitation, token = invite(coordinator, django_capture_on_commit_callbacks)

    event = AuditEvent.objects.get(verb="invitation.created")
    assert event.actor == coordinator.user
    assert event.target_id == str(invitation.pk)
    assert event.programme_id == coordinator.programme_id
    assert event.role == Role.COORDINATOR
    assert token not in str(event.payload)
    assert invitation.token_hash not in str(event.payload)
    assert verify_chain() is None


def test_no_email_leaves_when_the_transaction_rolls_back(coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.invitation_create(
            programme=coordinator.programme,
            email="personne@exemple.test",
            first_name="Lou",
            last_name="Bernard",
            role=Role.PROVIDER,
            by=coordinator.user,
        )
    assert len(callbacks) == 1
    assert mail.outbox == []


@pytest.mark.parametrize("role", [Role.STEERING, Role.MANAGER])
def test_a_manager_may_invite_to_an_aggregate_role(role, django_capture_on_commit_callbacks):
    manager = MembershipFactory(role=Role.MANAGER)
    invitation, _ = invite(manager, django_capture_on_commit_callbacks, role=role)
    assert invitation.invited_by == manager.user


def test_a_manager_may_not_invite_to_a_role_that_reaches_names(django_capture_on_commit_callbacks):
    manager = MembershipFactory(role=Role.MANAGER)
    with pytest.raises(PermissionDenied):
        invite(manager, django_capture_on_commit_callbacks, role=Role.REFERENT)
    assert not Invitation.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    "role", [Role.REFERENT, Role.EPS_MEMBER, Role.REFERRER, Role.PROVIDER, Role.STEERING, Role.DPO]
)
def test_other_roles_may_not_invite(role, django_capture_on_commit_callbacks):
    member = MembershipFactory(role=role)
    with pytest.raises(PermissionDenied):
        invite(member, django_capture_on_commit_callbacks)
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_a_coordinator_may_not_invite_into_another_programme(coordinator, django_capture_on_commit_callbacks):
    other = ProgrammeFactory()
    with pytest.raises(PermissionDenied):
        invite(
            coordinator,
            django_capture_on_commit_callbacks,
            programme=other,
            organisation=OrganisationFactory(programme=other),
        )


def test_a_former_coordinator_may_not_invite(django_capture_on_commit_callbacks):
    former = MembershipFactory(
        role=Role.COORDINATOR, ends_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    with pytest.raises(PermissionDenied):
        invite(former, django_capture_on_commit_callbacks)


def test_the_organisation_must_be_a_partner_of_the_programme(coordinator, django_capture_on_commit_callbacks):
    foreign = OrganisationFactory()
    with pytest.raises(ValidationError):
        invite(coordinator, django_capture_on_commit_callbacks, organisation=foreign)


def test_a_new_invitation_to_the_same_address_revokes_the_pending_one(
    coordinator, django_capture_on_commit_callbacks
):
    first, first_token = invite(coordinator, django_capture_on_commit_callbacks)
    second, second_token = invite(
        coordinator, django_capture_on_commit_callbacks, email="camille.martin@exemple.test"
    )

    first.refresh_from_db()
    assert first.revoked_at is not None
    assert second.is_pending
    with pytest.raises(services.InvitationInvalid) as raised:
        services.invitation_accept(token=first_token, password=GOOD_PASSWORD)
    assert raised.value.reason == "revoked"
    assert services.invitation_accept(token=second_token, password=GOOD_PASSWORD).email == second.email


def test_accepting_creates_the_account_and_the_membership(coordinator, django_capture_on_commit_callbacks):
    invitation, token = invite(coordinator, django_capture_on_commit_callbacks)

    user = services.invitation_accept(token=token, password=GOOD_PASSWORD)

    assert user.email == "camille.martin@exemple.test"
    assert (user.first_name, user.last_name) == ("Camille", "Martin")
    assert user.check_password(GOOD_PASSWORD)
    membership = Membership.objects.get(user=user)
    assert membership.programme == coordinator.programme
    assert membership.role == Role.REFERENT
    assert membership.organisation == invitation.organisation
    assert membership.bound_by_secrecy is True
    assert membership.job_title == "Éducatrice spécialisée"
    assert membership.starts_on == timezone.localdate()
    assert membership.is_active_on()
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert invitation.membership == membership
    event = AuditEvent.objects.get(verb="invitation.accepted")
    assert event.actor == user
    assert GOOD_PASSWORD not in str(event.payload)


def test_an_invitation_works_only_once(coordinator, django_capture_on_commit_callbacks):
    _, token = invite(coordinator, django_capture_on_commit_callbacks)
    services.invitation_accept(token=token, password=GOOD_PASSWORD)

    with pytest.raises(services.InvitationInvalid) as raised:
        services.invitation_accept(token=token, password="une autre phrase de passe")
    assert raised.value.reason == "used"
    assert "déjà été utilisée" in str(raised.value)
    assert Membership.objects.filter(programme=coordinator.programme, role=Role.REFERENT).count() == 1


def test_an_invitation_is_refused_after_seven_days(coordinator, django_capture_on_commit_callbacks):
    _, token = invite(coordinator, django_capture_on_commit_callbacks)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=6, hours=23)):
        services.invitation_for_token(token)  # still valid the day before
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, minutes=1)):
        with pytest.raises(services.InvitationInvalid) as raised:
            services.invitation_accept(token=token, password=GOOD_PASSWORD)
    assert raised.value.reason == "expired"
    assert "expiré" in str(raised.value)
    assert not User.objects.filter(email="camille.martin@exemple.test").exists()


def test_a_revoked_invitation_is_refused(coordinator, django_capture_on_commit_callbacks):
    invitation, token = invite(coordinator, django_capture_on_commit_callbacks)
    services.invitation_revoke(invitation=invitation, by=coordinator.user)

    with pytest.raises(services.InvitationInvalid) as raised:
        services.invitation_accept(token=token, password=GOOD_PASSWORD)
    assert raised.value.reason == "revoked"
    assert "annulée" in str(raised.value)
    assert AuditEvent.objects.filter(verb="invitation.revoked", target_id=str(invitation.pk)).exists()


def test_an_unknown_token_is_refused():
    with pytest.raises(services.InvitationInvalid) as raised:
        services.invitation_accept(token="nimporte-quoi", password=GOOD_PASSWORD)
    assert raised.value.reason == "unknown"


def test_only_managers_and_coordinators_may_revoke(coordinator, django_capture_on_commit_callbacks):
    invitation, _ = invite(coordinator, django_capture_on_commit_callbacks)
    referent = MembershipFactory(role=Role.REFERENT, programme=coordinator.programme)

    with pytest.raises(PermissionDenied):
        services.invitation_revoke(invitation=invitation, by=referent.user)
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_an_accepted_invitation_cannot_be_revoked(coordinator, django_capture_on_commit_callbacks):
    invitation, token = invite(coordinator, django_capture_on_commit_callbacks)
    services.invitation_accept(token=token, password=GOOD_PASSWORD)

    with pytest.raises(ValidationError):
        services.invitation_revoke(invitation=invitation, by=coordinator.user)


def test_the_new_password_must_follow_the_rules(coordinator, django_capture_on_commit_callbacks):
    _, token = invite(coordinator, django_capture_on_commit_callbacks)

    with pytest.raises(ValidationError):
        services.invitation_accept(token=token, password="court12345a")
    assert not User.objects.filter(email="camille.martin@exemple.test").exists()
    assert services.invitation_for_token(token).is_pending, "a refused password does not use the link"


def test_an_existing_account_is_reused_and_keeps_its_password(
    coordinator, django_capture_on_commit_callbacks
):
    existing = UserFactory(email="camille.martin@exemple.test")
    MembershipFactory(user=existing, role=Role.EPS_MEMBER)
    existing.set_password(GOOD_PASSWORD)
    existing.save(update_fields=["password"])
    _, token = invite(coordinator, django_capture_on_commit_callbacks)

    user = services.invitation_accept(token=token, password=GOOD_PASSWORD)

    assert user.pk == existing.pk
    assert User.objects.filter(email__iexact="camille.martin@exemple.test").count() == 1
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
    assert set(user.memberships.values_list("role", flat=True)) == {Role.EPS_MEMBER, Role.REFERENT}


def test_an_existing_account_must_confirm_with_its_current_password(
    coordinator, django_capture_on_commit_callbacks
):
    UserFactory(email="camille.martin@exemple.test")
    _, token = invite(coordinator, django_capture_on_commit_callbacks)

    with pytest.raises(ValidationError):
        services.invitation_accept(token=token, password="pas le bon mot de passe")
    assert services.invitation_for_token(token).is_pending


def test_inviting_someone_already_in_the_role_is_refused(coordinator, django_capture_on_commit_callbacks):
    member = MembershipFactory(programme=coordinator.programme, role=Role.REFERENT)
    with pytest.raises(ValidationError):
        invite(coordinator, django_capture_on_commit_callbacks, email=member.user.email.upper())
