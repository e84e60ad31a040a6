import json

import pytest
from django.core.management import CommandError, call_command
from shapely.geometry import shape

from maillage.audit.models import AuditEvent
from maillage.territories.geo import locate
from maillage.territories.importers import (
    import_qpv_file,
    parse_qpv_geojson,
    write_qpv,
)
from maillage.territories.models import PriorityArea
from tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


def rect(lon1, lat1, lon2, lat2):
    return [[lon1, lat1], [lon2, lat1], [lon2, lat2], [lon1, lat2], [lon1, lat1]]


def feature(properties, geometry=None):
    geometry = geometry or {"type": "Polygon", "coordinates": [rect(2.0, 46.0, 2.01, 46.01)]}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def write_geojson(tmp_path, data, name="qpv.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_the_2024_file_creates_one_area_per_feature_with_code_name_and_bbox(fixture_path):
    call_command("import_qpv", fixture_path("qpv_2024.geojson"))

    areas = {area.code: area for area in PriorityArea.objects.all()}
    assert set(areas) == {"QN99211M", "QN99212M", "QN99213M"}
    assert areas["QN99211M"].name == "Les Érables"
    assert (areas["QN99211M"].min_lon, areas["QN99211M"].min_lat) == (2.0, 46.0)
    assert (areas["QN99211M"].max_lon, areas["QN99211M"].max_lat) == (2.02, 46.01)
    assert areas["QN99213M"].geometry["type"] == "MultiPolygon"
    assert len(areas["QN99212M"].geometry["coordinates"]) == 2  # outer ring and its hole


def test_imported_contours_are_usable_by_locate(fixture_path):
    import_qpv_file(fixture_path("qpv_2024.geojson"))

    assert locate(46.005, 2.01).code == "QN99211M"
    assert locate(46.02, 2.05) is None  # the hole of La Source
    assert locate(46.04, 2.15).code == "QN99213M"  # second part of Les Deux Rives


def test_the_2015_file_with_upper_case_properties_is_read_too(fixture_path):
    summary = import_qpv_file(fixture_path("qpv_2015.geojson"))

    assert summary.created == 2
    assert PriorityArea.objects.get(code="QP992001").name == "Quartier des Érables"


def test_the_command_prints_a_summary(fixture_path, capsys):
    call_command("import_qpv", fixture_path("qpv_2024.geojson"))
    assert "3 créé(s), 0 mis à jour, 0 inchangé(s)" in capsys.readouterr().out


def test_importing_the_same_file_again_changes_nothing(fixture_path, capsys):
    import_qpv_file(fixture_path("qpv_2024.geojson"))
    stamps = dict(PriorityArea.objects.values_list("code", "updated_at"))

    summary = import_qpv_file(fixture_path("qpv_2024.geojson"))

    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 3)
    assert dict(PriorityArea.objects.values_list("code", "updated_at")) == stamps
    call_command("import_qpv", fixture_path("qpv_2024.geojson"))
    assert "0 créé(s), 0 mis à jour, 3 inchangé(s)" in capsys.readouterr().out


def test_a_changed_name_or_contour_updates_only_that_area(fixture_path, tmp_path):
    import_qpv_file(fixture_path("qpv_2024.geojson"))
    stamps = dict(PriorityArea.objects.values_list("code", "updated_at"))
    data = json.loads(fixture_path("qpv_2024.geojson").read_text(encoding="utf-8"))
    data["features"][0]["properties"]["lib_qp"] = "Les Érables et le Parc"
    data["features"][0]["geometry"]["coordinates"] = [rect(2.0, 46.0, 2.025, 46.01)]

    summary = import_qpv_file(write_geojson(tmp_path, data))

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 2)
    changed = PriorityArea.objects.get(code="QN99211M")
    assert changed.name == "Les Érables et le Parc"
    assert changed.max_lon == 2.025
    assert changed.updated_at > stamps["QN99211M"]
    assert PriorityArea.objects.get(code="QN99212M").updated_at == stamps["QN99212M"]


def test_an_invalid_contour_is_repaired_and_reported_naming_the_feature(fixture_path, capsys):
    call_command("import_qpv", fixture_path("qpv_invalid.geojson"))

    report = capsys.readouterr().err
    assert "n° 2" in report and "QN99222M" in report and "réparé" in report
    assert "QN99221M" not in report  # the valid feature is not blamed
    repaired = PriorityArea.objects.get(code="QN99222M")
    assert shape(repaired.geometry).is_valid and not shape(repaired.geometry).is_empty


def test_a_missing_code_skips_the_feature_with_a_line_naming_it_by_index(tmp_path):
    path = write_geojson(
        tmp_path,
        collection(
            feature({"code_qp": "QN99231M", "lib_qp": "A"}),
            feature({"code_qp": "QN99232M", "lib_qp": "B"}),
            feature({"lib_qp": "Sans code"}),
        ),
    )

    rows, errors, summary = parse_qpv_geojson(path)

    assert errors == [] and len(rows) == 2
    assert len(summary.report) == 1
    assert "n° 3" in summary.report[0] and "code" in summary.report[0]
    assert import_qpv_file(path).created == 2


def test_a_missing_name_is_reported_naming_the_feature_and_its_code(tmp_path):
    _rows, _errors, summary = parse_qpv_geojson(
        collection(feature({"code_qp": "QN99230M", "lib_qp": "A"}), feature({"code_qp": "QN99231M"}))
    )
    assert len(summary.report) == 1 and "n° 2" in summary.report[0] and "QN99231M" in summary.report[0]


def test_a_point_geometry_is_left_aside(tmp_path):
    point = {"type": "Point", "coordinates": [2.0, 46.0]}
    _rows, _errors, summary = parse_qpv_geojson(
        collection(
            feature({"code_qp": "QN99230M", "lib_qp": "A"}),
            feature({"code_qp": "QN99231M", "lib_qp": "A"}, point),
        )
    )
    assert len(summary.report) == 1 and "Point" in summary.report[0] and "QN99231M" in summary.report[0]


def test_coordinates_outside_wgs84_are_refused_as_probably_lambert_93():
    lambert = {"type": "Polygon", "coordinates": [rect(650000, 6860000, 651000, 6861000)]}
    _rows, errors, _summary = parse_qpv_geojson(
        collection(feature({"code_qp": "QN99231M", "lib_qp": "A"}, lambert))
    )
    assert len(errors) == 1 and "WGS84" in errors[0] and "Lambert" in errors[0]


def test_a_file_declaring_another_crs_is_refused():
    data = collection(feature({"code_qp": "QN99231M", "lib_qp": "A"}))
    data["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}}
    _rows, errors, _summary = parse_qpv_geojson(data)
    assert len(errors) == 1 and "2154" in errors[0]


def test_a_code_repeated_in_the_file_keeps_the_first_feature():
    rows, _errors, summary = parse_qpv_geojson(
        collection(
            feature({"code_qp": "QN99231M", "lib_qp": "A"}), feature({"code_qp": "QN99231M", "lib_qp": "B"})
        )
    )
    assert [row.name for row in rows] == ["A"]
    assert len(summary.report) == 1 and "n° 2" in summary.report[0] and "n° 1" in summary.report[0]


def test_a_file_of_mostly_unusable_features_is_refused_listing_each():
    _rows, errors, _summary = parse_qpv_geojson(
        collection(
            feature({"lib_qp": "A"}), feature({"code_qp": "QN99232M"}), feature({"code_qp": "QN99233M"})
        )
    )
    assert "3 ligne(s) inutilisable(s) sur 3" in errors[0]
    assert len(errors) == 4


def test_a_file_that_is_not_a_feature_collection_is_refused(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text("{not json", encoding="utf-8")
    assert parse_qpv_geojson(path)[1]
    assert parse_qpv_geojson({"type": "Feature"})[1]
    assert parse_qpv_geojson(collection())[1]


def test_numeric_codes_are_kept_as_text():
    rows, errors, _summary = parse_qpv_geojson(collection(feature({"code_qp": 75001, "lib_qp": "A"})))
    assert errors == [] and rows[0].code == "75001"


def test_properties_are_matched_case_insensitively_among_known_variants():
    rows, errors, _summary = parse_qpv_geojson(
        collection(
            feature({"Code_QPV": "QN99241M", "Nom_QPV": "Variante"}),
            feature({"CODE_QP": "QP992041", "LIB_QP": "Autre variante"}),
        )
    )
    assert errors == []
    assert [(row.code, row.name) for row in rows] == [
        ("QN99241M", "Variante"),
        ("QP992041", "Autre variante"),
    ]


def test_code_and_name_fields_can_be_given_explicitly(tmp_path):
    path = write_geojson(tmp_path, collection(feature({"identifiant": "QN99251M", "appellation": "Le Clos"})))

    call_command("import_qpv", path, code_field="IDENTIFIANT", name_field="appellation")

    assert PriorityArea.objects.get(code="QN99251M").name == "Le Clos"


def test_with_a_programme_its_areas_become_exactly_the_files_set(fixture_path):
    programme = ProgrammeFactory(slug="pre-fictiville")
    import_qpv_file(fixture_path("qpv_2015.geojson"), programme=programme)
    assert set(programme.priority_areas.values_list("code", flat=True)) == {"QP992001", "QP992002"}

    call_command("import_qpv", fixture_path("qpv_2024.geojson"), programme="pre-fictiville")

    assert set(programme.priority_areas.values_list("code", flat=True)) == {
        "QN99211M",
        "QN99212M",
        "QN99213M",
    }
    # The 2015 areas still exist (another programme may use them); they just left this programme.
    assert PriorityArea.objects.filter(code__startswith="QP992").count() == 2


def test_replacing_a_programmes_areas_leaves_other_programmes_alone(fixture_path):
    ours, theirs = ProgrammeFactory(), ProgrammeFactory()
    import_qpv_file(fixture_path("qpv_2015.geojson"), programme=theirs)

    summary = import_qpv_file(fixture_path("qpv_2024.geojson"), programme=ours)

    assert (summary.programme_added, summary.programme_removed) == (3, 0)
    assert theirs.priority_areas.count() == 2


def test_reimporting_a_programmes_file_changes_nothing(fixture_path):
    programme = ProgrammeFactory()
    import_qpv_file(fixture_path("qpv_2024.geojson"), programme=programme)

    summary = import_qpv_file(fixture_path("qpv_2024.geojson"), programme=programme)

    assert summary.as_dict() == {
        "created": 0,
        "updated": 0,
        "unchanged": 3,
        "skipped": 0,
        "repaired": 0,
        "linked": 0,
        "programme_added": 0,
        "programme_removed": 0,
    }


def test_an_invalid_file_leaves_the_programmes_areas_as_they_were(fixture_path, tmp_path):
    programme = ProgrammeFactory(slug="pre-fictiville")
    import_qpv_file(fixture_path("qpv_2024.geojson"), programme=programme)
    lambert = {"type": "Polygon", "coordinates": [rect(650000, 6860000, 651000, 6861000)]}
    path = write_geojson(tmp_path, collection(feature({"code_qp": "QN99231M", "lib_qp": "A"}, lambert)))

    with pytest.raises(CommandError):
        call_command("import_qpv", path, programme="pre-fictiville")

    assert programme.priority_areas.count() == 3


def test_an_unknown_programme_is_an_error(fixture_path):
    with pytest.raises(CommandError, match="inconnu-au-bataillon"):
        call_command("import_qpv", fixture_path("qpv_2024.geojson"), programme="inconnu-au-bataillon")
    assert PriorityArea.objects.count() == 0


def test_a_dry_run_counts_but_writes_nothing(fixture_path):
    summary = import_qpv_file(fixture_path("qpv_2024.geojson"), dry_run=True)
    assert summary.created == 3
    assert PriorityArea.objects.count() == 0


def test_an_import_that_changes_something_is_journaled_and_a_no_op_is_not(fixture_path):
    programme = ProgrammeFactory()
    import_qpv_file(fixture_path("qpv_2024.geojson"), programme=programme)
    import_qpv_file(fixture_path("qpv_2024.geojson"), programme=programme)

    events = AuditEvent.objects.filter(verb="territories.qpv_imported")
    assert events.count() == 1
    assert events.get().programme_id == programme.pk
    assert events.get().payload["created"] == 3


def test_write_qpv_upserts_validated_rows_directly():
    rows, _errors, _summary = parse_qpv_geojson(
        collection(feature({"code_qp": "QN99261M", "lib_qp": "Direct"}))
    )
    assert write_qpv(rows).created == 1
    assert write_qpv(rows).unchanged == 1
