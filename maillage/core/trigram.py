"""Trigram similarity: PostgreSQL's ``pg_trgm`` on PostgreSQL, the same functions in Python on SQLite.

Name search (``maillage.people.search``) filters with ``WordSimilar`` — pg_trgm's ``%>`` operator,
which a GIN ``gin_trgm_ops`` index serves — and orders by ``WordSimilarity``. On SQLite there is no
pg_trgm: ``similarity`` and ``word_similarity`` below are registered as SQL functions of the same
names on every new SQLite connection, so that the same query runs on both databases and returns the
same rows. They are line-by-line ports of ``contrib/pg_trgm/trgm_op.c`` (PostgreSQL 15), down to the
single-precision arithmetic, and ``tests/core/test_trigram.py`` compares them with PostgreSQL's. They
agree on the letters of every script and on digits; on combining marks that survive normalisation and
on symbols, PostgreSQL asks the C library (``iswalnum``) where words end, and may cut them elsewhere.

The threshold of ``%>`` is a setting of the PostgreSQL session (``pg_trgm.word_similarity_threshold``,
0.6 by default, far too strict for a misspelt name): every new PostgreSQL connection sets it to
``WORD_SIMILARITY_THRESHOLD`` (``install``, connected to ``connection_created`` by the core app).
Behind a pooler in *transaction* mode (PgBouncer) a session setting does not stick: set it for the
database role instead (``ALTER ROLE … SET pg_trgm.word_similarity_threshold = 0.2``).

Trigrams, as pg_trgm makes them: the text is cut into words (runs of letters and digits), each word
lower-cased and padded with two spaces before and one after, and every three consecutive characters
of a padded word form a trigram (« lea » → ``"  l"``, ``" le"``, ``"lea"``, ``"ea "``).
"""

import re
import struct
from functools import lru_cache

from django.db.models import FloatField, Func, Lookup

# The lowest word similarity at which a name is a candidate (see maillage.people.search).
WORD_SIMILARITY_THRESHOLD = 0.2


def _float4(value: float) -> float:
    """Round to single precision, as pg_trgm computes (``float4``).

    The quotients are of integers below a few thousand: the double-precision quotient is never at a
    single-precision midpoint, so rounding it again gives the correctly rounded float4 quotient.
    """
    return struct.unpack("f", struct.pack("f", value))[0]


def _similarity_ratio(count: int, len1: int, len2: int) -> float:
    """``CALCSML``: common trigrams over the union of both sets (``DIVUNION``)."""
    return _float4(count / (len1 + len2 - count))


_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits (``str.isalnum``), pg_trgm's words


def trigrams(text: str) -> list[str]:
    """The trigrams of ``text`` in order, repeats included (``generate_trgm_only``)."""
    found: list[str] = []
    for word in _WORD.findall(text):
        padded = f"  {word.lower()} "
        found.extend([padded[i : i + 3] for i in range(len(padded) - 2)])
    return found


@lru_cache(maxsize=16)
def _needle(text: str) -> frozenset[str]:
    # SQLite calls the function once per row with the same needle (the search term): keep the last few.
    # Names from the rows are not kept: nominative data does not linger in the process.
    return frozenset(trigrams(text))


def similarity(a: str | None, b: str | None) -> float | None:
    """pg_trgm's ``similarity(a, b)``: shared trigrams over all the trigrams of both texts."""
    if a is None or b is None:
        return None  # the SQL function is STRICT
    first, second = frozenset(trigrams(a)), frozenset(trigrams(b))
    if not first or not second:
        return 0.0
    return _similarity_ratio(len(first & second), len(first), len(second))


def word_similarity(needle: str | None, haystack: str | None) -> float | None:
    """pg_trgm's ``word_similarity(needle, haystack)``: how well ``needle`` matches some extent of
    ``haystack`` (``calc_word_similarity`` then ``iterate_word_similarity``, without the strict flag).

    « dupont » in « lea dupont » is 1; « dupnot » in « lea dupont » is 3/7 (three trigrams of seven
    found, in an extent of three).
    """
    if needle is None or haystack is None:
        return None
    wanted = _needle(needle)
    text = trigrams(haystack)
    if not wanted or wanted.isdisjoint(text):
        return 0.0
    # Number every distinct trigram; ``found`` marks those of the needle (``make_positional_trgm``).
    numbers: dict[str, int] = {}
    for trigram in text:
        numbers.setdefault(trigram, len(numbers))
    found = [trigram in wanted for trigram in numbers]
    return _iterate_word_similarity([numbers[t] for t in text], found, len(wanted))


def _iterate_word_similarity(indexes: list[int], found: list[bool], needle_length: int) -> float:
    """``iterate_word_similarity`` of trgm_op.c (plain word similarity, full maximum)."""
    last_position = [-1] * len(found)
    extent_length = count = 0
    upper = lower = -1
    best = 0.0
    for i, number in enumerate(indexes):
        if lower >= 0 or found[number]:
            if last_position[number] < 0:
                extent_length += 1
                if found[number]:
                    count += 1
            last_position[number] = i
        if not found[number]:
            continue
        upper = i
        if lower == -1:
            lower = i
            extent_length = 1
        current = _similarity_ratio(count, needle_length, extent_length)
        # Try moving the lower bound of the extent up, for a greater similarity.
        tmp_count, tmp_length, previous_lower = count, extent_length, lower
        for tmp_lower in range(lower, upper + 1):
            candidate = _similarity_ratio(tmp_count, needle_length, tmp_length)
            if candidate > current:
                current, extent_length, lower, count = candidate, tmp_length, tmp_lower, tmp_count
            tmp_number = indexes[tmp_lower]
            if last_position[tmp_number] == tmp_lower:
                tmp_length -= 1
                if found[tmp_number]:
                    tmp_count -= 1
        best = max(best, current)
        for tmp_lower in range(previous_lower, lower):
            tmp_number = indexes[tmp_lower]
            if last_position[tmp_number] == tmp_lower:
                last_position[tmp_number] = -1
    return best


# --- in queries ----------------------------------------------------------------------------------


class WordSimilarity(Func):
    """``word_similarity(needle, haystack)`` in SQL: pg_trgm's, or the Python port on SQLite."""

    function = "word_similarity"
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra_context):
        # pg_trgm returns a ``real``: in double precision, like SQLite's, so that sums of scores
        # round the same way on both databases (the conversion itself is exact).
        template = "%(function)s(%(expressions)s)::double precision"
        return self.as_sql(compiler, connection, template=template, **extra_context)


class WordSimilar(Lookup):
    """``haystack %> needle``: ``word_similarity(needle, haystack) >= WORD_SIMILARITY_THRESHOLD``.

    On PostgreSQL it is pg_trgm's operator, which a GIN ``gin_trgm_ops`` index on ``haystack``
    serves (the function form cannot use the index); on SQLite the function compared with the
    threshold. Used as an expression: ``filter(WordSimilar(F("last_name_normalised"), "dupont"))``.
    """

    lookup_name = "word_similar"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        sql = f"word_similarity({rhs}, {lhs}) >= %s"
        return sql, (*rhs_params, *lhs_params, WORD_SIMILARITY_THRESHOLD)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} %%> {rhs}", (*lhs_params, *rhs_params)


def install(sender=None, connection=None, **kwargs) -> None:
    """On each new connection: the SQLite functions, or PostgreSQL's threshold of ``%>``."""
    if connection.vendor == "sqlite":
        raw = connection.connection
        raw.create_function("similarity", 2, similarity, deterministic=True)
        raw.create_function("word_similarity", 2, word_similarity, deterministic=True)
    elif connection.vendor == "postgresql":
        # A setting of the session, not of a transaction: it outlives the request's transactions.
        # The value is a constant of this module, never user input.
        with connection.cursor() as cursor:
            cursor.execute(f"SET pg_trgm.word_similarity_threshold = {WORD_SIMILARITY_THRESHOLD:.2f}")
