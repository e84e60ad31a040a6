"""Search of pathways by case code, or by the child's name where the user may see it.

The name part is ``maillage.people.search`` (same tokens, same candidates, same ranking); this module
adds the case codes. A code is matched however it is typed — case, spaces, dashes, the zeros of the
number: « pre-2026-0042 », « PRE 2026 42 » and « pre20260042 » all find ``PRE-2026-0042``; a part of
a code (« 2026-0042 », « 0042 ») finds the codes that contain it.
"""

import re

from django.db.models import Case, F, FloatField, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Replace, Upper

from maillage.core.pagination import Ranked
from maillage.core.text import strip_accents
from maillage.people.search import CLOSE, EXACT, MAX_RESULTS, PREFIX, name_filter, name_rank, name_score
from maillage.people.search import search_tokens as name_tokens

# A whole case code ranks above the best name.
CODE = EXACT + 1

_RUNS = re.compile(r"[A-Z]+|[0-9]+")


def case_code_key(text: str | None) -> str:
    """The compact form of a case code or of a part of one: letters and digits only, upper case, the
    number on four digits when it follows a year (« pre 2026 42 » → ``PRE20260042``).

    Empty when ``text`` has no digit: a prefix alone (« PRE ») names no situation, and a name
    (« Dupont ») is not a code.
    """
    runs = _RUNS.findall(strip_accents(text or "").upper())
    if not any(run.isdigit() for run in runs):
        return ""
    if len(runs) >= 2 and runs[-1].isdigit() and runs[-2].isdigit() and len(runs[-2]) == 4:
        runs[-1] = runs[-1].zfill(4)
    return "".join(runs)


def _compact_code():
    """The stored case code in the compact form of ``case_code_key`` (the codes are ``PREFIX-YYYY-NNNN``)."""
    return Replace(Replace(Upper("case_code"), Value("-"), Value("")), Value(" "), Value(""))


def candidates(pathways: QuerySet, term: str, *, children: QuerySet) -> QuerySet | None:
    """``(id, code rank, name score, first name, last name, identity)`` of the pathways ``term``
    finds, the closest first, at most ``MAX_RESULTS + 1``; None when ``term`` has nothing to search.
    The arguments are those of ``search_pathways``."""
    tokens = name_tokens(term)
    key = case_code_key(term)
    if not key and not tokens:
        return None
    found = Q(pk__in=[])
    code_rank = Value(CLOSE, output_field=IntegerField())
    score = Value(0.0, output_field=FloatField())
    if key:
        pathways = pathways.alias(compact_code=_compact_code())
        found |= Q(compact_code__contains=key)
        code_rank = Case(
            When(compact_code=key, then=Value(CODE)),
            When(compact_code__contains=key, then=Value(PREFIX)),
            default=Value(CLOSE),
            output_field=IntegerField(),
        )
    if tokens:
        # The name-matching children the user may see by name: a hashed subquery, computed once,
        # with the children's trigram indexes.
        named = children.filter(name_filter(tokens)).values("pk")
        found |= Q(child__in=named)
        # Scored by name only when found by name.
        score = Case(
            When(child__in=named, then=name_score(tokens, "child__")),
            default=Value(0.0),
            output_field=FloatField(),
        )
    return (
        pathways.filter(found)
        .annotate(code_rank=code_rank, search_score=score)
        .order_by("-code_rank", "-search_score", F("next_review_on").asc(nulls_last=True), "case_code", "pk")
        .values_list(
            "pk",
            "code_rank",
            "search_score",
            "child__first_name_normalised",
            "child__last_name_normalised",
            "identity",
        )[: MAX_RESULTS + 1]
    )


def search_pathways(pathways: QuerySet, term: str, *, children: QuerySet) -> Ranked:
    """The pathways of ``pathways`` that ``term`` finds by case code, or by name where allowed.

    ``pathways`` is scoped, filtered and annotated with ``identity`` (whether the user may see the
    child's identity); ``children`` is the scoped queryset of the children the user may see by name
    (bounded to the programme). A pathway is found by name only when its child is one of
    ``children``, and a name ranks a row only when its ``identity`` is visible: the order of a list
    never tells anything of a name the user may not read.

    Order: the whole case code, then names as in ``maillage.people.search`` (a part of a code ranks
    with the prefixes), then the list's own order (next review, case code).
    """
    query = candidates(pathways, term, children=children)
    if query is None:
        return Ranked(pathways, [])
    rows = list(query)
    tokens = name_tokens(term)
    keyed = [(_rank(row, tokens), row[0]) for row in rows[:MAX_RESULTS]]
    # The SQL order follows the list's own order within equal ranks: the stable sort keeps it.
    ranked = sorted(((key, pk) for key, pk in keyed if key is not None), key=lambda pair: pair[0])
    return Ranked(pathways, [pk for _, pk in ranked], truncated=len(rows) > MAX_RESULTS)


def _rank(row, tokens: list[str]) -> tuple | None:
    """The row's sort key, or None when neither its code nor (plausibly) its name matched."""
    _, code_rank, score, first, last, identity = row
    rank = None
    # Names rank a row only when they found it and the user may read them.
    if identity and score > 0:
        rank = name_rank(tokens, first, last)
        if not rank.plausible:
            rank = None
    if code_rank > CLOSE and (rank is None or code_rank > rank.tier):
        return (-code_rank, -1.0, -1.0, -score)
    if rank is None:
        return None
    return (-rank.tier, -rank.closeness, -rank.coverage, -score)
