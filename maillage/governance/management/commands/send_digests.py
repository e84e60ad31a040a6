from django.core.management.base import BaseCommand

from maillage.governance.digests import send_digests


class Command(BaseCommand):
    help = (
        "Sends the daily and weekly digests of notifications by email (idempotent: run it every hour or day)."
    )

    def handle(self, *args, **options):
        sent = send_digests()
        self.stdout.write(f"{sent} résumé(s) envoyé(s).")
