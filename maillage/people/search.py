"""Typo- and accent-tolerant search of children by name, for every list that searches them.

One search, in three steps:

1. **Tokens.** The term is normalised like the stored names (``normalise_name``: case, accents,
   hyphens and apostrophes folded) and cut into words: « Jean-Édouard D'Arc » → ``jean edouard d arc``.
2. **Candidates, in SQL.** A child is a candidate when *every* token is close to a word of its first
   or last name (the tokens of one or two letters only when there is no longer one: ``selecting``):
   pg_trgm's word similarity at least ``WORD_SIMILARITY_THRESHOLD`` (0.2), the
   ``%>`` operator, which the GIN trigram indexes ``child_first_name_trgm`` and
   ``child_last_name_trgm`` serve on PostgreSQL (migration people 0003); on SQLite the same
   function, in Python, row by row. The queryset given is already scoped by ``maillage.permissions``
   (and bounded to the programme by the view), so the planner starts from the programme's rows and
   the index; at most ``MAX_RESULTS`` candidates are read, the closest by trigrams first, as
   ``(id, names, score)`` tuples.
3. **Ranking, in Python**, the same on both databases. A candidate goes when a token is more than
   one edit (two beyond five letters) from every word of its name and is the start of none
   (trigrams are generous with long words: « personne » shares three with Perrin). Then exact
   names first (every token is a whole word of the name), then prefixes (« dup » for Dupont), then
   the others; within each, by the closeness of the tokens to the words of the name (optimal string
   alignment, so a swap of two letters costs one edit — trigrams alone rank « Leory » no closer to
   Leroy than to Lebrun), then by the share of the name the tokens cover (Roux before Le Roux), by
   trigram similarity, and alphabetically.

The page then reads its 25 rows by id (``maillage.core.pagination.Ranked``): two queries for a
searched page, as for a plain one, whatever the number of matches.
"""

from typing import NamedTuple

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Greatest
from rapidfuzz.distance import OSA

from maillage.core.pagination import Ranked
from maillage.core.text import normalise_name
from maillage.core.trigram import WordSimilar, WordSimilarity

# Candidates read from the database, at most; the page says when more matched.
MAX_RESULTS = 500
# Words of the term searched, at most (each adds a condition to the query): a name has fewer.
MAX_TOKENS = 6

EXACT, PREFIX, CLOSE = 2, 1, 0

FIRST, LAST = "first_name_normalised", "last_name_normalised"


def search_tokens(text: str | None) -> list[str]:
    """The words searched for: normalised, without repeats, each with a letter or digit, at most six.

    A word without letters or digits (« ( ») has no trigram, so it could match nothing.
    """
    tokens: list[str] = []
    # Neither database stores NUL in text (PostgreSQL refuses it as a parameter): a separator here.
    for token in normalise_name((text or "").replace("\x00", " ")).split():
        if token not in tokens and any(char.isalnum() for char in token):
            tokens.append(token)
    return tokens[:MAX_TOKENS]


def selecting(tokens: list[str]) -> list[str]:
    """The tokens that select the candidates in SQL: those of three letters or more, if any.

    A word of one or two letters (a particle, an initial) has two or three trigrams, all at its
    edges: « el » for « le » shares none. It only ranks the candidates the longer words found, and
    must be plausible (``name_rank``).
    """
    return [token for token in tokens if len(token) >= 3] or tokens


def name_filter(tokens: list[str], prefix: str = "") -> Q:
    """Every selecting token close to the first or the last name (of the child at ``prefix``)."""
    condition = Q()
    for token in selecting(tokens):
        condition &= Q(WordSimilar(F(f"{prefix}{FIRST}"), Value(token))) | Q(
            WordSimilar(F(f"{prefix}{LAST}"), Value(token))
        )
    return condition


def name_score(tokens: list[str], prefix: str = ""):
    """The sum, over the tokens, of their best word similarity to the first or the last name."""
    scores = [
        Greatest(
            WordSimilarity(Value(token), F(f"{prefix}{FIRST}")),
            WordSimilarity(Value(token), F(f"{prefix}{LAST}")),
        )
        for token in tokens
    ]
    total = scores[0]
    for score in scores[1:]:
        total = total + score
    return total


class NameRank(NamedTuple):
    """How well a term names a child; the first three compare as ranks (higher is better)."""

    tier: int  # the worst of the tokens': EXACT, PREFIX or CLOSE
    closeness: float  # the mean of the tokens' closeness to the name, from 0 to 1
    coverage: float  # the share of the name's words that a token starts
    plausible: bool  # every token is a word of the name, the start of one, or a few edits from one


def edit_budget(token: str) -> int:
    """The edits a token may be away from a word of the name: one up to five letters, two beyond."""
    return 1 if len(token) <= 5 else 2


def _token_rank(token: str, words: set[str]) -> tuple[int, float, bool]:
    if token in words:
        return EXACT, 1.0, True
    closeness = max(OSA.normalized_similarity(token, word) for word in words)
    if any(word.startswith(token) for word in words):
        return PREFIX, closeness, True
    # Against the whole word, or its start for a word being typed (« dupn » for Dupont).
    edits = min(min(OSA.distance(token, word), OSA.distance(token, word[: len(token)])) for word in words)
    return CLOSE, closeness, edits <= edit_budget(token)


def name_rank(tokens: list[str], first: str, last: str) -> NameRank:
    """How well the tokens name this child.

    The words of a name are its words and the name written without spaces (« legall » is Le Gall).
    Coverage puts Roux before Le Roux for « roux ». A child is a plausible answer when each token is
    a word of the name, the start of one, or within its ``edit_budget`` of one: trigrams let
    « personne » reach Perrin (three trigrams in common), four edits send it back.
    """
    parts = [*first.split(), *last.split()]
    words = {*parts, first.replace(" ", ""), last.replace(" ", "")} - {""}
    if not tokens or not words:
        return NameRank(CLOSE, 0.0, 0.0, False)
    ranks = [_token_rank(token, words) for token in tokens]
    covered = sum(1 for part in parts if any(part.startswith(token) for token in tokens))
    return NameRank(
        tier=min(tier for tier, _, _ in ranks),
        closeness=sum(closeness for _, closeness, _ in ranks) / len(ranks),
        coverage=covered / len(parts) if parts else 0.0,
        plausible=all(plausible for _, _, plausible in ranks),
    )


def candidates(children: QuerySet, tokens: list[str]) -> QuerySet:
    """``(id, first name, last name, trigram score)`` of the children every token is close to, the
    closest first, at most ``MAX_RESULTS + 1`` (one more says that there were more)."""
    return (
        children.filter(name_filter(tokens))
        .annotate(search_score=name_score(tokens))
        .order_by("-search_score", LAST, FIRST, "pk")
        .values_list("pk", FIRST, LAST, "search_score")[: MAX_RESULTS + 1]
    )


def search_children(children: QuerySet, term: str) -> Ranked:
    """The children of ``children`` (a scoped queryset) that ``term`` names, best match first."""
    tokens = search_tokens(term)
    if not tokens:
        return Ranked(children, [])
    rows = list(candidates(children, tokens))

    ranked = []
    for pk, first, last, score in rows[:MAX_RESULTS]:
        rank = name_rank(tokens, first, last)
        if rank.plausible:
            ranked.append(((-rank.tier, -rank.closeness, -rank.coverage, -score, last, first, pk), pk))
    ranked.sort()
    return Ranked(children, [pk for _, pk in ranked], truncated=len(rows) > MAX_RESULTS)
