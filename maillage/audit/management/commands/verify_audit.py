from django.core.management.base import BaseCommand, CommandError

from maillage.audit.models import AuditEvent
from maillage.audit.services import verify_chain


class Command(BaseCommand):
    help = "Checks the journal hash chain; exits non-zero naming the first bad entry if it was tampered with."

    def handle(self, *args, **options):
        problem = verify_chain()
        if problem is not None:
            raise CommandError(f"Journal check failed at {problem}.")
        count = AuditEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Journal intact: {count} entries verified."))
