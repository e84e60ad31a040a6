"""Importers of the territories reference data: communes (INSEE COG), QPV contours, schools.

Every import is two plain steps, testable without a management command:

* ``parse_*`` reads a whole file without touching the database and returns ``(rows, errors, summary)``:

  - ``rows``, the usable rows;
  - ``errors``, the problems that make the **whole file** unusable, each naming its line or feature: a
    directory or a spreadsheet given as the file, a truncated row (fewer fields than the header: the file
    was cut, and importing it would blank good data), coordinates outside France, latitude and longitude
    swapped, a missing column, more unusable rows than usable ones;
  - ``summary.report``, one line per row left aside (an establishment with no type, a feature with no
    code, a UAI read twice…) and per contour repaired, so that a few bad rows never block a whole file;

* ``write_*`` upserts the rows, comparing each with the stored one first, so that importing the same file
  again updates nothing. Only the columns the file has are written: the COG, which has no EPCI, leaves the
  communes' EPCI alone; the geolocation companion of the Annuaire, which has no priority education, leaves
  the schools' REP/REP+ alone.

``import_*_file`` chain both all-or-nothing — any error and nothing is written, everything is written in
one transaction — and return an :class:`ImportSummary`. The management commands and the demo seed call
them. What each official file looks like, and what is kept of it, is in docs/operations.md.
"""

import csv
import itertools
import json
import math
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely import from_wkb, make_valid
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.validation import explain_validity

from maillage.audit import services as audit
from maillage.core.text import normalise_name, strip_accents
from maillage.programmes.models import Programme
from maillage.territories.enums import CommuneKind, PriorityEducation, SchoolKind
from maillage.territories.geo import POLYGON_TYPES, france_check, geometry_bbox
from maillage.territories.models import Commune, PriorityArea, School

BATCH_SIZE = 500
# Rows looked up per ``IN (...)`` query: well below SQLite's bound-parameter limit.
LOOKUP_CHUNK = 900
# Errors spelled out in the exception message; the others are counted.
MAX_ERRORS_SHOWN = 20

UAI_RE = re.compile(r"^\d{7}[A-Z]$")
INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
SIREN_RE = re.compile(r"^\d{9}$")

# First bytes of the files people give instead of a CSV or a GeoJSON: a ZIP container (XLSX, ODS, a
# zipped shapefile) or an OLE2 compound file (XLS).
SPREADSHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
# A GeoPackage is an SQLite database (the ANCT publishes the 2024 QPV as one).
SQLITE_MAGIC = b"SQLite format 3\x00"

# Property names of the QPV code and name across releases, most specific first (compared case-folded).
QPV_CODE_FIELDS = (
    "code_qp",
    "code_qpv",
    "codeqp",
    "codeqpv",
    "cod_qp",
    "qp_code",
    "qpv_code",
    "code_quartier",
)
QPV_NAME_FIELDS = (
    "lib_qp",
    "nom_qp",
    "nom_qpv",
    "lib_qpv",
    "libelle_qp",
    "libelle_qpv",
    "nom_quartier",
    "lib_quartier",
    "nom",
)


class ImportValidationError(Exception):
    """The file cannot be imported; ``errors`` lists every problem found, each naming where."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__(format_errors(self.errors))


def format_errors(errors: list[str]) -> str:
    shown = errors[:MAX_ERRORS_SHOWN]
    lines = [_("Le fichier n'a pas été importé (%(count)d erreur(s)) :") % {"count": len(errors)}]
    lines += [f"- {error}" for error in shown]
    if len(errors) > len(shown):
        lines.append(_("… et %(count)d autre(s) erreur(s).") % {"count": len(errors) - len(shown)})
    return "\n".join(lines)


@dataclass
class ImportSummary:
    """What an import did (or, in a dry run, would have done)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows left aside: outside the requested communes, repeated, unusable, or not stored by design
    # (delegated and associated communes).
    skipped: int = 0
    # Contours that were invalid and were repaired (QPV import).
    repaired: int = 0
    # Schools newly attached to their commune (commune import).
    linked: int = 0
    # Changes to the programme's set of priority areas (QPV import with a programme).
    programme_added: int = 0
    programme_removed: int = 0
    # One line per row left aside or contour repaired, naming it; and notes on the file as a whole.
    report: list[str] = field(default_factory=list)
    # The logical columns the file has (CSV imports): only those are written on existing rows.
    columns: frozenset[str] | None = None

    @property
    def changed(self) -> bool:
        return bool(
            self.created or self.updated or self.linked or self.programme_added or self.programme_removed
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "repaired": self.repaired,
            "linked": self.linked,
            "programme_added": self.programme_added,
            "programme_removed": self.programme_removed,
        }


# --------------------------------------------------------------------------------------------------
# Shared helpers


def header_key(header: str) -> str:
    """Fold a CSV header to a field name: ``"Appartenance Éducation Prioritaire"`` →
    ``"appartenance_education_prioritaire"``, so that field-name and label exports both match."""
    folded = strip_accents(header.strip().strip("\ufeff").casefold())
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


def _chunks(items: list, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def file_problem(path: str | Path, kind: str) -> str | None:
    """Why ``path`` cannot be read as a ``kind`` file (``"CSV"``, ``"GeoJSON"``), or ``None``.

    Catches before any parsing what people actually give: a directory, a missing file, a spreadsheet or
    a ZIP archive instead of the text file.
    """
    path = Path(path)
    if path.is_dir():
        return _("« %(path)s » est un dossier, pas un fichier %(kind)s : indiquez le fichier lui-même.") % {
            "path": path,
            "kind": kind,
        }
    if not path.exists():
        return _("Fichier introuvable : %(path)s") % {"path": path}
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        return _("Fichier illisible : %(path)s (%(error)s).") % {"path": path, "error": exc.strerror or exc}
    if head.startswith(SPREADSHEET_MAGIC):
        return _(
            "« %(path)s » est un classeur (XLSX, XLS, ODS) ou une archive ZIP, pas un fichier %(kind)s : "
            "enregistrez-le ou extrayez-le au format %(kind)s (UTF-8)."
        ) % {"path": path.name, "kind": kind}
    return None


def _detect_delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ";"


def _read_csv(path: Path) -> Iterator[tuple[int, list[str] | None, list[str]]]:
    """Yield ``(line_number, header_keys, cells)``: first the header row (cells empty), then data rows.

    UTF-8 with or without BOM; ``;``, ``,`` or tab separator, detected on the header line. The line
    number is the physical line of the file where the row ends (the header is line 1).
    """
    with open(path, encoding="utf-8-sig", newline="") as handle:
        first = handle.readline()
        if not first.strip():
            return
        reader = csv.reader(itertools.chain([first], handle), delimiter=_detect_delimiter(first))
        header = next(reader, None)
        if header is None:
            return
        yield reader.line_num, [header_key(cell) for cell in header], []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            yield reader.line_num, None, cells


def _resolve_columns(
    header: list[str], columns: dict[str, tuple[str, ...]], required: Iterable[str]
) -> tuple[dict[str, int], list[str]]:
    """Map each logical column to its index among ``header`` (already folded by ``header_key``)."""
    positions: dict[str, int] = {}
    for logical, aliases in columns.items():
        for alias in aliases:
            if alias in header:
                positions[logical] = header.index(alias)
                break
    missing = [columns[logical][0] for logical in required if logical not in positions]
    errors = [
        _("Colonne obligatoire manquante : « %(column)s » (en-têtes lus : %(headers)s).")
        % {"column": column, "headers": ", ".join(h for h in header if h) or "—"}
        for column in missing
    ]
    return positions, errors


def _csv_rows(
    path: str | Path,
    columns: dict[str, tuple[str, ...]],
    required: Iterable[str],
    errors: list[str],
    present: set[str] | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, {logical column: stripped value})`` for the logical columns the file has
    (added to ``present``); append file-level problems to ``errors`` and stop at the first that makes the
    rest unreadable (not a CSV, encoding, missing columns, a truncated row)."""
    path = Path(path)
    if problem := file_problem(path, "CSV"):
        errors.append(problem)
        return
    positions: dict[str, int] = {}
    width = 0
    line_number = 1
    try:
        for line_number, header, cells in _read_csv(path):
            if header is not None:
                positions, column_errors = _resolve_columns(header, columns, required)
                if column_errors:
                    errors.extend(column_errors)
                    return
                width = len(header)
                if present is not None:
                    present.update(positions)
                continue
            if len(cells) < width or any(cell.strip() for cell in cells[width:]):
                # A short row is a cut file (or a cut line): reading it would pad it with blanks that
                # overwrite good data. A long one has a stray separator or quote: its values are shifted.
                errors.append(
                    _(
                        "Ligne %(line)d : %(found)d champ(s) au lieu des %(expected)d de l'en-tête — la "
                        "ligne est tronquée ou décalée (fichier coupé, séparateur ou guillemet en trop) ; "
                        "rien n'a été importé."
                    )
                    % {"line": line_number, "found": len(cells), "expected": width}
                )
                return
            yield line_number, {logical: cells[index].strip() for logical, index in positions.items()}
        if not positions:
            errors.append(_("Le fichier est vide."))
    except UnicodeDecodeError:
        errors.append(
            _(
                "Le fichier n'est pas encodé en UTF-8 (erreur vers la ligne %(line)d) : "
                "réenregistrez-le en UTF-8."
            )
            % {"line": line_number + 1}
        )
    except csv.Error as exc:
        errors.append(
            _("Ligne %(line)d : CSV illisible (%(error)s).") % {"line": line_number + 1, "error": exc}
        )


def _check_unusable(errors: list[str], summary: ImportSummary, unusable: int, total: int) -> None:
    """Refuse a file in which most rows cannot be used: it is probably not the expected file (or not
    the expected export), and importing its few readable rows would mislead."""
    if unusable and (unusable * 2 > total):
        errors.append(
            _(
                "%(unusable)d ligne(s) inutilisable(s) sur %(total)d : ce n'est sans doute pas le bon "
                "fichier ; rien n'a été importé. Détail :"
            )
            % {"unusable": unusable, "total": total}
        )
        errors.extend(summary.report)


def update_many(model: type[models.Model], objects: list[models.Model], field_names: list[str]) -> None:
    """Write ``field_names`` of already-saved ``objects``: one prepared ``UPDATE … WHERE pk = ?`` run
    with ``executemany`` per batch.

    ``QuerySet.bulk_update`` builds one ``CASE WHEN`` per field over each batch; on SQLite (999 bound
    parameters) that took about a minute for 16,000 schools, against well under a second here.
    Values go through each field's ``get_db_prep_save``, as ``save()`` would.
    """
    if not objects:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    pk = model._meta.pk
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(pk.column)} = %s"  # noqa: S608 -- quoted model names, values as params  # nosec B608
    with connection.cursor() as cursor:
        for batch in _chunks(objects, BATCH_SIZE):
            cursor.executemany(
                sql,
                [
                    [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
                    + [obj.pk]
                    for obj in batch
                ],
            )


def _record(verb: str, summary: ImportSummary, *, by=None, programme=None, source: str = "") -> None:
    if summary.changed:
        audit.record(
            verb=verb,
            actor=by,
            programme=programme,
            target_type="territories",
            payload={**summary.as_dict(), "source": source},
        )


def _place_problem(where: str, kind: str, box: str | None, lat_range: str, lon_range: str) -> str:
    """The one-line refusal for a point or a contour that is not in France, naming where it is."""
    if kind == "swapped":
        return _(
            "%(where)s : latitude et longitude inversées (lu latitude %(lat)s, longitude %(lon)s : une fois "
            "échangées, elles tombent en %(box)s) ; corrigez le fichier, rien n'a été importé."
        ) % {"where": where, "lat": lat_range, "lon": lon_range, "box": box}
    return _(
        "%(where)s : coordonnées hors de France (latitude %(lat)s, longitude %(lon)s ; la métropole et "
        "l'outre-mer sont attendus, en degrés WGS84) ; rien n'a été importé."
    ) % {"where": where, "lat": lat_range, "lon": lon_range}


# --------------------------------------------------------------------------------------------------
# QPV contours (GeoJSON)


@dataclass(frozen=True)
class QpvRow:
    code: str
    name: str
    geometry: dict[str, Any]
    bbox: tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat


def _property(properties: dict[str, Any], names: Iterable[str]) -> tuple[str | None, Any]:
    folded = {str(key).casefold(): (key, value) for key, value in properties.items()}
    for name in names:
        if name.casefold() in folded:
            return folded[name.casefold()]
    return None, None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _positions(geometry_type: str, coordinates: Any) -> Iterator[Any]:
    rings = [coordinates] if geometry_type == "Polygon" else (coordinates or [])
    for polygon in rings:
        for ring in polygon or []:
            yield from ring or []


def _span(low: float, high: float) -> str:
    return f"{low:g}" if low == high else f"{low:g}–{high:g}"


@dataclass
class _GeometryCheck:
    """What reading one feature's geometry found: the geometry to store, or why it is left aside
    (``skip``) or why the whole file is refused (``fatal``); ``repaired`` says what was mended."""

    geometry: dict[str, Any] | None = None
    skip: str | None = None
    fatal: str | None = None
    repaired: str | None = None


def _polygonal(geometry) -> Polygon | MultiPolygon | None:
    """The polygonal part of a repaired geometry (``make_valid`` may add the lines and points where a
    contour touched itself)."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    parts: list[Polygon] = []
    for part in getattr(geometry, "geoms", []):
        if isinstance(part, Polygon):
            parts.append(part)
        elif isinstance(part, MultiPolygon):
            parts.extend(part.geoms)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _check_geometry(geometry: Any, where: str) -> _GeometryCheck:
    if not isinstance(geometry, dict) or not geometry.get("type"):
        return _GeometryCheck(skip=_("pas de géométrie"))
    geometry_type = geometry["type"]
    if geometry_type not in POLYGON_TYPES:
        return _GeometryCheck(
            skip=_("géométrie de type %(type)s, un Polygon ou un MultiPolygon est attendu")
            % {"type": geometry_type}
        )
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or not coordinates:
        return _GeometryCheck(skip=_("coordonnées absentes"))
    xs, ys = [], []
    try:
        for position in _positions(geometry_type, coordinates):
            x, y = position[0], position[1]
            if isinstance(x, bool) or isinstance(y, bool):
                raise TypeError
            x, y = float(x), float(y)
            if not (math.isfinite(x) and math.isfinite(y)):
                raise TypeError
            xs.append(x)
            ys.append(y)
    except (TypeError, ValueError, IndexError, KeyError):
        return _GeometryCheck(skip=_("coordonnées illisibles"))
    if not xs:
        return _GeometryCheck(skip=_("coordonnées absentes"))
    kind, box = france_check(min(xs), min(ys), max(xs), max(ys))
    if kind != "france":
        if kind == "outside" and not (all(-180 <= x <= 180 for x in xs) and all(-90 <= y <= 90 for y in ys)):
            return _GeometryCheck(
                fatal=_(
                    "%(where)s : coordonnées hors des bornes WGS84 (%(lon)s, %(lat)s) : le fichier doit être "
                    "en longitude/latitude WGS84 (EPSG:4326), pas en Lambert-93 ; rien n'a été importé."
                )
                % {"where": where, "lon": f"{xs[0]:g}", "lat": f"{ys[0]:g}"}
            )
        return _GeometryCheck(
            fatal=_place_problem(where, kind, box, _span(min(ys), max(ys)), _span(min(xs), max(xs)))
        )
    try:
        polygon = shape(geometry)
    except (GEOSException, TypeError, ValueError, IndexError, AttributeError) as exc:
        return _GeometryCheck(skip=_("géométrie illisible (%(error)s)") % {"error": exc})
    if polygon.is_empty:
        return _GeometryCheck(skip=_("géométrie vide"))
    clean = {"type": geometry_type, "coordinates": coordinates}
    if polygon.is_valid:
        return _GeometryCheck(geometry=clean)
    reason = explain_validity(polygon)
    repaired = _polygonal(make_valid(polygon))
    if repaired is None or repaired.is_empty or not repaired.is_valid:
        return _GeometryCheck(skip=_("contour invalide et irréparable (%(reason)s)") % {"reason": reason})
    # Through JSON, so that the stored value compares equal to what the database gives back.
    return _GeometryCheck(geometry=json.loads(json.dumps(mapping(repaired))), repaired=reason)


def _crs_problem(data: dict[str, Any]) -> str | None:
    crs = data.get("crs")
    if not crs:
        return None
    name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else str(crs)
    if "4326" in name or "CRS84" in name.upper():
        return None
    return _("le système de coordonnées du fichier est %(crs)s : seul WGS84 (EPSG:4326) est accepté") % {
        "crs": name or "?"
    }


# Bytes of the envelope of a GeoPackage geometry blob, by the envelope indicator of its flags.
_GPKG_ENVELOPE = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _gpkg_geometry(blob: bytes) -> dict[str, Any] | None:
    """A GeoPackage geometry blob ("GP" header, optional envelope, then WKB) as a GeoJSON geometry."""
    if not blob or blob[:2] != b"GP" or len(blob) < 8:
        return None
    flags = blob[3]
    if flags & 0b10000:  # the empty-geometry flag
        return None
    envelope = _GPKG_ENVELOPE.get((flags >> 1) & 0b111)
    if envelope is None:
        return None
    return json.loads(json.dumps(mapping(from_wkb(blob[8 + envelope :]))))


def read_geopackage(path: str | Path) -> dict[str, Any]:
    """The first feature table of a GeoPackage as a GeoJSON FeatureCollection (``crs`` set from its
    spatial reference system, so that a Lambert-93 layer is refused like a Lambert-93 GeoJSON)."""
    with sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True) as database:
        layer = database.execute(
            "SELECT c.table_name, g.column_name, s.organization, s.organization_coordsys_id "
            "FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
            "LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id "
            "WHERE c.data_type = 'features' ORDER BY c.table_name LIMIT 1"
        ).fetchone()
        if layer is None:
            return {"type": "FeatureCollection", "features": []}
        table, column, organization, code = layer
        cursor = database.execute(f'SELECT * FROM "{table.replace(chr(34), "")}"')  # noqa: S608 -- the file's own table name  # nosec B608
        names = [description[0] for description in cursor.description]
        features = []
        for row in cursor:
            values = dict(zip(names, row, strict=True))
            blob = values.pop(column)
            values = {key: value for key, value in values.items() if not isinstance(value, bytes)}
            features.append({"type": "Feature", "properties": values, "geometry": _gpkg_geometry(blob)})
    crs = f"{organization or '?'}:{code}"
    return {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": crs}},
        "features": features,
    }


def parse_qpv_geojson(
    source: str | Path | dict[str, Any], *, code_field: str | None = None, name_field: str | None = None
) -> tuple[list[QpvRow], list[str], ImportSummary]:
    """Read every feature of a QPV contours FeatureCollection (a path to a GeoJSON file or to a
    GeoPackage, or already-loaded JSON).

    A feature without code, name or polygon is left aside with a line in the report; an invalid contour
    (a self-intersection) is repaired with ``make_valid`` and reported; a contour outside France, with
    latitude and longitude swapped or in Lambert-93 refuses the file.
    """
    summary = ImportSummary()
    if isinstance(source, dict):
        data = source
    else:
        if problem := file_problem(source, "GeoJSON"):
            return [], [problem], summary
        try:
            with open(source, "rb") as handle:
                geopackage = handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
            if geopackage:
                data = read_geopackage(source)
            else:
                with open(source, encoding="utf-8-sig") as handle:
                    data = json.load(handle)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return [], [_("Le fichier n'est pas un GeoJSON lisible (%(error)s).") % {"error": exc}], summary
        except (sqlite3.Error, GEOSException, ValueError) as exc:
            return [], [_("GeoPackage illisible (%(error)s).") % {"error": exc}], summary
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return [], [_("Le fichier n'est pas une FeatureCollection GeoJSON.")], summary
    if problem := _crs_problem(data):
        return [], [_("Fichier : %(problem)s.") % {"problem": problem}], summary
    features = data.get("features")
    if not isinstance(features, list) or not features:
        return [], [_("Le fichier ne contient aucun quartier (liste « features » vide).")], summary

    code_names = (code_field,) if code_field else QPV_CODE_FIELDS
    name_names = (name_field,) if name_field else QPV_NAME_FIELDS
    name_length = PriorityArea._meta.get_field("name").max_length
    rows: list[QpvRow] = []
    errors: list[str] = []
    unusable = 0
    seen: dict[str, int] = {}
    for index, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        _key, raw_code = _property(properties, code_names)
        _key, raw_name = _property(properties, name_names)
        code, name = _as_text(raw_code), _as_text(raw_name)
        where = (
            _("Entité n° %(index)d (code %(code)s)") % {"index": index, "code": code}
            if code
            else _("Entité n° %(index)d") % {"index": index}
        )
        problems = []
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(_("ce n'est pas une Feature GeoJSON"))
        if not code:
            problems.append(
                _("code du quartier absent (propriété cherchée : %(names)s)")
                % {"names": ", ".join(code_names)}
            )
        elif len(code) > PriorityArea._meta.get_field("code").max_length:
            problems.append(_("code trop long"))
        elif code in seen:
            problems.append(_("code déjà utilisé par l'entité n° %(other)d") % {"other": seen[code]})
        if not name:
            problems.append(
                _("nom du quartier absent (propriété cherchée : %(names)s)")
                % {"names": ", ".join(name_names)}
            )
        check = _check_geometry(feature.get("geometry") if isinstance(feature, dict) else None, where)
        if check.fatal:
            errors.append(check.fatal)
            continue
        if check.skip:
            problems.append(check.skip)
        if problems:
            unusable += 1
            summary.skipped += 1
            summary.report.append(
                _("%(where)s ignorée : %(problems)s.") % {"where": where, "problems": " ; ".join(problems)}
            )
            continue
        if check.repaired:
            summary.repaired += 1
            summary.report.append(
                _("%(where)s : contour invalide (%(reason)s), réparé.")
                % {"where": where, "reason": check.repaired}
            )
        seen[code] = index
        rows.append(
            QpvRow(
                code=code,
                name=name[:name_length],
                geometry=check.geometry,
                bbox=geometry_bbox(check.geometry),
            )
        )
    if not errors:
        _check_unusable(errors, summary, unusable, len(features))
    return rows, errors, summary


def write_qpv(
    rows: list[QpvRow], *, programme: Programme | None = None, summary: ImportSummary | None = None
) -> ImportSummary:
    """Upsert the areas by code; with ``programme``, make its set of areas exactly ``rows``."""
    summary = summary or ImportSummary()
    now = timezone.now()
    with transaction.atomic():
        existing: dict[str, PriorityArea] = {}
        for chunk in _chunks([row.code for row in rows]):
            existing.update({area.code: area for area in PriorityArea.objects.filter(code__in=chunk)})
        to_create, to_update = [], []
        for row in rows:
            min_lon, min_lat, max_lon, max_lat = row.bbox
            values = {
                "name": row.name,
                "geometry": row.geometry,
                "min_lon": min_lon,
                "min_lat": min_lat,
                "max_lon": max_lon,
                "max_lat": max_lat,
            }
            area = existing.get(row.code)
            if area is None:
                to_create.append(PriorityArea(code=row.code, **values))
            elif any(getattr(area, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(area, name, value)
                area.updated_at = now
                to_update.append(area)
            else:
                summary.unchanged += 1
        PriorityArea.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        update_many(
            PriorityArea,
            to_update,
            ["name", "geometry", "min_lon", "min_lat", "max_lon", "max_lat", "updated_at"],
        )
        summary.created, summary.updated = len(to_create), len(to_update)
        if programme is not None:
            wanted: set[int] = set()
            for chunk in _chunks([row.code for row in rows]):
                wanted.update(PriorityArea.objects.filter(code__in=chunk).values_list("pk", flat=True))
            current = set(programme.priority_areas.values_list("pk", flat=True))
            programme.priority_areas.remove(*(current - wanted))
            programme.priority_areas.add(*(wanted - current))
            summary.programme_added = len(wanted - current)
            summary.programme_removed = len(current - wanted)
    return summary


def _programme(programme: Programme | str | None) -> Programme | None:
    if programme is None or isinstance(programme, Programme):
        return programme
    found = Programme.objects.filter(slug=programme).first()
    if found is None:
        raise ImportValidationError([_("Programme « %(slug)s » introuvable.") % {"slug": programme}])
    return found


def import_qpv_file(
    path: str | Path,
    programme: Programme | str | None = None,
    *,
    code_field: str | None = None,
    name_field: str | None = None,
    by=None,
    dry_run: bool = False,
) -> ImportSummary:
    """Import a QPV contours GeoJSON all-or-nothing; ``programme`` (instance or slug) gets exactly its set.

    Raises :class:`ImportValidationError` (and writes nothing) when the file cannot be used.
    """
    programme = _programme(programme)
    rows, errors, summary = parse_qpv_geojson(path, code_field=code_field, name_field=name_field)
    if errors:
        raise ImportValidationError(errors)
    with transaction.atomic():
        write_qpv(rows, programme=programme, summary=summary)
        _record("territories.qpv_imported", summary, by=by, programme=programme, source=Path(path).name)
        if dry_run:
            transaction.set_rollback(True)
    return summary


# --------------------------------------------------------------------------------------------------
# Schools (Annuaire de l'éducation, and its geolocation companion, CSV)


@dataclass(frozen=True)
class SchoolRow:
    line: int
    uai: str
    name: str
    kind: str
    priority_education: str
    commune_code: str
    latitude: float | None
    longitude: float | None
    # False when the file cannot tell a maternelle from an élémentaire (no 0/1 columns): an existing
    # school then keeps its kind.
    kind_certain: bool = True


SCHOOL_COLUMNS: dict[str, tuple[str, ...]] = {
    # The Annuaire names them identifiant_de_l_etablissement, nom_etablissement, type_etablissement…;
    # its geolocation companion Code établissement, Appellation officielle, Nature…
    "uai": ("identifiant_de_l_etablissement", "uai", "numero_uai", "code_etablissement"),
    "name": ("nom_etablissement", "appellation_officielle"),
    "type": ("type_etablissement", "nature", "libelle_nature"),
    "priority": ("appartenance_education_prioritaire",),
    "commune_code": ("code_commune",),
    "latitude": ("latitude",),
    "longitude": ("longitude",),
    "maternelle": ("ecole_maternelle",),
    "elementaire": ("ecole_elementaire",),
}
SCHOOL_REQUIRED = ("uai", "name", "type", "commune_code")

_TRUE = {"1", "true", "vrai", "oui", "o", "yes", "y"}
_FALSE = {"", "0", "false", "faux", "non", "n", "no"}
_PRIORITY = {
    "": PriorityEducation.NONE,
    "rep": PriorityEducation.REP,
    "rep+": PriorityEducation.REP_PLUS,
    "repplus": PriorityEducation.REP_PLUS,
}


def _flag(value: str) -> bool | None:
    folded = value.casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return None


def _is_ecole(type_etablissement: str) -> bool:
    folded = header_key(type_etablissement)
    return folded == "ecole" or folded.startswith("ecole_")


def school_kind(type_etablissement: str, maternelle: bool | None, elementaire: bool | None) -> str:
    """The kind of an establishment from its type and, for an *école*, its maternelle/élémentaire flags
    (``None`` when the file has no such columns: the companion file's nature then says maternelle)."""
    folded = header_key(type_etablissement)
    if _is_ecole(type_etablissement):
        if maternelle is None and elementaire is None:
            return SchoolKind.MATERNELLE if "maternelle" in folded else SchoolKind.PRIMAIRE
        if maternelle and not elementaire:
            return SchoolKind.MATERNELLE
        if elementaire and not maternelle:
            return SchoolKind.ELEMENTAIRE
        return SchoolKind.PRIMAIRE
    if folded == "college":
        return SchoolKind.COLLEGE
    if folded.startswith("lycee"):
        return SchoolKind.LYCEE
    return SchoolKind.OTHER


def _number(value: str) -> float | None:
    if not value:
        return None
    number = float(value.replace(",", "."))
    if not math.isfinite(number):
        raise ValueError
    return number


def _parse_school(line: int, values: dict[str, str], errors: list[str]) -> tuple[SchoolRow | None, list[str]]:
    """One row: ``(row, [])``, or ``(None, problems)`` for a row to leave aside; a point outside France
    is appended to ``errors`` (it refuses the file)."""
    problems = []
    uai = values["uai"].upper()
    if not UAI_RE.match(uai):
        problems.append(
            _("UAI « %(uai)s » invalide (7 chiffres suivis d'une lettre attendus)") % {"uai": values["uai"]}
        )
    name = values["name"]
    if not name:
        problems.append(_("nom de l'établissement vide"))
    elif len(name) > School._meta.get_field("name").max_length:
        problems.append(_("nom de l'établissement trop long"))
    if not values["type"]:
        problems.append(_("type d'établissement vide"))
    flags: dict[str, bool | None] = {}
    for column in ("maternelle", "elementaire"):
        if column not in values:
            flags[column] = None
            continue
        flags[column] = _flag(values[column])
        if flags[column] is None:
            problems.append(
                _("valeur « %(value)s » inattendue dans %(column)s (0 ou 1 attendu)")
                % {"value": values[column], "column": SCHOOL_COLUMNS[column][0]}
            )
    priority = _PRIORITY.get(re.sub(r"\s+", "", values.get("priority", "").casefold()))
    if priority is None:
        problems.append(
            _("éducation prioritaire « %(value)s » inconnue (REP, REP+ ou vide attendu)")
            % {"value": values["priority"]}
        )
    commune_code = values["commune_code"].upper()
    if commune_code and not INSEE_RE.match(commune_code):
        problems.append(_("code commune « %(code)s » invalide") % {"code": values["commune_code"]})
    coordinates: dict[str, float | None] = {"latitude": None, "longitude": None}
    for column in coordinates:
        try:
            coordinates[column] = _number(values.get(column, ""))
        except ValueError:
            problems.append(
                _("%(column)s « %(value)s » invalide") % {"column": column, "value": values[column]}
            )
    latitude, longitude = coordinates["latitude"], coordinates["longitude"]
    if not problems and (latitude is None) != (longitude is None):
        problems.append(_("latitude et longitude doivent être renseignées ensemble"))
    if problems:
        return None, problems
    if latitude is not None:
        kind, box = france_check(longitude, latitude, longitude, latitude)
        if kind != "france":
            where = _("Ligne %(line)d (UAI %(uai)s)") % {"line": line, "uai": uai}
            errors.append(_place_problem(where, kind, box, values["latitude"], values["longitude"]))
            return None, []
    maternelle, elementaire = flags["maternelle"], flags["elementaire"]
    return (
        SchoolRow(
            line=line,
            uai=uai,
            name=name,
            kind=school_kind(values["type"], maternelle, elementaire),
            priority_education=priority,
            commune_code=commune_code,
            latitude=latitude,
            longitude=longitude,
            kind_certain=not (_is_ecole(values["type"]) and maternelle is None and elementaire is None),
        ),
        [],
    )


def parse_schools_csv(
    path: str | Path, *, communes: Iterable[str] | None = None
) -> tuple[list[SchoolRow], list[str], ImportSummary]:
    """Read an *Annuaire de l'éducation* export or its geolocation companion; keep only ``communes``
    (INSEE codes) when given.

    Rows outside ``communes`` are skipped before validation. A row that cannot be used (no type — the
    private higher-education establishments of the real file —, a bad UAI…) is left aside with a line in
    the report. A UAI repeated in the file (the national directory lists multi-site establishments once
    per site) keeps its first row, the others are reported. Returns ``(rows, errors, summary)``.
    """
    keep = {code.strip().upper() for code in communes} if communes else None
    errors: list[str] = []
    summary = ImportSummary()
    present: set[str] = set()
    rows: list[SchoolRow] = []
    first_line: dict[str, int] = {}
    unusable = total = 0
    for line, values in _csv_rows(path, SCHOOL_COLUMNS, SCHOOL_REQUIRED, errors, present):
        if keep is not None and values["commune_code"].upper() not in keep:
            summary.skipped += 1
            continue
        total += 1
        row, problems = _parse_school(line, values, errors)
        if problems:
            unusable += 1
            summary.skipped += 1
            summary.report.append(
                _("Ligne %(line)d (UAI %(uai)s) ignorée : %(problems)s.")
                % {"line": line, "uai": values["uai"] or "—", "problems": " ; ".join(problems)}
            )
            continue
        if row is None:
            continue
        if row.uai in first_line:
            summary.skipped += 1
            summary.report.append(
                _("Ligne %(line)d : UAI %(uai)s déjà lu ligne %(first)d, ligne ignorée.")
                % {"line": line, "uai": row.uai, "first": first_line[row.uai]}
            )
            continue
        first_line[row.uai] = line
        rows.append(row)
    if not errors:
        _check_unusable(errors, summary, unusable, total)
    if present and "priority" not in present:
        summary.report.append(
            _(
                "Pas de colonne « appartenance_education_prioritaire » (fichier de géolocalisation ?) : "
                "l'éducation prioritaire des établissements déjà connus est conservée."
            )
        )
    summary.columns = frozenset(present)
    return rows, errors, summary


def _school_fields(columns: frozenset[str] | None) -> list[str]:
    """The School fields a file with these logical columns may overwrite on an existing school."""
    fields = ["name", "kind", "commune_code", "commune_id"]
    if columns is None or "priority" in columns:
        fields.append("priority_education")
    if columns is None or {"latitude", "longitude"} <= columns:
        fields += ["latitude", "longitude"]
    return fields


def write_schools(rows: list[SchoolRow], summary: ImportSummary | None = None) -> ImportSummary:
    """Upsert schools by UAI in bulk (a fixed number of queries per batch, none per row).

    On an existing school only the fields the file carries are compared and written (see
    ``_school_fields``); a row that cannot tell an école's kind leaves it as it was.
    """
    summary = summary or ImportSummary()
    fields = _school_fields(summary.columns)
    now = timezone.now()
    with transaction.atomic():
        existing: dict[str, dict[str, Any]] = {}
        for chunk in _chunks([row.uai for row in rows]):
            for values in School.objects.filter(uai__in=chunk).values(
                "pk",
                "uai",
                "name",
                "kind",
                "priority_education",
                "commune_code",
                "commune_id",
                "latitude",
                "longitude",
            ):
                existing[values["uai"]] = values
        commune_ids: dict[str, int] = {}
        for chunk in _chunks(sorted({row.commune_code for row in rows if row.commune_code})):
            commune_ids.update(Commune.objects.filter(insee_code__in=chunk).values_list("insee_code", "pk"))
        to_create, to_update = [], []
        for row in rows:
            wanted = {
                "name": row.name,
                "kind": row.kind,
                "priority_education": row.priority_education,
                "commune_code": row.commune_code,
                "commune_id": commune_ids.get(row.commune_code),
                "latitude": row.latitude,
                "longitude": row.longitude,
            }
            current = existing.get(row.uai)
            if current is None:
                to_create.append(School(uai=row.uai, name_normalised=normalise_name(row.name), **wanted))
                continue
            compared = [name for name in fields if row.kind_certain or name != "kind"]
            if all(current[name] == wanted[name] for name in compared):
                summary.unchanged += 1
                continue
            merged = {name: (wanted[name] if name in compared else current[name]) for name in wanted}
            to_update.append(
                School(
                    pk=current["pk"],
                    uai=row.uai,
                    name_normalised=normalise_name(row.name),
                    updated_at=now,
                    **merged,
                )
            )
        School.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        update_many(
            School,
            to_update,
            [
                "name",
                "name_normalised",
                "kind",
                "priority_education",
                "commune_code",
                "commune",
                "latitude",
                "longitude",
                "updated_at",
            ],
        )
        summary.created, summary.updated = len(to_create), len(to_update)
    return summary


def import_schools_file(
    path: str | Path, *, communes: Iterable[str] | None = None, by=None, dry_run: bool = False
) -> ImportSummary:
    """Import an *Annuaire de l'éducation* CSV all-or-nothing (optionally only some communes)."""
    rows, errors, summary = parse_schools_csv(path, communes=communes)
    if errors:
        raise ImportValidationError(errors)
    with transaction.atomic():
        write_schools(rows, summary)
        _record("territories.schools_imported", summary, by=by, source=Path(path).name)
        if dry_run:
            transaction.set_rollback(True)
    return summary


# --------------------------------------------------------------------------------------------------
# Communes (INSEE COG, or a plain code/name/EPCI CSV)


@dataclass(frozen=True)
class CommuneRow:
    line: int
    insee_code: str
    name: str
    epci_siren: str
    epci_name: str
    kind: str = CommuneKind.COMMUNE
    parent_code: str = ""


COMMUNE_COLUMNS: dict[str, tuple[str, ...]] = {
    # The INSEE COG names them TYPECOM, COM, LIBELLE, COMPARENT (lower-case until 2020); the
    # "composition communale des EPCI" file CODGEO, LIBGEO, EPCI, LIBEPCI.
    "insee_code": ("insee_code", "code_insee", "codgeo", "code_commune", "insee_com", "com"),
    "name": ("name", "nom", "libgeo", "nom_commune", "lib_com", "libelle", "nccenr"),
    "typecom": ("typecom",),
    "parent_code": ("comparent",),
    "epci_siren": ("epci_siren", "siren_epci", "epci"),
    "epci_name": ("epci_name", "nom_epci", "libepci", "lib_epci"),
}
COMMUNE_REQUIRED = ("insee_code", "name")
# The COG's TYPECOM: what is stored, and what is left aside on purpose.
STORED_TYPECOM = {"COM": CommuneKind.COMMUNE, "ARM": CommuneKind.MUNICIPAL_ARRONDISSEMENT}
NOT_STORED_TYPECOM = {"COMD", "COMA"}


def parse_communes_csv(path: str | Path) -> tuple[list[CommuneRow], list[str], ImportSummary]:
    """Read a communes CSV: the INSEE COG communes file (``TYPECOM,COM,…,LIBELLE,…,COMPARENT``) or a
    plain file of codes, names and EPCI.

    In the COG, a code appears more than once by design: a delegated (``COMD``) or associated
    (``COMA``) commune may keep its parent's code. Those rows are counted and left aside — their territory
    is their parent's — with one line in the report; communes (``COM``) and the municipal arrondissements
    of Paris, Lyon and Marseille (``ARM``, with their city in ``parent_code``) are stored. A row with an
    empty or unknown type, or a code already read for a stored row, is left aside with a line.
    """
    errors: list[str] = []
    summary = ImportSummary()
    present: set[str] = set()
    rows: list[CommuneRow] = []
    first_line: dict[str, int] = {}
    name_length = Commune._meta.get_field("name").max_length
    epci_name_length = Commune._meta.get_field("epci_name").max_length
    not_stored = unusable = total = 0
    for line, values in _csv_rows(path, COMMUNE_COLUMNS, COMMUNE_REQUIRED, errors, present):
        total += 1
        problems = []
        kind = CommuneKind.COMMUNE
        if "typecom" in values:
            typecom = values["typecom"].upper()
            if typecom in NOT_STORED_TYPECOM:
                not_stored += 1
                summary.skipped += 1
                continue
            if not typecom:
                problems.append(_("type de commune (TYPECOM) vide"))
            elif typecom not in STORED_TYPECOM:
                problems.append(
                    _("type de commune « %(type)s » inconnu (COM, ARM, COMD ou COMA attendu)")
                    % {"type": values["typecom"]}
                )
            else:
                kind = STORED_TYPECOM[typecom]
        insee_code = values["insee_code"].upper()
        if not INSEE_RE.match(insee_code):
            problems.append(
                _("code INSEE « %(code)s » invalide (5 caractères, 2A/2B en Corse)")
                % {"code": values["insee_code"]}
            )
        elif insee_code in first_line:
            problems.append(
                _("code INSEE %(code)s déjà lu ligne %(first)d")
                % {"code": insee_code, "first": first_line[insee_code]}
            )
        if not values["name"]:
            problems.append(_("nom de la commune vide"))
        elif len(values["name"]) > name_length:
            problems.append(_("nom de la commune trop long"))
        epci_siren = values.get("epci_siren", "").replace(" ", "")
        if epci_siren and not SIREN_RE.match(epci_siren):
            problems.append(_("SIREN d'EPCI « %(siren)s » invalide (9 chiffres)") % {"siren": epci_siren})
        if len(values.get("epci_name", "")) > epci_name_length:
            problems.append(_("nom d'EPCI trop long"))
        parent_code = (
            values.get("parent_code", "").upper() if kind == CommuneKind.MUNICIPAL_ARRONDISSEMENT else ""
        )
        if parent_code and not INSEE_RE.match(parent_code):
            problems.append(_("code de la commune parente « %(code)s » invalide") % {"code": parent_code})
        if problems:
            unusable += 1
            summary.skipped += 1
            summary.report.append(
                _("Ligne %(line)d (code %(code)s) ignorée : %(problems)s.")
                % {"line": line, "code": values["insee_code"] or "—", "problems": " ; ".join(problems)}
            )
            continue
        first_line[insee_code] = line
        rows.append(
            CommuneRow(
                line=line,
                insee_code=insee_code,
                name=values["name"],
                epci_siren=epci_siren,
                epci_name=values.get("epci_name", ""),
                kind=kind,
                parent_code=parent_code,
            )
        )
    if not errors:
        _check_unusable(errors, summary, unusable, total - not_stored)
    if not_stored:
        summary.report.append(
            _(
                "%(count)d commune(s) déléguée(s) ou associée(s) (TYPECOM COMD ou COMA) non importée(s) : "
                "leur territoire est celui de leur commune parente, importée sous son propre code."
            )
            % {"count": not_stored}
        )
    summary.columns = frozenset(present)
    return rows, errors, summary


def _commune_fields(columns: frozenset[str] | None) -> list[str]:
    """The Commune fields a file with these logical columns may overwrite."""
    fields = ["name"]
    if columns is None or "epci_siren" in columns:
        fields.append("epci_siren")
    if columns is None or "epci_name" in columns:
        fields.append("epci_name")
    if columns is None or "typecom" in columns:
        fields += ["kind", "parent_code"]
    return fields


def write_communes(rows: list[CommuneRow], summary: ImportSummary | None = None) -> ImportSummary:
    """Upsert communes by INSEE code, then attach the schools already imported with those codes."""
    summary = summary or ImportSummary()
    fields = _commune_fields(summary.columns)
    now = timezone.now()
    with transaction.atomic():
        existing: dict[str, Commune] = {}
        for chunk in _chunks([row.insee_code for row in rows]):
            existing.update({c.insee_code: c for c in Commune.objects.filter(insee_code__in=chunk)})
        to_create, to_update = [], []
        for row in rows:
            commune = existing.get(row.insee_code)
            if commune is None:
                to_create.append(
                    Commune(
                        insee_code=row.insee_code,
                        name=row.name,
                        epci_siren=row.epci_siren,
                        epci_name=row.epci_name,
                        kind=row.kind,
                        parent_code=row.parent_code,
                    )
                )
            elif any(getattr(commune, f) != getattr(row, f) for f in fields):
                for f in fields:
                    setattr(commune, f, getattr(row, f))
                commune.updated_at = now
                to_update.append(commune)
            else:
                summary.unchanged += 1
        Commune.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        update_many(Commune, to_update, [*fields, "updated_at"])
        summary.created, summary.updated = len(to_create), len(to_update)

        # Schools imported before their commune carry its code but no link yet.
        for chunk in _chunks([row.insee_code for row in rows]):
            ids = dict(Commune.objects.filter(insee_code__in=chunk).values_list("insee_code", "pk"))
            orphans = list(
                School.objects.filter(commune__isnull=True, commune_code__in=chunk).only("pk", "commune_code")
            )
            for school in orphans:
                school.commune_id = ids[school.commune_code]
                school.updated_at = now
            update_many(School, orphans, ["commune", "updated_at"])
            summary.linked += len(orphans)
    return summary


def import_communes_file(path: str | Path, *, by=None, dry_run: bool = False) -> ImportSummary:
    """Import a communes CSV all-or-nothing (``;`` or ``,`` separator)."""
    rows, errors, summary = parse_communes_csv(path)
    if errors:
        raise ImportValidationError(errors)
    with transaction.atomic():
        write_communes(rows, summary)
        _record("territories.communes_imported", summary, by=by, source=Path(path).name)
        if dry_run:
            transaction.set_rollback(True)
    return summary


DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_COMMUNES = DATA_DIR / "communes_demo.csv"
DEMO_QPV = DATA_DIR / "qpv_demo.geojson"
DEMO_SCHOOLS = DATA_DIR / "schools_demo.csv"
