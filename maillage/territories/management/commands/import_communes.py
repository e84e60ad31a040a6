"""Import a communes CSV (INSEE code, name, EPCI) — all or nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from maillage.territories.importers import ImportValidationError, import_communes_file
from maillage.territories.management.commands._summary import summary_line


class Command(BaseCommand):
    help = (
        "Importe des communes (colonnes insee_code/code_insee, name/nom, epci_siren, epci_name ; "
        "séparateur « ; » ou « , »). À la moindre erreur, rien n'est importé."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier CSV des communes")
        parser.add_argument("--dry-run", action="store_true", help="vérifier et compter sans rien écrire")

    def handle(self, *args, **options):
        try:
            summary = import_communes_file(options["file"], dry_run=options["dry_run"])
        except ImportValidationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(summary_line(_("Communes"), summary, options["dry_run"])))
