"""Duplicate candidates for a child: accent-, hyphen- and typo-tolerant names plus birth date."""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from rapidfuzz import fuzz

from maillage.core.text import normalise_name
from maillage.people.models import Child, Guardian

THRESHOLD = 80


@dataclass
class Candidate:
    child: Child
    score: int
    reasons: list[str]


def _name_score(a_first: str, a_last: str, b_first: str, b_last: str) -> float:
    straight = (fuzz.ratio(a_first, b_first) + fuzz.ratio(a_last, b_last)) / 2
    # First and last names typed the other way round are common on paper forms.
    crossed = (fuzz.ratio(a_first, b_last) + fuzz.ratio(a_last, b_first)) / 2
    return max(straight, crossed, fuzz.token_sort_ratio(f"{a_first} {a_last}", f"{b_first} {b_last}"))


def child_candidates(
    *, children, first_name: str, last_name: str, birth_date: datetime.date, limit: int = 5
) -> list[Candidate]:
    """Children of ``children`` (a scoped queryset) that may be the same child, best first.

    SQL keeps those born the same day, or with a last name sharing its first three letters and a
    birth date within a year; rapidfuzz then scores the names.
    """
    first, last = normalise_name(first_name), normalise_name(last_name)
    near = Q(birth_date=birth_date) | Q(
        last_name_normalised__startswith=last[:3],
        birth_date__range=(
            birth_date - datetime.timedelta(days=366),
            birth_date + datetime.timedelta(days=366),
        ),
    )
    found = []
    for child in children.filter(near).select_related("household")[:200]:
        names = _name_score(first, last, child.first_name_normalised, child.last_name_normalised)
        same_day = child.birth_date == birth_date
        swapped_day_month = (child.birth_date.day, child.birth_date.month) == (
            birth_date.month,
            birth_date.day,
        )
        score = names * 0.7 + (30 if same_day else 20 if swapped_day_month else 0)
        if score >= THRESHOLD:
            reasons = [f"noms proches ({round(names)} %)"]
            reasons.append("même date de naissance" if same_day else "date de naissance proche")
            found.append(Candidate(child=child, score=round(score), reasons=reasons))
    found.sort(key=lambda c: -c.score)
    return found[:limit]


def _phone_digits(phone: str) -> str:
    """The national part of a phone number: « 06 12 34 56 78 » and « +33 6 12 34 56 78 » agree."""
    return "".join(ch for ch in phone if ch.isdigit())[-9:]


def sibling_households(*, households, guardian_last_name: str, phone: str = "", address: str = ""):
    """Households that may already be this family's (same guardian name with phone or address).

    Phones and addresses are compared once normalised in Python: they are typed with spaces, dots,
    commas or capitals, and the guardians sharing a last name in a programme are few.
    """
    last = normalise_name(guardian_last_name)
    digits = _phone_digits(phone)
    if len(digits) < 6:  # too short to tell two numbers apart
        digits = ""
    place = normalise_name(address)
    if not last or not (digits or place):
        return households.none()
    guardians = Guardian.objects.filter(household__in=households, last_name_normalised=last).select_related(
        "household"
    )
    matched = {
        guardian.household_id
        for guardian in guardians
        if (digits and _phone_digits(guardian.phone).endswith(digits))
        or (place and place in {normalise_name(guardian.household.address), normalise_name(guardian.address)})
    }
    return households.filter(pk__in=matched)
