"""Text helpers shared by search, duplicate detection and importers."""

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’`´.,_/]+")


def strip_accents(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_name(value: str | None) -> str:
    """Lower-case, accent-free, with hyphens, apostrophes and runs of spaces folded to one space.

    "Jean-Édouard  D'Arc" and "jean edouard d arc" normalise to the same string, so that search
    and duplicate detection do not depend on how a name was typed.
    """
    if not value:
        return ""
    value = strip_accents(value.casefold()).replace("œ", "oe").replace("æ", "ae")
    return _SEPARATORS.sub(" ", value).strip()
