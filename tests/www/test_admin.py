"""The technical admin holds configuration only, and journals what is done there."""

import pytest
from django.contrib import admin
from django.urls import reverse

from maillage.accounts.models import User
from maillage.audit.models import AuditEvent
from maillage.people.models import Child, Guardian, Household
from maillage.programmes.models import CharterVersion, Membership, NetworkLevel, Organisation, Programme
from tests.factories import (
    CharterSignatureFactory,
    CharterVersionFactory,
    MembershipFactory,
    OrganisationFactory,
    enrol_totp,
)

pytestmark = pytest.mark.django_db

CONFIGURATION_MODELS = [Programme, NetworkLevel, Organisation, Membership, CharterVersion, User]


@pytest.mark.parametrize("model", [Child, Household, Guardian, AuditEvent])
def test_nominative_data_and_the_journal_are_never_in_the_admin(model):
    assert not admin.site.is_registered(model), f"{model.__name__} in the admin would bypass the policy"


def test_no_model_of_the_people_app_is_in_the_admin():
    assert not [model for model in admin.site._registry if model._meta.app_label == "people"]


@pytest.mark.parametrize("model", CONFIGURATION_MODELS)
def test_configuration_objects_are_in_the_admin(model):
    assert admin.site.is_registered(model)


@pytest.fixture
def superuser_client(client):
    user = User.objects.create_superuser("admin@exemple.test", "Un-mot-de-passe-solide-2026")
    enrol_totp(user)  # staff accounts must have a second factor (maillage.accounts.mfa)
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", CONFIGURATION_MODELS)
def test_each_configuration_list_and_form_renders(superuser_client, model):
    membership = MembershipFactory()
    CharterSignatureFactory(
        version=CharterVersionFactory(programme=membership.programme), membership=membership
    )
    NetworkLevel.objects.create(name="GIP intercommunal de Démo", kind="intercommunal")
    opts = model._meta
    obj = model.objects.first()
    assert (
        superuser_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code
        == 200
    )
    change = superuser_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200


def test_charter_versions_are_read_only_in_the_admin(superuser_client):
    version = CharterVersionFactory()
    assert superuser_client.get(reverse("admin:programmes_charterversion_add")).status_code == 403
    response = superuser_client.post(
        reverse("admin:programmes_charterversion_change", args=[version.pk]), {"title": "Modifiée"}
    )
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.title != "Modifiée"


def test_programmes_memberships_and_accounts_cannot_be_deleted_from_the_admin(superuser_client):
    membership = MembershipFactory()
    for name, pk in [
        ("admin:programmes_programme_delete", membership.programme_id),
        ("admin:programmes_membership_delete", membership.pk),
        ("admin:accounts_user_delete", membership.user_id),
    ]:
        assert superuser_client.post(reverse(name, args=[pk]), {"post": "yes"}).status_code == 403


def test_an_account_is_created_from_its_email_alone(superuser_client):
    response = superuser_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "Nouvelle.Personne@Exemple.test",
            "usable_password": "true",
            "password1": "Un-mot-de-passe-solide-2026",
            "password2": "Un-mot-de-passe-solide-2026",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    user = User.objects.get(email="nouvelle.personne@exemple.test")
    assert user.check_password("Un-mot-de-passe-solide-2026")
    assert AuditEvent.objects.filter(verb="admin.user.created", target_id=str(user.pk)).exists()


def test_a_change_made_in_the_admin_is_journaled(superuser_client):
    organisation = OrganisationFactory(name="Club de foot")
    response = superuser_client.post(
        reverse("admin:programmes_organisation_change", args=[organisation.pk]),
        {
            "programme": organisation.programme_id,
            "name": "Club de football",
            "kind": organisation.kind,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(verb="admin.organisation.changed")
    assert event.payload == {"fields": ["name"]}
    assert event.programme_id == organisation.programme_id
