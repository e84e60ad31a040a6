"""The importers on the files the administration publishes (tests/data/, see its README), and on the
malformed variants people actually produce from them, generated here from the real files."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook
from shapely.geometry import shape

from maillage.territories.enums import CommuneKind, PriorityEducation, SchoolKind
from maillage.territories.geo import locate
from maillage.territories.importers import (
    ImportValidationError,
    import_communes_file,
    import_qpv_file,
    import_schools_file,
    parse_communes_csv,
    parse_qpv_geojson,
    parse_schools_csv,
)
from maillage.territories.models import Commune, PriorityArea, School

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[1] / "data"
COG_2019 = DATA / "commune2019_35_69.csv"
ANNUAIRE_35 = DATA / "fr-en-annuaire-education_35.csv"
GEOLOCATION_35 = DATA / "fr-en-adresse-et-geolocalisation-etablissements-premier-et-second-degre_35.csv"
QPV_2015_35 = DATA / "qpv2015_35.geojson"
QPV_2015_OCCITANIE = DATA / "qpv2015_occitanie_rounded.geojson"
QPV_2024_35 = DATA / "qpv2024_35.geojson"
QPV_2024_974 = DATA / "qpv2024_974.geojson"

# The UAIs of the nine private higher-education establishments that the real file lists without a type.
UNTYPED_UAIS = {
    "0352813T",
    "0352371M",
    "0352711G",
    "0352767T",
    "0352779F",
    "0352785M",
    "0352719R",
    "0352731D",
    "0352822C",
}


def csv_lines(path: Path) -> list[str]:
    """The physical lines of a real CSV, line ends kept, so that a variant differs by one change."""
    return path.read_text(encoding="utf-8-sig").splitlines(keepends=True)


def write_lines(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("".join(lines), encoding="utf-8")
    return path


def swap_fields(line: str, first: int, second: int, delimiter: str = ";") -> str:
    cells = next(csv.reader([line], delimiter=delimiter))
    cells[first], cells[second] = cells[second], cells[first]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def snapshot() -> dict:
    """Row counts of the reference tables and a sample row of each, to compare before and after."""
    return {
        "communes": Commune.objects.count(),
        "schools": School.objects.count(),
        "areas": PriorityArea.objects.count(),
        "rennes": list(Commune.objects.filter(insee_code="35238").values()),
        "school": list(School.objects.filter(uai="0350122T").values()),
        "villejean": list(PriorityArea.objects.filter(code__in=["QP035002", "QN03502M"]).values()),
    }


@pytest.fixture
def loaded():
    """Every real file imported, as a programme would start; returns the state to compare with."""
    import_communes_file(COG_2019)
    import_schools_file(ANNUAIRE_35)
    import_qpv_file(QPV_2015_35)
    import_qpv_file(QPV_2024_35)
    state = snapshot()
    assert state["communes"] and state["schools"] and state["areas"]
    assert state["rennes"] and state["school"] and len(state["villejean"]) == 2
    return state


# --------------------------------------------------------------------------------------------------
# The real files as published


def test_the_cog_stores_communes_and_arrondissements_and_leaves_delegated_communes_aside(capsys):
    call_command("import_communes", COG_2019)

    rows = list(csv.DictReader(COG_2019.open(encoding="utf-8")))
    by_type = {
        kind: [row for row in rows if row["typecom"] == kind] for kind in ("COM", "ARM", "COMD", "COMA")
    }
    assert Commune.objects.filter(kind=CommuneKind.COMMUNE).count() == len(by_type["COM"])
    assert (
        Commune.objects.filter(kind=CommuneKind.MUNICIPAL_ARRONDISSEMENT).count() == len(by_type["ARM"]) == 9
    )
    lyon_1er = Commune.objects.get(insee_code="69381")
    assert (lyon_1er.name, lyon_1er.parent_code) == ("Lyon 1er Arrondissement", "69123")
    # A delegated commune that kept its parent's code is not a duplicate: the parent is stored once.
    assert Commune.objects.get(insee_code="35004").name == "Val-Couesnon"
    assert not Commune.objects.filter(name="Antrain").exists()
    delegated = len(by_type["COMD"]) + len(by_type["COMA"])
    out = capsys.readouterr()
    assert f"{delegated} commune(s) déléguée(s) ou associée(s)" in out.err
    assert f"{delegated} ignoré(s)" in out.out


def test_the_cog_keeps_the_article_of_the_name_and_a_second_import_changes_nothing():
    import_communes_file(COG_2019)
    assert Commune.objects.get(insee_code="35238").name == "Rennes"
    assert Commune.objects.filter(name__startswith="La ").exists()  # LIBELLE, with its article

    summary = import_communes_file(COG_2019)

    assert (summary.created, summary.updated) == (0, 0)


def test_the_cog_leaves_the_epci_of_communes_alone(tmp_path):
    epci = tmp_path / "epci.csv"
    epci.write_text("CODGEO;LIBGEO;EPCI;LIBEPCI\n35238;Rennes;243500139;Rennes Métropole\n", encoding="utf-8")
    import_communes_file(epci)

    import_communes_file(COG_2019)

    rennes = Commune.objects.get(insee_code="35238")
    assert (rennes.epci_siren, rennes.epci_name, rennes.kind) == ("243500139", "Rennes Métropole", "COM")


def test_the_annuaire_is_imported_with_its_nine_untyped_rows_reported_one_line_each(capsys):
    call_command("import_schools", ANNUAIRE_35)

    report = capsys.readouterr().err.splitlines()
    for uai in UNTYPED_UAIS:
        lines = [line for line in report if uai in line]
        assert len(lines) == 1 and "type d'établissement vide" in lines[0]
    assert not School.objects.filter(uai__in=UNTYPED_UAIS).exists()
    assert School.objects.count() == 996 - 9 - 3  # and three UAIs listed twice keep their first row
    school = School.objects.get(uai="0350122T")
    assert (school.kind, school.commune_code) == (SchoolKind.PRIMAIRE, "35016")
    assert (school.latitude, school.longitude) == (47.98614492070133, -1.9294895003671315)
    assert School.objects.filter(priority_education=PriorityEducation.REP_PLUS).exists()


def test_schools_are_attached_to_the_communes_of_the_cog():
    import_schools_file(ANNUAIRE_35)
    summary = import_communes_file(COG_2019)
    assert summary.linked == School.objects.exclude(commune=None).count() > 900
    assert School.objects.get(uai="0350122T").commune.name == "Baulon"


def test_the_geolocation_companion_updates_positions_and_keeps_the_rep_status():
    import_schools_file(ANNUAIRE_35)
    rep = dict(School.objects.filter(kind=SchoolKind.COLLEGE).values_list("uai", "priority_education"))
    assert PriorityEducation.REP in rep.values()

    summary = import_schools_file(GEOLOCATION_35)

    assert summary.created + summary.updated + summary.unchanged == 117
    assert dict(School.objects.filter(uai__in=rep).values_list("uai", "priority_education")) == rep
    assert School.objects.get(uai="0350017D").kind == SchoolKind.COLLEGE


def test_the_geolocation_companion_alone_creates_the_colleges():
    assert import_schools_file(GEOLOCATION_35).created == 117
    assert set(School.objects.values_list("kind", flat=True)) == {SchoolKind.COLLEGE}


def test_the_2015_contours_of_ille_et_vilaine_are_imported_and_locate_a_school():
    summary = import_qpv_file(QPV_2015_35)

    assert (summary.created, summary.repaired, summary.skipped) == (7, 0, 0)
    maurepas = PriorityArea.objects.get(code="QP035004")
    point = shape(maurepas.geometry).representative_point()
    assert locate(point.y, point.x).code == "QP035004"


def test_the_2024_contours_are_imported_with_the_self_intersecting_one_repaired(capsys):
    call_command("import_qpv", QPV_2024_35)

    assert PriorityArea.objects.count() == 6
    decouverte = PriorityArea.objects.get(code="QN03501I")
    assert shape(decouverte.geometry).is_valid
    report = capsys.readouterr().err
    assert "QN03501I" in report and "réparé" in report
    assert PriorityArea.objects.get(code="QN03502M").name == "Villejean"


def test_the_overseas_contours_of_la_reunion_are_in_france():
    summary = import_qpv_file(QPV_2024_974)
    assert summary.created == 57
    assert PriorityArea.objects.filter(min_lat__lt=-20).count() == 57


def test_a_regional_copy_with_rounded_coordinates_imports_with_its_32_contours_repaired():
    rows, errors, summary = parse_qpv_geojson(QPV_2015_OCCITANIE)

    assert errors == []
    assert (len(rows), summary.repaired, summary.skipped) == (105, 32, 0)
    assert all(shape(row.geometry).is_valid for row in rows)
    assert len(summary.report) == 32 and all("Entité n°" in line for line in summary.report)
    assert import_qpv_file(QPV_2015_OCCITANIE).created == 105
    # Repaired contours are stored as repaired: a second import finds nothing to change.
    assert import_qpv_file(QPV_2015_OCCITANIE).unchanged == 105


def test_every_importer_has_a_dry_run_that_writes_nothing(capsys):
    call_command("import_communes", COG_2019, dry_run=True)
    call_command("import_schools", ANNUAIRE_35, dry_run=True)
    call_command("import_qpv", QPV_2024_35, dry_run=True)

    assert (Commune.objects.count(), School.objects.count(), PriorityArea.objects.count()) == (0, 0, 0)
    assert capsys.readouterr().out.count("simulation") == 3


# --------------------------------------------------------------------------------------------------
# Malformed variants of the real files: one line naming the row or feature, nothing changed


def test_a_truncated_annuaire_is_refused_naming_the_cut_row_and_changes_nothing(loaded, tmp_path):
    lines = csv_lines(ANNUAIRE_35)
    cut = lines[:500] + [lines[500][: len(lines[500]) // 3]]  # the transfer stopped in row 501
    path = write_lines(tmp_path, "annuaire-coupe.csv", cut)

    with pytest.raises(ImportValidationError) as error:
        import_schools_file(path)

    assert len(error.value.errors) == 1
    assert error.value.errors[0].startswith("Ligne 501 :") and "tronquée" in error.value.errors[0]
    assert snapshot() == loaded


def test_a_truncated_cog_is_refused_naming_the_cut_row_and_changes_nothing(loaded, tmp_path):
    lines = csv_lines(COG_2019)
    path = write_lines(tmp_path, "cog-coupe.csv", lines[:100] + [lines[100][:20]])

    with pytest.raises(CommandError) as error:
        call_command("import_communes", path)

    assert "Ligne 101 :" in str(error.value) and "tronquée" in str(error.value)
    assert snapshot() == loaded


def test_an_annuaire_row_with_latitude_and_longitude_swapped_is_refused_naming_it(loaded, tmp_path):
    lines = csv_lines(ANNUAIRE_35)
    header = next(csv.reader([lines[0]], delimiter=";"))
    lines[1] = swap_fields(lines[1], header.index("latitude"), header.index("longitude"))
    path = write_lines(tmp_path, "annuaire-inverse.csv", lines)

    _rows, errors, _summary = parse_schools_csv(path)

    assert len(errors) == 1
    assert errors[0].startswith("Ligne 2 (UAI 0350122T)") and "inversées" in errors[0]
    with pytest.raises(ImportValidationError):
        import_schools_file(path)
    assert snapshot() == loaded


def test_an_annuaire_row_outside_france_is_refused_naming_it(loaded, tmp_path):
    lines = csv_lines(ANNUAIRE_35)
    lines[3] = lines[3].replace("48.05441609195637", "2.05441609195637")  # a latitude off the Gulf of Guinea
    path = write_lines(tmp_path, "annuaire-hors-france.csv", lines)

    with pytest.raises(ImportValidationError) as error:
        import_schools_file(path)

    assert len(error.value.errors) == 1 and error.value.errors[0].startswith("Ligne 4 (UAI 0350192U)")
    assert "hors de France" in error.value.errors[0]
    assert snapshot() == loaded


def swapped(geometry: dict) -> dict:
    def flip(value):
        if value and isinstance(value[0], int | float):
            return [value[1], value[0], *value[2:]]
        return [flip(item) for item in value]

    return {"type": geometry["type"], "coordinates": flip(geometry["coordinates"])}


def test_a_qpv_file_written_latitude_first_is_refused_naming_the_feature(loaded, tmp_path):
    data = json.loads(QPV_2024_35.read_text(encoding="utf-8"))
    for feature in data["features"]:
        feature["geometry"] = swapped(feature["geometry"])
    path = tmp_path / "qpv-inverse.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(CommandError) as error:
        call_command("import_qpv", path)

    message = str(error.value)
    assert "Entité n° 1 (code QN03501I) : latitude et longitude inversées" in message
    assert "métropole" in message
    assert snapshot() == loaded


def test_one_swapped_qpv_feature_is_enough_to_refuse_the_file(loaded, tmp_path):
    data = json.loads(QPV_2015_35.read_text(encoding="utf-8"))
    data["features"][2]["geometry"] = swapped(data["features"][2]["geometry"])
    path = tmp_path / "qpv-une-inversee.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")

    _rows, errors, _summary = parse_qpv_geojson(path)

    assert len(errors) == 1 and errors[0].startswith("Entité n° 3 (code QP035003)")
    with pytest.raises(ImportValidationError):
        import_qpv_file(path)
    assert snapshot() == loaded


def test_a_self_intersecting_contour_made_from_a_real_one_is_repaired_and_reported(loaded, tmp_path):
    data = json.loads(QPV_2015_35.read_text(encoding="utf-8"))
    ring = data["features"][1]["geometry"]["coordinates"][0][0]  # Maurepas, outer ring
    middle = len(ring) // 2
    ring[1], ring[middle] = ring[middle], ring[1]  # two far vertices exchanged: the ring crosses itself
    assert not shape(data["features"][1]["geometry"]).is_valid
    path = tmp_path / "qpv-noeud.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")

    summary = import_qpv_file(path)

    assert summary.repaired == 1 and summary.report[0].startswith("Entité n° 2 (code QP035004)")
    assert shape(PriorityArea.objects.get(code="QP035004").geometry).is_valid


@pytest.mark.parametrize("command", ["import_communes", "import_schools", "import_qpv"])
def test_a_directory_given_as_the_file_is_a_clear_error(loaded, tmp_path, command):
    with pytest.raises(CommandError) as error:
        call_command(command, tmp_path)

    assert "est un dossier" in str(error.value)
    assert snapshot() == loaded


def xlsx_from(path: Path, target: Path) -> Path:
    """The real file as a coordinator would resave it from a spreadsheet: an XLSX workbook."""
    workbook = Workbook()
    sheet = workbook.active
    delimiter = ";" if path.suffix == ".csv" and ";" in path.read_text(encoding="utf-8-sig")[:500] else ","
    if path.suffix == ".csv":
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=delimiter):
            sheet.append(row)
    else:
        sheet.append(["geojson"])
    workbook.save(target)
    return target


@pytest.mark.parametrize(
    ("command", "source", "name"),
    [
        ("import_communes", COG_2019, "communes.xlsx"),
        ("import_schools", ANNUAIRE_35, "annuaire.xlsx"),
        ("import_qpv", QPV_2024_35, "qpv.geojson"),  # a workbook renamed: the content tells
    ],
)
def test_a_spreadsheet_given_as_the_file_is_a_clear_error(loaded, tmp_path, command, source, name):
    path = xlsx_from(source, tmp_path / name)

    with pytest.raises(CommandError) as error:
        call_command(command, path)

    assert "classeur" in str(error.value) and "UTF-8" not in str(error.value).split("classeur")[0]
    assert snapshot() == loaded


def test_cog_rows_with_an_empty_type_are_skipped_one_line_each(tmp_path):
    lines = csv_lines(COG_2019)
    lines[1] = lines[1].replace("COM,", ",", 1)  # Acigné, 35001
    lines[2] = lines[2].replace("COM,", ",", 1)  # Amanlis, 35002
    path = write_lines(tmp_path, "cog-sans-type.csv", lines)

    rows, errors, summary = parse_communes_csv(path)

    assert errors == []
    empty = [line for line in summary.report if "TYPECOM" in line and "vide" in line]
    assert [line.split(" (")[0] for line in empty] == ["Ligne 2", "Ligne 3"]
    assert "35001" in empty[0] and "35002" in empty[1]
    import_communes_file(path)
    assert not Commune.objects.filter(insee_code__in=["35001", "35002"]).exists()
    assert Commune.objects.filter(insee_code="35003").exists()


def geopackage_from(geojson: Path, target: Path, srs_id: int = 4326) -> Path:
    """The real GeoJSON written as a GeoPackage, the format of the ANCT's 2024 release
    (``QP2024_France_Hexagonale_Outre_Mer_WGS84.gpkg``): the layer's rows, each geometry as a
    GeoPackage blob (``GP`` header, envelope, WKB)."""
    import sqlite3
    import struct

    from shapely import to_wkb

    data = json.loads(geojson.read_text(encoding="utf-8"))
    with sqlite3.connect(target) as database:
        database.executescript(
            """
            CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY, organization TEXT,
                organization_coordsys_id INTEGER, definition TEXT, description TEXT);
            CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, identifier TEXT);
            CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, geometry_type_name TEXT,
                srs_id INTEGER, z INTEGER, m INTEGER);
            CREATE TABLE qp_2024 (
                fid INTEGER PRIMARY KEY, geom BLOB, code_qp TEXT, lib_qp TEXT, insee_com TEXT
            );
            """
        )
        database.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, 'EPSG', ?, 'undefined', '')",
            (f"EPSG:{srs_id}", srs_id, srs_id),
        )
        database.execute("INSERT INTO gpkg_contents VALUES ('qp_2024', 'features', 'qp_2024')")
        database.execute(
            "INSERT INTO gpkg_geometry_columns VALUES ('qp_2024', 'geom', 'MULTIPOLYGON', ?, 0, 0)", (srs_id,)
        )
        for feature in data["features"]:
            geometry = shape(feature["geometry"])
            min_x, min_y, max_x, max_y = geometry.bounds
            header = b"GP" + bytes([0, 0b011]) + struct.pack("<i4d", srs_id, min_x, max_x, min_y, max_y)
            properties = feature["properties"]
            database.execute(
                "INSERT INTO qp_2024 (geom, code_qp, lib_qp, insee_com) VALUES (?, ?, ?, ?)",
                (
                    header + to_wkb(geometry),
                    properties["code_qp"],
                    properties["lib_qp"],
                    properties["insee_com"],
                ),
            )
    return target


def test_the_2024_contours_as_a_geopackage_are_imported_like_the_geojson(tmp_path):
    path = geopackage_from(QPV_2024_35, tmp_path / "QP2024_France_Hexagonale_Outre_Mer_WGS84.gpkg")

    summary = import_qpv_file(path)

    assert (summary.created, summary.repaired) == (6, 1)
    assert PriorityArea.objects.get(code="QN03502M").name == "Villejean"
    assert import_qpv_file(QPV_2024_35).unchanged == 6  # the same contours as the GeoJSON's


def test_a_lambert_93_geopackage_is_refused_naming_its_projection(tmp_path):
    path = geopackage_from(QPV_2024_35, tmp_path / "QP2024_France_hexagonale_LB93.gpkg", srs_id=2154)

    with pytest.raises(CommandError, match="2154"):
        call_command("import_qpv", path)
    assert PriorityArea.objects.count() == 0
