"""The one French number formatter of the steering outputs (pages, comité PDF, workbooks).

* ``None`` (not computed) is "—";
* an ``int`` is grouped by thousands with a no-break space: ``96 500``;
* a ``float`` (a mean, a median) keeps one decimal: ``21,7``, ``18,0``;
* a ``Decimal`` (an amount, an FTE) drops its trailing zeros, two decimals at most: ``0,8``,
  ``96 500``, ``12,5``;
* ``money`` adds the euro sign after a no-break space: ``96 500 €``.

Suppressed cells never reach it: their text is "< 5", "s" or "n.d." (``maillage.steering.suppression``).
"""

from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"
NONE = "—"


def _group(digits: str) -> str:
    parts = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return NBSP.join(parts)


def _fixed(value: Decimal, decimals: int) -> str:
    quantum = Decimal(1).scaleb(-decimals)
    value = value.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    text = f"{abs(value):.{decimals}f}"
    whole, _dot, fraction = text.partition(".")
    return sign + _group(whole) + ("," + fraction if fraction else "")


def number(value, decimals: int | None = None) -> str:
    """A number in French. ``decimals`` forces a fixed number of decimals."""
    if value is None or value == "":
        return NONE
    if isinstance(value, bool):
        value = int(value)
    if decimals is not None:
        return _fixed(Decimal(str(value)), decimals)
    if isinstance(value, int):
        return _fixed(Decimal(value), 0)
    if isinstance(value, float):
        return _fixed(Decimal(str(value)), 1)
    value = Decimal(str(value))
    text = _fixed(value, 2)
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def money(value) -> str:
    """An amount in euros: ``96 500 €`` (cents only when there are some)."""
    if value is None:
        return NONE
    return f"{number(Decimal(str(value)))}{NBSP}€"


def with_unit(value, unit: str = "") -> str:
    """A figure of an indicator with its unit when it reads as one (euros, percent)."""
    if unit == "€":
        return money(value)
    text = number(value)
    if unit == "%" and value is not None:
        return f"{text}{NBSP}%"
    return text
