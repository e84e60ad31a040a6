import pytest

from maillage.programmes.defaults import ensure_default_lists
from maillage.territories.enums import PriorityEducation
from tests.factories import ProgrammeFactory, SchoolFactory


@pytest.fixture
def journey_programme():
    """A programme with its default lists and two schools: one in REP, one outside priority education."""
    programme = ProgrammeFactory(name="PRE de Villeneuve-sur-Démo")
    ensure_default_lists(programme)
    programme.rep_school = SchoolFactory(
        name="École Jacques Prévert", priority_education=PriorityEducation.REP
    )
    programme.plain_school = SchoolFactory(name="École du Centre", priority_education="")
    programme.schools.add(programme.rep_school, programme.plain_school)
    return programme


@pytest.fixture
def other_journey_programme():
    programme = ProgrammeFactory(name="PRE de Montagne-Lointaine")
    ensure_default_lists(programme)
    return programme
