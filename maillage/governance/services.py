"""Writes of the partnership: bodies, meetings, agendas, minutes, decisions, forwardings, notifications,
mission sheets and the memento.

Every function is keyword-only, atomic, takes ``by`` and journals what it did. Refusals raise
``GovernanceError`` with a French message the coordinator can act on. Writes on a pathway (its
history, plan, step) go through ``maillage.pathways.services`` only, with their own rules.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.audit.services import record
from maillage.core.nominative import Finding, Person, find
from maillage.governance.enums import BodyKind, MissionSheetStatus
from maillage.governance.models import (
    AgendaItem,
    Body,
    BodyMember,
    Decision,
    Forwarding,
    Meeting,
    MeetingAttendance,
    MeetingDocument,
    MementoPage,
    MissionSheet,
    MissionSheetComment,
    MissionSheetVersion,
    Notification,
    PathwayVisit,
)
from maillage.pathways import services as journey
from maillage.pathways.enums import HEALTH_DIMENSIONS, Circle, PathwayState
from maillage.pathways.models import Pathway
from maillage.people.models import Child, Guardian
from maillage.programmes.models import Programme


class GovernanceError(ValidationError):
    """An operation of the partnership that the rules refuse: the message says why."""


# --- the non-nominative guard ------------------------------------------------------------------------


def nominative_findings(programme: Programme, text: str) -> list[Finding]:
    """The names (children's, guardians') and case codes of the programme found in ``text``.

    Two queries: the programme's children, the guardians of their households. The detector
    (``maillage.core.nominative``) normalises Unicode, invisible characters, hyphens, spaces, case and
    accents, and catches initials (« Nicolas S. », « N. Dupont ») and case codes in any spelling.
    """
    if not text or not text.strip():
        return []
    people = [
        Person(first, last, "child")
        for first, last in Child.objects.filter(programme=programme).values_list("first_name", "last_name")
    ]
    people += [
        Person(first, last, "guardian")
        for first, last in Guardian.objects.filter(household__children__programme=programme)
        .values_list("first_name", "last_name")
        .distinct()
    ]
    return find(text, people=people, prefixes=[programme.case_code_prefix])


def nominative_problems(programme: Programme, text: str) -> list[str]:
    """What makes ``text`` nominative, one French message per finding (quoting it as written)."""
    problems = []
    for finding in nominative_findings(programme, text):
        if finding.kind == "case_code":
            message = _(
                "Le texte contient un code de situation (« %(code)s ») : un texte lu hors de l'équipe "
                "qui suit l'enfant (compte rendu, synthèse, document, fiche) reste non nominatif, même "
                "sous forme pseudonymisée."
            )
            problems.append(message % {"code": finding.found})
        elif finding.kind == "guardian":
            message = _(
                "Le texte contient le nom d'un parent d'un enfant du programme (« %(name)s ») : un texte "
                "lu hors de l'équipe qui suit l'enfant reste non nominatif, retirez-le."
            )
            problems.append(message % {"name": finding.found})
        else:
            message = _(
                "Le texte contient le nom d'un enfant (« %(name)s ») : un texte lu hors de l'équipe qui "
                "suit l'enfant (compte rendu, synthèse, document, fiche) reste non nominatif, retirez-le."
            )
            problems.append(message % {"name": finding.found})
    return problems


def check_non_nominative(programme: Programme, text: str) -> None:
    problems = nominative_problems(programme, text)
    if problems:
        raise GovernanceError(problems)


# --- bodies --------------------------------------------------------------------------------------


@transaction.atomic
def body_save(*, programme: Programme, by, body: Body | None = None, **fields) -> Body:
    created = body is None
    body = body or Body(programme=programme)
    for name, value in fields.items():
        setattr(body, name, value)
    body.save()
    record(
        verb="body.created" if created else "body.updated",
        actor=by,
        target=body,
        programme=programme.pk,
        payload={"kind": body.kind},
    )
    return body


@transaction.atomic
def body_member_add(
    *,
    body: Body,
    by,
    membership=None,
    person_name: str = "",
    institution: str = "",
    email: str = "",
    role_in_body: str = "",
) -> BodyMember:
    if membership is None and not person_name.strip():
        raise GovernanceError(_("Indiquez un membre du programme ou le nom d'une personne."))
    if membership is not None and membership.programme_id != body.programme_id:
        raise GovernanceError(_("Ce membre n'appartient pas au programme de l'instance."))
    if membership is not None and body.members.filter(membership=membership).exists():
        raise GovernanceError(_("Cette personne est déjà membre de l'instance."))
    member = BodyMember.objects.create(
        body=body,
        membership=membership,
        person_name=person_name.strip(),
        institution=institution.strip(),
        email=email.strip(),
        role_in_body=role_in_body.strip(),
    )
    record(
        verb="body.member_added",
        actor=by,
        target=body,
        programme=body.programme_id,
        payload={"member": member.pk, "external": membership is None},
    )
    return member


@transaction.atomic
def body_member_remove(*, member: BodyMember, by) -> None:
    body = member.body
    record(
        verb="body.member_removed",
        actor=by,
        target=body,
        programme=body.programme_id,
        payload={"member": member.pk},
    )
    member.delete()


# --- meetings ------------------------------------------------------------------------------------


def _window_end(body: Body, starts_at: datetime.datetime) -> datetime.datetime | None:
    if body.kind != BodyKind.EPS:
        return None
    return starts_at + datetime.timedelta(days=body.programme.eps_access_window_days)


@transaction.atomic
def meeting_schedule(
    *,
    body: Body,
    starts_at: datetime.datetime,
    by,
    place: str = "",
    video_link: str = "",
    agenda: str = "",
    duration_minutes: int = 120,
    publish: bool = False,
) -> Meeting:
    """Schedule a meeting. For an EPS, the access window's end is stored now (meeting + N days); it
    opens when the agenda is published."""
    if body.kind != BodyKind.EPS:
        check_non_nominative(body.programme, agenda)
    meeting = Meeting.objects.create(
        body=body,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        place=place,
        video_link=video_link,
        agenda=agenda,
        access_ends_at=_window_end(body, starts_at),
    )
    record(
        verb="meeting.scheduled",
        actor=by,
        target=meeting,
        programme=body.programme_id,
        payload={"body": body.pk, "starts_at": starts_at.isoformat()},
    )
    if publish:
        meeting_publish_agenda(meeting=meeting, by=by)
    return meeting


@transaction.atomic
def meeting_update(*, meeting: Meeting, by, **fields) -> Meeting:
    if meeting.body.kind != BodyKind.EPS and "agenda" in fields:
        check_non_nominative(meeting.body.programme, fields["agenda"])
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.access_ends_at = _window_end(meeting.body, meeting.starts_at)
    meeting.save(update_fields=[*fields, "access_ends_at", "updated_at"])
    record(
        verb="meeting.updated",
        actor=by,
        target=meeting,
        programme=meeting.body.programme_id,
        payload={"fields": sorted(fields)},
    )
    return meeting


@transaction.atomic
def meeting_publish_agenda(*, meeting: Meeting, by) -> Meeting:
    """Publish the agenda: for an EPS, the members' access window opens now and ends N days after."""
    if meeting.cancelled:
        raise GovernanceError(_("Cette réunion est annulée."))
    meeting.agenda_published_at = timezone.now()
    meeting.access_ends_at = _window_end(meeting.body, meeting.starts_at)
    meeting.save(update_fields=["agenda_published_at", "access_ends_at", "updated_at"])
    record(
        verb="meeting.agenda_published",
        actor=by,
        target=meeting,
        programme=meeting.body.programme_id,
        payload={"access_ends_at": meeting.access_ends_at.isoformat() if meeting.access_ends_at else None},
    )
    notify_members(
        body=meeting.body,
        verb="meeting.agenda_published",
        message=_("Ordre du jour publié : %(meeting)s") % {"meeting": meeting},
        url=reverse("governance:meeting", args=[meeting.pk]),
        exclude=by,
    )
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, by) -> Meeting:
    meeting.cancelled = True
    # Cancelling closes the window at once: nobody reads situations for a meeting that will not happen.
    if meeting.access_ends_at is not None:
        meeting.access_ends_at = min(meeting.access_ends_at, timezone.now())
    meeting.save(update_fields=["cancelled", "access_ends_at", "updated_at"])
    record(verb="meeting.cancelled", actor=by, target=meeting, programme=meeting.body.programme_id)
    notify_members(
        body=meeting.body,
        verb="meeting.cancelled",
        message=_("Réunion annulée : %(meeting)s") % {"meeting": meeting},
        url=reverse("governance:meeting", args=[meeting.pk]),
        exclude=by,
    )
    return meeting


@transaction.atomic
def agenda_item_add(*, meeting: Meeting, by, title: str = "", pathway: Pathway | None = None) -> AgendaItem:
    """Add a point; on an EPS, a situation (a pathway). Titles of situations are never nominative."""
    if meeting.cancelled:
        raise GovernanceError(_("Cette réunion est annulée."))
    programme = meeting.body.programme
    check_non_nominative(programme, title)
    if pathway is not None:
        if meeting.body.kind != BodyKind.EPS:
            raise GovernanceError(_("Seule une EPS examine des situations individuelles."))
        if pathway.programme_id != programme.pk or not pathway.is_open:
            raise GovernanceError(_("Ce parcours ne peut pas être inscrit à cette EPS."))
        if meeting.agenda_items.filter(pathway=pathway).exists():
            raise GovernanceError(_("Cette situation est déjà à l'ordre du jour."))
    elif not title.strip():
        raise GovernanceError(_("Donnez un intitulé au point de l'ordre du jour."))
    position = (meeting.agenda_items.aggregate(last=Max("position"))["last"] or 0) + 1
    item = AgendaItem.objects.create(meeting=meeting, pathway=pathway, title=title.strip(), position=position)
    record(
        verb="meeting.agenda_item_added",
        actor=by,
        target=meeting,
        programme=programme.pk,
        payload={"pathway": pathway.pk if pathway else None, "agenda_item": item.pk},
    )
    return item


@transaction.atomic
def agenda_item_remove(*, item: AgendaItem, by) -> None:
    if item.decisions.exists():
        raise GovernanceError(_("Ce point a déjà des décisions : il reste à l'ordre du jour."))
    record(
        verb="meeting.agenda_item_removed",
        actor=by,
        target=item.meeting,
        programme=item.meeting.body.programme_id,
        payload={"pathway": item.pathway_id, "agenda_item": item.pk},
    )
    item.delete()


@transaction.atomic
def minutes_save(*, meeting: Meeting, text: str, by) -> Meeting:
    """Record the minutes. They are non-nominative by construction: no child's name, no case code."""
    check_non_nominative(meeting.body.programme, text)
    meeting.minutes = text
    meeting.minutes_updated_at = timezone.now()
    meeting.save(update_fields=["minutes", "minutes_updated_at", "updated_at"])
    record(verb="meeting.minutes_saved", actor=by, target=meeting, programme=meeting.body.programme_id)
    return meeting


@transaction.atomic
def attendance_record(*, meeting: Meeting, statuses: dict[int, str], by) -> int:
    """``statuses``: body member id → status. Members of other bodies are ignored."""
    members = set(meeting.body.members.values_list("pk", flat=True))
    count = 0
    for member_id, status in statuses.items():
        if member_id not in members or not status:
            continue
        MeetingAttendance.objects.update_or_create(
            meeting=meeting, member_id=member_id, defaults={"status": status}
        )
        count += 1
    record(
        verb="meeting.attendance_recorded",
        actor=by,
        target=meeting,
        programme=meeting.body.programme_id,
        payload={"members": count},
    )
    return count


@transaction.atomic
def document_add(
    *, meeting: Meeting, title: str, upload, by, circle: str = Circle.TEAM, pathway: Pathway | None = None
) -> MeetingDocument:
    """Attach a checked upload (``maillage.core.uploads.validate_upload``) to a meeting.

    The document follows ``circle`` (``team`` by default), read on ``pathway`` when it concerns a
    situation of the meeting's agenda (``perms.meeting_documents_readable_by``).
    """
    from maillage.core.uploads import validate_upload

    if circle not in Circle.values:
        raise GovernanceError(_("Cercle de lecture inconnu."))
    if pathway is not None and not meeting.agenda_items.filter(pathway=pathway).exists():
        raise GovernanceError(_("Cette situation n'est pas à l'ordre du jour de la réunion."))
    check_non_nominative(meeting.body.programme, title)
    checked = validate_upload(upload)
    document = MeetingDocument(
        meeting=meeting,
        title=title,
        content_type=checked.content_type,
        uploaded_by=by,
        circle=circle,
        pathway=pathway,
    )
    document.file.save(f"reunion-{meeting.pk}{checked.extension}", checked.file, save=False)
    document.save()
    record(
        verb="meeting.document_added",
        actor=by,
        target=meeting,
        programme=meeting.body.programme_id,
        payload={"document": document.pk},
    )
    return document


# --- decisions -----------------------------------------------------------------------------------


@transaction.atomic
def decision_record(
    *,
    item: AgendaItem,
    text: str,
    by,
    who_does_what: str = "",
    due_on: datetime.date | None = None,
    objective: tuple[str, str] | None = None,
    action_title: str = "",
    move_to_active: bool = False,
    circle: str = Circle.TEAM,
) -> Decision:
    """Record a decision on an agenda item.

    On a situation: the decision is written into the pathway's history (a note signed by who
    recorded it); its text, and the ``objective`` (dimension, wording) and ``action_title`` it adds
    to the plan, are read within ``circle``, chosen by the author (``team`` by default; a health
    objective never beyond ``secret``, and beyond ``team`` only when the family's consent shares);
    ``move_to_active`` moves the pathway from ``eps_review`` to ``active`` through the journey's
    transition, whose rules apply (consent, an objective, a référent).
    On a committee's point, the decision must be non-nominative.
    """
    meeting = item.meeting
    text = text.strip()
    if not text:
        raise GovernanceError(_("Écrivez la décision."))
    pathway = item.pathway
    if pathway is None:
        check_non_nominative(meeting.body.programme, f"{text}\n{who_does_what}")
        circle = Circle.TEAM  # a committee's decision is non-nominative: read with the meeting
    else:
        health = bool(objective and objective[1].strip() and objective[0] in HEALTH_DIMENSIONS)
        try:
            journey.check_circle(circle=circle, author_membership=None, health=health)
            journey.check_coverage(pathway=pathway, circle=circle)
        except journey.JourneyError as error:
            raise GovernanceError(error.messages) from error
    decision = Decision.objects.create(
        agenda_item=item,
        text=text,
        who_does_what=who_does_what.strip(),
        due_on=due_on,
        decided_by=by,
        circle=circle,
    )
    if pathway is not None:
        day = timezone.localtime(meeting.starts_at).strftime("%d/%m/%Y")
        lines = [
            _("Décision de l'%(body)s du %(day)s : %(text)s")
            % {"body": meeting.body.name, "day": day, "text": text}
        ]
        if who_does_what:
            lines.append(_("Qui fait quoi : %(who)s") % {"who": who_does_what.strip()})
        if due_on:
            lines.append(_("Pour le %(day)s") % {"day": due_on.strftime("%d/%m/%Y")})
        body = "\n".join(lines)
        try:
            journey.note_add(pathway=pathway, body=body, by=by, circle=circle, health_related=health)
            created_objective = None
            if objective and objective[1].strip():
                created_objective = journey.objective_add(
                    pathway=pathway,
                    dimension=objective[0],
                    wording=objective[1].strip(),
                    by=by,
                    target_date=due_on,
                    circle=circle,
                )
            if action_title.strip():
                journey.plan_action_add(
                    pathway=pathway,
                    title=action_title.strip(),
                    by=by,
                    objective=created_objective,
                    circle=circle,
                )
            if move_to_active:
                pathway.refresh_from_db()
                if pathway.state != PathwayState.EPS_REVIEW:
                    raise GovernanceError(
                        _(
                            "Le parcours n'est pas à l'étape « Examen en EPS » : il ne peut pas passer "
                            "à « Parcours en cours » d'ici."
                        )
                    )
                journey.pathway_transition(
                    pathway=pathway,
                    to_state=PathwayState.ACTIVE,
                    by=by,
                    note=_("Décision de l'%(body)s du %(day)s") % {"body": meeting.body.name, "day": day},
                )
                decision.moved_to_active = True
                decision.save(update_fields=["moved_to_active", "updated_at"])
        except journey.JourneyError as error:
            raise GovernanceError(error.messages) from error
        if pathway.referent_id and pathway.referent_id != by.pk:
            notify(
                users=[pathway.referent],
                programme=pathway.programme,
                verb="decision.recorded",
                message=_("Décision de l'EPS sur la situation %(code)s") % {"code": pathway.case_code},
                url=reverse("pathways:detail", args=[pathway.pk]),
            )
    record(
        verb="decision.recorded",
        actor=by,
        target=pathway if pathway is not None else meeting,
        programme=meeting.body.programme_id,
        payload={"meeting": meeting.pk, "decision": decision.pk, "moved_to_active": decision.moved_to_active},
    )
    return decision


# --- circulation between levels ------------------------------------------------------------------


@transaction.atomic
def forward(
    *, meeting: Meeting, to_body: Body, summary: str, by, decision: Decision | None = None
) -> Forwarding:
    """Send a non-nominative summary of a decision or of the minutes to another body.

    The receiving body must be of the same programme, or at a network level (a body of another
    programme whose ``level`` is the programme's network level or above).
    """
    programme = meeting.body.programme
    summary = summary.strip()
    if not summary:
        raise GovernanceError(_("Écrivez la synthèse à transmettre."))
    check_non_nominative(programme, summary)
    if to_body.pk == meeting.body_id:
        raise GovernanceError(_("Choisissez une autre instance que celle de la réunion."))
    if to_body.programme_id != programme.pk and to_body.level_id is None:
        raise GovernanceError(_("Cette instance n'est ni du programme, ni d'un niveau du réseau."))
    if decision is not None and decision.agenda_item.meeting_id != meeting.pk:
        raise GovernanceError(_("Cette décision n'appartient pas à la réunion."))
    forwarding = Forwarding.objects.create(
        meeting=meeting, decision=decision, to_body=to_body, summary=summary, by=by
    )
    record(
        verb="meeting.forwarded",
        actor=by,
        target=meeting,
        programme=programme.pk,
        payload={"to_body": to_body.pk, "decision": decision.pk if decision else None},
    )
    notify_members(
        body=to_body,
        verb="meeting.forwarded",
        message=_("%(from)s transmet une synthèse à %(to)s")
        % {"from": meeting.body.name, "to": to_body.name},
        url=reverse("governance:body", args=[to_body.pk]),
        exclude=by,
    )
    return forwarding


# --- notifications -------------------------------------------------------------------------------


def notify(*, users, verb: str, message: str, url: str = "", programme: Programme | None = None) -> int:
    """One in-app notification per user (never a child's name: messages carry codes or body names)."""
    rows = [
        Notification(user=user, programme=programme, verb=verb, message=message[:300], url=url)
        for user in {u.pk: u for u in users if u is not None}.values()
    ]
    Notification.objects.bulk_create(rows)
    return len(rows)


def notify_members(*, body: Body, verb: str, message: str, url: str = "", exclude=None) -> int:
    from maillage.programmes.models import Membership

    memberships = Membership.objects.active().filter(bodies__body=body).select_related("user")
    users = [m.user for m in memberships if exclude is None or m.user_id != exclude.pk]
    return notify(users=users, verb=verb, message=message, url=url, programme=body.programme)


def notifications_mark_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


# --- what changed since the last visit -------------------------------------------------------------


def pathway_visit(*, user, pathway: Pathway) -> datetime.datetime | None:
    """Record that ``user`` opens ``pathway`` now; return when they had last opened it (None: never)."""
    now = timezone.now()
    visit = PathwayVisit.objects.filter(user=user, pathway=pathway).first()
    if visit is None:
        PathwayVisit.objects.create(user=user, pathway=pathway, seen_at=now)
        return None
    previous = visit.seen_at
    PathwayVisit.objects.filter(pk=visit.pk).update(seen_at=now)
    return previous


# --- mission sheets ------------------------------------------------------------------------------


@transaction.atomic
def mission_sheet_create(*, programme: Programme, title: str, body: str, by) -> MissionSheet:
    if MissionSheet.objects.filter(programme=programme, title=title.strip()).exists():
        raise GovernanceError(_("Une fiche mission porte déjà ce titre."))
    check_non_nominative(programme, f"{title}\n{body}")
    sheet = MissionSheet.objects.create(programme=programme, title=title.strip())
    MissionSheetVersion.objects.create(
        sheet=sheet, number=1, body=body, author=by, note=_("Première version")
    )
    sheet.contributors.add(by)
    record(verb="mission_sheet.created", actor=by, target=sheet, programme=programme.pk)
    return sheet


@transaction.atomic
def mission_sheet_revise(*, sheet: MissionSheet, body: str, by, note: str = "") -> MissionSheetVersion:
    """A new version; a validated sheet that changes goes back to writing (it must be validated again)."""
    check_non_nominative(sheet.programme, f"{body}\n{note}")
    sheet = MissionSheet.objects.select_for_update().get(pk=sheet.pk)
    current = sheet.current
    if current is not None and current.body == body:
        raise GovernanceError(_("Le texte n'a pas changé."))
    number = (current.number if current else 0) + 1
    version = MissionSheetVersion.objects.create(sheet=sheet, number=number, body=body, author=by, note=note)
    sheet.contributors.add(by)
    if sheet.status != MissionSheetStatus.DRAFT:
        sheet.status = MissionSheetStatus.DRAFT
        sheet.validated_on = None
        sheet.save(update_fields=["status", "validated_on", "updated_at"])
    record(
        verb="mission_sheet.revised",
        actor=by,
        target=sheet,
        programme=sheet.programme_id,
        payload={"version": number},
    )
    return version


@transaction.atomic
def mission_sheet_comment(*, sheet: MissionSheet, body: str, by) -> MissionSheetComment:
    if not body.strip():
        raise GovernanceError(_("Écrivez votre commentaire."))
    check_non_nominative(sheet.programme, body)
    comment = MissionSheetComment.objects.create(sheet=sheet, body=body.strip(), author=by)
    record(verb="mission_sheet.commented", actor=by, target=sheet, programme=sheet.programme_id)
    return comment


@transaction.atomic
def mission_sheet_propose(*, sheet: MissionSheet, meeting: Meeting, by) -> MissionSheet:
    """Propose the current version for validation at a (future or past) meeting of the programme."""
    if meeting.body.programme_id != sheet.programme_id or meeting.cancelled:
        raise GovernanceError(_("Choisissez une réunion du programme, non annulée."))
    sheet.status = MissionSheetStatus.PROPOSED
    sheet.proposed_at = meeting
    sheet.save(update_fields=["status", "proposed_at", "updated_at"])
    item = agenda_item_add(
        meeting=meeting,
        by=by,
        title=_("Validation de la fiche mission « %(title)s »") % {"title": sheet.title},
    )
    record(
        verb="mission_sheet.proposed",
        actor=by,
        target=sheet,
        programme=sheet.programme_id,
        payload={"meeting": meeting.pk, "agenda_item": item.pk},
    )
    return sheet


@transaction.atomic
def mission_sheet_validate(*, sheet: MissionSheet, by) -> MissionSheet:
    """Mark the sheet validated with the date of the meeting it was proposed at (once it took place)."""
    meeting = sheet.proposed_at
    if sheet.status != MissionSheetStatus.PROPOSED or meeting is None:
        raise GovernanceError(_("La fiche doit d'abord être proposée à une réunion."))
    if not meeting.is_held:
        raise GovernanceError(_("La réunion n'a pas encore eu lieu : la fiche sera validée après."))
    sheet.status = MissionSheetStatus.VALIDATED
    sheet.validated_on = timezone.localdate(meeting.starts_at)
    sheet.save(update_fields=["status", "validated_on", "updated_at"])
    record(
        verb="mission_sheet.validated",
        actor=by,
        target=sheet,
        programme=sheet.programme_id,
        payload={"meeting": meeting.pk},
    )
    return sheet


# --- memento -------------------------------------------------------------------------------------


@transaction.atomic
def memento_page_save(
    *,
    programme: Programme,
    title: str,
    slug: str,
    body: str,
    by,
    position: int = 0,
    page: MementoPage | None = None,
) -> MementoPage:
    check_non_nominative(programme, f"{title}\n{body}")
    created = page is None
    page = page or MementoPage(programme=programme)
    page.title, page.slug, page.body, page.position, page.updated_by = title, slug, body, position, by
    page.save()
    record(
        verb="memento.page_created" if created else "memento.page_updated",
        actor=by,
        target=page,
        programme=programme.pk,
    )
    return page
