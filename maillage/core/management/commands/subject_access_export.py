from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from maillage import permissions as perms
from maillage.accounts.models import User
from maillage.pathways.subject_access import subject_access_export
from maillage.people.models import Child
from maillage.programmes.enums import Role

# Who may answer a family's access request: the programme's coordination or its DPO.
ALLOWED_ROLES = [Role.COORDINATOR, Role.DPO]


class Command(BaseCommand):
    help = (
        "Writes everything held on a child and its family (right of access, RGPD art. 15) as a PDF and "
        "a JSON file in --out, and journals the export in the name of --by (coordinator or DPO)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--child", type=int, required=True, help="Id of the child.")
        parser.add_argument("--out", required=True, help="Directory to write the two files to.")
        parser.add_argument(
            "--by", required=True, help="Email of the coordinator or DPO answering the request."
        )
        parser.add_argument(
            "--staff-names",
            action="store_true",
            help="Also name the professionals (default: organisation and role only).",
        )

    def handle(self, *args, child, out, by, staff_names=False, **options):
        user = User.objects.filter(email__iexact=by.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active account with the email {by!r}.")
        # A command, not a view: the child is fetched by id, then the requester's role is checked.
        record = Child.objects.select_related("programme", "household").filter(pk=child).first()
        if record is None:
            raise CommandError(f"No child with id {child}.")
        membership = (
            perms.active_memberships(user)
            .filter(programme=record.programme, role__in=ALLOWED_ROLES)
            .order_by("pk")
            .first()
        )
        if membership is None:
            raise CommandError(
                f"{user.email} is not coordinator or DPO of the child's programme: export refused."
            )
        files = subject_access_export(
            child=record, by=user, membership=membership, out_dir=Path(out), include_staff_names=staff_names
        )
        counts = ", ".join(f"{name}: {value}" for name, value in files.counts.items())
        self.stdout.write(f"Written {files.pdf} and {files.json} ({counts}).")
