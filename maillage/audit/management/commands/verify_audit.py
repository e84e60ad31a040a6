import time

from django.core.management.base import BaseCommand, CommandError

from maillage.audit.services import chain_label, verify_journal


class Command(BaseCommand):
    help = (
        "Checks every chain of the journal (one per programme, one for the platform) and its sealed head; "
        "exits non-zero naming the first bad entry or head of each broken chain."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        reports, problems = verify_journal()
        for report in reports:
            purged = f", {report.purged} purged before" if report.purged else ""
            state = "intact" if report.intact else f"BROKEN — {report.problem}"
            self.stdout.write(f"  {chain_label(report.chain)}: {report.entries} entries{purged}, {state}")
        total = sum(report.entries for report in reports)
        elapsed = time.monotonic() - started
        if problems:
            raise CommandError(
                f"Journal check failed at {problems[0]}."
                + (f" ({len(problems)} problems in all, listed above.)" if len(problems) > 1 else "")
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Journal intact: {total} entries verified in {len(reports)} chains ({elapsed:.1f} s)."
            )
        )
