"""Writes of the steering app: yearly objectives, funding lines, comité highlights, barometer."""

import datetime
import hashlib
import json
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.audit.services import record
from maillage.programmes.models import Programme
from maillage.steering.enums import ExportState, RoundState
from maillage.steering.models import (
    BarometerItem,
    BarometerParticipation,
    BarometerResponse,
    BarometerRound,
    BarometerScore,
    CopilNote,
    ExportJob,
    FundingLine,
    Target,
)

# Seeded statements of the partnership barometer (codes compare rounds with each other).
BAROMETER_ITEMS = [
    ("objectives", _("Les objectifs du programme sont clairs pour moi.")),
    ("trust", _("J'ai confiance dans la façon dont les situations partagées sont traitées.")),
    ("information", _("L'information circule bien entre les instances et le terrain.")),
    ("practice", _("Le programme a fait évoluer ma propre pratique professionnelle.")),
    ("tools", _("Les outils communs (fiches, outil numérique, réunions) me sont utiles.")),
]


class AlreadyAnswered(Exception):
    pass


@transaction.atomic
def set_target(*, programme: Programme, year: int, indicator: str, value: Decimal, by) -> Target:
    target, created = Target.objects.update_or_create(
        programme=programme, year=year, indicator=indicator, defaults={"value": value}
    )
    record(
        verb="steering.target_set",
        actor=by,
        target=target,
        programme=programme,
        payload={"indicator": indicator, "year": year, "value": str(value), "created": created},
    )
    return target


@transaction.atomic
def delete_target(*, target: Target, by) -> None:
    record(
        verb="steering.target_deleted",
        actor=by,
        target=target,
        programme=target.programme,
        payload={"indicator": target.indicator, "year": target.year},
    )
    target.delete()


@transaction.atomic
def add_funding_line(
    *, programme: Programme, year: int, source: str, label: str, amount: Decimal, in_kind: bool, by
) -> FundingLine:
    line = FundingLine.objects.create(
        programme=programme, year=year, source=source, label=label, amount=amount, in_kind=in_kind
    )
    record(
        verb="steering.funding_line_added",
        actor=by,
        target=line,
        programme=programme,
        payload={"year": year, "source": source, "amount": str(amount), "in_kind": in_kind},
    )
    return line


@transaction.atomic
def save_copil_note(*, programme: Programme, year: int, highlights: str, by) -> CopilNote:
    from maillage.governance.services import check_non_nominative  # read by the élu: no name, no code

    check_non_nominative(programme, highlights)
    note, _created = CopilNote.objects.get_or_create(programme=programme, year=year)
    note.highlights = highlights
    note.updated_by = by
    note.save(update_fields=["highlights", "updated_by", "updated_at"])
    record(
        verb="steering.copil_highlights_saved",
        actor=by,
        target=note,
        programme=programme,
        payload={"year": year},
    )
    return note


@transaction.atomic
def open_barometer_round(
    *, programme: Programme, title: str, closes_on: datetime.date | None = None, by
) -> BarometerRound:
    barometer_round = BarometerRound.objects.create(
        programme=programme, title=title, opened_on=timezone.localdate(), closes_on=closes_on, created_by=by
    )
    BarometerItem.objects.bulk_create(
        BarometerItem(round=barometer_round, code=code, statement=str(statement), position=index)
        for index, (code, statement) in enumerate(BAROMETER_ITEMS)
    )
    record(verb="steering.barometer_opened", actor=by, target=barometer_round, programme=programme)
    return barometer_round


@transaction.atomic
def close_barometer_round(*, barometer_round: BarometerRound, by) -> None:
    barometer_round.state = RoundState.CLOSED
    barometer_round.save(update_fields=["state", "updated_at"])
    record(
        verb="steering.barometer_closed",
        actor=by,
        target=barometer_round,
        programme=barometer_round.programme,
    )


def answer_barometer(
    *, barometer_round: BarometerRound, position: str, scores: dict[str, int], open_answer: str, by
) -> None:
    """Record an anonymous answer and, apart, the marker that ``by`` has answered.

    The answer carries no link to the user, no timestamp and a random identifier. A second answer
    by the same user raises ``AlreadyAnswered`` (unique marker), and nothing is stored.
    """
    try:
        with transaction.atomic():
            BarometerParticipation.objects.create(round=barometer_round, user=by)
            response = BarometerResponse.objects.create(
                round=barometer_round, position=position, open_answer=open_answer.strip()
            )
            items = {item.code: item for item in barometer_round.items.all()}
            BarometerScore.objects.bulk_create(
                BarometerScore(response=response, item=items[code], value=value)
                for code, value in scores.items()
                if code in items and value
            )
            # The journal says that the user answered, never what.
            record(
                verb="steering.barometer_answered",
                actor=by,
                target=barometer_round,
                programme=barometer_round.programme,
            )
    except IntegrityError as error:
        raise AlreadyAnswered from error


# --- documents prepared by the task worker ------------------------------------------------------------


def export_fingerprint(
    *, kind: str, programme_id: int | None, network_level_id: int | None, parameters
) -> str:
    content = {
        "kind": str(kind),
        "programme": programme_id,
        "level": network_level_id,
        "parameters": parameters,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def export_jobs_fail_stale(*, fingerprint: str | None = None) -> int:
    """Mark as failed the jobs queued or running for longer than ``MAILLAGE_EXPORT_STALE_MINUTES``
    (a worker stopped or killed mid-task): the page offers to try again instead of waiting forever."""
    limit = timezone.now() - datetime.timedelta(minutes=_setting("MAILLAGE_EXPORT_STALE_MINUTES", 30))
    stale = ExportJob.objects.filter(
        state__in=[ExportState.QUEUED, ExportState.RUNNING], created_at__lt=limit
    )
    if fingerprint is not None:
        stale = stale.filter(fingerprint=fingerprint)
    return stale.update(
        state=ExportState.FAILED,
        error=str(EXPORT_STALE_ERROR),
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


EXPORT_FAILED_ERROR = _(
    "La préparation du document a échoué. Relancez-la ; si l'échec se répète, signalez-le à l'assistance."
)
EXPORT_STALE_ERROR = _(
    "La préparation du document n'a pas abouti dans le temps prévu. Relancez-la ; si l'échec se répète, "
    "signalez-le à l'assistance."
)


def export_job_request(
    *,
    kind: str,
    parameters: dict,
    by,
    programme: Programme | None = None,
    network_level=None,
    fresh: bool = False,
) -> ExportJob:
    """The job preparing this document: one already queued or running for the same document (same
    kind, programme or level, parameters) is reused; so is one finished less than
    ``MAILLAGE_EXPORT_REUSE_MINUTES`` ago, unless ``fresh`` (« Préparer à nouveau »). Otherwise a
    new job is queued for the task worker.

    The caller has checked that ``by`` may have the document. The task is written in the same
    transaction as the job (``django_tasks_db`` stores it in the database): both exist, or neither.
    """
    from maillage.steering.tasks import export_job_run

    fingerprint = export_fingerprint(
        kind=kind,
        programme_id=programme.pk if programme else None,
        network_level_id=network_level.pk if network_level else None,
        parameters=parameters,
    )
    export_jobs_fail_stale(fingerprint=fingerprint)
    same = ExportJob.objects.filter(fingerprint=fingerprint)
    recent = timezone.now() - datetime.timedelta(minutes=_setting("MAILLAGE_EXPORT_REUSE_MINUTES", 10))
    reusable = same.filter(state__in=[ExportState.QUEUED, ExportState.RUNNING])
    if not fresh:
        reusable = reusable | same.filter(state=ExportState.DONE, finished_at__gte=recent).exclude(file="")
    existing = reusable.order_by("-created_at").first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            job = ExportJob.objects.create(
                kind=kind,
                programme=programme,
                network_level=network_level,
                parameters=parameters,
                fingerprint=fingerprint,
                requested_by=by,
            )
            export_job_run.enqueue(str(job.pk))
            record(
                verb="steering.export_requested",
                actor=by,
                target=job,
                programme=programme,
                payload={"kind": str(kind), **{k: v for k, v in parameters.items() if k != "programmes"}},
            )
    except IntegrityError:
        # Another request queued the same document in the meantime (one pending job per fingerprint).
        return (
            same.filter(state__in=[ExportState.QUEUED, ExportState.RUNNING]).order_by("-created_at").first()
        )
    return job


def export_jobs_due(*, now: datetime.datetime | None = None):
    """Jobs finished (done or failed) more than ``MAILLAGE_EXPORT_RETENTION_DAYS`` ago."""
    limit = (now or timezone.now()) - datetime.timedelta(days=_setting("MAILLAGE_EXPORT_RETENTION_DAYS", 7))
    return ExportJob.objects.filter(finished_at__lt=limit)


def export_jobs_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the jobs (and their files) finished more than ``MAILLAGE_EXPORT_RETENTION_DAYS`` ago.

    A prepared document is a copy of figures the pages compute at will: kept a few days for those
    who asked for it, not archived. Returns the number of jobs deleted."""
    count = 0
    for job in export_jobs_due(now=now).only("pk", "file").iterator():
        if job.file:
            job.file.delete(save=False)
        job.delete()
        count += 1
    return count
