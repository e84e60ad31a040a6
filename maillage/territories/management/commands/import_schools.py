"""Import the *Annuaire de l'éducation* CSV (Éducation nationale) — all or nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from maillage.territories.importers import ImportValidationError, import_schools_file
from maillage.territories.management.commands._summary import summary_line, write_report


class Command(BaseCommand):
    help = (
        "Importe les établissements scolaires de l'Annuaire de l'éducation ou de son fichier de "
        "géolocalisation (CSV « ; », UTF-8, tel que publié). Les lignes inutilisables sont ignorées et "
        "listées ; une ligne tronquée ou des coordonnées hors de France font refuser tout le fichier."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="export CSV de l'Annuaire de l'éducation")
        parser.add_argument(
            "--commune",
            metavar="INSEE",
            action="append",
            help="ne garder que les établissements de cette commune (option répétable)",
        )
        parser.add_argument("--dry-run", action="store_true", help="vérifier et compter sans rien écrire")

    def handle(self, *args, **options):
        try:
            summary = import_schools_file(
                options["file"], communes=options["commune"], dry_run=options["dry_run"]
            )
        except ImportValidationError as exc:
            raise CommandError(str(exc)) from exc
        write_report(self, summary)
        self.stdout.write(self.style.SUCCESS(summary_line(_("Établissements"), summary, options["dry_run"])))
