import time

from django.core.management.base import BaseCommand, CommandError

from maillage.pathways.retention import RetentionError, apply_retention
from maillage.programmes.models import Programme
from maillage.steering.services import export_jobs_due, export_jobs_purge


class Command(BaseCommand):
    help = (
        "Applies the retention periods: archives closed pathways past the active period, anonymises "
        "archived ones past the archive period, purges the journal past its period, deletes the documents "
        "prepared by the task worker past MAILLAGE_EXPORT_RETENTION_DAYS. Run daily; a second "
        "run changes nothing. Lists case codes only, never names."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report what is due without changing it.")
        parser.add_argument("--programme", help="Slug of one programme (default: all).")

    def handle(self, *args, dry_run=False, programme=None, verbosity=1, **options):
        programmes = None
        if programme:
            programmes = list(Programme.objects.filter(slug=programme))
            if not programmes:
                raise CommandError(f"No programme with slug {programme!r}.")
        started = time.perf_counter()
        try:
            report = apply_retention(dry_run=dry_run, programmes=programmes)
        except RetentionError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started

        if dry_run:
            self.stdout.write("Dry run: nothing was changed; counts are what a real run would do.")
        for result in report.programmes:
            self.stdout.write(f"Programme {result.programme}:")
            self.stdout.write(f"  archived: {len(result.archived)} pathways")
            if verbosity > 1 and result.archived:
                self.stdout.write("    " + ", ".join(result.archived))
            self.stdout.write(
                f"  anonymised: {len(result.anonymised)} pathways, {result.children_anonymised} children, "
                f"{result.households_anonymised} households, {result.proofs_deleted} consent proofs deleted"
            )
            if verbosity > 1 and result.anonymised:
                self.stdout.write("    " + ", ".join(result.anonymised))
            if result.held_back:
                self.stdout.write(
                    f"  held back: {len(result.held_back)} pathways due for anonymisation, waiting for "
                    f"a pathway or a referral of the same child: {', '.join(result.held_back)}"
                )
            if result.idle_open:
                self.stdout.write(
                    self.style.WARNING(
                        f"  WARNING: {len(result.idle_open)} open pathways with no activity for "
                        f"the active period — close them or record the contact: {', '.join(result.idle_open)}"
                    )
                )
        journal = report.journal
        if journal.count:
            self.stdout.write(
                f"Journal: {journal.count} entries purged (#{journal.first_id}–#{journal.last_id}, "
                f"{journal.first_at:%Y-%m-%d} → {journal.last_at:%Y-%m-%d})"
            )
        else:
            self.stdout.write("Journal: 0 entries purged")
        if journal.held_back:
            self.stdout.write(
                self.style.WARNING(
                    f"  {journal.held_back} due journal entries kept: an entry with a longer retention "
                    "period precedes them in the chain"
                )
            )
        if programme is None:
            documents = export_jobs_due().count() if dry_run else export_jobs_purge()
            self.stdout.write(f"Prepared documents: {documents} deleted (older than their retention)")
        summary = (
            f"Done in {elapsed:.2f} s: {report.archived} archived, {report.anonymised} anonymised, "
            f"{journal.count} journal entries purged."
        )
        self.stdout.write(self.style.SUCCESS(summary) if not dry_run else summary)
