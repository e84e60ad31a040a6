"""Restore a backup into an empty database, after checking every checksum."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from maillage.operations.backups import BackupError, migration_gap, read_manifest, restore, verify


class Command(BaseCommand):
    help = (
        "Restaure une sauvegarde (dossier écrit par « backup ») dans une base vide et un stockage de "
        "fichiers vide. Les sommes de contrôle, la base cible et les clés sont vérifiées avant toute "
        "écriture ; une base qui n'est pas vide est refusée."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", metavar="IN", help="dossier de la sauvegarde")
        parser.add_argument("--database", default="default", help="alias de la base cible (vide)")
        parser.add_argument(
            "--verify-only",
            action="store_true",
            help="vérifier le manifeste et les sommes de contrôle, sans rien restaurer",
        )
        parser.add_argument(
            "--skip-key-check",
            action="store_true",
            help="restaurer même si les clés configurées ne sont pas celles de la sauvegarde",
        )

    def handle(self, *args, **options):
        try:
            if options["verify_only"]:
                manifest = read_manifest(options["source"])
                problems = verify(options["source"], manifest)
                if problems:
                    raise BackupError(" ".join(problems))
                self.stdout.write(
                    self.style.SUCCESS(
                        _("Sauvegarde du %(date)s intacte : %(files)d fichier(s) vérifié(s).")
                        % {"date": manifest["created_at"], "files": len(manifest["media"]) + 1}
                    )
                )
                return
            manifest = restore(
                options["source"], using=options["database"], check_keys=not options["skip_key_check"]
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Sauvegarde du %(date)s restaurée : %(tables)d table(s), %(rows)d ligne(s), "
                    "%(files)d fichier(s) joint(s), sommes de contrôle vérifiées."
                )
                % {
                    "date": manifest["created_at"],
                    "tables": len(manifest["tables"]),
                    "rows": sum(manifest["tables"].values()),
                    "files": len(manifest["media"]),
                }
            )
        )
        to_apply, unknown = migration_gap(options["database"])
        if to_apply:
            self.stdout.write(
                self.style.WARNING(
                    _("%(count)d migration(s) du code à appliquer : lancez manage.py migrate.")
                    % {"count": len(to_apply)}
                )
            )
        if unknown:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "La base a %(count)d migration(s) que ce code ne connaît pas (%(first)s…) : la "
                        "sauvegarde vient d'une version plus récente de Maillage."
                    )
                    % {"count": len(unknown), "first": unknown[0]}
                )
            )
        self.stdout.write(_("Vérifiez ensuite le journal : manage.py verify_audit."))
