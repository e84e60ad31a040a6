"""The main menu, by role. Each entry names the roles that see it; the pages still check access."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from maillage.programmes.enums import Role

ALL_ROLES = frozenset(Role.values)


@dataclass(frozen=True)
class MenuEntry:
    label: str
    url_name: str
    roles: frozenset


MENU = [
    MenuEntry(_("Accueil"), "home", ALL_ROLES),
]


def menu_for(request, membership) -> list[dict]:
    role = membership.role if membership else None
    items = []
    for entry in MENU:
        if entry.url_name != "home" and role not in entry.roles:
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        current = request.path == url if entry.url_name == "home" else request.path.startswith(url)
        items.append({"label": entry.label, "url": url, "current": current})
    return items
