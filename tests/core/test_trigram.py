"""The Python port of pg_trgm gives PostgreSQL's numbers, and SQLite runs it under pg_trgm's names."""

import random
import struct

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from maillage.core.text import normalise_name
from maillage.core.trigram import similarity, trigrams, word_similarity
from tests.people.misspellings import KINDS, fake_names, misspell

ON_POSTGRESQL = connection.vendor == "postgresql"


def float4(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def test_trigrams_are_those_of_pg_trgm():
    # Words of letters and digits, lower-cased, two spaces before and one after.
    assert trigrams("Léa") == ["  l", " lé", "léa", "éa "]
    assert trigrams("d'Arc!") == ["  d", " d ", "  a", " ar", "arc", "rc "]
    assert trigrams(" -- ") == []


@pytest.mark.parametrize(
    ("needle", "haystack", "expected_similarity", "expected_word_similarity"),
    [
        ("dupont", "dupont", 1.0, 1.0),
        ("dupnot", "dupont", 3 / 11, 3 / 7),  # a swap breaks four trigrams of seven
        ("dupnot", "lea dupont", 3 / 15, 3 / 7),
        ("lea dupnot", "lea dupont", 7 / 15, 7 / 11),
        ("marie", "marie christine", 6 / 16, 1.0),
        ("ruox", "roux", 1 / 9, 1 / 5),
        ("", "dupont", 0.0, 0.0),
        ("dupont", "", 0.0, 0.0),
    ],
)
def test_known_values_of_pg_trgm(needle, haystack, expected_similarity, expected_word_similarity):
    assert similarity(needle, haystack) == float4(expected_similarity)
    assert word_similarity(needle, haystack) == float4(expected_word_similarity)


def test_like_sql_functions_null_gives_null():
    assert similarity(None, "a") is None
    assert word_similarity("a", None) is None


@pytest.mark.django_db
def test_the_database_answers_with_the_same_numbers():
    """pg_trgm on PostgreSQL; the functions registered on each SQLite connection on SQLite."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CAST(similarity(%s, %s) AS double precision),"
            " CAST(word_similarity(%s, %s) AS double precision)",
            ["dupnot", "lea dupont", "dupnot", "lea dupont"],
        )
        assert cursor.fetchone() == (float4(3 / 15), float4(3 / 7))


def _pairs(count: int, seed: int) -> list[tuple[str, str]]:
    """Names and their misspellings as searched (normalised), and random Latin text."""
    rnd = random.Random(seed)
    names = [normalise_name(f"{first} {last}") for first, last in fake_names(count, seed)]
    alphabet = "abcdeéèêàâîïôöùûüçœæñßøłABCÉ 0123456789-'"
    pairs = []
    for name in names:
        word = rnd.choice(name.split())
        typo = normalise_name(misspell(word, rnd.choice(KINDS), rnd) or word)
        pairs.append((typo, name))
        pairs.append((word[: rnd.randint(1, len(word))], name))
        noise = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
        pairs.append((noise, f"{noise[: rnd.randint(0, 12)]} {name}"))
    return pairs


@pytest.mark.django_db
@pytest.mark.skipif(not ON_POSTGRESQL, reason="compares with pg_trgm")
def test_the_port_equals_pg_trgm_on_thousands_of_names_and_misspellings():
    pairs = _pairs(1000, seed=3)
    with connection.cursor() as cursor:
        # In double precision: the float4 exactly (its text form is only the shortest decimal).
        cursor.execute(
            "SELECT similarity(a, b)::double precision, word_similarity(a, b)::double precision"
            " FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS t(a, b, n) ORDER BY n",
            [[a for a, _ in pairs], [b for _, b in pairs]],
        )
        expected = cursor.fetchall()
    mismatches = [
        (pair, row, (similarity(*pair), word_similarity(*pair)))
        for pair, row in zip(pairs, expected, strict=True)
        if row != (similarity(*pair), word_similarity(*pair))
    ]
    assert mismatches == []


@settings(max_examples=300, deadline=None)
@given(a=st.text(max_size=30), b=st.text(max_size=60))
def test_the_functions_never_fail_and_stay_between_0_and_1(a, b):
    assert 0.0 <= similarity(a, b) <= 1.0
    assert similarity(a, b) == similarity(b, a)
    assert 0.0 <= word_similarity(a, b) <= 1.0
    if trigrams(a):
        assert word_similarity(a, a) == 1.0
        assert word_similarity(a, f"{b} {a}") == 1.0
