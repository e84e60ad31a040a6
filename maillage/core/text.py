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
    # Decompose before folding the case: compatibility forms (𝜜, ℌ) decompose to capitals, which
    # folding the case first would leave, and the normalised name would not be its own normal form.
    value = (
        strip_accents(unicodedata.normalize("NFKD", value).casefold()).replace("œ", "oe").replace("æ", "ae")
    )
    return _SEPARATORS.sub(" ", value).strip()
