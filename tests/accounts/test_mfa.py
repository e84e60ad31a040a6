"""Second factor: forced enrolment for every role that sees names, TOTP login, replay refused."""

import time

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.urls import reverse

from maillage.accounts.mfa import AGGREGATE_ROLES, mfa_required
from maillage.programmes.enums import Role
from tests.factories import (
    TEST_PASSWORD,
    TEST_TOTP_SECRET,
    MembershipFactory,
    ProgrammeFactory,
    UserFactory,
    enrol_totp,
    totp_code,
)

pytestmark = pytest.mark.django_db

ACTIVATE = reverse("mfa_activate_totp")
NOMINATIVE_ROLES = sorted(set(Role.values) - set(AGGREGATE_ROLES))


def _without_factor(role, **kwargs):
    return MembershipFactory(role=role, second_factor=False, **kwargs)


def _login_with_password(client, email):
    return client.post(reverse("account_login"), {"login": email, "password": TEST_PASSWORD})


def _in_middle_of_a_window():
    """A frozen clock 10 s into a 30 s TOTP window: codes of one test all belong to one window."""
    start = (int(time.time()) // 30) * 30 + 10
    return time_machine.travel(start, tick=False)


@pytest.mark.parametrize("role", NOMINATIVE_ROLES)
def test_every_role_that_sees_names_is_sent_to_enrol_a_second_factor(client, role):
    membership = _without_factor(role)
    client.force_login(membership.user)

    for url in (reverse("home"), reverse("pathways:list"), reverse("account_change_password")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == ACTIVATE, url


@pytest.mark.parametrize("role", sorted(AGGREGATE_ROLES))
def test_aggregate_roles_need_a_second_factor_only_when_their_programme_asks(client, role):
    relaxed = _without_factor(role)
    assert not mfa_required(relaxed.user)
    client.force_login(relaxed.user)
    assert client.get(reverse("home")).status_code == 200

    strict = _without_factor(role, programme=ProgrammeFactory(mfa_for_aggregate_roles=True))
    assert mfa_required(strict.user)
    client.force_login(strict.user)
    assert client.get(reverse("home"))["Location"] == ACTIVATE


def test_an_aggregate_role_also_holding_a_nominative_role_needs_a_second_factor():
    steering = _without_factor(Role.STEERING)
    MembershipFactory(user=steering.user, role=Role.REFERENT, second_factor=False)
    assert mfa_required(steering.user)


def test_technical_staff_need_a_second_factor(client):
    staff = UserFactory(is_staff=True, is_superuser=True, second_factor=False)
    client.force_login(staff)
    assert client.get(reverse("admin:index"))["Location"] == ACTIVATE


def test_the_pages_needed_to_enrol_or_leave_stay_open(client):
    membership = _without_factor(Role.REFERENT)
    client.force_login(membership.user)

    for name in ("mfa_activate_totp", "mfa_index", "legal", "privacy", "accessibility", "account_logout"):
        assert client.get(reverse(name)).status_code == 200, name


def test_an_htmx_request_is_told_to_load_the_enrolment_page(client):
    membership = _without_factor(Role.REFERENT)
    client.force_login(membership.user)
    response = client.get(reverse("pathways:list"), headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == ACTIVATE


def test_enrolling_a_totp_opens_the_application_and_gives_recovery_codes(client):
    membership = _without_factor(Role.REFERENT)
    client.force_login(membership.user)

    page = client.get(ACTIVATE)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'lang="fr"' in body
    assert "fr-input" in body, "the code field is a DSFR input"
    secret = client.session["mfa.totp.secret"]

    wrong = client.post(ACTIVATE, {"code": "000000" if totp_code(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=membership.user).exists()

    done = client.post(ACTIVATE, {"code": totp_code(secret)})
    assert done.status_code == 302
    assert done["Location"] == reverse("mfa_view_recovery_codes")
    types = set(Authenticator.objects.filter(user=membership.user).values_list("type", flat=True))
    assert types == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}
    codes_page = client.get(done["Location"])
    assert codes_page.status_code == 200
    assert "Codes de récupération" in codes_page.content.decode()
    assert client.get(reverse("home")).status_code == 200


def test_the_totp_secret_is_stored_encrypted():
    membership = MembershipFactory(role=Role.REFERENT)
    stored = Authenticator.objects.get(user=membership.user, type=Authenticator.Type.TOTP).data["secret"]
    assert TEST_TOTP_SECRET not in stored


def test_a_password_alone_does_not_sign_in_a_person_with_a_second_factor(client):
    membership = MembershipFactory(role=Role.REFERENT)
    response = _login_with_password(client, membership.user.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302


def test_password_then_totp_code_signs_in(client):
    membership = MembershipFactory(role=Role.REFERENT)
    with _in_middle_of_a_window():
        _login_with_password(client, membership.user.email)
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == membership.user.pk


def test_a_totp_code_already_used_is_refused(client):
    membership = MembershipFactory(role=Role.REFERENT)
    with _in_middle_of_a_window():
        code = totp_code()
        _login_with_password(client, membership.user.email)
        assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
        client.post(reverse("account_logout"))

        _login_with_password(client, membership.user.email)
        replay = client.post(reverse("mfa_authenticate"), {"code": code})
        assert replay.status_code == 200, "the same code, still in its 30 s window, is refused"
        assert "_auth_user_id" not in client.session

    with time_machine.travel(time.time() + 30, tick=False):
        # The next window's code works.
        fresh = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert fresh.status_code == 302
    assert int(client.session["_auth_user_id"]) == membership.user.pk


def test_a_code_from_an_earlier_window_is_refused(client):
    membership = MembershipFactory(role=Role.REFERENT)
    with _in_middle_of_a_window():
        _login_with_password(client, membership.user.email)
        stale = client.post(reverse("mfa_authenticate"), {"code": totp_code(at=time.time() - 60)})
    assert stale.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_person_who_must_have_a_second_factor_cannot_remove_the_last_one(client):
    membership = MembershipFactory(role=Role.REFERENT)
    client.force_login(membership.user)

    client.post(reverse("mfa_deactivate_totp"))

    assert Authenticator.objects.filter(user=membership.user, type=Authenticator.Type.TOTP).exists()


def test_an_aggregate_role_may_remove_its_optional_second_factor(client):
    membership = MembershipFactory(role=Role.STEERING)
    enrol_totp(membership.user)
    client.force_login(membership.user)

    client.post(reverse("mfa_deactivate_totp"))

    assert not Authenticator.objects.filter(user=membership.user, type=Authenticator.Type.TOTP).exists()


def test_the_mfa_pages_are_in_french(client):
    membership = MembershipFactory(role=Role.REFERENT)
    client.force_login(membership.user)
    body = client.get(reverse("mfa_index")).content.decode()
    assert 'lang="fr"' in body
    assert "Application d" in body or "authentification" in body.lower()


def test_every_demo_account_that_sees_names_has_a_published_totp_secret():
    from maillage.demo import foundation

    for email, _first, _last, role, _org, _job, _bound in foundation.ACCOUNTS:
        if role in AGGREGATE_ROLES:
            assert email not in foundation.DEMO_TOTP_SECRETS, email
        else:
            assert len(foundation.DEMO_TOTP_SECRETS[email]) == 32, email
    assert len(set(foundation.DEMO_TOTP_SECRETS.values())) == len(foundation.DEMO_TOTP_SECRETS)


def test_a_demo_account_signs_in_with_the_code_of_its_published_secret(client):
    from maillage.demo import foundation

    user = UserFactory(email="referente@demo.test")
    MembershipFactory(user=user, role=Role.REFERENT, second_factor=False)
    foundation._enrol_demo_totp(user)
    foundation._enrol_demo_totp(user)  # idempotent
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).count() == 1

    with _in_middle_of_a_window():
        _login_with_password(client, user.email)
        code = totp_code(foundation.DEMO_TOTP_SECRETS["referente@demo.test"])
        response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_the_enrolment_page_explains_why_in_french(client):
    membership = _without_factor(Role.EPS_MEMBER)
    client.force_login(membership.user)
    body = client.get(ACTIVATE).content.decode()
    assert "Activer la double authentification" in body
    assert "Un code ne sert qu&#x27;une fois" in body or "Un code ne sert qu'une fois" in body
    assert 'alt="Code QR' in body, "the QR code's text alternative does not spell the secret"


def test_adding_and_removing_a_second_factor_is_journaled(client, django_capture_on_commit_callbacks):
    from maillage.audit.models import AuditEvent

    membership = _without_factor(Role.STEERING)
    client.force_login(membership.user)
    client.get(ACTIVATE)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ACTIVATE, {"code": totp_code(client.session["mfa.totp.secret"])})
    added = AuditEvent.objects.get(verb="mfa.factor_added", payload__type="totp")
    assert added.actor_id == membership.user.pk

    client.post(reverse("mfa_deactivate_totp"))
    assert AuditEvent.objects.filter(verb="mfa.factor_removed", actor=membership.user).exists()
