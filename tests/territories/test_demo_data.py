"""The files the demo seed imports are valid and tell a coherent story."""

import pytest

from maillage.territories.geo import locate
from maillage.territories.importers import (
    DEMO_COMMUNES,
    DEMO_QPV,
    DEMO_SCHOOLS,
    import_communes_file,
    import_qpv_file,
    import_schools_file,
)
from maillage.territories.models import Commune, PriorityArea, School
from tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_programme():
    programme = ProgrammeFactory(slug="demo")
    import_communes_file(DEMO_COMMUNES)
    import_qpv_file(DEMO_QPV, programme=programme)
    import_schools_file(DEMO_SCHOOLS)
    return programme


def test_the_demo_files_import_three_communes_three_qpv_and_twelve_schools(demo_programme):
    assert Commune.objects.count() == 3
    assert PriorityArea.objects.count() == 3
    assert demo_programme.priority_areas.count() == 3
    assert School.objects.count() == 12


def test_every_demo_school_is_attached_to_a_demo_commune(demo_programme):
    assert not School.objects.filter(commune__isnull=True).exists()
    assert set(School.objects.values_list("commune__insee_code", flat=True)) == {"99101", "99102", "99103"}


def test_the_demo_has_rep_and_rep_plus_schools_and_every_kind(demo_programme):
    assert set(School.objects.values_list("priority_education", flat=True)) == {"", "REP", "REP+"}
    assert set(School.objects.values_list("kind", flat=True)) == {
        "maternelle",
        "elementaire",
        "primaire",
        "college",
        "lycee",
    }


def test_the_demo_qpv_are_around_45_north_4_east_with_a_hole_and_a_multipolygon(demo_programme):
    for area in PriorityArea.objects.all():
        assert 44.9 < area.min_lat < area.max_lat < 45.1
        assert 3.9 < area.min_lon < area.max_lon < 4.1
    assert PriorityArea.objects.get(code="QN99903M").geometry["type"] == "MultiPolygon"
    assert len(PriorityArea.objects.get(code="QN99902M").geometry["coordinates"]) == 2


def test_demo_schools_fall_inside_and_outside_the_qpv_as_the_demo_story_needs(demo_programme):
    located = {
        school.uai: getattr(
            locate(school.latitude, school.longitude, demo_programme.priority_areas.all()), "code", None
        )
        for school in School.objects.all()
    }
    assert located["0999001A"] == "QN99901M"
    assert located["0999004D"] == "QN99902M"
    assert located["0999007G"] is None  # in the enclave (hole) of Le Plateau
    assert located["0999009J"] == "QN99903M"  # second part of the MultiPolygon
    assert located["0999003C"] is None  # a REP+ collège just outside the QPV
    assert sum(code is not None for code in located.values()) == 6


def test_importing_the_demo_files_twice_changes_nothing(demo_programme):
    assert import_communes_file(DEMO_COMMUNES).changed is False
    assert import_qpv_file(DEMO_QPV, programme=demo_programme).changed is False
    assert import_schools_file(DEMO_SCHOOLS).changed is False
