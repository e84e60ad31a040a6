"""DSFR button groups: a labelled button with an icon needs the group's icon modifier (issue 13, point 18).

Inside ``fr-btns-group`` without ``fr-btns-group--icon-left``/``--icon-right``, DSFR draws every button
that has an ``fr-icon-*`` class as an icon-only square, its label hidden, whatever the button's own
``fr-btn--icon-left``. The browser test (tests/browser/test_phone_layout.py) sees it on the plan;
this one reads every template.
"""

import re
from pathlib import Path

import maillage

TEMPLATES = Path(maillage.__file__).resolve().parent / "templates"
GROUP = re.compile(r'<(ul|div)[^>]*class="([^"]*\bfr-btns-group\b[^"]*)"[^>]*>(.*?)</\1>', re.S)
ICON_BUTTON = re.compile(r'class="[^"]*\bfr-btn\b[^"]*\bfr-(?:icon|fi)-')
# The header's tool links are styled by the header component, not by the group.
EXEMPT = {"layout/header.html"}


def test_every_button_group_with_icon_buttons_sets_the_icon_position():
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name in EXEMPT:
            continue
        text = path.read_text()
        for match in GROUP.finditer(text):
            classes, body = match.group(2), match.group(3)
            if "fr-btns-group--icon-" not in classes and ICON_BUTTON.search(body):
                offenders.append(f"{name}:{text[: match.start()].count(chr(10)) + 1}")
    assert not offenders, "button groups drawing labelled buttons as icon-only squares:\n" + "\n".join(
        offenders
    )
