"""Writes on pathways: the state machine and its guards, consents, plan, follow-up and exit.

Every function is keyword-only, atomic, takes ``by`` and journals what it did. Guards raise
``JourneyError`` with a French message a référent can act on.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.audit.services import record
from maillage.pathways.enums import (
    CIRCLE_ORDER,
    HEALTH_DIMENSIONS,
    TRANSITIONS,
    Circle,
    ObjectiveStatus,
    PathwayState,
    ReviewKind,
)
from maillage.pathways.models import (
    CaseTeamMember,
    Consent,
    Contact,
    DiagnosticSection,
    Note,
    Objective,
    Pathway,
    PathwayTransition,
    PlanAction,
    ReferentAssignment,
    Review,
    ReviewRating,
)
from maillage.programmes.defaults import EXIT_REASONS, WITHDRAWAL_EXIT_CODE
from maillage.programmes.enums import ListKind
from maillage.programmes.models import ListItem, Programme


class JourneyError(ValidationError):
    """A step of the journey that the rules do not allow (yet): the message says why."""


# --- opening ---------------------------------------------------------------------------------------


def next_case_code(programme: Programme, year: int) -> str:
    """``<PREFIX>-<YEAR>-<NNNN>``, numbered per programme and year. Call inside a transaction."""
    # Lock the programme row so that two pathways opened at once do not get the same number.
    Programme.objects.select_for_update().filter(pk=programme.pk).first()
    prefix = f"{programme.case_code_prefix}-{year}-"
    last = Pathway.objects.filter(programme=programme, case_code__startswith=prefix).aggregate(
        last=Max("case_code")
    )["last"]
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


@transaction.atomic
def pathway_open(*, child, by, referral=None, referent=None, previous: Pathway | None = None) -> Pathway:
    if child.pathways.exclude(state=PathwayState.CLOSED).exists():
        raise JourneyError(_("Cet enfant a déjà un parcours en cours."))
    today = timezone.localdate()
    pathway = Pathway.objects.create(
        programme=child.programme,
        child=child,
        referral=referral,
        previous=previous,
        case_code=next_case_code(child.programme, today.year),
        opened_on=today,
        referent=referent,
    )
    PathwayTransition.objects.create(pathway=pathway, from_state="", to_state=PathwayState.ENGAGEMENT, by=by)
    if referent is not None:
        ReferentAssignment.objects.create(pathway=pathway, referent=referent, assigned_by=by)
    record(
        verb="pathway.opened",
        actor=by,
        target=pathway,
        payload={"case_code": pathway.case_code, "previous": previous.pk if previous else None},
    )
    return pathway


# --- state machine ---------------------------------------------------------------------------------


def has_valid_consent(pathway: Pathway) -> bool:
    """At least one holder of parental authority agreed, and has not withdrawn."""
    return _valid_consents(pathway).exists()


def _valid_consents(pathway: Pathway):
    return pathway.consents.valid().filter(guardian__has_parental_authority=True)


def _eps_decisions(pathway: Pathway):
    from maillage.governance.enums import BodyKind

    return pathway.agenda_items.filter(
        meeting__body__kind=BodyKind.EPS,
        meeting__cancelled=False,
        meeting__starts_at__lte=timezone.now(),
        decisions__isnull=False,
    )


def eps_has_decided(pathway: Pathway) -> bool:
    """An EPS meeting that has taken place (not cancelled, already begun) had the situation on its agenda
    and recorded a decision on it: the condition for the pathway to become « Parcours en cours »."""
    return _eps_decisions(pathway).exists()


TRANSITION_CHECKS = ("valid_consent", "eps_decided", "has_objective")


def transition_check_annotations() -> dict:
    """The conditions of the steps as annotations of a Pathway queryset (``step_<check>``), so that a
    page listing the steps reads them with the pathway."""
    from django.db.models import Exists, OuterRef

    from maillage.governance.enums import BodyKind
    from maillage.governance.models import AgendaItem

    eps = AgendaItem.objects.filter(
        pathway=OuterRef("pk"),
        meeting__body__kind=BodyKind.EPS,
        meeting__cancelled=False,
        meeting__starts_at__lte=timezone.now(),
        decisions__isnull=False,
    )
    return {
        "step_valid_consent": Exists(
            Consent.objects.valid().filter(pathway=OuterRef("pk"), guardian__has_parental_authority=True)
        ),
        "step_eps_decided": Exists(eps),
        "step_has_objective": Exists(Objective.objects.filter(pathway=OuterRef("pk"))),
    }


def transition_checks(pathway: Pathway) -> dict[str, bool]:
    """The conditions of the steps (``has_valid_consent``, ``eps_has_decided``, an objective exists):
    from the pathway's ``transition_check_annotations`` when it was read with them, else one query."""
    if all(hasattr(pathway, f"step_{check}") for check in TRANSITION_CHECKS):
        return {check: getattr(pathway, f"step_{check}") for check in TRANSITION_CHECKS}
    row = Pathway.objects.filter(pk=pathway.pk).values(**transition_check_annotations()).get()
    return {check: row[f"step_{check}"] for check in TRANSITION_CHECKS}


def transition_problems(pathway: Pathway, to_state: str, checks: dict[str, bool] | None = None) -> list[str]:
    """Why ``pathway`` cannot move to ``to_state`` now (empty list: it can).

    ``checks``: ``transition_checks(pathway)`` read once for several targets (read here otherwise).
    """
    problems = []
    if to_state not in TRANSITIONS[PathwayState(pathway.state)]:
        problems.append(
            _("Le parcours ne peut pas passer de « %(from)s » à « %(to)s ».")
            % {"from": PathwayState(pathway.state).label, "to": PathwayState(to_state).label}
        )
        return problems
    if to_state in {PathwayState.DIAGNOSTIC, PathwayState.EPS_REVIEW, PathwayState.ACTIVE}:
        if not (checks["valid_consent"] if checks is not None else has_valid_consent(pathway)):
            problems.append(
                _("Il faut l'accord écrit d'au moins un titulaire de l'autorité parentale, non retiré.")
            )
    if to_state == PathwayState.ACTIVE:
        if not (checks["eps_decided"] if checks is not None else eps_has_decided(pathway)):
            problems.append(
                _(
                    "Le parcours ne passe « en cours » qu'après l'examen de la situation en EPS : "
                    "inscrivez-la à l'ordre du jour d'une EPS et enregistrez la décision de la réunion."
                )
            )
        if not (checks["has_objective"] if checks is not None else pathway.objectives.exists()):
            problems.append(_("Il faut au moins un objectif dans le plan."))
        if pathway.referent_id is None:
            problems.append(_("Il faut désigner un·e référent·e de parcours."))
    return problems


@transaction.atomic
def pathway_transition(*, pathway: Pathway, to_state: str, by, note: str = "") -> Pathway:
    """Move a pathway to another step (closing goes through ``pathway_close``)."""
    pathway = Pathway.objects.select_for_update().get(pk=pathway.pk)
    if to_state == PathwayState.CLOSED:
        raise JourneyError(_("La clôture se fait avec un motif de sortie."))
    problems = transition_problems(pathway, to_state)
    if problems:
        raise JourneyError(problems)
    from_state = pathway.state
    pathway.state = to_state
    pathway.state_changed_at = timezone.now()
    fields = ["state", "state_changed_at", "version", "updated_at"]
    if to_state == PathwayState.ACTIVE and pathway.next_review_on is None:
        pathway.next_review_on = timezone.localdate() + datetime.timedelta(
            weeks=pathway.programme.review_cadence_weeks
        )
        fields.append("next_review_on")
    pathway.version += 1
    pathway.save(update_fields=fields)
    PathwayTransition.objects.create(
        pathway=pathway, from_state=from_state, to_state=to_state, by=by, note=note
    )
    record(
        verb="pathway.transition",
        actor=by,
        target=pathway,
        payload={"from": from_state, "to": to_state},
    )
    return pathway


def close_problems(pathway: Pathway, exit_reason: ListItem, closed_on: datetime.date) -> list[str]:
    problems = []
    if pathway.state == PathwayState.CLOSED:
        problems.append(_("Ce parcours est déjà clôturé."))
    if exit_reason.kind != ListKind.EXIT_REASON or exit_reason.programme_id != pathway.programme_id:
        problems.append(_("Motif de sortie inconnu."))
    if closed_on < pathway.opened_on:
        problems.append(_("La date de sortie ne peut pas précéder l'ouverture du parcours."))
    if closed_on > timezone.localdate():
        problems.append(_("La date de sortie ne peut pas être dans le futur."))
    if exit_reason.needs_final_review and not pathway.reviews.filter(kind=ReviewKind.FINAL).exists():
        problems.append(_("Ce motif de sortie demande un bilan final : enregistrez-le avant de clôturer."))
    return problems


@transaction.atomic
def pathway_close(
    *,
    pathway: Pathway,
    exit_reason: ListItem,
    closed_on: datetime.date,
    by,
    relay_partner: str = "",
    note: str = "",
) -> Pathway:
    pathway = Pathway.objects.select_for_update().get(pk=pathway.pk)
    problems = close_problems(pathway, exit_reason, closed_on)
    if problems:
        raise JourneyError(problems)
    from_state = pathway.state
    pathway.state = PathwayState.CLOSED
    pathway.state_changed_at = timezone.now()
    pathway.closed_on = closed_on
    pathway.exit_reason = exit_reason
    pathway.relay_partner = relay_partner
    pathway.exit_note = note
    pathway.next_review_on = None
    pathway.version += 1
    pathway.save(
        update_fields=[
            "state",
            "state_changed_at",
            "closed_on",
            "exit_reason",
            "relay_partner",
            "exit_note",
            "next_review_on",
            "version",
            "updated_at",
        ]
    )
    PathwayTransition.objects.create(
        pathway=pathway, from_state=from_state, to_state=PathwayState.CLOSED, by=by, note=exit_reason.label
    )
    record(
        verb="pathway.closed",
        actor=by,
        target=pathway,
        payload={"from": from_state, "exit_reason": exit_reason.code, "closed_on": closed_on.isoformat()},
    )
    return pathway


@transaction.atomic
def pathway_reopen(*, pathway: Pathway, by, referent=None) -> Pathway:
    """Reopening never edits the closed pathway: it starts a new one linked to it."""
    if pathway.state != PathwayState.CLOSED:
        raise JourneyError(_("Seul un parcours clôturé peut être rouvert."))
    if hasattr(pathway, "next_pathway"):
        raise JourneyError(_("Ce parcours a déjà été rouvert."))
    return pathway_open(
        child=pathway.child, by=by, referral=pathway.referral, referent=referent, previous=pathway
    )


@transaction.atomic
def referent_assign(*, pathway: Pathway, referent, by) -> Pathway:
    now = timezone.now()
    ReferentAssignment.objects.filter(pathway=pathway, ends_at__isnull=True).update(ends_at=now)
    ReferentAssignment.objects.create(pathway=pathway, referent=referent, assigned_by=by, starts_at=now)
    previous = pathway.referent_id
    pathway.referent = referent
    pathway.version += 1
    pathway.save(update_fields=["referent", "version", "updated_at"])
    record(
        verb="pathway.referent_assigned",
        actor=by,
        target=pathway,
        payload={"from": previous, "to": referent.pk},
    )
    return pathway


@transaction.atomic
def case_team_add(
    *, pathway: Pathway, membership, reason: str, by, starts_on=None, ends_on=None
) -> CaseTeamMember:
    if membership.programme_id != pathway.programme_id:
        raise JourneyError(_("Ce professionnel n'appartient pas au programme."))
    if not reason.strip():
        raise JourneyError(_("Indiquez pourquoi ce professionnel rejoint l'équipe du parcours."))
    member = CaseTeamMember.objects.create(
        pathway=pathway,
        membership=membership,
        reason=reason,
        added_by=by,
        starts_on=starts_on or timezone.localdate(),
        ends_on=ends_on,
    )
    record(
        verb="case_team.added",
        actor=by,
        target=pathway,
        payload={"membership": membership.pk, "reason": reason, "ends_on": ends_on},
    )
    return member


@transaction.atomic
def case_team_remove(*, member: CaseTeamMember, by, reason: str = "") -> CaseTeamMember:
    """Access ends at once: the membership ends yesterday.

    A member whose period starts today or later never had a past day in the team: ending their
    period on its first day would still leave them in the team that day, so the row is deleted
    (the journal keeps both the addition and the removal).
    """
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    pathway = member.pathway
    payload = {"membership": member.membership_id, "reason": reason}
    if member.starts_on > yesterday:
        payload["starts_on"] = member.starts_on
        member.delete()
    else:
        member.ends_on = yesterday if member.ends_on is None else min(member.ends_on, yesterday)
        member.save(update_fields=["ends_on", "updated_at"])
    record(verb="case_team.removed", actor=by, target=pathway, payload=payload)
    return member


# --- consent ---------------------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    pathway: Pathway,
    guardian,
    given_on: datetime.date,
    by,
    care: bool = True,
    shared_with=(),
    image_use: bool = False,
    evaluation_use: bool = False,
    proof=None,
    proof_content_type: str = "",
    notice_delivered_on: datetime.date | None = None,
    child_informed_on: datetime.date | None = None,
) -> Consent:
    if pathway.state == PathwayState.CLOSED:
        raise JourneyError(
            _("Le parcours est clôturé : un nouvel accord se recueille sur un parcours rouvert.")
        )
    if guardian.household_id != pathway.child.household_id:
        raise JourneyError(_("Cette personne n'appartient pas au foyer de l'enfant."))
    if not guardian.has_parental_authority:
        raise JourneyError(_("Seul un titulaire de l'autorité parentale peut donner l'accord."))
    if given_on > timezone.localdate():
        raise JourneyError(_("La date de l'accord ne peut pas être dans le futur."))
    organisations = list(shared_with)
    if any(org.programme_id != pathway.programme_id for org in organisations):
        raise JourneyError(_("Le partage ne peut viser que des partenaires du programme."))
    consent = Consent(
        pathway=pathway,
        guardian=guardian,
        given_on=given_on,
        care=care,
        image_use=image_use,
        evaluation_use=evaluation_use,
        proof_content_type=proof_content_type,
        notice_delivered_on=notice_delivered_on,
        child_informed_on=child_informed_on,
        recorded_by=by,
    )
    if proof is not None:
        consent.proof.save("proof", proof, save=False)
    consent.save()
    consent.shared_with.set(organisations)
    record(
        verb="consent.recorded",
        actor=by,
        target=pathway,
        payload={
            "consent": consent.pk,
            "guardian": guardian.pk,
            "care": care,
            "shared_with": [org.pk for org in organisations],
            "image_use": image_use,
            "evaluation_use": evaluation_use,
            "proof": bool(proof),
        },
    )
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, withdrawn_on: datetime.date, by, note: str = "") -> Consent:
    """Withdrawal takes effect at once; with no valid consent left, the pathway closes ("withdrawal")."""
    if consent.withdrawn_on is not None:
        raise JourneyError(_("Cet accord a déjà été retiré."))
    if withdrawn_on < consent.given_on or withdrawn_on > timezone.localdate():
        raise JourneyError(_("La date du retrait doit être entre la date de l'accord et aujourd'hui."))
    consent.withdrawn_on = withdrawn_on
    consent.withdrawn_by = by
    consent.withdrawal_note = note
    consent.save(update_fields=["withdrawn_on", "withdrawn_by", "withdrawal_note", "updated_at"])
    pathway = consent.pathway
    record(verb="consent.withdrawn", actor=by, target=pathway, payload={"consent": consent.pk})
    if pathway.state != PathwayState.CLOSED and not has_valid_consent(pathway):
        # A programme set up without its default lists must still close on withdrawal.
        label = next(label for code, label, _final in EXIT_REASONS if code == WITHDRAWAL_EXIT_CODE)
        reason, _created = ListItem.objects.get_or_create(
            programme=pathway.programme,
            kind=ListKind.EXIT_REASON,
            code=WITHDRAWAL_EXIT_CODE,
            defaults={"label": str(label), "needs_final_review": False},
        )
        pathway_close(
            pathway=pathway,
            exit_reason=reason,
            closed_on=max(withdrawn_on, pathway.opened_on),
            by=by,
            note=note,
        )
    return consent


# --- written items ---------------------------------------------------------------------------------


def check_coverage(*, pathway: Pathway, circle: str) -> None:
    """Beyond the team, an item is shared: the family's consent in force must name a partner."""
    if circle == Circle.TEAM:
        return
    shares = pathway.consents.valid().filter(shared_with__isnull=False).exists()
    if not shares:
        raise JourneyError(
            _(
                "L'accord de la famille ne prévoit de partage avec aucun partenaire : cet écrit ne peut "
                "être lu qu'au sein de l'équipe du parcours."
            )
        )


def check_circle(*, circle: str, author_membership, health: bool) -> None:
    """A member who refuses the secret partagé writes ``team`` only; health never reaches ``partners``."""
    if circle not in Circle.values:
        raise JourneyError(_("Cercle de lecture inconnu."))
    if health and circle == Circle.PARTNERS:
        raise JourneyError(
            _("Une information de santé ou psychologique ne peut pas dépasser le cercle du secret partagé.")
        )
    if author_membership is not None and author_membership.refuses_shared_secret and circle != Circle.TEAM:
        raise JourneyError(
            _("Vous avez refusé le secret partagé : vos écrits restent dans le cercle de l’équipe.")
        )
    if author_membership is not None and not author_membership.bound_by_secrecy and circle == Circle.SECRET:
        raise JourneyError(
            _("Vous n'êtes pas soumis·e au secret professionnel : choisissez l'équipe ou les partenaires.")
        )


def _journal_circle_change(*, item, old_circle: str, by) -> None:
    if old_circle and old_circle != item.circle:
        widened = CIRCLE_ORDER.index(Circle(item.circle)) > CIRCLE_ORDER.index(Circle(old_circle))
        record(
            verb="item.circle_widened" if widened else "item.circle_narrowed",
            actor=by,
            target=item.pathway,
            payload={
                "item": item._meta.label_lower,
                "item_id": item.pk,
                "from": old_circle,
                "to": item.circle,
            },
        )


@transaction.atomic
def diagnostic_section_save(
    *,
    pathway: Pathway,
    dimension: str,
    by,
    membership=None,
    section: DiagnosticSection | None = None,
    **fields,
) -> DiagnosticSection:
    circle = fields.get("circle", section.circle if section else Circle.TEAM)
    check_circle(circle=circle, author_membership=membership, health=dimension in HEALTH_DIMENSIONS)
    check_coverage(pathway=pathway, circle=circle)
    old_circle = section.circle if section else ""
    if section is None:
        section = DiagnosticSection(pathway=pathway, dimension=dimension, author=by)
    for name, value in fields.items():
        setattr(section, name, value)
    section.dimension = dimension
    section.save()
    record(
        verb="diagnostic.saved",
        actor=by,
        target=pathway,
        payload={"section": section.pk, "dimension": dimension, "circle": section.circle},
    )
    _journal_circle_change(item=section, old_circle=old_circle, by=by)
    return section


@transaction.atomic
def objective_add(
    *,
    pathway: Pathway,
    dimension: str,
    wording: str,
    by,
    target_date: datetime.date | None = None,
    circle: str = Circle.TEAM,
    membership=None,
) -> Objective:
    """Add an objective; its wording is read within ``circle`` (health never beyond ``secret``)."""
    if pathway.state == PathwayState.CLOSED:
        raise JourneyError(_("Le parcours est clôturé."))
    check_circle(circle=circle, author_membership=membership, health=dimension in HEALTH_DIMENSIONS)
    check_coverage(pathway=pathway, circle=circle)
    objective = Objective.objects.create(
        pathway=pathway,
        dimension=dimension,
        wording=wording,
        target_date=target_date,
        author=by,
        circle=circle,
    )
    record(
        verb="objective.added",
        actor=by,
        target=pathway,
        payload={"objective": objective.pk, "circle": circle},
    )
    return objective


@transaction.atomic
def objective_set_status(*, objective: Objective, status: str, by) -> Objective:
    objective.status = ObjectiveStatus(status)
    objective.save(update_fields=["status", "updated_at"])
    record(
        verb="objective.status_changed",
        actor=by,
        target=objective.pathway,
        payload={"objective": objective.pk, "status": status},
    )
    return objective


@transaction.atomic
def plan_action_add(*, pathway: Pathway, title: str, by, membership=None, **fields) -> PlanAction:
    """Add a plan action; its text is read within ``circle`` (``team`` by default). An action
    about health, or serving a health objective, never goes beyond ``secret``."""
    if pathway.state == PathwayState.CLOSED:
        raise JourneyError(_("Le parcours est clôturé."))
    objective = fields.get("objective")
    if objective is not None and objective.pathway_id != pathway.pk:
        raise JourneyError(_("Cet objectif n'appartient pas à ce parcours."))
    circle = fields.setdefault("circle", Circle.TEAM)
    if objective is not None and objective.dimension in HEALTH_DIMENSIONS:
        fields["health_related"] = True
    check_circle(circle=circle, author_membership=membership, health=fields.get("health_related", False))
    check_coverage(pathway=pathway, circle=circle)
    fields["author"] = by
    provider = fields.get("provider")
    if provider is not None and provider.programme_id != pathway.programme_id:
        raise JourneyError(_("L'intervenant doit être un partenaire du programme."))
    action = PlanAction.objects.create(pathway=pathway, title=title, **fields)
    record(verb="plan_action.added", actor=by, target=pathway, payload={"plan_action": action.pk})
    return action


@transaction.atomic
def contact_add(*, pathway: Pathway, by, membership=None, **fields) -> Contact:
    circle = fields.setdefault("circle", Circle.TEAM)
    check_circle(circle=circle, author_membership=membership, health=False)
    check_coverage(pathway=pathway, circle=circle)
    if fields["occurred_on"] > timezone.localdate():
        raise JourneyError(_("La date du contact ne peut pas être dans le futur."))
    contact = Contact.objects.create(pathway=pathway, author=by, **fields)
    if pathway.last_contact_on is None or contact.occurred_on > pathway.last_contact_on:
        pathway.last_contact_on = contact.occurred_on
        pathway.save(update_fields=["last_contact_on", "updated_at"])
    record(verb="contact.added", actor=by, target=pathway, payload={"contact": contact.pk, "circle": circle})
    if contact.missed:
        # A missed appointment may breach the family contract (maillage.offers breach rules).
        from maillage.offers.services import check_missed_appointments

        check_missed_appointments(pathway=pathway)
    return contact


@transaction.atomic
def note_add(
    *, pathway: Pathway, body: str, by, membership=None, circle: str = Circle.TEAM, health_related=False
):
    check_circle(circle=circle, author_membership=membership, health=health_related)
    check_coverage(pathway=pathway, circle=circle)
    note = Note.objects.create(
        pathway=pathway, author=by, body=body, circle=circle, health_related=health_related
    )
    record(verb="note.added", actor=by, target=pathway, payload={"note": note.pk, "circle": circle})
    return note


@transaction.atomic
def review_add(
    *,
    pathway: Pathway,
    kind: str,
    held_on: datetime.date,
    by,
    ratings: dict[int, tuple[str, str]],
    summary: str = "",
    membership=None,
    circle: str = Circle.TEAM,
) -> Review:
    """Record a bilan rating each open objective (``ratings``: objective id → (rating, comment))."""
    check_circle(circle=circle, author_membership=membership, health=False)
    check_coverage(pathway=pathway, circle=circle)
    if held_on > timezone.localdate():
        raise JourneyError(_("La date du bilan ne peut pas être dans le futur."))
    objectives = {o.pk: o for o in pathway.objectives.all()}
    missing = [o.wording for pk, o in objectives.items() if pk not in ratings]
    if missing:
        raise JourneyError(_("Chaque objectif doit être évalué : %(list)s.") % {"list": ", ".join(missing)})
    unknown = set(ratings) - set(objectives)
    if unknown:
        raise JourneyError(_("Objectif inconnu dans ce bilan."))
    review = Review.objects.create(
        pathway=pathway, kind=kind, held_on=held_on, summary=summary, author=by, circle=circle
    )
    ReviewRating.objects.bulk_create(
        [
            ReviewRating(review=review, objective=objectives[pk], rating=rating, comment=comment)
            for pk, (rating, comment) in ratings.items()
        ]
    )
    if kind == ReviewKind.FINAL:
        for pk, (rating, _comment) in ratings.items():
            objectives[pk].status = rating
        Objective.objects.bulk_update(objectives.values(), ["status"])
    pathway.next_review_on = (
        None
        if kind == ReviewKind.FINAL
        else held_on + datetime.timedelta(weeks=pathway.programme.review_cadence_weeks)
    )
    pathway.save(update_fields=["next_review_on", "updated_at"])
    record(verb="review.added", actor=by, target=pathway, payload={"review": review.pk, "kind": kind})
    return review
