"""Granting access is itself access (CONFIDENTIALITY.md; issue 13, point 7).

A membership in a role that reaches names (coordinator, référent, EPS member, referrer, provider, DPO)
is granted or ended only by a coordinator of the programme — a coordinator's by another coordinator or
the platform staff — from an account with a second factor. A manager proposes such a membership, a
coordinator confirms or declines it; managers grant aggregate roles (steering, manager) themselves.
Every grant or end of a role reaching names is told to the programme's coordinators and DPO.

The expected answers are transcribed from that rule below (``expected``), not read from
``maillage.permissions``; the cases are generated over every acting role (and the platform staff) ×
target role × action × with or without a second factor, through the services and through the pages.
"""

import datetime
import email
import email.policy
import itertools
import socket

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from maillage.accounts import services
from maillage.accounts.models import Invitation
from maillage.audit.models import AuditEvent
from maillage.governance.models import Notification
from maillage.programmes.enums import Role
from maillage.programmes.models import Membership
from tests.factories import MembershipFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db

STAFF = "staff"  # the platform staff: no membership, ``is_staff``
ACTORS = [*Role.values, STAFF]
TARGETS = list(Role.values)
ACTIONS = ["grant", "propose", "confirm", "end"]

# Transcribed from the rule.
REACHES_NAMES = {
    Role.COORDINATOR,
    Role.REFERENT,
    Role.EPS_MEMBER,
    Role.REFERRER,
    Role.PROVIDER,
    Role.DPO,
}
AGGREGATE = {Role.STEERING, Role.MANAGER}


def may_grant(actor: str, target: str, second_factor: bool) -> bool:
    if target == Role.COORDINATOR:
        return second_factor and actor in {Role.COORDINATOR, STAFF}
    if target in REACHES_NAMES:
        return second_factor and actor == Role.COORDINATOR
    if target in AGGREGATE:
        return actor in {Role.MANAGER, Role.COORDINATOR}
    # network: spans programmes, platform staff only
    return second_factor and actor == STAFF


def expected(actor: str, target: str, action: str, second_factor: bool) -> bool:
    if action == "propose":
        return target in REACHES_NAMES and actor == Role.MANAGER
    if action == "end":
        if target in REACHES_NAMES:
            return may_grant(actor, target, second_factor)
        return actor in {Role.MANAGER, Role.COORDINATOR}
    return may_grant(actor, target, second_factor)  # grant, confirm


def _cases(actors, actions):
    for actor, target, action, second_factor in itertools.product(actors, TARGETS, actions, [True, False]):
        # Only roles reaching names are ever proposed, so only they can be confirmed.
        if action == "confirm" and target not in REACHES_NAMES:
            continue
        yield pytest.param(
            actor,
            target,
            action,
            second_factor,
            id=f"{actor}-{action}-{target}-{'2fa' if second_factor else 'no2fa'}",
        )


def _actor(programme, actor: str, second_factor: bool):
    if actor == STAFF:
        return UserFactory(is_staff=True, second_factor=second_factor)
    return MembershipFactory(programme=programme, role=actor, second_factor=second_factor).user


def _fields(programme, role: str, by, address: str = "camille.martin@exemple.test") -> dict:
    return {
        "programme": programme,
        "email": address,
        "first_name": "Camille",
        "last_name": "Martin",
        "role": role,
        "by": by,
    }


def _proposal(programme, role: str, address: str = "camille.martin@exemple.test") -> Invitation:
    manager = MembershipFactory(programme=programme, role=Role.MANAGER)
    return services.invitation_propose(**_fields(programme, role, manager.user, address))


def _sent_to(address: str) -> bool:
    return any(address in message.to for message in mail.outbox)


# --- the services ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "target", "action", "second_factor"), list(_cases(ACTORS, ACTIONS)))
def test_the_service_decides_who_grants_proposes_confirms_and_ends(
    actor, target, action, second_factor, django_capture_on_commit_callbacks
):
    programme = ProgrammeFactory()
    user = _actor(programme, actor, second_factor)
    allowed = expected(actor, target, action, second_factor)
    subject = None
    if action == "confirm":
        subject = _proposal(programme, target)
    elif action == "end":
        subject = MembershipFactory(programme=programme, role=target)
    mail.outbox.clear()

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            if action == "grant":
                return services.invitation_create(**_fields(programme, target, user))
            if action == "propose":
                return services.invitation_propose(**_fields(programme, target, user))
            if action == "confirm":
                return services.invitation_confirm(invitation=subject, by=user)
            return services.membership_end(membership=subject, by=user)

    if not allowed:
        with pytest.raises(PermissionDenied):
            run()
    else:
        run()

    invited = _sent_to("camille.martin@exemple.test")
    if action == "grant":
        assert Invitation.objects.filter(programme=programme, token_hash__isnull=False).exists() == allowed
        assert invited == allowed
    elif action == "propose":
        assert Invitation.objects.proposals().filter(programme=programme).exists() == allowed
        assert not invited  # a proposal never reaches the person
    elif action == "confirm":
        subject.refresh_from_db()
        assert subject.is_proposal == (not allowed)
        assert invited == allowed
    else:
        assert Membership.objects.active().filter(pk=subject.pk).exists() == (not allowed)


def test_the_matrix_covers_every_actor_target_action_and_factor():
    cases = list(_cases(ACTORS, ACTIONS))
    assert len(cases) == len(ACTORS) * len(TARGETS) * 2 * 3 + len(ACTORS) * len(REACHES_NAMES) * 2
    assert any(expected(*case.values) for case in cases)
    assert not all(expected(*case.values) for case in cases)


# --- the pages -------------------------------------------------------------------------------------

PAGE_ACTORS = [Role.COORDINATOR, Role.MANAGER, Role.REFERENT, Role.DPO]
INVITABLE = [role for role in TARGETS if role != Role.NETWORK]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post_invite(client, role: str, address: str = "camille.martin@exemple.test"):
    return client.post(
        reverse("accounts:invite"),
        {"email": address, "first_name": "Camille", "last_name": "Martin", "role": role},
    )


def page_expected(actor: str, target: str, action: str, second_factor: bool) -> bool:
    # On the pages, a member whose role reaches names and who has no second factor yet is sent to
    # enrol one before anything else (the login rule), whatever they may do in the services.
    if actor in REACHES_NAMES and not second_factor:
        return False
    return expected(actor, target, action, second_factor)


@pytest.mark.parametrize(("actor", "target", "action", "second_factor"), list(_cases(PAGE_ACTORS, ACTIONS)))
def test_the_team_pages_follow_the_same_rule(
    actor, target, action, second_factor, django_capture_on_commit_callbacks
):
    programme = ProgrammeFactory()
    user = _actor(programme, actor, second_factor)
    client = _client(user)
    subject = None
    if action == "confirm":
        subject = _proposal(programme, target)
    elif action == "end":
        subject = MembershipFactory(programme=programme, role=target)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        if action in ("grant", "propose"):
            response = _post_invite(client, target)
        elif action == "confirm":
            response = client.post(reverse("accounts:proposal_confirm", args=[subject.pk]))
        else:
            response = client.post(reverse("accounts:membership_end", args=[subject.pk]))

    invited = _sent_to("camille.martin@exemple.test")
    if action == "grant":
        # One form: it grants what the user may grant, proposes what they may only propose.
        granted = page_expected(actor, target, "grant", second_factor) and target in INVITABLE
        assert Invitation.objects.filter(programme=programme, token_hash__isnull=False).exists() == granted
        assert invited == granted
    elif action == "propose":
        proposed = page_expected(actor, target, "propose", second_factor)
        assert Invitation.objects.proposals().filter(programme=programme).exists() == proposed
        if proposed:
            assert response.status_code == 302
            assert not invited
    elif action == "confirm":
        allowed = page_expected(actor, target, "confirm", second_factor)
        subject.refresh_from_db()
        assert subject.is_proposal == (not allowed)
        assert invited == allowed
    else:
        allowed = page_expected(actor, target, "end", second_factor)
        assert Membership.objects.active().filter(pk=subject.pk).exists() == (not allowed)
    if not any(page_expected(actor, target, a, second_factor) for a in ACTIONS):
        assert response.status_code in (302, 403, 404)
        if response.status_code == 302:  # the second-factor enrolment, never the team page
            assert response["Location"] != reverse("accounts:team")


# --- named cases -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.DPO, Role.REFERENT])
def test_a_manager_who_invites_a_role_reaching_names_makes_a_proposal_instead(
    role, django_capture_on_commit_callbacks
):
    manager = MembershipFactory(role=Role.MANAGER)
    client = _client(manager.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = _post_invite(client, role)

    assert response.status_code == 302
    invitation = Invitation.objects.get(programme=manager.programme)
    assert invitation.is_proposal
    assert invitation.token_hash is None and invitation.expires_at is None
    assert not _sent_to("camille.martin@exemple.test")
    page = client.get(reverse("accounts:team")).content.decode()
    assert "Propositions en attente de confirmation" in page
    assert "À confirmer par la coordination" in page
    assert reverse("accounts:proposal_confirm", args=[invitation.pk]) not in page


def test_the_manager_page_says_a_coordinator_will_confirm():
    manager = MembershipFactory(role=Role.MANAGER)
    page = _client(manager.user).get(reverse("accounts:team")).content.decode()

    assert "Inviter ou proposer" in page
    assert "Proposer, pour confirmation par la coordination" in page
    assert "une coordinatrice ou un coordinateur du programme confirmera la proposition" in page


def test_a_manager_calling_the_service_directly_cannot_invite_a_coordinator():
    manager = MembershipFactory(role=Role.MANAGER, second_factor=True)
    with pytest.raises(PermissionDenied):
        services.invitation_create(**_fields(manager.programme, Role.COORDINATOR, manager.user))
    assert not Invitation.objects.exists()


def test_a_manager_cannot_end_a_coordinators_membership():
    manager = MembershipFactory(role=Role.MANAGER, second_factor=True)
    coordinator = MembershipFactory(programme=manager.programme, role=Role.COORDINATOR)
    client = _client(manager.user)

    page = client.get(reverse("accounts:team")).content.decode()
    response = client.post(reverse("accounts:membership_end", args=[coordinator.pk]))

    assert reverse("accounts:membership_end", args=[coordinator.pk]) not in page
    assert response.status_code == 403
    assert Membership.objects.active().filter(pk=coordinator.pk).exists()
    with pytest.raises(PermissionDenied):
        services.membership_end(membership=coordinator, by=manager.user)


def test_a_manager_still_ends_a_steering_membership():
    manager = MembershipFactory(role=Role.MANAGER)
    elected = MembershipFactory(programme=manager.programme, role=Role.STEERING)

    services.membership_end(membership=elected, by=manager.user)

    assert not Membership.objects.active().filter(pk=elected.pk).exists()


def test_a_coordinator_without_a_second_factor_is_refused_by_the_service():
    coordinator = MembershipFactory(role=Role.COORDINATOR, second_factor=False)
    referent = MembershipFactory(programme=coordinator.programme, role=Role.REFERENT)
    proposal = _proposal(coordinator.programme, Role.PROVIDER)

    with pytest.raises(PermissionDenied):
        services.invitation_create(**_fields(coordinator.programme, Role.REFERENT, coordinator.user))
    with pytest.raises(PermissionDenied):
        services.invitation_confirm(invitation=proposal, by=coordinator.user)
    with pytest.raises(PermissionDenied):
        services.invitation_decline(invitation=proposal, by=coordinator.user, reason="Non.")
    with pytest.raises(PermissionDenied):
        services.membership_end(membership=referent, by=coordinator.user)


def test_a_coordinator_without_a_second_factor_is_sent_to_enrol_by_the_pages():
    coordinator = MembershipFactory(role=Role.COORDINATOR, second_factor=False)

    response = _post_invite(_client(coordinator.user), Role.REFERENT)

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert not Invitation.objects.exists()


def test_the_platform_staff_grants_a_coordinator(django_capture_on_commit_callbacks):
    programme = ProgrammeFactory()
    staff = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = services.invitation_create(**_fields(programme, Role.COORDINATOR, staff))

    assert invitation.role == Role.COORDINATOR and token
    assert _sent_to("camille.martin@exemple.test")


def test_the_platform_staff_does_not_grant_a_referent():
    staff = UserFactory(is_staff=True)
    with pytest.raises(PermissionDenied):
        services.invitation_create(**_fields(ProgrammeFactory(), Role.REFERENT, staff))


def test_a_coordinator_confirms_a_proposal_after_a_confirmation_page(django_capture_on_commit_callbacks):
    coordinator = MembershipFactory(role=Role.COORDINATOR)
    proposal = _proposal(coordinator.programme, Role.EPS_MEMBER)
    client = _client(coordinator.user)

    team = client.get(reverse("accounts:team")).content.decode()
    page = client.get(reverse("accounts:proposal_confirm", args=[proposal.pk]))
    proposal.refresh_from_db()
    assert proposal.is_proposal  # looking is not confirming
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:proposal_confirm", args=[proposal.pk]))

    assert reverse("accounts:proposal_confirm", args=[proposal.pk]) in team
    assert reverse("accounts:proposal_decline", args=[proposal.pk]) in team
    assert "Confirmer" in team and "Refuser" in team
    assert "Confirmer et envoyer" in page.content.decode()
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.confirmed_by == coordinator.user
    assert proposal.token_hash and proposal.expires_at
    message = next(m for m in mail.outbox if "camille.martin@exemple.test" in m.to)
    assert "/compte/invitation/" in message.body
    assert message.reply_to == [coordinator.user.email]


def test_a_coordinator_declines_a_proposal_with_a_reason(django_capture_on_commit_callbacks):
    coordinator = MembershipFactory(role=Role.COORDINATOR)
    proposal = _proposal(coordinator.programme, Role.PROVIDER)
    client = _client(coordinator.user)

    empty = client.post(reverse("accounts:proposal_decline", args=[proposal.pk]), {"reason": "  "})
    proposal.refresh_from_db()
    assert proposal.is_proposal
    assert empty.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:proposal_decline", args=[proposal.pk]),
            {"reason": "Cette association n'a pas signé la convention."},
        )

    proposal.refresh_from_db()
    assert proposal.is_declined and not proposal.is_proposal
    assert proposal.decline_reason == "Cette association n'a pas signé la convention."
    assert not _sent_to("camille.martin@exemple.test")
    assert Notification.objects.filter(user=proposal.invited_by, verb="team.declined").exists()
    with pytest.raises(ValidationError):
        services.invitation_confirm(invitation=proposal, by=coordinator.user)


def test_a_manager_cannot_confirm_their_own_proposal():
    manager = MembershipFactory(role=Role.MANAGER, second_factor=True)
    proposal = services.invitation_propose(**_fields(manager.programme, Role.REFERENT, manager.user))
    client = _client(manager.user)

    assert client.post(reverse("accounts:proposal_confirm", args=[proposal.pk])).status_code == 403
    assert (
        client.post(reverse("accounts:proposal_decline", args=[proposal.pk]), {"reason": "x"}).status_code
        == 403
    )
    proposal.refresh_from_db()
    assert proposal.is_proposal


def test_a_coordinator_cannot_decide_a_proposal_of_another_programme():
    coordinator = MembershipFactory(role=Role.COORDINATOR)
    proposal = _proposal(ProgrammeFactory(), Role.REFERENT)

    with pytest.raises(PermissionDenied):
        services.invitation_confirm(invitation=proposal, by=coordinator.user)
    response = _client(coordinator.user).post(reverse("accounts:proposal_confirm", args=[proposal.pk]))
    assert response.status_code == 404


def test_a_managers_proposal_never_cancels_a_coordinators_invitation(django_capture_on_commit_callbacks):
    coordinator = MembershipFactory(role=Role.COORDINATOR)
    with django_capture_on_commit_callbacks(execute=True):
        sent, _ = services.invitation_create(
            **_fields(coordinator.programme, Role.REFERENT, coordinator.user)
        )
    manager = MembershipFactory(programme=coordinator.programme, role=Role.MANAGER)

    with pytest.raises(ValidationError):
        services.invitation_propose(**_fields(coordinator.programme, Role.PROVIDER, manager.user))
    sent.refresh_from_db()
    assert sent.is_pending


def test_every_proposal_confirmation_refusal_and_end_is_journaled(django_capture_on_commit_callbacks):
    coordinator = MembershipFactory(role=Role.COORDINATOR)
    programme = coordinator.programme
    first = _proposal(programme, Role.REFERENT, "un@exemple.test")
    second = _proposal(programme, Role.DPO, "deux@exemple.test")
    referent = MembershipFactory(programme=programme, role=Role.REFERENT)
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_confirm(invitation=first, by=coordinator.user)
        services.invitation_decline(invitation=second, by=coordinator.user, reason="Doublon.")
        services.membership_end(membership=referent, by=coordinator.user)

    events = {e.verb: e for e in AuditEvent.objects.filter(programme=programme)}
    assert events["invitation.proposed"].role == Role.MANAGER
    assert events["invitation.confirmed"].actor == coordinator.user
    assert events["invitation.confirmed"].role == Role.COORDINATOR
    assert events["invitation.declined"].payload["reason"] == "Doublon."
    assert events["membership.ended"].payload["role"] == Role.REFERENT


# --- notifications: real SMTP ------------------------------------------------------------------------


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 -- aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = controller.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        yield collector
    finally:
        controller.stop()


@pytest.fixture
def watched():
    """A programme with two coordinators, a DPO, a manager, a référent and a former DPO; another
    programme with its own coordinator and DPO."""
    acting = MembershipFactory(role=Role.COORDINATOR)
    programme = acting.programme
    other_coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    dpo = MembershipFactory(programme=programme, role=Role.DPO)
    manager = MembershipFactory(programme=programme, role=Role.MANAGER)
    referent = MembershipFactory(programme=programme, role=Role.REFERENT)
    former_dpo = MembershipFactory(
        programme=programme,
        role=Role.DPO,
        starts_on=timezone.localdate() - datetime.timedelta(days=90),
        ends_on=timezone.localdate() - datetime.timedelta(days=2),
    )
    elsewhere = ProgrammeFactory()
    MembershipFactory(programme=elsewhere, role=Role.COORDINATOR)
    MembershipFactory(programme=elsewhere, role=Role.DPO)
    return {
        "acting": acting,
        "programme": programme,
        "watchers": {other_coordinator.user.email, dpo.user.email},
        "not_watching": {manager.user.email, referent.user.email, former_dpo.user.email},
        "referent": referent,
        "manager": manager,
    }


def _team_mails(collector, invitee: str = "camille.martin@exemple.test") -> dict[str, str]:
    """Recipient → text of each team-change mail (the invitation to the person itself left out)."""
    found = {}
    for recipients, content in collector.messages:
        message = email.message_from_bytes(content, policy=email.policy.default)
        if invitee in recipients:
            continue
        for recipient in recipients:
            found[recipient] = message.get_body(preferencelist=("plain",)).get_content()
    return found


def test_a_grant_is_mailed_through_smtp_to_the_programmes_coordinators_and_dpo_only(
    smtp_server, watched, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(**_fields(watched["programme"], Role.REFERENT, watched["acting"].user))

    mails = _team_mails(smtp_server)
    assert set(mails) == watched["watchers"]
    text = next(iter(mails.values()))
    assert "Camille Martin <camille.martin@exemple.test>" in text
    assert "Référent·e de parcours" in text
    notified = set(Notification.objects.filter(verb="team.granted").values_list("user__email", flat=True))
    assert notified == watched["watchers"]


def test_an_end_is_mailed_to_the_programmes_coordinators_and_dpo_only(
    smtp_server, watched, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_end(membership=watched["referent"], by=watched["acting"].user)

    mails = _team_mails(smtp_server)
    assert set(mails) == watched["watchers"]
    assert "a mis fin à l'accès de" in next(iter(mails.values()))
    notified = set(Notification.objects.filter(verb="team.ended").values_list("user__email", flat=True))
    assert notified == watched["watchers"]


def test_a_proposal_and_its_confirmation_are_mailed_to_coordinators_and_dpo(
    smtp_server, watched, django_capture_on_commit_callbacks
):
    programme = watched["programme"]
    with django_capture_on_commit_callbacks(execute=True):
        proposal = services.invitation_propose(**_fields(programme, Role.EPS_MEMBER, watched["manager"].user))
    proposed = _team_mails(smtp_server)
    smtp_server.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_confirm(invitation=proposal, by=watched["acting"].user)
    confirmed = _team_mails(smtp_server)

    acting = watched["acting"].user.email
    assert set(proposed) == watched["watchers"] | {acting}
    assert set(confirmed) == watched["watchers"]
    assert not (set(proposed) | set(confirmed)) & watched["not_watching"]


def test_granting_an_aggregate_role_notifies_nobody(smtp_server, watched, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(**_fields(watched["programme"], Role.STEERING, watched["manager"].user))

    assert _team_mails(smtp_server) == {}
    assert not Notification.objects.exists()


# --- the platform staff in the technical admin --------------------------------------------------------


def _staff_client():
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    return client


def test_a_coordinator_given_by_the_staff_in_the_admin_is_notified(
    smtp_server, watched, django_capture_on_commit_callbacks
):
    newcomer = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = _staff_client().post(
            reverse("admin:programmes_membership_add"),
            {
                "user": newcomer.pk,
                "programme": watched["programme"].pk,
                "role": Role.COORDINATOR,
                "starts_on": timezone.localdate().isoformat(),
            },
        )

    assert response.status_code == 302
    mails = _team_mails(smtp_server, invitee=newcomer.email)
    assert set(mails) == watched["watchers"] | {watched["acting"].user.email}
    assert "Coordination" in next(iter(mails.values()))


def test_a_membership_ended_by_the_staff_in_the_admin_is_notified(
    watched, django_capture_on_commit_callbacks
):
    referent = watched["referent"]
    with django_capture_on_commit_callbacks(execute=True):
        response = _staff_client().post(
            reverse("admin:programmes_membership_change", args=[referent.pk]),
            {
                "user": referent.user_id,
                "programme": referent.programme_id,
                "organisation": referent.organisation_id,
                "role": referent.role,
                "starts_on": referent.starts_on.isoformat(),
                "ends_on": timezone.localdate().isoformat(),
            },
        )

    assert response.status_code == 302
    notified = set(Notification.objects.filter(verb="team.ended").values_list("user__email", flat=True))
    assert notified == watched["watchers"] | {watched["acting"].user.email}
