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

# Where French reference data can lie: metropolitan France with Corsica, and each overseas territory
# whose schools or QPV appear in the official files, as (min_lon, min_lat, max_lon, max_lat) in WGS84
# degrees, a few kilometres wider than the coast and the outlying islands.
FRANCE_BOXES: dict[str, tuple[float, float, float, float]] = {
    "métropole": (-5.9, 41.2, 10.0, 51.2),
    "Guadeloupe": (-61.9, 15.8, -60.9, 16.6),
    "Saint-Martin et Saint-Barthélemy": (-63.2, 17.8, -62.7, 18.2),
    "Martinique": (-61.3, 14.3, -60.7, 14.95),
    "Guyane": (-54.7, 2.0, -51.5, 5.9),
    "La Réunion": (55.1, -21.5, 55.9, -20.8),
    "Mayotte": (44.9, -13.1, 45.4, -12.5),
    "Saint-Pierre-et-Miquelon": (-56.5, 46.7, -56.0, 47.2),
    "Nouvelle-Calédonie": (163.5, -22.8, 168.2, -19.5),
    "Polynésie française": (-154.8, -28.0, -134.0, -7.8),
    "Wallis-et-Futuna": (-178.3, -14.5, -176.0, -13.1),
}


def france_box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> str | None:
    """The name of the French box that holds the whole rectangle, or ``None`` when none does."""
    for name, (box_min_lon, box_min_lat, box_max_lon, box_max_lat) in FRANCE_BOXES.items():
        if (
            box_min_lon <= min_lon
            and max_lon <= box_max_lon
            and box_min_lat <= min_lat
            and max_lat <= box_max_lat
        ):
            return name
    return None


def france_check(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> tuple[str, str | None]:
    """Where a rectangle read as longitude/latitude falls: ``("france", box)`` inside a French box,
    ``("swapped", box)`` when it only falls inside one once latitude and longitude are exchanged (a file
    written ``[lat, lon]``), ``("outside", None)`` otherwise."""
    if box := france_box(min_lon, min_lat, max_lon, max_lat):
        return "france", box
    if box := france_box(min_lat, min_lon, max_lat, max_lon):
        return "swapped", box
    return "outside", None


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
