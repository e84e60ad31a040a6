"""Server-rendered SVG bar charts (no JavaScript): horizontal bars, one per row of a table.

The chart is decoration for sighted readers: it has ``role="img"`` and a ``<title>``, and the data
table printed next to it is the accessible source. Suppressed cells draw no bar (they are labelled
"< 5" or "s", as in the table).
"""

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 560
LABEL_WIDTH = 250
BAR_HEIGHT = 18
GAP = 8
VALUE_WIDTH = 60


@dataclass
class Bar:
    label: str
    value: float | None  # None: suppressed or unknown, no bar
    text: str  # what the table shows ("12", "< 5", "s")


def bar_chart(title: str, bars: list[Bar], *, chart_id: str) -> SafeString:
    numbers = [b.value for b in bars if b.value is not None]
    top = max(numbers, default=0) or 1
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = len(bars) * (BAR_HEIGHT + GAP) + GAP
    rows = []
    for index, bar in enumerate(bars):
        y = GAP + index * (BAR_HEIGHT + GAP)
        width = 0 if bar.value is None else max(1, round(plot * float(bar.value) / float(top)))
        rows.append(
            (
                y + BAR_HEIGHT - 5,
                LABEL_WIDTH - 8,
                bar.label if len(bar.label) <= 40 else bar.label[:39] + "…",
                LABEL_WIDTH,
                y,
                width if bar.value else 0,
                BAR_HEIGHT,
                LABEL_WIDTH + (width if bar.value else 0) + 6,
                y + BAR_HEIGHT - 5,
                bar.text,
            )
        )
    body = format_html_join(
        "",
        '<text x="{1}" y="{0}" text-anchor="end" font-size="12" fill="#161616">{2}</text>'
        '<rect x="{3}" y="{4}" width="{5}" height="{6}" fill="#000091"></rect>'
        '<text x="{7}" y="{8}" font-size="12" fill="#161616">{9}</text>',
        rows,
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{0}-title" '
        'viewBox="0 0 {1} {2}" width="{1}" height="{2}" class="maillage-chart" '
        'font-family="Marianne, arial, sans-serif">'
        '<title id="{0}-title">{3}</title>{4}</svg>',
        chart_id,
        WIDTH,
        height,
        title,
        body,
    )
