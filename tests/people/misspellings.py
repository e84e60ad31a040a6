"""Generated misspellings of generated names, to measure the recall of the name search.

The names come from Faker ``fr_FR`` (random first and last names put together: never real people);
each query misspells one word of a name the way people type: two adjacent letters swapped, the
accents dropped (or added where there were none), one wrong letter, one letter missing.
"""

import random
import unicodedata
from dataclasses import dataclass

from faker import Faker

KINDS = ("swap", "accents", "wrong", "missing")
_ACCENTED = {"e": "é", "a": "à", "i": "ï", "o": "ô", "u": "ù", "c": "ç"}
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def fake_names(count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` (first name, last name) pairs, the same for the same seed."""
    faker = Faker("fr_FR")
    faker.seed_instance(seed)
    return [(faker.first_name(), faker.last_name()) for _ in range(count)]


def _without_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def misspell(word: str, kind: str, rnd: random.Random) -> str | None:
    """``word`` with one mistake of ``kind``, or None when the word cannot have it (too short)."""
    letters = [i for i, char in enumerate(word) if char.isalpha()]
    if kind == "swap":
        spots = [
            i
            for i in range(len(word) - 1)
            if word[i].isalpha() and word[i + 1].isalpha() and word[i].lower() != word[i + 1].lower()
        ]
        if not spots:
            return None
        i = rnd.choice(spots)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "accents":
        plain = _without_accents(word)
        if plain != word:
            return plain
        spots = [i for i in letters if word[i].lower() in _ACCENTED]
        if not spots:
            return None
        i = rnd.choice(spots)
        return word[:i] + _ACCENTED[word[i].lower()] + word[i + 1 :]
    if kind == "wrong":
        if not letters:
            return None
        i = rnd.choice(letters)
        other = rnd.choice([c for c in _LETTERS if c != _without_accents(word[i]).lower()])
        return word[:i] + (other.upper() if word[i].isupper() else other) + word[i + 1 :]
    if kind == "missing":
        if len(letters) < 3:
            return None
        i = rnd.choice(letters)
        return word[:i] + word[i + 1 :]
    raise ValueError(kind)


@dataclass(frozen=True)
class Query:
    text: str
    target: int  # index of the name it means
    kind: str
    form: str  # "full" (first and last name, one misspelt) or "last" (the last name alone, misspelt)


def misspelt_queries(names: list[tuple[str, str]], seed: int) -> list[Query]:
    """Two queries per name: the full name with one word misspelt, and the misspelt last name alone.

    The kinds of mistakes take turns; a word too short for its turn's mistake gets the next kind.
    """
    rnd = random.Random(seed)
    queries = []
    for index, (first, last) in enumerate(names):
        for form in ("full", "last"):
            misspelt_first = form == "full" and rnd.random() < 0.5
            word = first if misspelt_first else last
            for shift in range(len(KINDS)):
                kind = KINDS[(index + shift) % len(KINDS)]
                wrong = misspell(word, kind, rnd)
                if wrong is not None:
                    break
            else:
                continue
            if form == "last":
                text = wrong
            elif misspelt_first:
                text = f"{wrong} {last}"
            else:
                text = f"{first} {wrong}"
            queries.append(Query(text=text, target=index, kind=kind, form=form))
    return queries
