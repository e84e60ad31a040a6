"""Right of access (RGPD art. 15; CONFIDENTIALITY.md, principle 7): everything held on a child and family.

``build_subject_access(child)`` gathers, in a JSON-ready dict: the child's identity, the household
and its adults, the referrals, every pathway with its steps, consents (withdrawn ones too), diagnosis,
objectives, plan actions, contacts, notes and bilans with their ratings, and the list of who
consulted or changed the file (organisation and role, when; staff names only when asked).

Written items marked ``withheld`` (information on third parties, or whose communication could harm
someone) appear only as ``{"withheld": true, "reason": …}``: their existence and the reason, never
their content nor their date or author.

``render_subject_access_pdf(data)`` renders the same dict as a readable PDF in plain French, and
``subject_access_export`` writes both files and journals the export (``subject_access.exported``).
This is run by the coordination or the DPO on the family's request (``manage.py
subject_access_export``); it reads the whole file whatever the circles, by design.
"""

import datetime
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from maillage.audit.models import AuditEvent
from maillage.audit.services import record
from maillage.pathways.enums import (
    ActionKind,
    ContactKind,
    Dimension,
    ObjectiveStatus,
    PathwayState,
    Rating,
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
    Review,
    ReviewRating,
)
from maillage.people.enums import GuardianRelation, SchoolLevel, Sex
from maillage.programmes.enums import Role
from maillage.programmes.models import Membership
from maillage.referrals.enums import ReferralState
from maillage.referrals.models import Referral, ReferralTransition

FORMAT = "maillage.subject_access/1"

# What a journal entry was about, in the family's words.
TARGET_LABELS = {
    "people.child": gettext_lazy("Identité de l'enfant"),
    "people.household": gettext_lazy("Foyer"),
    "people.guardian": gettext_lazy("Responsable légal·e ou adulte du foyer"),
    "referrals.referral": gettext_lazy("Fiche d'orientation"),
    "pathways.pathway": gettext_lazy("Parcours"),
    "pathways.consent": gettext_lazy("Accord de la famille"),
    "pathways.diagnosticsection": gettext_lazy("Diagnostic"),
    "pathways.contact": gettext_lazy("Contact"),
    "pathways.note": gettext_lazy("Note"),
    "pathways.review": gettext_lazy("Bilan"),
}


def _label(choices, value) -> str:
    if value in (None, ""):
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _day(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: datetime.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="minutes") if value else None


def _action_kind(verb: str) -> str:
    """« Consultation », « Export » or « Enregistrement ou modification », from the journal's verb."""
    if verb.endswith((".viewed", ".listed", ".opened_break_glass", ".read")):
        return _("Consultation")
    if verb.endswith((".exported", ".downloaded", ".printed", ".generated")):
        return _("Export ou édition d'un document")
    return _("Enregistrement ou modification")


class _Staff:
    """Professionals as the family sees them: organisation and role; the name only when asked."""

    def __init__(self, programme, *, with_names: bool):
        self.with_names = with_names
        self.by_user: dict[int, Membership] = {}
        memberships = Membership.objects.filter(programme=programme).select_related("organisation", "user")
        for membership in memberships.order_by("-starts_on", "pk"):
            self.by_user.setdefault(membership.user_id, membership)

    def describe(self, user_id: int | None, membership: Membership | None = None, role: str = "") -> dict:
        if user_id is None and membership is None:
            return {"organisation": "", "role": _("Traitement automatique (durées de conservation)")}
        membership = membership or self.by_user.get(user_id)
        who = {
            "organisation": membership.organisation.name if membership and membership.organisation else "",
            "role": _label(Role, role or (membership.role if membership else "")),
        }
        if self.with_names:
            user = membership.user if membership else None
            who["name"] = (user.get_full_name() or user.email) if user else ""
        return who


def _withheld(item) -> dict | None:
    if item.withheld:
        return {"withheld": True, "reason": item.withheld_reason or _("Information réservée")}
    return None


def build_subject_access(child, *, include_staff_names: bool = False) -> dict[str, Any]:
    """Everything held on ``child`` and its household, JSON-ready (see the module docstring)."""
    programme = child.programme
    household = child.household
    staff = _Staff(programme, with_names=include_staff_names)
    guardians = list(household.guardians.order_by("pk"))
    guardian_names = {g.pk: f"{g.first_name} {g.last_name}".strip() for g in guardians}

    referrals = list(
        Referral.objects.filter(Q(child=child) | Q(pathways__child=child))
        .distinct()
        .select_related("referrer_type", "referrer_organisation", "school", "commune", "priority_area")
        .prefetch_related("motifs", Prefetch("transitions", ReferralTransition.objects.order_by("at", "pk")))
        .order_by("submitted_at", "pk")
    )
    pathways = list(
        Pathway.objects.filter(child=child)
        .select_related("exit_reason")
        .prefetch_related(
            Prefetch("transitions", PathwayTransition.objects.order_by("at", "pk")),
            Prefetch("team_members", CaseTeamMember.objects.select_related("membership__organisation")),
            Prefetch(
                "consents",
                Consent.objects.prefetch_related("shared_with").order_by("given_on", "pk"),
            ),
            Prefetch(
                "diagnostic_sections", DiagnosticSection.objects.order_by("dimension", "written_on", "pk")
            ),
            Prefetch("objectives", Objective.objects.order_by("pk")),
            Prefetch(
                "plan_actions", PlanAction.objects.select_related("provider", "objective").order_by("pk")
            ),
            Prefetch("contacts", Contact.objects.order_by("occurred_on", "pk")),
            Prefetch("notes", Note.objects.order_by("created_at", "pk")),
            Prefetch(
                "reviews",
                Review.objects.prefetch_related(
                    Prefetch("ratings", ReviewRating.objects.select_related("objective").order_by("pk"))
                ).order_by("held_on", "pk"),
            ),
        )
        .order_by("opened_on", "pk")
    )

    counts: Counter[str] = Counter()
    data: dict[str, Any] = {
        "format": FORMAT,
        "generated_at": _moment(timezone.now()),
        "programme": {
            "name": programme.name,
            "label": programme.label,
            "lead_body": programme.lead_body_name or programme.get_lead_body_type_display(),
            "journal_retention_months": programme.log_retention_months,
            "active_retention_years": programme.active_retention_years,
            "archive_retention_years": programme.archive_retention_years,
            "dpo_email": getattr(settings, "MAILLAGE_DPO_EMAIL", "") or "",
        },
        "child": {
            "first_name": child.first_name,
            "last_name": child.last_name,
            "birth_date": _day(child.birth_date),
            "sex": _label(Sex, child.sex),
            "school": child.school.name if child.school_id else "",
            "school_level": _label(SchoolLevel, child.school_level),
            "address": child.address,
            "postcode": child.postcode,
            "commune": child.commune.name if child.commune_id else "",
            "latitude": child.latitude,
            "longitude": child.longitude,
            "in_priority_area": child.in_priority_area,
        },
        "household": {
            "name": household.name,
            "address": household.address,
            "postcode": household.postcode,
            "commune": household.commune.name if household.commune_id else "",
            "languages": household.languages,
        },
        "guardians": [
            {
                "first_name": g.first_name,
                "last_name": g.last_name,
                "relation": _label(GuardianRelation, g.relation),
                "has_parental_authority": g.has_parental_authority,
                "phone": g.phone,
                "email": g.email,
                "address": g.address,
            }
            for g in guardians
        ],
        "referrals": [],
        "pathways": [],
    }
    counts["guardians"] = len(guardians)

    for referral in referrals:
        data["referrals"].append(
            {
                "submitted_at": _moment(referral.submitted_at),
                "referrer_type": referral.referrer_type.label if referral.referrer_type_id else "",
                "referrer_organisation": (
                    referral.referrer_organisation.name if referral.referrer_organisation_id else ""
                ),
                **({"referrer_contact": referral.referrer_contact} if include_staff_names else {}),
                "motifs": [m.label for m in referral.motifs.all()],
                "child_first_name": referral.child_first_name,
                "child_last_name": referral.child_last_name,
                "child_birth_date": _day(referral.child_birth_date),
                "child_sex": _label(Sex, referral.child_sex),
                "school": referral.school.name if referral.school_id else "",
                "school_level": _label(SchoolLevel, referral.school_level),
                "address": referral.address,
                "postcode": referral.postcode,
                "commune": referral.commune.name if referral.commune_id else "",
                "priority_area": referral.priority_area.name if referral.priority_area_id else "",
                "guardian_name": referral.guardian_name,
                "guardian_relation": _label(GuardianRelation, referral.guardian_relation),
                "guardian_phone": referral.guardian_phone,
                "guardian_email": referral.guardian_email,
                "context": referral.context,
                "family_informed": referral.family_informed,
                "state": _label(ReferralState, referral.state),
                "decision_reason": referral.decision_reason,
                "redirected_to": referral.redirected_to,
                "eligibility": referral.eligibility.get("reasons", []) if referral.eligibility else [],
                "derogation": referral.derogation,
                "derogation_reason": referral.derogation_reason,
                "transitions": [
                    {
                        "at": _moment(t.at),
                        "from": _label(ReferralState, t.from_state),
                        "to": _label(ReferralState, t.to_state),
                        "by": staff.describe(t.by_id),
                        "reason": t.reason,
                    }
                    for t in referral.transitions.all()
                ],
            }
        )
    counts["referrals"] = len(referrals)

    for pathway in pathways:
        data["pathways"].append(_pathway(pathway, staff, guardian_names, counts))
    counts["pathways"] = len(pathways)

    data["access_events"] = _access_events(child, household, guardians, referrals, pathways, staff)
    counts["access_events"] = len(data["access_events"])
    data["counts"] = dict(sorted(counts.items()))
    return data


def _pathway(pathway: Pathway, staff: _Staff, guardian_names: dict[int, str], counts: Counter) -> dict:
    def item(obj, content: dict) -> dict:
        hidden = _withheld(obj)
        if hidden is not None:
            counts["withheld"] += 1
            return hidden
        return {**content, "author": staff.describe(obj.author_id)}

    consents = list(pathway.consents.all())
    sections = list(pathway.diagnostic_sections.all())
    objectives = list(pathway.objectives.all())
    actions = list(pathway.plan_actions.all())
    contacts = list(pathway.contacts.all())
    notes = list(pathway.notes.all())
    reviews = list(pathway.reviews.all())
    counts.update(
        consents=len(consents),
        diagnostic_sections=len(sections),
        objectives=len(objectives),
        plan_actions=len(actions),
        contacts=len(contacts),
        notes=len(notes),
        reviews=len(reviews),
    )
    return {
        "case_code": pathway.case_code,
        "state": _label(PathwayState, pathway.state),
        "opened_on": _day(pathway.opened_on),
        "closed_on": _day(pathway.closed_on),
        "exit_reason": pathway.exit_reason.label if pathway.exit_reason_id else "",
        "exit_note": pathway.exit_note,
        "relay_partner": pathway.relay_partner,
        "last_contact_on": _day(pathway.last_contact_on),
        "next_review_on": _day(pathway.next_review_on),
        "archived_at": _moment(pathway.archived_at),
        "referent": staff.describe(pathway.referent_id) if pathway.referent_id else None,
        "transitions": [
            {
                "at": _moment(t.at),
                "from": _label(PathwayState, t.from_state),
                "to": _label(PathwayState, t.to_state),
                "by": staff.describe(t.by_id),
                "note": t.note,
            }
            for t in pathway.transitions.all()
        ],
        "case_team": [
            {
                **staff.describe(m.membership.user_id, m.membership),
                "starts_on": _day(m.starts_on),
                "ends_on": _day(m.ends_on),
                "reason": m.reason,
            }
            for m in pathway.team_members.all()
        ],
        "consents": [
            {
                "given_on": _day(c.given_on),
                "guardian": guardian_names.get(c.guardian_id, ""),
                "care": c.care,
                "shared_with": [org.name for org in c.shared_with.all()],
                "image_use": c.image_use,
                "evaluation_use": c.evaluation_use,
                "signed_document_kept": bool(c.proof),
                "notice_delivered_on": _day(c.notice_delivered_on),
                "child_informed_on": _day(c.child_informed_on),
                "withdrawn_on": _day(c.withdrawn_on),
                "withdrawal_note": c.withdrawal_note,
                "recorded_by": staff.describe(c.recorded_by_id),
            }
            for c in consents
        ],
        "diagnosis": [
            item(
                s,
                {
                    "dimension": _label(Dimension, s.dimension),
                    "written_on": _day(s.written_on),
                    "difficulties": s.difficulties,
                    "resources": s.resources,
                    "facts": s.facts,
                    "assessment": s.assessment,
                },
            )
            for s in sections
        ],
        "objectives": [
            {
                "dimension": _label(Dimension, o.dimension),
                "wording": o.wording,
                "target_date": _day(o.target_date),
                "status": _label(ObjectiveStatus, o.status),
            }
            for o in objectives
        ],
        "plan_actions": [
            {
                "kind": _label(ActionKind, a.kind),
                "title": a.title,
                "objective": a.objective.wording if a.objective_id else "",
                "provider": a.provider.name if a.provider_id else "",
                "starts_on": _day(a.starts_on),
                "ends_on": _day(a.ends_on),
                "frequency": a.frequency,
                "cost": str(a.cost) if a.cost is not None else None,
                "funding_line": a.funding_line,
            }
            for a in actions
        ],
        "contacts": [
            item(
                c,
                {
                    "kind": _label(ContactKind, c.kind),
                    "occurred_on": _day(c.occurred_on),
                    "duration_minutes": c.duration_minutes,
                    "participants": c.participants,
                    "summary": c.summary,
                },
            )
            for c in contacts
        ],
        "notes": [
            item(n, {"written_at": _moment(n.created_at), "body": n.body, "health_related": n.health_related})
            for n in notes
        ],
        "reviews": [
            item(
                r,
                {
                    "kind": _label(ReviewKind, r.kind),
                    "held_on": _day(r.held_on),
                    "summary": r.summary,
                    "ratings": [
                        {
                            "objective": rating.objective.wording,
                            "rating": _label(Rating, rating.rating),
                            "comment": rating.comment,
                        }
                        for rating in r.ratings.all()
                    ],
                },
            )
            for r in reviews
        ],
    }


def _access_events(child, household, guardians, referrals, pathways, staff: _Staff) -> list[dict]:
    """Every journal entry about the child's files still kept: who (organisation, role), when, what."""
    targets: dict[str, set[str]] = {
        "people.child": {str(child.pk)},
        "people.household": {str(household.pk)},
        "people.guardian": {str(g.pk) for g in guardians},
        "referrals.referral": {str(r.pk) for r in referrals},
        "pathways.pathway": {str(p.pk) for p in pathways},
    }
    pathway_ids = [p.pk for p in pathways]
    for model in (Consent, DiagnosticSection, Contact, Note, Review):
        targets[model._meta.label_lower] = {
            str(pk) for pk in model.objects.filter(pathway_id__in=pathway_ids).values_list("pk", flat=True)
        }
    query = Q(pk__in=[])
    for target_type, ids in targets.items():
        if ids:
            query |= Q(target_type=target_type, target_id__in=sorted(ids))
    events = (
        AuditEvent.objects.filter(query)
        .select_related("membership__organisation", "membership__user")
        .order_by("occurred_at", "pk")
    )
    return [
        {
            "at": _moment(event.occurred_at),
            "action": _action_kind(event.verb),
            "verb": event.verb,
            "object": str(TARGET_LABELS.get(event.target_type, event.target_type)),
            **staff.describe(event.actor_id, event.membership, event.role),
        }
        for event in events
    ]


# --- rendering -----------------------------------------------------------------------------------


def _for_display(value, key: str = ""):
    """The JSON dict with its ISO dates turned back into dates, for the template's ``date`` filter."""
    if isinstance(value, dict):
        shown = {k: _for_display(v, k) for k, v in value.items()}
        if "organisation" in value and "role" in value:
            # « Association des Quartiers, Référent·e de parcours (Camille Martin) »
            label = ", ".join(part for part in (value["organisation"], value["role"]) if part)
            shown["label"] = f"{label} ({value['name']})" if value.get("name") else label
        return shown
    if isinstance(value, list):
        return [_for_display(v, key) for v in value]
    if isinstance(value, str) and value and (key.endswith(("_on", "_at", "_date")) or key == "at"):
        try:
            return (
                datetime.datetime.fromisoformat(value) if "T" in value else datetime.date.fromisoformat(value)
            )
        except ValueError:
            return value
    return value


def render_subject_access_pdf(data: dict[str, Any]) -> bytes:
    """The PDF a family receives: the same content as the JSON, in plain French."""
    from maillage.pathways.documents import render_pdf

    return render_pdf("pdf/subject_access.html", {"data": _for_display(data), "kind": "subject_access"})


# --- the export ----------------------------------------------------------------------------------


@dataclass
class SubjectAccessFiles:
    pdf: Path
    json: Path
    counts: dict[str, int]


def _write_private(path: Path, content: bytes) -> None:
    # Owner-only permissions: the files hold a whole family's file until they are handed over.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


@transaction.atomic
def subject_access_export(
    *, child, by, out_dir: Path, membership: Membership | None = None, include_staff_names: bool = False
) -> SubjectAccessFiles:
    """Write the PDF and the JSON of ``build_subject_access(child)`` to ``out_dir`` and journal it.

    File names carry the child's id and the date, never a name.
    """
    data = build_subject_access(child, include_staff_names=include_staff_names)
    pdf = render_subject_access_pdf(data)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"acces-aux-donnees_enfant-{child.pk}_{timezone.localdate():%Y-%m-%d}"
    pdf_path, json_path = out_dir / f"{stem}.pdf", out_dir / f"{stem}.json"
    _write_private(json_path, json.dumps(data, ensure_ascii=False, indent=2).encode())
    _write_private(pdf_path, pdf)
    record(
        verb="subject_access.exported",
        actor=by,
        target=child,
        membership=membership,
        payload={"counts": data["counts"], "staff_names": include_staff_names},
    )
    return SubjectAccessFiles(pdf=pdf_path, json=json_path, counts=data["counts"])
