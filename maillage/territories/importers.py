"""Importers of the territories reference data: QPV contours, schools, communes.

Every import is two plain steps, testable without a management command:

* ``parse_*`` reads and validates a whole file without touching the database and returns
  ``(rows, errors)``: the validated rows and the list of problems, each naming its line or feature
  (``parse_schools_csv`` adds a summary holding the rows it skipped on purpose);
* ``write_*`` upserts validated rows, comparing each row with the stored one first, so that
  importing the same file again updates nothing.

``import_*_file`` chain both all-or-nothing — any error and nothing is written, everything is written
in one transaction — and return an :class:`ImportSummary`. The management commands and the demo seed
call them. The shapes of the official files are described in design/DATA_FORMATS.md.
"""

import csv
import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.validation import explain_validity

from maillage.audit import services as audit
from maillage.core.text import normalise_name, strip_accents
from maillage.programmes.models import Programme
from maillage.territories.enums import PriorityEducation, SchoolKind
from maillage.territories.geo import POLYGON_TYPES, geometry_bbox
from maillage.territories.models import Commune, PriorityArea, School

BATCH_SIZE = 500
# Rows looked up per ``IN (...)`` query: well below SQLite's bound-parameter limit.
LOOKUP_CHUNK = 900
# Errors spelled out in the exception message; the others are counted.
MAX_ERRORS_SHOWN = 20

UAI_RE = re.compile(r"^\d{7}[A-Z]$")
INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
SIREN_RE = re.compile(r"^\d{9}$")

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
    # Rows left aside: outside the requested communes, or repeated in the file.
    skipped: int = 0
    # Schools newly attached to their commune (commune import).
    linked: int = 0
    # Changes to the programme's set of priority areas (QPV import with a programme).
    programme_added: int = 0
    programme_removed: int = 0
    warnings: list[str] = field(default_factory=list)

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
    path: str | Path, columns: dict[str, tuple[str, ...]], required: Iterable[str], errors: list[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, {logical column: stripped value})``; append file-level problems to
    ``errors`` (unreadable file, encoding, missing columns)."""
    path = Path(path)
    positions: dict[str, int] = {}
    line_number = 1
    try:
        for line_number, header, cells in _read_csv(path):
            if header is not None:
                positions, column_errors = _resolve_columns(header, columns, required)
                if column_errors:
                    errors.extend(column_errors)
                    return
                continue
            yield (
                line_number,
                {
                    logical: (cells[index].strip() if index < len(cells) else "")
                    for logical, index in positions.items()
                },
            )
        if not positions:
            errors.append(_("Le fichier est vide."))
    except FileNotFoundError:
        errors.append(_("Fichier introuvable : %(path)s") % {"path": path})
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


def _geometry_problem(geometry: Any) -> str | None:
    """Why a GeoJSON geometry cannot be a QPV contour, or ``None`` when it can."""
    if not isinstance(geometry, dict) or not geometry.get("type"):
        return _("pas de géométrie")
    geometry_type = geometry["type"]
    if geometry_type not in POLYGON_TYPES:
        return _("géométrie de type %(type)s, un Polygon ou un MultiPolygon est attendu") % {
            "type": geometry_type
        }
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or not coordinates:
        return _("coordonnées absentes")
    try:
        for position in _positions(geometry_type, coordinates):
            lon, lat = position[0], position[1]
            if isinstance(lon, bool) or isinstance(lat, bool):
                raise TypeError
            lon, lat = float(lon), float(lat)
            if not (math.isfinite(lon) and math.isfinite(lat)):
                raise TypeError
            if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
                return _(
                    "coordonnées hors des bornes WGS84 (%(lon)s, %(lat)s) : le fichier doit être en "
                    "longitude/latitude WGS84 (EPSG:4326), pas en Lambert-93"
                ) % {"lon": position[0], "lat": position[1]}
    except (TypeError, ValueError, IndexError, KeyError):
        return _("coordonnées illisibles")
    try:
        polygon = shape(geometry)
    except (GEOSException, TypeError, ValueError, IndexError, AttributeError) as exc:
        return _("géométrie illisible (%(error)s)") % {"error": exc}
    if polygon.is_empty:
        return _("géométrie vide")
    if not polygon.is_valid:
        return _("géométrie invalide (%(reason)s)") % {"reason": explain_validity(polygon)}
    return None


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


def parse_qpv_geojson(
    source: str | Path | dict[str, Any], *, code_field: str | None = None, name_field: str | None = None
) -> tuple[list[QpvRow], list[str]]:
    """Validate every feature of a QPV contours FeatureCollection (a path or already-loaded JSON)."""
    errors: list[str] = []
    if isinstance(source, dict):
        data = source
    else:
        try:
            with open(source, encoding="utf-8-sig") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return [], [_("Fichier introuvable : %(path)s") % {"path": source}]
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return [], [_("Le fichier n'est pas un GeoJSON lisible (%(error)s).") % {"error": exc}]
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return [], [_("Le fichier n'est pas une FeatureCollection GeoJSON.")]
    if problem := _crs_problem(data):
        return [], [_("Fichier : %(problem)s.") % {"problem": problem}]
    features = data.get("features")
    if not isinstance(features, list) or not features:
        return [], [_("Le fichier ne contient aucun quartier (liste « features » vide).")]

    code_names = (code_field,) if code_field else QPV_CODE_FIELDS
    name_names = (name_field,) if name_field else QPV_NAME_FIELDS
    rows: list[QpvRow] = []
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
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if problem := _geometry_problem(geometry):
            problems.append(problem)
        if problems:
            errors.append(f"{where} : {' ; '.join(problems)}.")
            continue
        seen[code] = index
        clean_geometry = {"type": geometry["type"], "coordinates": geometry["coordinates"]}
        rows.append(
            QpvRow(
                code=code,
                name=name[: PriorityArea._meta.get_field("name").max_length],
                geometry=clean_geometry,
                bbox=geometry_bbox(clean_geometry),
            )
        )
    return rows, errors


def write_qpv(rows: list[QpvRow], *, programme: Programme | None = None) -> ImportSummary:
    """Upsert the areas by code; with ``programme``, make its set of areas exactly ``rows``."""
    summary = ImportSummary()
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

    Raises :class:`ImportValidationError` (and writes nothing) when any feature is invalid.
    """
    programme = _programme(programme)
    rows, errors = parse_qpv_geojson(path, code_field=code_field, name_field=name_field)
    if errors:
        raise ImportValidationError(errors)
    with transaction.atomic():
        summary = write_qpv(rows, programme=programme)
        _record("territories.qpv_imported", summary, by=by, programme=programme, source=Path(path).name)
        if dry_run:
            transaction.set_rollback(True)
    return summary


# --------------------------------------------------------------------------------------------------
# Schools (Annuaire de l'éducation, CSV)


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


SCHOOL_COLUMNS: dict[str, tuple[str, ...]] = {
    "uai": ("identifiant_de_l_etablissement", "uai", "numero_uai"),
    "name": ("nom_etablissement", "appellation_officielle"),
    "type": ("type_etablissement",),
    "priority": ("appartenance_education_prioritaire",),
    "commune_code": ("code_commune",),
    "latitude": ("latitude",),
    "longitude": ("longitude",),
    "maternelle": ("ecole_maternelle",),
    "elementaire": ("ecole_elementaire",),
}
SCHOOL_REQUIRED = ("uai", "name", "type", "priority", "commune_code")

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


def school_kind(type_etablissement: str, maternelle: bool, elementaire: bool) -> str:
    """The kind of an establishment from its type and, for an *école*, its maternelle/élémentaire flags."""
    folded = header_key(type_etablissement)
    if folded == "ecole" or folded.startswith("ecole_"):
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


def _coordinate(value: str, low: float, high: float) -> float | None:
    if not value:
        return None
    number = float(value.replace(",", "."))
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError
    return number


def _parse_school(line: int, values: dict[str, str]) -> tuple[SchoolRow | None, list[str]]:
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
    flags = {}
    for column in ("maternelle", "elementaire"):
        flags[column] = _flag(values.get(column, ""))
        if flags[column] is None:
            problems.append(
                _("valeur « %(value)s » inattendue dans %(column)s (0 ou 1 attendu)")
                % {"value": values[column], "column": SCHOOL_COLUMNS[column][0]}
            )
    priority = _PRIORITY.get(re.sub(r"\s+", "", values["priority"].casefold()))
    if priority is None:
        problems.append(
            _("éducation prioritaire « %(value)s » inconnue (REP, REP+ ou vide attendu)")
            % {"value": values["priority"]}
        )
    commune_code = values["commune_code"].upper()
    if commune_code and not INSEE_RE.match(commune_code):
        problems.append(_("code commune « %(code)s » invalide") % {"code": values["commune_code"]})
    coordinates = {}
    for column, (low, high) in (("latitude", (-90.0, 90.0)), ("longitude", (-180.0, 180.0))):
        try:
            coordinates[column] = _coordinate(values.get(column, ""), low, high)
        except ValueError:
            problems.append(
                _("%(column)s « %(value)s » invalide") % {"column": column, "value": values[column]}
            )
    if not problems and (coordinates["latitude"] is None) != (coordinates["longitude"] is None):
        problems.append(_("latitude et longitude doivent être renseignées ensemble"))
    if problems:
        return None, problems
    return (
        SchoolRow(
            line=line,
            uai=uai,
            name=name,
            kind=school_kind(values["type"], bool(flags["maternelle"]), bool(flags["elementaire"])),
            priority_education=priority,
            commune_code=commune_code,
            latitude=coordinates["latitude"],
            longitude=coordinates["longitude"],
        ),
        [],
    )


def parse_schools_csv(
    path: str | Path, *, communes: Iterable[str] | None = None
) -> tuple[list[SchoolRow], list[str], ImportSummary]:
    """Validate an *Annuaire de l'éducation* export; keep only ``communes`` (INSEE codes) when given.

    Rows outside ``communes`` are skipped before validation. A UAI repeated in the file (the national
    directory has a few) keeps its first row; the others are counted as skipped, with a warning.
    Returns ``(rows, errors, summary)``, the summary holding the skipped count and warnings.
    """
    keep = {code.strip().upper() for code in communes} if communes else None
    errors: list[str] = []
    summary = ImportSummary()
    rows: list[SchoolRow] = []
    first_line: dict[str, int] = {}
    for line, values in _csv_rows(path, SCHOOL_COLUMNS, SCHOOL_REQUIRED, errors):
        if keep is not None and values["commune_code"].upper() not in keep:
            summary.skipped += 1
            continue
        row, problems = _parse_school(line, values)
        if problems:
            errors.append(
                _("Ligne %(line)d : %(problems)s.") % {"line": line, "problems": " ; ".join(problems)}
            )
            continue
        if row.uai in first_line:
            summary.skipped += 1
            summary.warnings.append(
                _("Ligne %(line)d : UAI %(uai)s déjà lu ligne %(first)d, ligne ignorée.")
                % {"line": line, "uai": row.uai, "first": first_line[row.uai]}
            )
            continue
        first_line[row.uai] = line
        rows.append(row)
    return rows, errors, summary


_SCHOOL_FIELDS = ("name", "kind", "priority_education", "commune_code", "commune_id", "latitude", "longitude")


def write_schools(rows: list[SchoolRow], summary: ImportSummary | None = None) -> ImportSummary:
    """Upsert schools by UAI in bulk (a fixed number of queries per batch, none per row)."""
    summary = summary or ImportSummary()
    now = timezone.now()
    with transaction.atomic():
        existing: dict[str, dict[str, Any]] = {}
        for chunk in _chunks([row.uai for row in rows]):
            for values in School.objects.filter(uai__in=chunk).values("pk", "uai", *_SCHOOL_FIELDS):
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
            elif any(current[name] != value for name, value in wanted.items()):
                to_update.append(
                    School(
                        pk=current["pk"],
                        uai=row.uai,
                        name_normalised=normalise_name(row.name),
                        updated_at=now,
                        **wanted,
                    )
                )
            else:
                summary.unchanged += 1
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
# Communes (CSV)


@dataclass(frozen=True)
class CommuneRow:
    line: int
    insee_code: str
    name: str
    epci_siren: str
    epci_name: str


COMMUNE_COLUMNS: dict[str, tuple[str, ...]] = {
    # The INSEE "composition communale des EPCI" file names them CODGEO, LIBGEO, EPCI, LIBEPCI.
    "insee_code": ("insee_code", "code_insee", "codgeo", "code_commune", "insee_com"),
    "name": ("name", "nom", "libgeo", "nom_commune", "lib_com"),
    "epci_siren": ("epci_siren", "siren_epci", "epci"),
    "epci_name": ("epci_name", "nom_epci", "libepci", "lib_epci"),
}
COMMUNE_REQUIRED = ("insee_code", "name")


def parse_communes_csv(path: str | Path) -> tuple[list[CommuneRow], list[str]]:
    errors: list[str] = []
    rows: list[CommuneRow] = []
    first_line: dict[str, int] = {}
    name_length = Commune._meta.get_field("name").max_length
    epci_name_length = Commune._meta.get_field("epci_name").max_length
    for line, values in _csv_rows(path, COMMUNE_COLUMNS, COMMUNE_REQUIRED, errors):
        problems = []
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
        if problems:
            errors.append(
                _("Ligne %(line)d : %(problems)s.") % {"line": line, "problems": " ; ".join(problems)}
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
            )
        )
    return rows, errors


def write_communes(rows: list[CommuneRow]) -> ImportSummary:
    """Upsert communes by INSEE code, then attach the schools already imported with those codes."""
    summary = ImportSummary()
    now = timezone.now()
    fields = ("name", "epci_siren", "epci_name")
    with transaction.atomic():
        existing: dict[str, Commune] = {}
        for chunk in _chunks([row.insee_code for row in rows]):
            existing.update({c.insee_code: c for c in Commune.objects.filter(insee_code__in=chunk)})
        to_create, to_update = [], []
        for row in rows:
            commune = existing.get(row.insee_code)
            if commune is None:
                to_create.append(Commune(insee_code=row.insee_code, **{f: getattr(row, f) for f in fields}))
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
    rows, errors = parse_communes_csv(path)
    if errors:
        raise ImportValidationError(errors)
    with transaction.atomic():
        summary = write_communes(rows)
        _record("territories.communes_imported", summary, by=by, source=Path(path).name)
        if dry_run:
            transaction.set_rollback(True)
    return summary


DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_COMMUNES = DATA_DIR / "communes_demo.csv"
DEMO_QPV = DATA_DIR / "qpv_demo.geojson"
DEMO_SCHOOLS = DATA_DIR / "schools_demo.csv"
