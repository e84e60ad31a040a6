"""Break-glass: opening a file outside one's scope, for an hour, with a reason, under the DPO's eye.

The coordinator (an archived pathway, for instance) and the DPO (any pathway of the programme)
may open a pathway they do not otherwise reach (``perms.can_break_glass``). The opening is a
``BreakGlass`` grant valid one hour, which the scopes of ``maillage.permissions`` honour (read
only); it is journaled (``break_glass.opened``, with the reason) and the programme's DPOs are told
by email once the grant is committed. The email carries the case code, never the child's name nor
the reason (emails travel further than the application): the DPO reads the reason in the journal.
"""

import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from maillage import permissions as perms
from maillage.audit.services import record
from maillage.pathways.models import BreakGlass, Pathway
from maillage.pathways.services import JourneyError
from maillage.programmes.enums import Role
from maillage.programmes.models import Membership

logger = logging.getLogger(__name__)

GRANT_DURATION = datetime.timedelta(hours=1)
BREAK_GLASS_ROLES = (Role.COORDINATOR, Role.DPO)
VERB = "break_glass.opened"


def pathways_openable_by(user) -> QuerySet[Pathway]:
    """Pathways ``user`` may open by break-glass: those of the programmes where
    ``perms.can_break_glass`` holds, not yet anonymised (nothing nominative is left to open)."""
    programmes = perms.nominative_memberships(user).filter(role__in=BREAK_GLASS_ROLES).values("programme_id")
    return Pathway.objects.filter(programme_id__in=programmes, anonymised_at__isnull=True)


def current_grant(user, pathway: Pathway) -> BreakGlass | None:
    """The user's grant in force on ``pathway``, if any."""
    return BreakGlass.objects.current().filter(user=user, pathway=pathway).order_by("-expires_at").first()


def _dpo_addresses(pathway: Pathway) -> list[str]:
    memberships = Membership.objects.active().filter(
        programme=pathway.programme_id, role=Role.DPO, user__is_active=True
    )
    return sorted({email for email in memberships.values_list("user__email", flat=True) if email})


def _notify_dpos(*, addresses: list[str], pathway: Pathway, by, membership: Membership, grant: BreakGlass):
    """Email the DPOs (after the commit: no email for a grant that was rolled back)."""
    journal_url = (
        settings.MAILLAGE_BASE_URL.rstrip("/")
        + reverse("journal:search")
        + "?"
        + urlencode({"child": pathway.case_code, "verb": VERB})
    )
    with translation.override(settings.LANGUAGE_CODE):
        opened_at = timezone.localtime(grant.created_at)
        values = {
            "who": by.get_full_name() or by.email,
            "email": by.email,
            "role": membership.get_role_display(),
            "organisation": membership.organisation.name if membership.organisation_id else "",
            "code": pathway.case_code,
            "programme": pathway.programme.name,
            "date": opened_at.strftime("%d/%m/%Y"),
            "time": opened_at.strftime("%H:%M"),
            "until": timezone.localtime(grant.expires_at).strftime("%H:%M"),
            "url": journal_url,
        }
        subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + _("Accès exceptionnel au dossier %(code)s") % {
            "code": pathway.case_code
        }
        body = _(
            "Bonjour,\n\n"
            "%(who)s (%(email)s), %(role)s %(organisation)s, a ouvert un accès exceptionnel au "
            "dossier %(code)s du programme « %(programme)s », le %(date)s à %(time)s, jusqu'à "
            "%(time_until)s.\n\n"
            "Le motif indiqué est consultable dans le journal des accès :\n%(url)s\n\n"
            "Ce message vous est envoyé parce que vous êtes délégué·e à la protection des données "
            "du programme. Vous n'avez rien à faire si cet accès vous paraît justifié.\n"
        ) % {**values, "time_until": values["until"]}

    def send():
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses)
        except (smtplib.SMTPException, OSError):
            # The grant and its journal entry stand: the DPO will still find them in the journal.
            logger.exception("Break-glass notification to the DPO failed for pathway %s", pathway.pk)

    transaction.on_commit(send)


@transaction.atomic
def break_glass_open(*, pathway: Pathway, by, reason: str, request=None) -> BreakGlass:
    """Open ``pathway`` to ``by`` for an hour, read only, with a mandatory ``reason``.

    Raises ``JourneyError`` when the reason is blank, when ``by`` may not break the glass on this
    programme, or when the pathway is already within their reach.
    """
    reason = (reason or "").strip()
    if not reason:
        raise JourneyError(_("Indiquez le motif de cet accès exceptionnel : il est obligatoire."))
    membership = (
        perms.nominative_memberships(by)
        .filter(programme=pathway.programme_id, role__in=BREAK_GLASS_ROLES)
        .select_related("organisation")
        .order_by("role", "pk")
        .first()
    )
    if membership is None or not perms.can_break_glass(by, pathway.programme):
        raise JourneyError(_("Vous ne pouvez pas ouvrir d'accès exceptionnel dans ce programme."))
    if pathway.anonymised_at is not None:
        raise JourneyError(_("Ce parcours a été rendu anonyme : il n'y a plus de dossier à ouvrir."))
    if perms.pathways_visible_to(by).filter(pk=pathway.pk).exists():
        raise JourneyError(
            _("Vous avez déjà accès à ce parcours : aucun accès exceptionnel n'est nécessaire.")
        )
    now = timezone.now()
    grant = BreakGlass.objects.create(
        pathway=pathway,
        user=by,
        membership=membership,
        reason=reason,
        created_at=now,
        expires_at=now + GRANT_DURATION,
    )
    record(
        verb=VERB,
        actor=by,
        target=pathway,
        membership=membership,
        payload={
            "reason": reason,
            "expires_at": grant.expires_at,
            "archived": pathway.archived_at is not None,
        },
        request=request,
    )
    addresses = _dpo_addresses(pathway)
    if addresses:
        _notify_dpos(addresses=addresses, pathway=pathway, by=by, membership=membership, grant=grant)
    return grant
