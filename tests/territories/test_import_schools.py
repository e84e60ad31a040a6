import pytest
from django.core.management import CommandError, call_command

from maillage.territories.enums import PriorityEducation, SchoolKind
from maillage.territories.importers import (
    ImportValidationError,
    import_schools_file,
    parse_schools_csv,
    school_kind,
)
from maillage.territories.models import School
from tests.factories import CommuneFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "identifiant_de_l_etablissement;nom_etablissement;type_etablissement;code_commune;"
    "ecole_maternelle;ecole_elementaire;appartenance_education_prioritaire;latitude;longitude"
)


def write_csv(tmp_path, *lines, header=HEADER, name="annuaire.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_the_field_name_export_creates_every_school(fixture_path):
    call_command("import_schools", fixture_path("schools.csv"))
    assert School.objects.count() == 12


def test_each_school_gets_its_kind_priority_commune_code_and_position(fixture_path):
    import_schools_file(fixture_path("schools.csv"))
    schools = {school.uai: school for school in School.objects.all()}

    assert schools["0992001A"].kind == SchoolKind.MATERNELLE
    assert schools["0992002B"].kind == SchoolKind.ELEMENTAIRE
    assert schools["0992003C"].kind == SchoolKind.PRIMAIRE
    assert schools["0992004D"].kind == SchoolKind.COLLEGE
    assert schools["0992005E"].kind == SchoolKind.LYCEE
    assert schools["0992006F"].kind == SchoolKind.LYCEE  # a lycée professionnel is a lycée
    assert schools["0992011L"].kind == SchoolKind.OTHER  # EREA
    assert schools["0992001A"].priority_education == PriorityEducation.REP_PLUS
    assert schools["0992003C"].priority_education == PriorityEducation.REP
    assert schools["0992005E"].priority_education == PriorityEducation.NONE
    assert schools["0992001A"].name == "École maternelle Les Érables"
    assert schools["0992001A"].name_normalised == "ecole maternelle les erables"
    assert schools["0992001A"].commune_code == "99201"
    assert (schools["0992001A"].latitude, schools["0992001A"].longitude) == (46.005, 2.01)
    assert (schools["0992010K"].latitude, schools["0992010K"].longitude) == (None, None)


def test_the_label_export_with_capitalised_headers_and_a_bom_is_read_the_same_way(fixture_path):
    summary = import_schools_file(fixture_path("schools_labels.csv"))

    assert summary.created == 4
    school = School.objects.get(uai="0992001A")
    assert (school.kind, school.priority_education, school.commune_code) == ("maternelle", "REP+", "99201")


def test_schools_are_linked_to_their_commune_when_it_exists(fixture_path):
    fictiville = CommuneFactory(insee_code="99201", name="Fictiville")

    import_schools_file(fixture_path("schools.csv"))

    assert School.objects.get(uai="0992001A").commune == fictiville
    assert School.objects.get(uai="0992007G").commune is None  # 99202 is not in the database
    assert School.objects.get(uai="0992007G").commune_code == "99202"


def test_a_bad_uai_skips_its_row_with_a_report_line_naming_it(fixture_path, capsys):
    call_command("import_schools", fixture_path("schools_bad.csv"))

    report = capsys.readouterr().err
    assert "Ligne 5" in report and "992004D" in report
    assert School.objects.count() == 5  # the five good rows of the file


def test_without_the_priority_column_existing_schools_keep_their_rep_status(fixture_path, capsys):
    import_schools_file(fixture_path("schools.csv"))

    call_command("import_schools", fixture_path("schools_missing_column.csv"))

    assert "appartenance_education_prioritaire" in capsys.readouterr().err
    assert School.objects.get(uai="0992001A").priority_education == "REP+"


def test_a_missing_required_column_is_an_error_naming_it(tmp_path):
    path = write_csv(
        tmp_path,
        "0992101A;Ecole;99201",
        header="identifiant_de_l_etablissement;type_etablissement;code_commune",
    )
    with pytest.raises(CommandError, match="nom_etablissement"):
        call_command("import_schools", path)
    assert School.objects.count() == 0


def test_reimporting_the_same_file_changes_nothing(fixture_path, capsys):
    CommuneFactory(insee_code="99201")
    import_schools_file(fixture_path("schools.csv"))
    stamps = dict(School.objects.values_list("uai", "updated_at"))

    summary = import_schools_file(fixture_path("schools.csv"))

    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 12)
    assert dict(School.objects.values_list("uai", "updated_at")) == stamps
    call_command("import_schools", fixture_path("schools.csv"))
    assert "0 créé(s), 0 mis à jour, 12 inchangé(s)" in capsys.readouterr().out


def test_a_changed_row_updates_only_that_school(tmp_path):
    first = write_csv(
        tmp_path,
        "0992101A;École A;Ecole;99201;1;0;;46.0;2.0",
        "0992102B;Collège B;Collège;99201;;;REP;46.1;2.1",
        name="first.csv",
    )
    import_schools_file(first)
    stamps = dict(School.objects.values_list("uai", "updated_at"))
    second = write_csv(
        tmp_path,
        "0992101A;École A;Ecole;99201;1;0;;46.0;2.0",
        "0992102B;Collège Berthe Morisot;Collège;99201;;;REP+;46.1;2.1",
        name="second.csv",
    )

    summary = import_schools_file(second)

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    changed = School.objects.get(uai="0992102B")
    assert (changed.name, changed.name_normalised, changed.priority_education) == (
        "Collège Berthe Morisot",
        "college berthe morisot",
        "REP+",
    )
    assert changed.updated_at > stamps["0992102B"]
    assert School.objects.get(uai="0992101A").updated_at == stamps["0992101A"]


def test_only_the_requested_communes_are_kept(fixture_path):
    summary = import_schools_file(fixture_path("schools.csv"), communes=["99202"])

    assert set(School.objects.values_list("commune_code", flat=True)) == {"99202"}
    assert summary.created == 5
    assert summary.skipped == 7


def test_the_commune_option_can_be_repeated(fixture_path):
    call_command("import_schools", fixture_path("schools.csv"), commune=["99201", "99299"])
    assert set(School.objects.values_list("commune_code", flat=True)) == {"99201", "99299"}


def test_a_bad_row_outside_the_requested_communes_does_not_block_the_import(fixture_path):
    import_schools_file(fixture_path("schools_bad.csv"), communes=["99999"])
    assert School.objects.count() == 0  # nothing kept, and no error


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("0992101A;;Ecole;99201;1;0;;46.0;2.0", "nom"),
        ("0992101A;École A;Ecole;99201;1;0;REP++;46.0;2.0", "REP++"),
        ("0992101A;École A;Ecole;9920;1;0;;46.0;2.0", "9920"),
        ("0992101A;École A;Ecole;99201;oui-non;0;;46.0;2.0", "oui-non"),
        ("0992101A;École A;Ecole;99201;1;0;;quarante;2.0", "quarante"),
        ("0992101A;École A;Ecole;99201;1;0;;46.0;", "ensemble"),
        ("0992101A;École A;;99201;1;0;;46.0;2.0", "type"),
        ("099210A;École A;Ecole;99201;1;0;;46.0;2.0", "099210A"),
    ],
)
def test_each_kind_of_unusable_row_is_skipped_with_a_line_naming_it(tmp_path, line, problem):
    path = write_csv(tmp_path, "0992100Z;École Z;Ecole;99201;1;0;;46.0;2.0", line)

    rows, errors, summary = parse_schools_csv(path)

    assert errors == [] and [row.uai for row in rows] == ["0992100Z"]
    assert len(summary.report) == 1
    assert summary.report[0].startswith("Ligne 3")
    assert problem in summary.report[0]
    import_schools_file(path)
    assert list(School.objects.values_list("uai", flat=True)) == ["0992100Z"]


def test_a_latitude_outside_france_refuses_the_file_naming_its_line(tmp_path):
    path = write_csv(
        tmp_path, "0992100Z;École Z;Ecole;99201;1;0;;46.0;2.0", "0992101A;A;Ecole;99201;1;0;;146.0;2.0"
    )

    _rows, errors, _summary = parse_schools_csv(path)

    assert len(errors) == 1 and errors[0].startswith("Ligne 3") and "146.0" in errors[0]
    with pytest.raises(ImportValidationError):
        import_schools_file(path)
    assert School.objects.count() == 0


def test_a_file_with_more_unusable_rows_than_usable_ones_is_refused_listing_them(tmp_path):
    path = write_csv(
        tmp_path, "bad1;A;Ecole;99201;1;0;;;", "0992101A;B;Ecole;99201;1;0;;;", "bad2;C;Ecole;99201;1;0;;;"
    )
    _rows, errors, _summary = parse_schools_csv(path)
    assert "2 ligne(s) inutilisable(s) sur 3" in errors[0]
    assert [error.split(" (")[0] for error in errors[1:]] == ["Ligne 2", "Ligne 4"]
    with pytest.raises(ImportValidationError):
        import_schools_file(path)
    assert School.objects.count() == 0


def test_lower_case_uai_rep_plus_spelling_corsican_communes_and_decimal_commas_are_accepted(tmp_path):
    path = write_csv(tmp_path, '0992101a;École A;Ecole;2A004;1;1;rep +;"41,9";"8,7"')

    import_schools_file(path)

    school = School.objects.get()
    assert (school.uai, school.priority_education, school.commune_code) == ("0992101A", "REP+", "2A004")
    assert (school.latitude, school.longitude) == (41.9, 8.7)


def test_a_comma_separated_file_is_accepted_too(tmp_path):
    path = write_csv(tmp_path, "0992101A,École A,Ecole,99201,1,0,REP,,", header=HEADER.replace(";", ","))
    import_schools_file(path)
    assert School.objects.get().priority_education == "REP"


def test_unknown_columns_are_ignored_and_optional_columns_may_be_absent(tmp_path):
    path = write_csv(
        tmp_path,
        "0992101A;Ecole;École A;99201;;telephone-inconnu",
        header="identifiant_de_l_etablissement;type_etablissement;nom_etablissement;code_commune;"
        "appartenance_education_prioritaire;colonne_inconnue",
    )
    import_schools_file(path)
    school = School.objects.get()
    assert (school.name, school.kind, school.latitude) == ("École A", SchoolKind.PRIMAIRE, None)


def test_a_uai_repeated_in_the_file_keeps_its_first_row_with_a_warning(tmp_path):
    path = write_csv(
        tmp_path, "0992101A;École A;Ecole;99201;1;0;;;", "0992101A;École A bis;Ecole;99201;1;0;;;"
    )

    summary = import_schools_file(path)

    assert School.objects.get().name == "École A"
    assert summary.skipped == 1
    assert "Ligne 3" in summary.report[0]


def test_a_file_that_is_not_utf8_is_refused_clearly(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\n0992101A;École A;Ecole;99201;1;0;;;\n").encode("latin-1"))
    with pytest.raises(ImportValidationError, match="UTF-8"):
        import_schools_file(path)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="introuvable"):
        call_command("import_schools", tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("type_etablissement", "maternelle", "elementaire", "kind"),
    [
        ("Ecole", True, False, SchoolKind.MATERNELLE),
        ("Ecole", False, True, SchoolKind.ELEMENTAIRE),
        ("Ecole", True, True, SchoolKind.PRIMAIRE),
        ("École", False, False, SchoolKind.PRIMAIRE),
        ("Collège", False, False, SchoolKind.COLLEGE),
        ("COLLEGE", False, False, SchoolKind.COLLEGE),
        ("Lycée", False, False, SchoolKind.LYCEE),
        ("Lycée professionnel", False, False, SchoolKind.LYCEE),
        ("EREA", False, False, SchoolKind.OTHER),
        ("Médico-social", False, False, SchoolKind.OTHER),
        ("Information et orientation", False, False, SchoolKind.OTHER),
    ],
)
def test_the_kind_follows_the_type_and_the_maternelle_elementaire_flags(
    type_etablissement, maternelle, elementaire, kind
):
    assert school_kind(type_etablissement, maternelle, elementaire) == kind


def test_a_large_file_is_imported_in_batches_not_one_query_per_row(tmp_path, django_assert_max_num_queries):
    # SQLite caps a batch at 999 bound parameters, so a batch holds ~80 schools: 3,000 rows take
    # a few dozen queries, where one query per row would take thousands.
    lines = [f"{index:07d}A;École {index};Ecole;99201;1;0;REP;46.0;2.0" for index in range(3000)]
    path = write_csv(tmp_path, *lines)
    CommuneFactory(insee_code="99201")

    with django_assert_max_num_queries(100):
        summary = import_schools_file(path)
    assert summary.created == 3000

    changed = [line.replace(";REP;", ";REP+;") if i % 2 else line for i, line in enumerate(lines)]
    with django_assert_max_num_queries(100):
        summary = import_schools_file(write_csv(tmp_path, *changed, name="again.csv"))
    assert (summary.updated, summary.unchanged) == (1500, 1500)


def test_an_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "vide.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ImportValidationError, match="vide"):
        import_schools_file(path)
