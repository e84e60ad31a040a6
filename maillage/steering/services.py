"""Writes of the steering app: yearly objectives, funding lines, comité highlights, barometer."""

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.audit.services import record
from maillage.programmes.models import Programme
from maillage.steering.enums import RoundState
from maillage.steering.models import (
    BarometerItem,
    BarometerParticipation,
    BarometerResponse,
    BarometerRound,
    BarometerScore,
    CopilNote,
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
