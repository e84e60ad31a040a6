"""Retention of pathways and of the journal (design/CONFIDENTIALITY.md, principle 8).

Three deadlines, each per programme, each due ON its day (``manage.py apply_retention``, daily):

* **Intermediate archive.** A *closed* pathway whose last activity (the later of its exit date and
  its last contact) is ``active_retention_years`` old (2 by default: CNIL délibérations 2022-008
  §46 and 2023-095, « deux ans à compter du dernier contact ») leaves the active base:
  ``archived_at`` is set, and every scope of ``maillage.permissions`` then hides it, except a
  journaled break-glass grant (coordinator or DPO, with a reason). An open pathway is still
  followed, so it is never archived: one idle that long is reported for the coordinator to close.
* **Anonymisation.** ``archive_retention_years`` later (3 by default), what identifies the child
  and the family is erased and the free texts are emptied; what the indicators count (sex, age
  band, school, school level, commune, priority area, states, exit reasons, durations, objectives,
  actions, bilans) stays, so that ``indicator_snapshot`` is identical before and after — checked
  in the same transaction, which is rolled back otherwise. A child is anonymised with all its
  pathways at once: one pathway still open, or not yet due, holds the others back. A household and
  its adults are anonymised with the last of its children.
* **Journal.** Entries older than ``log_retention_months`` go (``maillage.audit.purge``).

Every change is journaled (``pathway.archived``, ``pathway.anonymised``, ``journal.purged``); a
second run finds nothing to do and changes nothing.
"""

import contextlib
import datetime
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Count, Exists, F, Min, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from maillage.audit.purge import PurgeResult, purge_journal
from maillage.audit.services import record_many
from maillage.core.text import normalise_name
from maillage.pathways.enums import PathwayState
from maillage.pathways.models import (
    BreakGlass,
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
from maillage.people.models import Child, Guardian, Household
from maillage.programmes.models import Programme
from maillage.referrals.enums import OPEN_STATES
from maillage.referrals.models import Referral, ReferralTransition

ANONYMISED = "Anonymisé"
BATCH_SIZE = 500

# Age bands of the national survey (DATA_FORMATS.md): age reached during the year of the first
# opening — a count by birth year, so that truncating the birth date to 1 July keeps every band.
AGE_BANDS = [(0, 1, "0-1"), (2, 5, "2-5"), (6, 10, "6-10"), (11, 16, "11-16"), (17, 200, "17+")]
DURATION_BANDS = [(0, 2, "0-3 mois"), (3, 5, "3-6 mois"), (6, 11, "6-12 mois"), (12, 23, "12-24 mois")]


class RetentionError(Exception):
    """The anonymisation would change the indicators: nothing was written."""


# --- dates -----------------------------------------------------------------------------------------


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same date ``years`` earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def last_activity() -> Greatest:
    """SQL: a pathway's last activity — the latest of its exit and its last contact, else its opening."""
    return Greatest(Coalesce("closed_on", "opened_on"), Coalesce("last_contact_on", "opened_on"))


def mid_year(day: datetime.date) -> datetime.date:
    """An anonymised birth date: 1 July of the year of birth (the age band is kept)."""
    return datetime.date(day.year, 7, 1)


def _chunks(items: list, size: int = BATCH_SIZE) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- priority areas -------------------------------------------------------------------------------


def priority_area_flags(points: dict[int, tuple[float, float]]) -> dict[int, bool]:
    """Whether each point ``{key: (lat, lon)}`` lies in a priority area (QPV), in one query.

    Same rule as ``maillage.territories.geo.locate`` (a point on a border is inside, a hole is not),
    for a batch: the areas whose box meets the points' box are loaded once and prepared.
    """
    from shapely.geometry import Point, shape
    from shapely.prepared import prep

    from maillage.territories.geo import POLYGON_TYPES, check_coordinates
    from maillage.territories.models import PriorityArea

    valid: dict[int, tuple[float, float]] = {}
    for key, (lat, lon) in points.items():
        with contextlib.suppress(TypeError, ValueError):
            valid[key] = check_coordinates(lat, lon)
    flags = dict.fromkeys(points, False)
    if not valid:
        return flags
    lats = [lat for lat, _lon in valid.values()]
    lons = [lon for _lat, lon in valid.values()]
    areas = PriorityArea.objects.filter(
        min_lat__lte=max(lats), max_lat__gte=min(lats), min_lon__lte=max(lons), max_lon__gte=min(lons)
    ).only("geometry", "min_lat", "max_lat", "min_lon", "max_lon")
    shapes = [
        ((area.min_lat, area.max_lat, area.min_lon, area.max_lon), prep(shape(area.geometry)))
        for area in areas
        if (area.geometry or {}).get("type") in POLYGON_TYPES
    ]
    for key, (lat, lon) in valid.items():
        point = Point(lon, lat)
        flags[key] = any(
            box[0] <= lat <= box[1] and box[2] <= lon <= box[3] and prepared.covers(point)
            for box, prepared in shapes
        )
    return flags


def _qpv_facts(children: Iterable[dict]) -> dict[int, bool | None]:
    """A child's priority-area fact: the stored one, else from its coordinates, else unknown (None)."""
    facts: dict[int, bool | None] = {}
    points = {}
    for row in children:
        facts[row["pk"]] = row["in_priority_area"]
        if row["in_priority_area"] is None and row["latitude"] is not None and row["longitude"] is not None:
            points[row["pk"]] = (row["latitude"], row["longitude"])
    facts.update(priority_area_flags(points))
    return facts


# --- indicators ------------------------------------------------------------------------------------


def _band(value: int, bands: list[tuple[int, int, str]], above: str) -> str:
    for low, high, label in bands:
        if low <= value <= high:
            return label
    return above


def _months_between(start: datetime.date, end: datetime.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


def _counts(queryset: QuerySet, *fields: str) -> dict[str, int]:
    rows = queryset.order_by().values(*fields).annotate(n=Count("pk"))
    return {"|".join(str(row[f]) for f in fields): row["n"] for row in rows}


def indicator_snapshot(programme: Programme) -> dict[str, dict[str, int | str]]:
    """Every count the indicators draw on, for one programme: what anonymisation must not change.

    Children by sex, age band, school level, school priority education, commune and priority area;
    pathways by state, exit reason, opening year and duration; objectives by dimension and status;
    plan actions by kind (and their cost); bilans and ratings; contacts by kind; consents.
    """
    children = list(
        Child.objects.filter(programme=programme)
        .order_by()
        .values(
            "pk",
            "sex",
            "school_level",
            "school__priority_education",
            "commune__insee_code",
            "birth_date",
            "in_priority_area",
            "latitude",
            "longitude",
        )
        .annotate(first_opened=Min("pathways__opened_on"))
    )
    qpv = _qpv_facts(children)
    child_counts: Counter[str] = Counter()
    for row in children:
        child_counts["total"] += 1
        child_counts[f"sex:{row['sex']}"] += 1
        child_counts[f"school_level:{row['school_level']}"] += 1
        child_counts[f"priority_education:{row['school__priority_education'] or '-'}"] += 1
        child_counts[f"commune:{row['commune__insee_code'] or '-'}"] += 1
        fact = qpv[row["pk"]]
        child_counts[f"qpv:{'unknown' if fact is None else ('yes' if fact else 'no')}"] += 1
        if row["first_opened"] is not None:
            age = row["first_opened"].year - row["birth_date"].year
            child_counts[f"age_band:{_band(age, AGE_BANDS, '17+')}"] += 1
    pathways = Pathway.objects.filter(programme=programme)
    durations: Counter[str] = Counter()
    for opened_on, closed_on in pathways.values_list("opened_on", "closed_on"):
        durations[
            "en cours"
            if closed_on is None
            else _band(_months_between(opened_on, closed_on), DURATION_BANDS, "24 mois et plus")
        ] += 1
    actions = PlanAction.objects.filter(pathway__programme=programme)
    cost = actions.aggregate(total=Sum("cost"))["total"] or Decimal(0)
    return {
        "children": dict(sorted(child_counts.items())),
        "pathways_by_state": _counts(pathways, "state"),
        "pathways_by_exit_reason": _counts(pathways, "exit_reason__code"),
        "pathways_by_opening_year": _counts(pathways, "opened_on__year"),
        "pathways_by_duration": dict(sorted(durations.items())),
        "objectives": _counts(Objective.objects.filter(pathway__programme=programme), "dimension", "status"),
        "actions": {**_counts(actions, "kind", "provider_id"), "cost": str(cost)},
        "reviews": _counts(Review.objects.filter(pathway__programme=programme), "kind"),
        "ratings": _counts(ReviewRating.objects.filter(review__pathway__programme=programme), "rating"),
        "contacts": _counts(Contact.objects.filter(pathway__programme=programme), "kind"),
        "consents": _counts(
            Consent.objects.filter(pathway__programme=programme), "care", "evaluation_use", "image_use"
        ),
    }


# --- report ----------------------------------------------------------------------------------------


@dataclass
class ProgrammeRetention:
    """What one run did (or would do, in a dry run) in one programme: case codes, never names."""

    programme: str
    archived: list[str] = field(default_factory=list)
    anonymised: list[str] = field(default_factory=list)
    children_anonymised: int = 0
    households_anonymised: int = 0
    proofs_deleted: int = 0
    held_back: list[str] = field(default_factory=list)  # due, but another pathway of the child is not
    idle_open: list[str] = field(default_factory=list)  # open with no activity for the active period

    @property
    def changed(self) -> bool:
        return bool(
            self.archived or self.anonymised or self.children_anonymised or self.households_anonymised
        )


@dataclass
class RetentionReport:
    dry_run: bool
    programmes: list[ProgrammeRetention] = field(default_factory=list)
    journal: PurgeResult = field(default_factory=PurgeResult)

    @property
    def archived(self) -> int:
        return sum(len(p.archived) for p in self.programmes)

    @property
    def anonymised(self) -> int:
        return sum(len(p.anonymised) for p in self.programmes)

    @property
    def changed(self) -> bool:
        return any(p.changed for p in self.programmes) or self.journal.count > 0


# --- the run ---------------------------------------------------------------------------------------


def apply_retention(
    *,
    now: datetime.datetime | None = None,
    dry_run: bool = False,
    programmes: Iterable[Programme] | None = None,
) -> RetentionReport:
    """Archive, anonymise and purge what is due at ``now`` (default: now); see the module docstring.

    Each programme's archive and anonymisation, and the journal purge, commit separately. A dry
    run does everything in one transaction rolled back at the end (no file is deleted).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    report = RetentionReport(dry_run=dry_run)
    programmes = list(programmes) if programmes is not None else list(Programme.objects.order_by("pk"))
    with transaction.atomic() if dry_run else contextlib.nullcontext():
        for programme in programmes:
            result = ProgrammeRetention(programme=programme.name)
            report.programmes.append(result)
            archive_due(programme, today=today, now=now, result=result)
            anonymise_due(programme, today=today, now=now, result=result)
        report.journal = purge_journal(now=now)
        if dry_run:
            transaction.set_rollback(True)
    return report


def archive_due(programme: Programme, *, today: datetime.date, now: datetime.datetime, result) -> None:
    """Move the closed pathways past the active period to the intermediate archive."""
    cutoff = years_before(today, programme.active_retention_years)
    in_programme = Pathway.objects.filter(programme=programme, archived_at__isnull=True).annotate(
        last_activity=last_activity()
    )
    due = list(
        in_programme.filter(state=PathwayState.CLOSED, last_activity__lte=cutoff)
        .order_by("pk")
        .values_list("pk", "case_code", "last_activity")
    )
    for batch in _chunks(due):
        with transaction.atomic():
            Pathway.objects.filter(pk__in=[pk for pk, _code, _day in batch]).update(
                archived_at=now, updated_at=now, version=F("version") + 1
            )
            record_many(
                [
                    {
                        "verb": "pathway.archived",
                        "target_type": Pathway._meta.label_lower,
                        "target_id": pk,
                        "programme": programme.pk,
                        "payload": {
                            "case_code": code,
                            "last_activity": day.isoformat(),
                            "active_retention_years": programme.active_retention_years,
                        },
                    }
                    for pk, code, day in batch
                ]
            )
        result.archived.extend(code for _pk, code, _day in batch)
    result.idle_open = list(
        in_programme.exclude(state=PathwayState.CLOSED)
        .filter(last_activity__lte=cutoff)
        .order_by("case_code")
        .values_list("case_code", flat=True)
    )


def anonymise_due(programme: Programme, *, today: datetime.date, now: datetime.datetime, result) -> None:
    """Anonymise the children whose every pathway is past the archive period (one transaction)."""
    cutoff = years_before(today, programme.active_retention_years + programme.archive_retention_years)
    candidates = (
        Pathway.objects.filter(
            programme=programme,
            state=PathwayState.CLOSED,
            archived_at__isnull=False,
            anonymised_at__isnull=True,
        )
        .annotate(last_activity=last_activity())
        .filter(last_activity__lte=cutoff)
    )
    rows = list(
        candidates.order_by("child__household_id", "child_id", "pk").values_list(
            "pk", "child_id", "case_code"
        )
    )
    if not rows:
        return
    with transaction.atomic():
        before = indicator_snapshot(programme)
        child_ids = list(dict.fromkeys(child_id for _pk, child_id, _code in rows))
        for batch in _chunks(child_ids):
            blocked = set(
                Pathway.objects.filter(child_id__in=batch, anonymised_at__isnull=True)
                .exclude(pk__in=candidates.values("pk"))
                .values_list("child_id", flat=True)
            ) | set(
                Referral.objects.filter(child_id__in=batch, state__in=OPEN_STATES).values_list(
                    "child_id", flat=True
                )
            )
            members = set(batch)
            eligible = [child_id for child_id in batch if child_id not in blocked]
            pathways = [
                (pk, code) for pk, child_id, code in rows if child_id in members and child_id not in blocked
            ]
            result.held_back.extend(code for _pk, child_id, code in rows if child_id in members & blocked)
            if eligible:
                _anonymise(programme, eligible, pathways, now=now, result=result)
        after = indicator_snapshot(programme)
        if after != before:
            changed = sorted(key for key in before if before[key] != after.get(key))
            raise RetentionError(f"Anonymisation would change the indicators of {programme}: {changed}.")


def _anonymise(programme, child_ids: list[int], pathways: list[tuple[int, str]], *, now, result) -> None:
    pathway_ids = [pk for pk, _code in pathways]
    anonymised_name = normalise_name(ANONYMISED)

    # Children: what the indicators need is computed before the coordinates go.
    children = list(
        Child.objects.filter(pk__in=child_ids).only(
            "pk", "birth_date", "latitude", "longitude", "in_priority_area", "household_id"
        )
    )
    qpv = _qpv_facts(
        {"pk": c.pk, "in_priority_area": c.in_priority_area, "latitude": c.latitude, "longitude": c.longitude}
        for c in children
    )
    # One UPDATE per birth year and per priority-area fact (a CASE per row is much slower).
    for flag in (True, False):
        ids = [c.pk for c in children if qpv[c.pk] is flag and c.in_priority_area is not flag]
        if ids:
            Child.objects.filter(pk__in=ids).update(in_priority_area=flag)
    _truncate_birth_dates(Child, "birth_date", {c.pk: c.birth_date for c in children})
    Child.objects.filter(pk__in=child_ids).update(
        first_name=ANONYMISED,
        last_name=ANONYMISED,
        first_name_normalised=anonymised_name,
        last_name_normalised=anonymised_name,
        address="",
        postcode="",
        latitude=None,
        longitude=None,
        updated_at=now,
    )

    # Referrals: the identity the referrer typed, and the free text.
    referrals = Referral.objects.filter(
        Q(child_id__in=child_ids) | Q(pk__in=Pathway.objects.filter(pk__in=pathway_ids).values("referral_id"))
    )
    referral_births = dict(referrals.values_list("pk", "child_birth_date"))
    _truncate_birth_dates(Referral, "child_birth_date", referral_births)
    referral_ids = list(referral_births)
    Referral.objects.filter(pk__in=referral_ids).update(
        child_first_name=ANONYMISED,
        child_last_name=ANONYMISED,
        child_first_name_normalised=anonymised_name,
        child_last_name_normalised=anonymised_name,
        address="",
        postcode="",
        latitude=None,
        longitude=None,
        guardian_name="",
        guardian_phone="",
        guardian_email="",
        referrer_contact="",
        context="",
        decision_reason="",
        derogation_reason=Case(When(derogation=True, then=Value(ANONYMISED)), default=Value("")),
        updated_at=now,
    )
    ReferralTransition.objects.filter(referral_id__in=referral_ids).update(reason="")

    # Pathways and everything written on them.
    Pathway.objects.filter(pk__in=pathway_ids).update(
        anonymised_at=now, exit_note="", updated_at=now, version=F("version") + 1
    )
    on_pathways = {"pathway_id__in": pathway_ids}
    PathwayTransition.objects.filter(**on_pathways).update(note="")
    DiagnosticSection.objects.filter(**on_pathways).update(
        difficulties="", resources="", facts="", assessment=""
    )
    Contact.objects.filter(**on_pathways).update(summary="", participants="")
    Note.objects.filter(**on_pathways).update(body="")
    Review.objects.filter(**on_pathways).update(summary="")
    ReviewRating.objects.filter(review__pathway_id__in=pathway_ids).update(comment="")
    Objective.objects.filter(**on_pathways).update(wording="")
    CaseTeamMember.objects.filter(**on_pathways).update(reason=ANONYMISED)
    BreakGlass.objects.filter(**on_pathways).update(reason=ANONYMISED)
    consents = Consent.objects.filter(**on_pathways)
    proof_rows = list(consents.exclude(proof="").values_list("pathway_id", "proof"))
    proofs = [name for _pathway_id, name in proof_rows if name]
    proofs_per_pathway = Counter(pathway_id for pathway_id, _name in proof_rows)
    consents.update(withdrawal_note="", proof="", proof_content_type="")
    if proofs:
        storage = Consent._meta.get_field("proof").storage
        transaction.on_commit(lambda: _delete_files(storage, proofs))
    result.proofs_deleted += len(proofs)

    # Households (and their adults) whose every child is now anonymised.
    household_ids = {child.household_id for child in children}
    remaining = (
        Child.objects.filter(household_id__in=household_ids)
        .filter(
            Exists(Pathway.objects.filter(child=OuterRef("pk"), anonymised_at__isnull=True))
            | ~Exists(Pathway.objects.filter(child=OuterRef("pk")))
        )
        .values_list("household_id", flat=True)
    )
    households = sorted(household_ids - set(remaining))
    Household.objects.filter(pk__in=households).update(name="", address="", postcode="", updated_at=now)
    Guardian.objects.filter(household_id__in=households).update(
        first_name="",
        last_name="",
        first_name_normalised="",
        last_name_normalised="",
        phone="",
        email="",
        address="",
        updated_at=now,
    )

    households_done = set(households)
    household_of = {child.pk: child.household_id for child in children}
    child_of = dict(Pathway.objects.filter(pk__in=pathway_ids).values_list("pk", "child_id"))
    record_many(
        [
            {
                "verb": "pathway.anonymised",
                "target_type": Pathway._meta.label_lower,
                "target_id": pk,
                "programme": programme.pk,
                "payload": {
                    "case_code": code,
                    "child": child_of[pk],
                    "household_anonymised": household_of[child_of[pk]] in households_done,
                    "proofs_deleted": proofs_per_pathway[pk],
                },
            }
            for pk, code in pathways
        ]
    )
    result.anonymised.extend(code for _pk, code in pathways)
    result.children_anonymised += len(child_ids)
    result.households_anonymised += len(households)


def _truncate_birth_dates(model, field: str, births: dict[int, datetime.date]) -> None:
    """Set each birth date to 1 July of its year: one UPDATE per year."""
    by_year: dict[int, list[int]] = {}
    for pk, born in births.items():
        if born is not None and born != mid_year(born):
            by_year.setdefault(born.year, []).append(pk)
    for year, ids in sorted(by_year.items()):
        model.objects.filter(pk__in=ids).update(**{field: datetime.date(year, 7, 1)})


def _delete_files(storage, names: list[str]) -> None:
    for name in names:
        storage.delete(name)
