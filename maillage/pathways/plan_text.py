"""The text of plan objectives and actions, shown only within its circle.

Every page, PDF or export that lists objectives or plan actions passes the rows it fetched through
the plan scope (``perms.plan_visible_to``) to ``redact_plan``: rows whose circle the reader is not in
keep their existence, state and dates, and lose their text (wording, title, provider, frequency,
cost, funding), replaced by a neutral placeholder. The replacement is in memory only: a redacted
row refuses to be saved (``Objective.save``/``PlanAction.save``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from maillage import permissions as perms
from maillage.pathways.models import Objective, PlanAction


def objective_placeholder() -> str:
    return _("Objectif (contenu réservé)")


def action_placeholder() -> str:
    return _("Action (contenu réservé)")


def readable_ids(user, rows: Iterable) -> set[tuple[type, int]]:
    """``(model, pk)`` of the rows whose text ``user`` may read.

    Rows of one pathway (a pathway page, its summary): decided in Python from the circles the reader
    reads on that pathway (``perms.plan_text_readable``), no query beyond the pathway's facts. Rows of
    several pathways: one query per model through ``perms.plan_texts_readable_by``.
    """
    rows = list(rows)
    if len({row.pathway_id for row in rows}) == 1:
        return {(type(row), row.pk) for row in rows if perms.plan_text_readable(user, row)}
    by_model: dict[type, set[int]] = {}
    for row in rows:
        by_model.setdefault(type(row), set()).add(row.pk)
    readable: set[tuple[type, int]] = set()
    for model, pks in by_model.items():
        for pk in perms.plan_texts_readable_by(user, model).filter(pk__in=pks).values_list("pk", flat=True):
            readable.add((model, pk))
    return readable


def _hide(row) -> None:
    row.text_hidden = True
    if isinstance(row, Objective):
        row.wording = objective_placeholder()
    elif isinstance(row, PlanAction):
        row.title = action_placeholder()
        row.frequency = ""
        row.funding_line = ""
        row.cost = None
        row.provider = None
        row.offer = None


def redact_plan(user, rows: Iterable) -> list:
    """Mark every objective/plan action (``text_hidden``) and blank the text of those outside the
    reader's circle. Returns the rows (a list), in the same order."""
    rows = list(rows)
    readable = readable_ids(user, rows)
    for row in rows:
        if (type(row), row.pk) in readable:
            row.text_hidden = False
        else:
            _hide(row)
    return rows
