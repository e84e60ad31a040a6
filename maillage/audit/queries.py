"""Reading the journal: the DPO's and the coordinator's search, and "who consulted this file".

The journal is read-only and holds metadata only (who, role, programme, what, when, the circles of
the items shown): never the content of a note or a diagnosis. Readers are the coordinator and the
DPO of a programme (``perms.can_read_journal``); they read the entries of their programmes only
(``AuditEvent.programme``).

``VERB_LABELS`` says every verb of the code in plain French; a test greps the code for verbs and
fails when one is missing here. ``ACCESS_VERBS`` are the verbs that count as a consultation of a
child's file in the report given to a family.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage import permissions as perms
from maillage.audit.models import AuditEvent
from maillage.core.text import normalise_name
from maillage.pathways.enums import Circle
from maillage.pathways.models import Consent, Contact, DiagnosticSection, Note, Pathway, Review
from maillage.people.models import Child, Guardian
from maillage.programmes.enums import Role
from maillage.referrals.models import Referral

# Verbs the code no longer writes stay here: older entries of the journal still carry them.
VERB_LABELS = {
    # Consultations of nominative data (pages journaled by maillage.audit.access).
    "child.listed": _("Consultation de la liste des enfants"),
    "child.viewed": _("Consultation de la fiche d'un enfant"),
    "child.duplicate_candidate": _("Consultation d'un enfant proposé comme doublon possible"),
    "household.viewed": _("Consultation de la fiche d'un foyer"),
    "household.sibling_candidate": _("Consultation d'un foyer proposé pour une fratrie"),
    "referral.listed": _("Consultation de la liste des orientations"),
    "referral.listed_own": _("Consultation de ses propres orientations"),
    "referral.viewed": _("Consultation d'une fiche d'orientation"),
    "pathway.listed": _("Consultation d'une liste de parcours"),
    "pathway.viewed": _("Consultation d'un parcours"),
    "consent.form_viewed": _("Ouverture du formulaire d'accord de la famille"),
    "consent.withdrawal_viewed": _("Ouverture du formulaire de retrait d'accord"),
    "consent.proof_downloaded": _("Téléchargement de l'accord signé"),
    "diagnostic.form_viewed": _("Ouverture du diagnostic pour modification"),
    "objective.form_viewed": _("Ouverture du formulaire d'objectif"),
    "objective.status_form_viewed": _("Ouverture du formulaire d'avancement d'un objectif"),
    "plan_action.form_viewed": _("Ouverture du formulaire d'action"),
    "contact.form_viewed": _("Ouverture du formulaire de contact"),
    "note.form_viewed": _("Ouverture du formulaire de note"),
    "review.form_viewed": _("Ouverture du formulaire de bilan"),
    # Exports and documents.
    "document.generated": _("Édition d'un document pour la famille"),
    "subject_access.exported": _("Export des données pour le droit d'accès de la famille"),
    # Break-glass.
    "break_glass.searched": _("Recherche d'un dossier pour un accès exceptionnel"),
    "break_glass.opened": _("Accès exceptionnel à un dossier (motif obligatoire)"),
    # The journal itself.
    "journal.searched": _("Consultation du journal des accès"),
    "journal.consultations_viewed": _("Consultation de la liste des accès à un dossier"),
    "journal.consultations_exported": _("Export de la liste des accès à un dossier (PDF)"),
    "journal.purged": _("Suppression des entrées du journal arrivées à échéance"),
    # Referrals.
    "referral.submitted": _("Envoi d'une fiche d'orientation"),
    "referral.transition": _("Changement d'état d'une orientation"),
    "referral.derogation_requested": _("Demande de dérogation aux critères d'éligibilité"),
    "referral.derogation": _("Dérogation aux critères d'éligibilité"),
    "referral.accepted": _("Acceptation d'une orientation et ouverture du parcours"),
    # Pathways.
    "pathway.opened": _("Ouverture d'un parcours"),
    "pathway.transition": _("Changement d'étape d'un parcours"),
    "pathway.referent_assigned": _("Désignation du ou de la référent·e de parcours"),
    "pathway.closed": _("Clôture d'un parcours"),
    "pathway.archived": _("Archivage intermédiaire d'un parcours (durée de conservation)"),
    "pathway.anonymised": _("Anonymisation d'un parcours (durée de conservation)"),
    "case_team.added": _("Ajout d'un membre à l'équipe du parcours"),
    "case_team.removed": _("Retrait d'un membre de l'équipe du parcours"),
    "consent.recorded": _("Enregistrement de l'accord de la famille"),
    "consent.withdrawn": _("Retrait de l'accord de la famille"),
    "diagnostic.saved": _("Enregistrement du diagnostic"),
    "objective.added": _("Ajout d'un objectif"),
    "objective.status_changed": _("Changement d'avancement d'un objectif"),
    "plan_action.added": _("Ajout d'une action au plan"),
    "contact.added": _("Ajout d'un contact"),
    "note.added": _("Ajout d'une note"),
    "review.added": _("Ajout d'un bilan"),
    "item.circle_widened": _("Élargissement du cercle de diffusion d'un écrit"),
    "item.circle_narrowed": _("Restriction du cercle de diffusion d'un écrit"),
    "meeting.agenda_item_added": _("Inscription d'une situation à l'ordre du jour d'une EPS"),
    # The partnership: bodies, meetings, decisions, mission sheets, memento (issue 7).
    "meeting.viewed": _("Consultation d'une réunion d'instance"),
    "meeting.situation_viewed": _("Consultation d'une situation à l'ordre du jour d'une EPS"),
    "meeting.situations_listed": _("Consultation des situations à inscrire à une EPS"),
    "meeting.decision_viewed": _("Consultation d'une situation pour le relevé de décisions"),
    "meeting.document_downloaded": _("Téléchargement d'un document de réunion"),
    "body.created": _("Création d'une instance"),
    "body.updated": _("Modification d'une instance"),
    "body.member_added": _("Ajout d'un membre à une instance"),
    "body.member_removed": _("Retrait d'un membre d'une instance"),
    "meeting.scheduled": _("Programmation d'une réunion"),
    "meeting.updated": _("Modification d'une réunion"),
    "meeting.agenda_published": _("Publication d'un ordre du jour"),
    "meeting.cancelled": _("Annulation d'une réunion"),
    "meeting.agenda_item_removed": _("Retrait d'un point de l'ordre du jour"),
    "meeting.minutes_saved": _("Enregistrement d'un compte rendu"),
    "meeting.attendance_recorded": _("Enregistrement des présences à une réunion"),
    "meeting.document_added": _("Ajout d'un document de réunion"),
    "meeting.invitations_sent": _("Envoi des invitations à une réunion"),
    "meeting.forwarded": _("Transmission d'une synthèse à une autre instance"),
    "decision.recorded": _("Relevé de décision"),
    "mission_sheet.created": _("Création d'une fiche mission"),
    "mission_sheet.revised": _("Nouvelle version d'une fiche mission"),
    "mission_sheet.commented": _("Commentaire sur une fiche mission"),
    "mission_sheet.proposed": _("Proposition d'une fiche mission à une réunion"),
    "mission_sheet.validated": _("Validation d'une fiche mission"),
    "memento.page_created": _("Ajout d'une page au mémento"),
    "memento.page_updated": _("Modification d'une page du mémento"),
    "notifications.digest_sent": _("Envoi d'un résumé des notifications"),
    # Programme, members, territory.
    "programme.set_up": _("Mise en place du programme (listes et charte par défaut)"),
    "programme.updated": _("Modification du profil du programme"),
    "organisation.created": _("Ajout d'un partenaire"),
    "organisation.updated": _("Modification d'un partenaire"),
    "charter.published": _("Publication d'une version de la charte"),
    "charter.signed": _("Signature de la charte de confidentialité"),
    "invitation.created": _("Envoi d'une invitation"),
    "invitation.revoked": _("Annulation d'une invitation"),
    "invitation.accepted": _("Acceptation d'une invitation"),
    "invitation.proposed": _("Proposition d'un accès par la gestion"),
    "invitation.confirmed": _("Confirmation d'une proposition d'accès"),
    "invitation.declined": _("Refus d'une proposition d'accès"),
    "team.granted": _("Accès aux données nominatives accordé"),
    "team.proposed": _("Accès aux données nominatives proposé"),
    "team.declined": _("Proposition d'accès refusée"),
    "team.ended": _("Accès aux données nominatives retiré"),
    # Account security (issue 5): second factor and sessions.
    "mfa.factor_added": _("Ajout d'un second facteur d'authentification"),
    "mfa.factor_removed": _("Retrait d'un second facteur d'authentification"),
    "session.ended": _("Fin d'une session par son titulaire"),
    "session.others_ended": _("Fin des autres sessions par leur titulaire"),
    "session.ended_by_deactivation": _("Fin des sessions d'un compte désactivé ou sans appartenance"),
    "membership.ended": _("Fin de l'appartenance d'une personne au programme"),
    # ProConnect (issue 5): the identity is accepted before the second factor, if any, is asked.
    "proconnect.accepted": _("Identité ProConnect acceptée pour un compte invité (connexion poursuivie)"),
    "proconnect.refused": _("Connexion ProConnect refusée (compte inconnu, inactif ou vérification échouée)"),
    "proconnect.failed": _("Échec d'une connexion ProConnect (état, jeton ou fournisseur)"),
    "territories.communes_imported": _("Import du référentiel des communes"),
    "territories.qpv_imported": _("Import des quartiers prioritaires"),
    "territories.schools_imported": _("Import des établissements scolaires"),
    # Actions: catalogue, groups and attendance, contracts and breaches, support fund.
    "group.roster_viewed": _("Consultation de la liste des participants d'un groupe"),
    "attendance.form_viewed": _("Ouverture de l'appel d'une séance"),
    "contract.form_viewed": _("Ouverture du formulaire de contrat d'engagement"),
    "enrolment.form_viewed": _("Ouverture de l'inscription d'un parent à une action"),
    "contract.viewed": _("Consultation d'un contrat d'engagement"),
    "breach_alert.listed": _("Consultation de la liste des alertes de manquement"),
    "breach_alert.viewed": _("Consultation d'une alerte de manquement au contrat"),
    "intervention_task.viewed": _("Consultation d'une intervention au titre du dispositif"),
    "fund_request.listed": _("Consultation de la liste des demandes au fonds d'aide"),
    "fund_request.form_viewed": _("Ouverture du formulaire de demande au fonds d'aide"),
    "fund_request.viewed": _("Consultation d'une demande au fonds d'aide"),
    "fund_request.invoice_downloaded": _("Téléchargement d'une facture du fonds d'aide"),
    "offer.created": _("Ajout d'une action au catalogue"),
    "offer.updated": _("Modification d'une action du catalogue"),
    "group.created": _("Création d'un groupe d'action collective"),
    "session.planned": _("Programmation des séances d'un groupe"),
    "session.cancelled": _("Annulation d'une séance"),
    "beneficiary.created": _("Enregistrement d'un·e bénéficiaire d'action collective"),
    "enrolment.added": _("Inscription dans un groupe"),
    "enrolment.left": _("Sortie d'un groupe"),
    "enrolment.promoted": _("Passage de la liste d'attente au groupe"),
    "attendance.recorded": _("Enregistrement de l'appel d'une séance"),
    "contract.created": _("Enregistrement d'un contrat d'engagement"),
    "contract.signed": _("Signature d'un contrat d'engagement"),
    "breach_alert.raised": _("Alerte de manquement au contrat d'engagement"),
    "breach_alert.escalated": _("Demande d'intervention d'un·e travailleur·se social·e"),
    "breach_alert.closed": _("Alerte de manquement classée sans suite"),
    "intervention_task.started": _("Prise en charge d'une intervention"),
    "intervention_task.completed": _("Résultat d'une intervention au titre du dispositif"),
    "fund_request.created": _("Demande au fonds d'aide individuelle"),
    "fund_request.approved": _("Demande au fonds d'aide accordée"),
    "fund_request.refused": _("Demande au fonds d'aide refusée"),
    "export.anct_survey": _("Export de l'enquête annuelle ANCT"),
    "export.copil_pack": _("Export du dossier du comité de pilotage"),
    "export.structuring_table": _("Export du tableau de structuration du réseau"),
    "steering.target_set": _("Objectif annuel fixé"),
    "steering.target_deleted": _("Objectif annuel supprimé"),
    "steering.funding_line_added": _("Ligne de financement ajoutée"),
    "steering.copil_highlights_saved": _("Faits marquants du comité de pilotage enregistrés"),
    "steering.export_requested": _("Préparation d'un document de pilotage demandée"),
    "steering.barometer_opened": _("Baromètre du partenariat ouvert"),
    "steering.barometer_closed": _("Baromètre du partenariat clôturé"),
    "steering.barometer_answered": _("Réponse au baromètre du partenariat (contenu anonyme)"),
}

# Verbs built at run time (``admin.<model>.<action>``): one label per prefix.
VERB_PREFIX_LABELS = {
    "admin.": _("Modification par l'administration technique"),
}

# What a family reads in "who consulted the file": consultations, exports, break-glass openings.
# Searches of the journal itself and break-glass look-ups (a case code only) are not in it.
CONSULTATION_VERBS = frozenset(
    {
        "child.listed",
        "child.viewed",
        "child.duplicate_candidate",
        "household.viewed",
        "household.sibling_candidate",
        "referral.listed",
        "referral.listed_own",
        "referral.viewed",
        "pathway.listed",
        "pathway.viewed",
        "consent.form_viewed",
        "consent.withdrawal_viewed",
        "diagnostic.form_viewed",
        "objective.form_viewed",
        "objective.status_form_viewed",
        "plan_action.form_viewed",
        "contact.form_viewed",
        "note.form_viewed",
        "review.form_viewed",
        "group.roster_viewed",
        "attendance.form_viewed",
        "contract.form_viewed",
        "enrolment.form_viewed",
        "contract.viewed",
        "breach_alert.listed",
        "breach_alert.viewed",
        "intervention_task.viewed",
        "fund_request.listed",
        "fund_request.form_viewed",
        "fund_request.viewed",
        "meeting.viewed",
        "meeting.situation_viewed",
        "meeting.situations_listed",
        "meeting.decision_viewed",
    }
)
EXPORT_VERBS = frozenset(
    {
        "consent.proof_downloaded",
        "document.generated",
        "subject_access.exported",
        "fund_request.invoice_downloaded",
        "meeting.document_downloaded",
    }
)
BREAK_GLASS_VERBS = frozenset({"break_glass.opened"})
ACCESS_VERBS = CONSULTATION_VERBS | EXPORT_VERBS | BREAK_GLASS_VERBS

# What an entry was about, in the words of a family (the report) and of the DPO (the search).
TARGET_LABELS = {
    "people.child": _("Identité de l'enfant"),
    "people.household": _("Foyer"),
    "people.guardian": _("Adulte du foyer"),
    "referrals.referral": _("Fiche d'orientation"),
    "pathways.pathway": _("Parcours"),
    "pathways.consent": _("Accord de la famille"),
    "pathways.diagnosticsection": _("Diagnostic"),
    "pathways.contact": _("Contact"),
    "pathways.note": _("Note"),
    "pathways.review": _("Bilan"),
    "programmes.programme": _("Programme"),
    "programmes.organisation": _("Partenaire"),
    "programmes.membership": _("Membre du programme"),
    "programmes.charterversion": _("Charte de confidentialité"),
    "accounts.invitation": _("Invitation"),
    "audit.auditevent": _("Journal des accès"),
    "territories": _("Référentiels territoriaux"),
}

# Written items of a pathway: an entry about one of them belongs to the child's file.
ITEM_MODELS = (Consent, DiagnosticSection, Contact, Note, Review)

CIRCLE_SHORT_LABELS = {
    Circle.TEAM: _("Équipe"),
    Circle.SECRET: _("Secret partagé"),
    Circle.PARTNERS: _("Partenaires"),
}


def verb_label(verb: str) -> str:
    """The verb in plain French (the verb itself when unknown, so that nothing is hidden)."""
    if verb in VERB_LABELS:
        return str(VERB_LABELS[verb])
    for prefix, label in VERB_PREFIX_LABELS.items():
        if verb.startswith(prefix):
            return str(label)
    return verb


def access_kind(verb: str) -> str:
    """« Consultation », « Export ou édition d'un document » or « Accès exceptionnel »."""
    if verb in BREAK_GLASS_VERBS:
        return str(_("Accès exceptionnel"))
    if verb in EXPORT_VERBS:
        return str(_("Export ou édition d'un document"))
    return str(_("Consultation"))


def verb_choices() -> list[tuple[str, str]]:
    """Every known verb, as choices sorted by their French label."""
    return sorted(((verb, str(label)) for verb, label in VERB_LABELS.items()), key=lambda c: c[1].lower())


# --- what a reader of the journal reaches --------------------------------------------------------


def journal_programme_ids(user) -> list[int]:
    """Programmes whose journal ``user`` reads: those where ``perms.can_read_journal`` holds."""
    return sorted(
        set(
            perms.nominative_memberships(user)
            .filter(role__in=perms.JOURNAL_ROLES)
            .values_list("programme_id", flat=True)
        )
    )


def events_readable_by(user) -> QuerySet[AuditEvent]:
    """Journal entries of the programmes whose journal the user reads (none for anyone else)."""
    return AuditEvent.objects.filter(programme_id__in=journal_programme_ids(user))


def journal_children(user) -> QuerySet[Child]:
    """Children of the programmes whose journal the user reads: the subjects of "who consulted".

    Reaching a child here opens its journal entries (metadata), never its file: the child's name
    is shown only when ``perms.children_visible_to`` allows it too.
    """
    return Child.objects.filter(programme_id__in=journal_programme_ids(user))


def journal_pathways(user) -> QuerySet[Pathway]:
    """Pathways of the programmes whose journal the user reads (for their case codes only)."""
    return Pathway.objects.filter(programme_id__in=journal_programme_ids(user))


def children_matching(user, text: str) -> QuerySet[Child]:
    """Children a journal search names: by case code or by name (first name, last name, or both,
    in any order, ignoring case and accents), only among the children of the programmes whose
    journal the user reads (coordinator and DPO).

    The search answers a family asking who consulted their child's file: the DPO finds the child by
    the name the family gives. The results still name targets by case code only.
    """
    text = text.strip()
    by_code = journal_pathways(user).filter(case_code__iexact=text).values("child_id")
    query = Q(pk__in=by_code)
    terms = normalise_name(text).split()
    if terms:
        named = Q()
        for term in terms:
            named &= Q(last_name_normalised__contains=term) | Q(first_name_normalised__contains=term)
        query |= named
    return journal_children(user).filter(query)


def _ids(queryset: QuerySet):
    """The primary keys of ``queryset`` as text, for a subquery on ``AuditEvent.target_id``."""
    return queryset.annotate(target_key=Cast("pk", output_field=CharField())).values("target_key")


def child_files_q(children: QuerySet[Child]) -> Q:
    """Entries about the files of ``children``: identity, household and its adults, referrals,
    pathways and their written items. One SQL query, whatever the number of children."""
    pathways = Pathway.objects.filter(child__in=children.values("pk"))
    households = children.values("household_id")
    targets = {
        "people.child": _ids(Child.objects.filter(pk__in=children.values("pk"))),
        "people.household": households.annotate(
            target_key=Cast("household_id", output_field=CharField())
        ).values("target_key"),
        "people.guardian": _ids(Guardian.objects.filter(household__in=households)),
        "pathways.pathway": _ids(pathways),
        "referrals.referral": _ids(
            Referral.objects.filter(Q(child__in=children.values("pk")) | Q(pathways__in=pathways))
        ),
    }
    for model in ITEM_MODELS:
        targets[model._meta.label_lower] = _ids(model.objects.filter(pathway__in=pathways))
    query = Q(pk__in=[])
    for target_type, ids in targets.items():
        query |= Q(target_type=target_type, target_id__in=ids)
    return query


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def search_events(
    user,
    *,
    children: QuerySet[Child] | None = None,
    email: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    verb: str = "",
) -> QuerySet[AuditEvent]:
    """Entries of the user's programmes matching the filters, the latest first.

    ``date_from`` and ``date_to`` are days in local time (Europe/Paris), both included.
    """
    events = events_readable_by(user)
    if children is not None:
        events = events.filter(child_files_q(children))
    if email:
        events = events.filter(actor_label__icontains=email.strip())
    if date_from:
        events = events.filter(occurred_at__gte=_day_start(date_from))
    if date_to:
        events = events.filter(occurred_at__lt=_day_start(date_to + datetime.timedelta(days=1)))
    if verb:
        events = events.filter(verb=verb)
    return events.select_related("membership__organisation").order_by("-occurred_at", "-pk")


def consultation_events(user, child: Child) -> QuerySet[AuditEvent]:
    """Consultations, exports and break-glass openings of ``child``'s files, the latest first."""
    children = Child.objects.filter(pk=child.pk)
    return (
        events_readable_by(user)
        .filter(child_files_q(children), verb__in=ACCESS_VERBS)
        .select_related("membership__organisation")
        .order_by("-occurred_at", "-pk")
    )


# --- rows as the screens show them ---------------------------------------------------------------


@dataclass
class Row:
    """One entry as a reader of the journal sees it: never a staff name in the family's report."""

    event: AuditEvent
    occurred_at: datetime.datetime
    organisation: str
    role: str
    account: str
    verb: str
    verb_label: str
    kind: str
    target: str
    target_kind: str
    consultations_child_id: int | None
    circles: list[str]
    identity: bool | None
    reason: str


def _case_codes(user, events: list[AuditEvent]) -> dict[tuple[str, str], tuple[str, int | None]]:
    """(target_type, target_id) → (case code, child id), in one query per kind of target."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.target_id:
            wanted[event.target_type].add(event.target_id)
    found: dict[tuple[str, str], tuple[str, int | None]] = {}
    if not wanted:
        return found
    programme_ids = journal_programme_ids(user)
    pathways = Pathway.objects.filter(programme_id__in=programme_ids)

    def ints(values) -> list[int]:
        return [int(v) for v in values if v.isdigit()]

    if wanted.get("pathways.pathway"):
        for pk, code, child_id in pathways.filter(pk__in=ints(wanted["pathways.pathway"])).values_list(
            "pk", "case_code", "child_id"
        ):
            found["pathways.pathway", str(pk)] = (code, child_id)
    if wanted.get("people.child"):
        rows = pathways.filter(child_id__in=ints(wanted["people.child"])).order_by("opened_on", "pk")
        for code, child_id in rows.values_list("case_code", "child_id"):
            found["people.child", str(child_id)] = (code, child_id)  # the latest pathway wins
        for child_id in ints(wanted["people.child"]):
            found.setdefault(("people.child", str(child_id)), ("", child_id))
    if wanted.get("referrals.referral"):
        rows = pathways.filter(referral_id__in=ints(wanted["referrals.referral"])).order_by("opened_on", "pk")
        for code, referral_id, child_id in rows.values_list("case_code", "referral_id", "child_id"):
            found["referrals.referral", str(referral_id)] = (code, child_id)
    for model in ITEM_MODELS:
        label = model._meta.label_lower
        if wanted.get(label):
            rows = model.objects.filter(
                pk__in=ints(wanted[label]), pathway__programme_id__in=programme_ids
            ).values_list("pk", "pathway__case_code", "pathway__child_id")
            for pk, code, child_id in rows:
                found[label, str(pk)] = (code, child_id)
    return found


def _target_text(event: AuditEvent, code: str) -> str:
    kind = str(TARGET_LABELS.get(event.target_type, event.target_type or ""))
    if not event.target_type:
        return ""
    if code:
        return str(_("%(kind)s — situation %(code)s") % {"kind": kind, "code": code})
    if event.target_id:
        return str(_("%(kind)s n° %(id)s") % {"kind": kind, "id": event.target_id})
    return kind


def rows_for(user, events, *, with_accounts: bool = True) -> list[Row]:
    """Describe ``events`` for a screen: constant queries whatever their number.

    Targets are named by their case code (the pseudonym), never by a child's name. The family's
    report passes ``with_accounts=False``: no staff account appears in it.
    """
    events = list(events)
    codes = _case_codes(user, events)
    rows = []
    for event in events:
        code, child_id = codes.get((event.target_type, event.target_id), ("", None))
        membership = event.membership
        organisation = membership.organisation.name if membership and membership.organisation_id else ""
        if event.role:
            role = str(Role(event.role).label) if event.role in Role.values else event.role
        elif event.actor_id is None:
            role = str(_("Traitement automatique"))
        else:
            role = ""
        payload = event.payload or {}
        circles = [str(CIRCLE_SHORT_LABELS.get(c, c)) for c in payload.get("circles", [])]
        rows.append(
            Row(
                event=event,
                occurred_at=timezone.localtime(event.occurred_at),
                organisation=organisation,
                role=role,
                account=event.actor_label if with_accounts else "",
                verb=event.verb,
                verb_label=verb_label(event.verb),
                kind=access_kind(event.verb),
                target=_target_text(event, code),
                target_kind=str(TARGET_LABELS.get(event.target_type, "")),
                consultations_child_id=child_id,
                circles=circles,
                identity=payload.get("identity"),
                reason=payload.get("reason", "") if event.verb in BREAK_GLASS_VERBS else "",
            )
        )
    return rows
