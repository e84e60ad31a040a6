import pytest

from maillage.programmes.enums import Role
from tests.factories import ProgrammeFactory

ALL_ROLES = list(Role.values)


@pytest.fixture
def programme():
    return ProgrammeFactory(name="PRE de Villeneuve-sur-Démo")


@pytest.fixture
def other_programme():
    return ProgrammeFactory(name="PRE de Montagne-Lointaine")
