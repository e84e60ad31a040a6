from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from maillage.demo import DEMO_PASSWORD, foundation, governance, journey, offers, steering
from maillage.programmes.models import Programme


class Command(BaseCommand):
    help = "Builds the demo programme « Ville de Démo » with synthetic people, and prints the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when a programme exists.")
        parser.add_argument(
            "--force", action="store_true", help="Run even when DEBUG is off (never in production)."
        )

    def handle(self, *args, if_empty: bool, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo refuses to run when DEBUG is off; add --force on a demo instance.")
        if settings.PRODUCTION and not force:
            raise CommandError("seed_demo never runs in production without --force.")
        if if_empty and Programme.objects.exists():
            self.stdout.write("Des programmes existent déjà : données de démonstration inchangées.")
        else:
            programme = foundation.seed(self.stdout.write)
            # Partnership bodies, referrals and pathways: through the services, once (idempotent).
            journey.seed(programme, self.stdout.write)
            governance.seed_partnership(programme, self.stdout.write)
            steering.seed(programme, self.stdout.write)
            offers.seed(programme, self.stdout.write)
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS("Comptes de démonstration (mot de passe commun : " + DEMO_PASSWORD + ")")
        )
        for email, _first, _last, role, _org, job, _bound in foundation.ACCOUNTS:
            self.stdout.write(f"  {email:<32} {role.label} — {job}")
            if email in foundation.DEMO_TOTP_SECRETS:
                secret = foundation.DEMO_TOTP_SECRETS[email]
                self.stdout.write(f"  {'':<32} TOTP (double authentification) : {secret}")
