"""The policy table is complete, and the scopes obey it (they read it, they do not copy it)."""

import datetime

import pytest
from django.utils import timezone

from maillage import permissions as perms
from maillage.permissions import Access
from maillage.programmes.enums import Role
from maillage.programmes.models import Membership
from tests.factories import (
    CharterSignatureFactory,
    CharterVersionFactory,
    ChildFactory,
    GuardianFactory,
    MembershipFactory,
    OrganisationFactory,
    ProgrammeFactory,
)

ROLES = list(Role.values)
AGGREGATE_ONLY_ROLES = [Role.STEERING, Role.MANAGER, Role.NETWORK]

# Scopes of this issue and the kind of the table each one reads. Without any pathway (the journey
# adds them), only a PROGRAMME cell opens a programme's objects.
SCOPES_BY_KIND = {
    perms.CHILD: [perms.children_visible_to, perms.households_visible_to, perms.guardians_visible_to],
    perms.DIRECTORY: [perms.organisations_visible_to, perms.memberships_visible_to],
    perms.CHARTER: [perms.charter_versions_visible_to],
}


# --- the table itself ----------------------------------------------------------------------------


def test_the_table_has_one_row_per_role_and_no_other():
    assert set(perms.POLICY) == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_every_row_names_every_object_kind_explicitly(role):
    row = perms.POLICY[role]
    missing = [kind for kind in perms.ALL_KINDS if kind not in row]
    assert missing == [], f"{role} has no explicit cell for {missing}"
    assert set(row) <= set(perms.ALL_KINDS), f"{role} names unknown kinds {set(row) - set(perms.ALL_KINDS)}"
    assert all(isinstance(cell, Access) for cell in row.values())


def test_the_kinds_of_the_confidentiality_table_are_all_there():
    columns = {"child", "referral", "pathway", "item_team", "item_secret", "item_partners", "consent"}
    assert columns | {"attendance", "indicators"} <= set(perms.OBJECT_KINDS)
    assert set(perms.NOMINATIVE_KINDS) <= set(perms.OBJECT_KINDS)


@pytest.mark.parametrize("role", AGGREGATE_ONLY_ROLES)
def test_steering_manager_and_network_never_reach_a_name(role):
    for kind in perms.NOMINATIVE_KINDS:
        assert perms.access(role, kind) in (Access.NONE, Access.AGGREGATE), (role, kind)


def test_only_the_coordinator_sees_every_child_of_the_programme():
    assert perms.roles_granting(perms.CHILD, Access.PROGRAMME) == [Role.COORDINATOR]


def test_an_unknown_role_or_kind_reads_as_no_access():
    assert perms.access("intruder", perms.CHILD) is Access.NONE
    assert perms.access(Role.COORDINATOR, "unknown_kind") is Access.NONE


@pytest.mark.parametrize("role", ROLES)
def test_the_charter_requirement_follows_the_table(role):
    membership = Membership(role=role)
    reaches_a_name = any(
        perms.access(role, kind) not in (Access.NONE, Access.AGGREGATE) for kind in perms.NOMINATIVE_KINDS
    )
    assert perms.membership_requires_charter(membership) is reaches_a_name
    assert reaches_a_name is (role not in AGGREGATE_ONLY_ROLES)


# --- scopes follow the table ---------------------------------------------------------------------


@pytest.fixture
def populated_programme(db):
    """A programme with one object of every kind this issue scopes, and the same in another one."""

    def populate(programme):
        child = ChildFactory(programme=programme)
        GuardianFactory(household=child.household)
        OrganisationFactory(programme=programme)
        CharterVersionFactory(programme=programme)
        return programme

    other = populate(ProgrammeFactory())
    return populate(ProgrammeFactory()), other


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(SCOPES_BY_KIND))
@pytest.mark.parametrize("role", ROLES)
def test_each_scope_opens_the_programme_exactly_when_the_table_says_so(role, kind, populated_programme):
    programme, other = populated_programme
    user = MembershipFactory(role=role, programme=programme).user
    expected = perms.access(role, kind) == Access.PROGRAMME
    for scope in SCOPES_BY_KIND[kind]:
        rows = scope(user)
        assert rows.exists() is expected, f"{scope.__name__} for {role}"
        assert not _rows_of_programme(rows, other).exists(), f"{scope.__name__} crossed programmes for {role}"


def _rows_of_programme(rows, programme):
    model = rows.model
    field = "household__programme" if model.__name__ == "Guardian" else "programme"
    return rows.filter(**{field: programme})


@pytest.mark.django_db
def test_closing_the_coordinator_child_cell_empties_the_children_scopes(monkeypatch, populated_programme):
    programme, _other = populated_programme
    user = MembershipFactory(role=Role.COORDINATOR, programme=programme).user
    assert perms.children_visible_to(user).exists()
    monkeypatch.setitem(perms.POLICY[Role.COORDINATOR], perms.CHILD, Access.NONE)
    assert not perms.children_visible_to(user).exists()
    assert not perms.households_visible_to(user).exists()
    assert not perms.guardians_visible_to(user).exists()
    assert not perms.can_list_children(user, programme)


@pytest.mark.django_db
def test_opening_a_cell_opens_the_scope_for_that_role(monkeypatch, populated_programme):
    programme, _other = populated_programme
    user = MembershipFactory(role=Role.STEERING, programme=programme).user
    assert not perms.children_visible_to(user).exists()
    monkeypatch.setitem(perms.POLICY[Role.STEERING], perms.CHILD, Access.PROGRAMME)
    assert perms.children_visible_to(user).count() == 1


@pytest.mark.django_db
def test_closing_the_directory_cell_empties_the_partner_directory(monkeypatch, populated_programme):
    programme, _other = populated_programme
    user = MembershipFactory(role=Role.MANAGER, programme=programme).user
    monkeypatch.setitem(perms.POLICY[Role.MANAGER], perms.DIRECTORY, Access.NONE)
    assert not perms.organisations_visible_to(user).exists()
    assert not perms.memberships_visible_to(user).exists()
    assert not perms.can_read_directory(user, programme)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "membership_fields",
    [
        pytest.param(
            {"ends_on": datetime.date(2020, 1, 31), "starts_on": datetime.date(2020, 1, 1)}, id="ended"
        ),
        pytest.param({"starts_on": datetime.date(2099, 1, 1)}, id="not-yet-started"),
    ],
)
def test_a_membership_out_of_its_dates_opens_nothing(membership_fields, populated_programme):
    programme, _other = populated_programme
    user = MembershipFactory(role=Role.COORDINATOR, programme=programme, **membership_fields).user
    for scopes in SCOPES_BY_KIND.values():
        for scope in scopes:
            assert not scope(user).exists(), scope.__name__
    assert not perms.programmes_visible_to(user).exists()
    assert not perms.can_configure_programme(user, programme)


@pytest.mark.django_db
def test_an_inactive_account_opens_nothing(populated_programme):
    programme, _other = populated_programme
    user = MembershipFactory(role=Role.COORDINATOR, programme=programme).user
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert not perms.children_visible_to(user).exists()
    assert not perms.programmes_visible_to(user).exists()


@pytest.mark.django_db
def test_a_membership_ending_today_still_counts_today():
    today = timezone.localdate()
    membership = MembershipFactory(role=Role.COORDINATOR, ends_on=today)
    assert perms.programmes_visible_to(membership.user).exists()


# --- predicates ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_configuring_and_publishing_are_reserved_to_their_roles(role):
    membership = MembershipFactory(role=role)
    user, programme = membership.user, membership.programme
    assert perms.can_configure_programme(user, programme) is (role in {Role.COORDINATOR, Role.MANAGER})
    assert perms.can_publish_charter(user, programme) is (role == Role.COORDINATOR)
    assert perms.can_manage_members(user, programme) is (role in {Role.COORDINATOR, Role.MANAGER})


@pytest.mark.django_db
def test_roles_in_one_programme_give_nothing_in_another():
    membership = MembershipFactory(role=Role.COORDINATOR)
    elsewhere = ProgrammeFactory()
    assert not perms.can_configure_programme(membership.user, elsewhere)
    assert not perms.can_publish_charter(membership.user, elsewhere)
    assert not perms.can_list_children(membership.user, elsewhere)


@pytest.mark.django_db
def test_only_the_holder_of_a_membership_in_force_may_sign_for_it():
    membership = MembershipFactory(role=Role.REFERENT)
    stranger = MembershipFactory(role=Role.COORDINATOR, programme=membership.programme).user
    assert perms.can_sign_charter(membership.user, membership)
    assert not perms.can_sign_charter(stranger, membership)
    membership.starts_on = datetime.date(2020, 1, 1)
    membership.ends_on = datetime.date(2020, 6, 30)
    membership.save(update_fields=["starts_on", "ends_on"])
    assert not perms.can_sign_charter(membership.user, membership)


@pytest.mark.django_db
def test_signing_asks_for_the_latest_published_version_only():
    membership = MembershipFactory(role=Role.REFERENT, signed_charter=False)
    assert not perms.must_sign_charter(membership), "nothing published, nothing to sign"
    first = CharterVersionFactory(programme=membership.programme, number=1)
    CharterVersionFactory(programme=membership.programme, number=2, published_at=None)
    assert perms.must_sign_charter(membership)
    CharterSignatureFactory(version=first, membership=membership)
    assert perms.has_signed_current_charter(membership)
    assert not perms.must_sign_charter(membership), "a draft does not replace the published version"
    CharterVersionFactory(programme=membership.programme, number=3)
    assert not perms.has_signed_current_charter(membership)
    assert perms.must_sign_charter(membership)


@pytest.mark.django_db
def test_aggregate_roles_are_never_asked_to_sign():
    membership = MembershipFactory(role=Role.STEERING)
    CharterVersionFactory(programme=membership.programme)
    assert not perms.must_sign_charter(membership)
    assert not perms.must_sign_charter(None)


@pytest.mark.django_db
def test_abilities_mirror_the_predicates():
    membership = MembershipFactory(role=Role.MANAGER)
    organisation = OrganisationFactory(programme=membership.programme)
    abilities = perms.abilities(membership.user, membership.programme)
    assert abilities == {
        "configure": True,
        "publish_charter": False,
        "manage_members": True,
        "list_children": False,
        "read_directory": True,
    }
    assert perms.abilities(membership.user, organisation) == {"edit": True}
    assert perms.abilities(membership.user, object()) == {}
