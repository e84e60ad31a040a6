"""The main menu, by role. Each entry names the roles that see it; the pages still check access.

The roles come from the policy table where an entry opens a kind of object, so that the menu never
offers a page the table closes.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from maillage import permissions as perms
from maillage.programmes.enums import Role

ALL_ROLES = frozenset(Role.values)
A = perms.Access


@dataclass(frozen=True)
class MenuEntry:
    label: str
    url_name: str
    roles: frozenset


MENU = [
    MenuEntry(_("Accueil"), "home", ALL_ROLES),
    MenuEntry(_("Programme"), "programmes:profile", ALL_ROLES),
    MenuEntry(
        _("Enfants"),
        "people:children",
        frozenset(perms.roles_granting(perms.CHILD, A.PROGRAMME, A.CASE_TEAM, A.CASE_TEAM_OR_EPS)),
    ),
    MenuEntry(_("Orienter un enfant"), "referrals:new", frozenset({Role.REFERRER, Role.COORDINATOR})),
    MenuEntry(
        _("Mes orientations"),
        "referrals:mine",
        frozenset(perms.roles_granting(perms.REFERRAL, A.OWN)),
    ),
    MenuEntry(
        _("Orientations"),
        "referrals:list",
        frozenset(perms.roles_granting(perms.REFERRAL, A.PROGRAMME)),
    ),
    MenuEntry(_("Mes parcours"), "pathways:caseload", frozenset({Role.REFERENT})),
    MenuEntry(_("Parcours"), "pathways:list", frozenset({Role.COORDINATOR})),
    MenuEntry(
        _("Partenaires"),
        "programmes:organisations",
        frozenset(perms.roles_granting(perms.DIRECTORY, A.PROGRAMME)),
    ),
    MenuEntry(
        _("Charte de confidentialité"),
        "programmes:charter",
        frozenset(perms.roles_granting(perms.CHARTER, A.PROGRAMME)),
    ),
    MenuEntry(_("Équipe"), "accounts:team", frozenset({Role.MANAGER, Role.COORDINATOR})),
    MenuEntry(_("Journal des accès"), "journal:search", frozenset(perms.JOURNAL_ROLES)),
    MenuEntry(_("Accès exceptionnel"), "journal:break_glass", frozenset({Role.DPO})),
]


def menu_for(request, membership) -> list[dict]:
    """The entries the current role sees, the one matching the page marked current.

    Home is current on itself only; any other entry is current on its own pages, the longest matching
    address winning (``/programme/partenaires/`` belongs to "Partenaires", not to "Programme").
    """
    role = membership.role if membership else None
    items = []
    for entry in MENU:
        if entry.url_name != "home" and role not in entry.roles:
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": entry.label, "url": url, "current": False})
    matches = [
        item
        for item in items
        if request.path == item["url"]
        or (item["url"] != reverse("home") and request.path.startswith(item["url"]))
    ]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["current"] = True
    return items
