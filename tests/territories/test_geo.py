import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maillage.territories.geo import geometry_bbox, locate
from maillage.territories.models import PriorityArea
from tests.factories import ProgrammeFactory


def rect(lon1, lat1, lon2, lat2):
    return [[lon1, lat1], [lon2, lat1], [lon2, lat2], [lon1, lat2], [lon1, lat1]]


def make_area(code, geometry, name=None):
    min_lon, min_lat, max_lon, max_lat = geometry_bbox(geometry)
    area, _created = PriorityArea.objects.update_or_create(
        code=code,
        defaults={
            "name": name or f"Quartier {code}",
            "geometry": geometry,
            "min_lon": min_lon,
            "min_lat": min_lat,
            "max_lon": max_lon,
            "max_lat": max_lat,
        },
    )
    return area


@pytest.fixture
def town(db):
    """Three areas: a plain rectangle, a rectangle with a hole, a two-part MultiPolygon."""
    return {
        "plain": make_area("QN99211M", {"type": "Polygon", "coordinates": [rect(2.00, 46.00, 2.02, 46.01)]}),
        "holed": make_area(
            "QN99212M",
            {
                "type": "Polygon",
                "coordinates": [rect(2.03, 46.00, 2.07, 46.04), rect(2.04, 46.01, 2.06, 46.03)[::-1]],
            },
        ),
        "multi": make_area(
            "QN99213M",
            {
                "type": "MultiPolygon",
                "coordinates": [[rect(2.10, 46.00, 2.12, 46.02)], [rect(2.14, 46.03, 2.16, 46.05)]],
            },
        ),
    }


def test_a_point_inside_a_polygon_is_located_in_that_area(town):
    assert locate(46.005, 2.01) == town["plain"]


def test_a_point_outside_every_area_is_located_nowhere(town):
    assert locate(46.5, 2.5) is None


def test_a_point_inside_the_bounding_box_but_outside_the_polygon_is_located_nowhere(town):
    # Between the two parts of the MultiPolygon: inside its bbox, outside both parts.
    assert locate(46.025, 2.13) is None


def test_a_point_in_the_hole_of_an_area_is_not_in_that_area(town):
    assert locate(46.02, 2.05) is None


def test_a_point_in_the_ring_around_a_hole_is_in_the_area(town):
    assert locate(46.035, 2.035) == town["holed"]


def test_a_point_on_either_part_of_a_multipolygon_is_in_the_area(town):
    assert locate(46.01, 2.11) == town["multi"]
    assert locate(46.04, 2.15) == town["multi"]


def test_a_point_on_the_border_counts_as_inside(town):
    assert locate(46.00, 2.01) == town["plain"]


def test_locate_can_be_restricted_to_a_programmes_areas(town):
    programme = ProgrammeFactory()
    programme.priority_areas.add(town["holed"])
    assert locate(46.005, 2.01, areas=programme.priority_areas.all()) is None
    assert locate(46.035, 2.035, areas=programme.priority_areas.all()) == town["holed"]


def test_locate_accepts_a_plain_list_of_areas(town):
    assert locate(46.005, 2.01, areas=[town["multi"]]) is None
    assert locate(46.005, 2.01, areas=[town["plain"], town["multi"]]) == town["plain"]


def test_locate_with_no_areas_at_all_finds_nothing(town):
    assert locate(46.005, 2.01, areas=PriorityArea.objects.none()) is None


def test_locate_refuses_coordinates_that_are_not_wgs84_degrees(town):
    with pytest.raises(ValueError):
        locate(6_800_000.0, 650_000.0)  # Lambert-93 metres, not degrees
    with pytest.raises(ValueError):
        locate(math.nan, 2.0)


def test_locate_keeps_candidates_in_sql_by_bounding_box(town, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert locate(46.005, 2.01) == town["plain"]


# A rectangle-shaped area: every point strictly inside is found, no point outside its bbox is.
MIN_LON, MIN_LAT, MAX_LON, MAX_LAT = 4.0, 45.0, 4.03, 45.02
RECTANGLE = {"type": "Polygon", "coordinates": [rect(MIN_LON, MIN_LAT, MAX_LON, MAX_LAT)]}


def _inside_bbox(lat, lon):
    return MIN_LAT <= lat <= MAX_LAT and MIN_LON <= lon <= MAX_LON


inside_points = st.tuples(
    st.floats(MIN_LAT, MAX_LAT, exclude_min=True, exclude_max=True),
    st.floats(MIN_LON, MAX_LON, exclude_min=True, exclude_max=True),
)
outside_points = st.one_of(
    st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
    # Just beyond each side of the box, where an off-by-one on the bounds would show.
    st.tuples(st.floats(MAX_LAT, MAX_LAT + 0.01, exclude_min=True), st.floats(MIN_LON, MAX_LON)),
    st.tuples(st.floats(MIN_LAT - 0.01, MIN_LAT, exclude_max=True), st.floats(MIN_LON, MAX_LON)),
    st.tuples(st.floats(MIN_LAT, MAX_LAT), st.floats(MAX_LON, MAX_LON + 0.01, exclude_min=True)),
    st.tuples(st.floats(MIN_LAT, MAX_LAT), st.floats(MIN_LON - 0.01, MIN_LON, exclude_max=True)),
).filter(lambda point: not _inside_bbox(*point))


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point=inside_points)
def test_every_point_strictly_inside_a_rectangular_area_is_located_in_it(point):
    area = make_area("QN99299M", RECTANGLE)
    assert locate(*point) == area


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point=outside_points)
def test_no_point_outside_the_bounding_box_of_a_rectangular_area_is_located_in_it(point):
    make_area("QN99299M", RECTANGLE)
    assert locate(*point) is None
