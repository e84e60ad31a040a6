"""Import the official QPV contours (GeoJSON, WGS84) — all or nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from maillage.territories.importers import ImportValidationError, import_qpv_file
from maillage.territories.management.commands._summary import programme_line, summary_line, write_report


class Command(BaseCommand):
    help = (
        "Importe les contours des quartiers prioritaires (GeoJSON ou GeoPackage officiels, générations "
        "2015 et 2024, WGS84). Les contours invalides sont réparés et signalés, les entités inutilisables "
        "ignorées et listées ; un contour hors de France ou aux coordonnées inversées fait refuser tout le "
        "fichier."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="FeatureCollection GeoJSON ou GeoPackage (.gpkg) des QPV")
        parser.add_argument(
            "--programme", metavar="SLUG", help="remplacer les QPV de ce programme par ceux du fichier"
        )
        parser.add_argument("--code-field", metavar="X", help="propriété portant le code du QPV")
        parser.add_argument("--name-field", metavar="Y", help="propriété portant le nom du QPV")
        parser.add_argument("--dry-run", action="store_true", help="vérifier et compter sans rien écrire")

    def handle(self, *args, **options):
        try:
            summary = import_qpv_file(
                options["file"],
                options["programme"],
                code_field=options["code_field"],
                name_field=options["name_field"],
                dry_run=options["dry_run"],
            )
        except ImportValidationError as exc:
            raise CommandError(str(exc)) from exc
        write_report(self, summary)
        self.stdout.write(self.style.SUCCESS(summary_line(_("QPV"), summary, options["dry_run"])))
        if options["programme"]:
            self.stdout.write(programme_line(options["programme"], summary))
