"""Back up the database and the uploaded files, with a manifest of checksums — never the keys."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from maillage.operations.backups import BackupError, backup


class Command(BaseCommand):
    help = (
        "Sauvegarde la base (SQLite : API de sauvegarde ; PostgreSQL : pg_dump au format custom) et les "
        "fichiers joints dans le dossier OUT, avec un manifeste (sommes SHA-256, migrations appliquées, "
        "nombre de lignes de chaque table). Les clés (MAILLAGE_ENCRYPTION_KEYS, MAILLAGE_AUDIT_KEY) n'y "
        "sont jamais : voir docs/operations.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", help="dossier à créer (ou vide) qui recevra la sauvegarde")
        parser.add_argument("--database", default="default", help="alias de la base à sauvegarder")

    def handle(self, *args, **options):
        try:
            manifest = backup(options["out"], using=options["database"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        database = manifest["database"]
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Sauvegarde écrite dans %(out)s : base %(engine)s (%(file)s, %(bytes)d octets), "
                    "%(files)d fichier(s) joint(s), %(tables)d table(s), %(rows)d ligne(s)."
                )
                % {
                    "out": options["out"],
                    "engine": manifest["engine"],
                    "file": database["file"],
                    "bytes": database["bytes"],
                    "files": len(manifest["media"]),
                    "tables": len(manifest["tables"]),
                    "rows": sum(manifest["tables"].values()),
                }
            )
        )
        self.stdout.write(
            _(
                "Les clés ne sont pas dans la sauvegarde : il faudra MAILLAGE_ENCRYPTION_KEYS (clés "
                "%(kids)s) et MAILLAGE_AUDIT_KEY pour la restaurer."
            )
            % {"kids": ", ".join(manifest["keys"]["encryption_key_ids"])}
        )
