"""Import the INSEE COG communes file (or a code, name, EPCI CSV) — all or nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from maillage.territories.importers import ImportValidationError, import_communes_file
from maillage.territories.management.commands._summary import summary_line, write_report


class Command(BaseCommand):
    help = (
        "Importe les communes du Code officiel géographique de l'INSEE (fichier des communes tel que "
        "publié : TYPECOM, COM, LIBELLE, COMPARENT…) ou un CSV insee_code/name/epci_siren/epci_name "
        "(séparateur « ; » ou « , »). Les communes et arrondissements municipaux sont importés ; les "
        "communes déléguées et associées sont comptées et laissées de côté ; les lignes inutilisables sont "
        "ignorées et listées. Une ligne tronquée fait refuser tout le fichier."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier CSV des communes")
        parser.add_argument("--dry-run", action="store_true", help="vérifier et compter sans rien écrire")

    def handle(self, *args, **options):
        try:
            summary = import_communes_file(options["file"], dry_run=options["dry_run"])
        except ImportValidationError as exc:
            raise CommandError(str(exc)) from exc
        write_report(self, summary)
        self.stdout.write(self.style.SUCCESS(summary_line(_("Communes"), summary, options["dry_run"])))
