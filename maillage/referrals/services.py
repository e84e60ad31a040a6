"""Writes on referrals: submission, review, decision, and acceptance into a pathway."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.audit.services import record
from maillage.people.models import Child, Guardian, Household
from maillage.referrals.eligibility import age_on, check_eligibility
from maillage.referrals.enums import TRANSITIONS, ReferralState
from maillage.referrals.models import Referral, ReferralTransition


class ReferralError(ValidationError):
    pass


@transaction.atomic
def referral_submit(*, programme, by, motifs, **fields) -> Referral:
    if not fields.get("family_informed"):
        raise ReferralError(
            _("La famille doit avoir été informée de l'orientation avant l'envoi de la fiche.")
        )
    if fields["child_birth_date"] > timezone.localdate():
        raise ReferralError(_("La date de naissance ne peut pas être dans le futur."))
    age = age_on(fields["child_birth_date"], timezone.localdate())
    outside_age_window = not programme.age_min <= age <= programme.age_max
    if outside_age_window and not fields.get("derogation_reason", "").strip():
        raise ReferralError(
            _(
                "L'enfant a %(age)s ans, hors de la tranche d'âge du programme (%(min)s à %(max)s ans) : "
                "demandez une dérogation et indiquez pourquoi."
            )
            % {"age": age, "min": programme.age_min, "max": programme.age_max}
        )
    motifs = list(motifs)
    if not motifs:
        raise ReferralError(_("Choisissez au moins un motif d'orientation."))
    referral = Referral.objects.create(programme=programme, submitted_by=by, **fields)
    referral.motifs.set(motifs)
    ReferralTransition.objects.create(
        referral=referral, from_state="", to_state=ReferralState.SUBMITTED, by=by
    )
    record(
        verb="referral.submitted",
        actor=by,
        target=referral,
        payload={"motifs": [m.code for m in motifs], "on_behalf_of_family": referral.on_behalf_of_family},
    )
    if outside_age_window:
        # Only asked for here: the coordinator grants it, or not, when accepting (``referral_accept``).
        record(
            verb="referral.derogation_requested",
            actor=by,
            target=referral,
            payload={"age": age, "reason": referral.derogation_reason},
        )
    return referral


@transaction.atomic
def referral_transition(
    *, referral: Referral, to_state: str, by, reason: str = "", redirected_to: str = ""
) -> Referral:
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if to_state not in TRANSITIONS[ReferralState(referral.state)]:
        raise ReferralError(
            _("L'orientation ne peut pas passer de « %(from)s » à « %(to)s ».")
            % {"from": ReferralState(referral.state).label, "to": ReferralState(to_state).label}
        )
    if to_state == ReferralState.ACCEPTED:
        raise ReferralError(
            _("L'acceptation ouvre un parcours : utilisez « Accepter et ouvrir le parcours ».")
        )
    if to_state in {ReferralState.DECLINED, ReferralState.REDIRECTED} and not reason.strip():
        raise ReferralError(_("Indiquez le motif de la décision."))
    if to_state == ReferralState.REDIRECTED and not redirected_to.strip():
        raise ReferralError(_("Indiquez vers quel partenaire ou dispositif la famille est réorientée."))
    from_state = referral.state
    referral.state = to_state
    referral.state_changed_at = timezone.now()
    referral.decision_reason = reason
    referral.redirected_to = redirected_to
    referral.save(
        update_fields=["state", "state_changed_at", "decision_reason", "redirected_to", "updated_at"]
    )
    ReferralTransition.objects.create(
        referral=referral, from_state=from_state, to_state=to_state, by=by, reason=reason
    )
    record(
        verb="referral.transition", actor=by, target=referral, payload={"from": from_state, "to": to_state}
    )
    return referral


def referral_eligibility(referral: Referral, on=None):
    return check_eligibility(
        programme=referral.programme,
        birth_date=referral.child_birth_date,
        on=on or timezone.localdate(),
        priority_area=referral.priority_area,
        school=referral.school,
    )


@transaction.atomic
def referral_accept(
    *,
    referral: Referral,
    by,
    child: Child | None = None,
    household: Household | None = None,
    referent=None,
    derogation: bool = False,
    derogation_reason: str = "",
):
    """Accept a referral under review: link or create the child, then open the pathway.

    An ineligible child is accepted only with a derogation and its reason, both journaled.
    """
    from maillage.pathways.services import pathway_open

    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.state != ReferralState.UNDER_REVIEW:
        raise ReferralError(_("Seule une orientation en cours d'examen peut être acceptée."))
    eligibility = referral_eligibility(referral)
    if not eligibility.eligible and not derogation:
        raise ReferralError(
            [_("L'enfant ne remplit pas les critères du programme :"), *eligibility.reasons,
             _("Pour l'accepter quand même, cochez la dérogation et indiquez son motif.")]
        )  # fmt: skip
    if derogation and not derogation_reason.strip():
        raise ReferralError(_("Une dérogation doit être motivée."))
    if child is not None and child.programme_id != referral.programme_id:
        raise ReferralError(_("Cet enfant n'appartient pas au programme."))
    if child is None:
        if household is None:
            household = Household.objects.create(
                programme=referral.programme,
                name=_("Famille %(name)s") % {"name": referral.child_last_name},
                address=referral.address,
                postcode=referral.postcode,
                commune=referral.commune,
            )
            first, _sep, last = referral.guardian_name.partition(" ")
            Guardian.objects.create(
                household=household,
                first_name=first,
                last_name=last or referral.child_last_name,
                relation=referral.guardian_relation,
                phone=referral.guardian_phone,
                email=referral.guardian_email,
            )
        elif household.programme_id != referral.programme_id:
            raise ReferralError(_("Ce foyer n'appartient pas au programme."))
        child = Child.objects.create(
            programme=referral.programme,
            household=household,
            first_name=referral.child_first_name,
            last_name=referral.child_last_name,
            birth_date=referral.child_birth_date,
            sex=referral.child_sex,
            school=referral.school,
            school_level=referral.school_level,
            address=referral.address,
            postcode=referral.postcode,
            commune=referral.commune,
            latitude=referral.latitude,
            longitude=referral.longitude,
        )
    if referral.priority_area_id is not None and child.in_priority_area is None:
        # The QPV chosen on the referral is the child's residence fact for the indicators (ANCT, comité).
        child.in_priority_area = True
        child.save(update_fields=["in_priority_area", "updated_at"])
    referral.child = child
    referral.eligibility = eligibility.as_dict()
    referral.derogation = derogation
    referral.derogation_reason = derogation_reason
    referral.state = ReferralState.ACCEPTED
    referral.state_changed_at = timezone.now()
    referral.save(
        update_fields=[
            "child",
            "eligibility",
            "derogation",
            "derogation_reason",
            "state",
            "state_changed_at",
            "updated_at",
        ]
    )
    ReferralTransition.objects.create(
        referral=referral,
        from_state=ReferralState.UNDER_REVIEW,
        to_state=ReferralState.ACCEPTED,
        by=by,
        reason=derogation_reason,
    )
    record(
        verb="referral.accepted",
        actor=by,
        target=referral,
        payload={"child": child.pk, "eligible": eligibility.eligible, "derogation": derogation},
    )
    if derogation:
        record(verb="referral.derogation", actor=by, target=referral, payload={"reason": derogation_reason})
    return pathway_open(child=child, by=by, referral=referral, referent=referent)
