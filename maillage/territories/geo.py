"""Geography without PostGIS: which priority area (QPV) a point lies in.

Contours are stored as GeoJSON (WGS84, longitude first) in ``PriorityArea.geometry`` with their bounding
box in four indexed columns. ``locate`` keeps the few areas whose box contains the point in SQL, then
runs the exact point-in-polygon test with shapely.
"""

import math
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from shapely.geometry import Point, shape

from maillage.territories.models import PriorityArea

POLYGON_TYPES = ("Polygon", "MultiPolygon")


def geometry_bbox(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    """``(min_lon, min_lat, max_lon, max_lat)`` of a GeoJSON geometry."""
    min_lon, min_lat, max_lon, max_lat = shape(geometry).bounds
    return float(min_lon), float(min_lat), float(max_lon), float(max_lat)


def check_coordinates(lat: float, lon: float) -> tuple[float, float]:
    """Return ``(lat, lon)`` as floats, or raise ``ValueError`` when they are not WGS84 degrees."""
    lat, lon = float(lat), float(lon)
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError(f"Coordinates must be finite numbers, got lat={lat!r}, lon={lon!r}.")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"Coordinates out of WGS84 range: lat={lat!r}, lon={lon!r}.")
    return lat, lon


def locate(
    lat: float, lon: float, areas: QuerySet[PriorityArea] | Iterable[PriorityArea] | None = None
) -> PriorityArea | None:
    """The priority area containing the point (``lat``, ``lon``), or ``None``.

    ``areas`` restricts the search (e.g. ``programme.priority_areas.all()``). A point on an area's
    border counts as inside; a point in a hole (an enclave that is not part of the QPV) does not.
    Should contours overlap, the area with the smallest code wins, so the answer is deterministic.
    """
    lat, lon = check_coordinates(lat, lon)
    candidates = PriorityArea.objects.containing_bbox(lat, lon)
    if areas is not None:
        if isinstance(areas, QuerySet):
            candidates = candidates.filter(pk__in=areas.values("pk"))
        else:
            candidates = candidates.filter(pk__in=[area.pk for area in areas])
    point = Point(lon, lat)
    for area in candidates.order_by("code"):
        geometry = area.geometry or {}
        if geometry.get("type") not in POLYGON_TYPES:
            continue
        if shape(geometry).covers(point):
            return area
    return None
