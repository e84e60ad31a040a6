import pytest
from django.core.management import CommandError, call_command

from maillage.territories.importers import (
    DEMO_COMMUNES,
    ImportValidationError,
    import_communes_file,
    import_schools_file,
    parse_communes_csv,
)
from maillage.territories.models import Commune, School

pytestmark = pytest.mark.django_db


def write_csv(tmp_path, *lines, header="insee_code;name;epci_siren;epci_name", name="communes.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_the_bundled_demo_file_creates_the_three_communes_of_ville_de_demo(capsys):
    call_command("import_communes", DEMO_COMMUNES)

    communes = {c.insee_code: c for c in Commune.objects.all()}
    assert set(communes) == {"99101", "99102", "99103"}
    assert communes["99101"].name == "Ville de Démo"
    assert {c.epci_siren for c in communes.values()} == {"200099999"}
    assert "3 créé(s)" in capsys.readouterr().out


def test_a_comma_separated_file_with_french_headers_and_quoted_commas_is_read(fixture_path):
    import_communes_file(fixture_path("communes.csv"))

    commune = Commune.objects.get(insee_code="99201")
    assert commune.name == "Fictiville"
    assert commune.epci_name == "Communauté de communes du Pays Fictif, Val et Coteaux"


def test_reimporting_the_same_file_changes_nothing():
    import_communes_file(DEMO_COMMUNES)
    stamps = dict(Commune.objects.values_list("insee_code", "updated_at"))

    summary = import_communes_file(DEMO_COMMUNES)

    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 3)
    assert dict(Commune.objects.values_list("insee_code", "updated_at")) == stamps


def test_a_renamed_commune_is_updated(tmp_path):
    import_communes_file(write_csv(tmp_path, "99101;Ville de Démo;;", name="a.csv"))
    summary = import_communes_file(
        write_csv(tmp_path, "99101;Démo-la-Ville;200099999;CA de Démo", name="b.csv")
    )
    assert summary.updated == 1
    commune = Commune.objects.get()
    assert (commune.name, commune.epci_siren, commune.epci_name) == (
        "Démo-la-Ville",
        "200099999",
        "CA de Démo",
    )


def test_a_bad_insee_code_skips_its_row_with_a_report_line_naming_it(tmp_path, capsys):
    path = write_csv(tmp_path, "99101;Ville de Démo;;", "9910;Erreur;;", "99103;Bourg-lès-Démo;;")

    call_command("import_communes", path)

    assert set(Commune.objects.values_list("insee_code", flat=True)) == {"99101", "99103"}
    report = capsys.readouterr().err
    assert "Ligne 3" in report and "9910" in report


@pytest.mark.parametrize(
    ("line", "problem"),
    [("99101;;;", "nom"), ("99101;A;12345;", "12345"), ("2C001;A;;", "2C001")],
)
def test_each_kind_of_bad_value_is_reported(tmp_path, line, problem):
    rows, errors, summary = parse_communes_csv(write_csv(tmp_path, "99100;Bon;;", line))
    assert errors == [] and len(rows) == 1
    assert len(summary.report) == 1 and "Ligne 3" in summary.report[0] and problem in summary.report[0]


def test_a_repeated_insee_code_keeps_the_first_row_and_reports_the_second(tmp_path):
    rows, errors, summary = parse_communes_csv(write_csv(tmp_path, "99101;A;;", "99101;B;;"))
    assert errors == [] and [row.name for row in rows] == ["A"]
    assert len(summary.report) == 1 and "Ligne 3" in summary.report[0]


def test_a_file_with_more_unusable_rows_than_usable_ones_is_refused(tmp_path):
    path = write_csv(tmp_path, "99101;A;;", "bad1;B;;", "bad2;C;;")
    with pytest.raises(ImportValidationError, match="2 ligne"):
        import_communes_file(path)
    assert Commune.objects.count() == 0


def test_a_missing_name_column_is_an_error_naming_it(tmp_path):
    with pytest.raises(CommandError, match="name"):
        call_command("import_communes", write_csv(tmp_path, "99101", header="insee_code"))


def test_corsican_codes_and_insee_epci_composition_headers_are_accepted(tmp_path):
    path = write_csv(
        tmp_path, "2A004;Ajaccio-Fictif;200099997;CA Fictive", header="CODGEO;LIBGEO;EPCI;LIBEPCI"
    )
    import_communes_file(path)
    assert Commune.objects.get().insee_code == "2A004"


def test_schools_imported_before_their_commune_are_attached_to_it(fixture_path):
    import_schools_file(fixture_path("schools.csv"))
    assert not School.objects.filter(commune__isnull=False).exists()

    summary = import_communes_file(fixture_path("communes.csv"))

    assert summary.linked == 11  # every school of 99201 and 99202; 99299 has no commune
    assert School.objects.get(uai="0992001A").commune.insee_code == "99201"
    assert import_communes_file(fixture_path("communes.csv")).linked == 0
