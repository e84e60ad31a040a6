"""The main menu, by role. Each entry names the roles that see it; the pages still check access.

The roles come from the policy table where an entry opens a kind of object, so that the menu never
offers a page the table closes. Entries belong to sections (``GROUPS``) shown as drop-down menus, so
that a coordinator's twenty entries fit on one line; a section holding a single entry for a role is
shown as that entry.
"""

from dataclasses import dataclass

from django.urls import reverse
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
    group: str = ""


FOLLOW_UP = "follow_up"
ACTIONS = "actions"
PARTNERSHIP = "partnership"
STEERING = "steering"
ADMINISTRATION = "administration"

GROUPS = {
    FOLLOW_UP: _("Enfants et parcours"),
    ACTIONS: _("Actions"),
    PARTNERSHIP: _("Partenariat"),
    STEERING: _("Pilotage"),
    ADMINISTRATION: _("Administration"),
}


MENU = [
    MenuEntry(_("Accueil"), "home", ALL_ROLES),
    MenuEntry(_("Programme"), "programmes:profile", ALL_ROLES),
    # Children and pathways.
    MenuEntry(
        _("Enfants"),
        "people:children",
        frozenset(perms.roles_granting(perms.CHILD, A.PROGRAMME, A.CASE_TEAM, A.CASE_TEAM_OR_EPS)),
        FOLLOW_UP,
    ),
    MenuEntry(
        _("Orienter un enfant"), "referrals:new", frozenset({Role.REFERRER, Role.COORDINATOR}), FOLLOW_UP
    ),
    MenuEntry(
        _("Mes orientations"),
        "referrals:mine",
        frozenset(perms.roles_granting(perms.REFERRAL, A.OWN)),
        FOLLOW_UP,
    ),
    MenuEntry(
        _("Orientations"),
        "referrals:list",
        frozenset(perms.roles_granting(perms.REFERRAL, A.PROGRAMME)),
        FOLLOW_UP,
    ),
    MenuEntry(_("Mes parcours"), "pathways:caseload", frozenset({Role.REFERENT}), FOLLOW_UP),
    MenuEntry(_("Parcours"), "pathways:list", frozenset({Role.COORDINATOR}), FOLLOW_UP),
    # Actions.
    MenuEntry(
        _("Catalogue des actions"), "offers:catalogue", frozenset({Role.COORDINATOR, Role.REFERENT}), ACTIONS
    ),
    MenuEntry(_("Mes groupes"), "offers:groups", frozenset({Role.PROVIDER}), ACTIONS),
    MenuEntry(_("Fonds d'aide"), "offers:fund", frozenset({Role.COORDINATOR}), ACTIONS),
    # The partnership.
    MenuEntry(
        _("Partenaires"),
        "programmes:organisations",
        frozenset(perms.roles_granting(perms.DIRECTORY, A.PROGRAMME)),
        PARTNERSHIP,
    ),
    MenuEntry(
        _("Instances"),
        "governance:bodies",
        frozenset(r for r in Role.values if perms.governance_access(r, perms.COMMITTEES) != A.NONE),
        PARTNERSHIP,
    ),
    MenuEntry(
        _("Fiches missions"),
        "governance:mission_sheets",
        frozenset(r for r in Role.values if perms.governance_access(r, perms.MISSION_SHEETS) != A.NONE),
        PARTNERSHIP,
    ),
    MenuEntry(
        _("Mémento"),
        "governance:memento",
        frozenset(r for r in Role.values if perms.governance_access(r, perms.MEMENTO) != A.NONE),
        PARTNERSHIP,
    ),
    MenuEntry(
        _("Charte de confidentialité"),
        "programmes:charter",
        frozenset(perms.roles_granting(perms.CHARTER, A.PROGRAMME)),
        PARTNERSHIP,
    ),
    # Steering.
    MenuEntry(
        _("Indicateurs"),
        "steering:dashboard",
        frozenset(perms.roles_granting(perms.INDICATORS, A.PROGRAMME, A.AGGREGATE)),
        STEERING,
    ),
    MenuEntry(_("Réseau"), "steering:network", frozenset({Role.NETWORK}), STEERING),
    MenuEntry(
        _("Baromètre du partenariat"),
        "steering:barometer",
        ALL_ROLES - frozenset(perms.roles_granting(perms.INDICATORS, A.PROGRAMME, A.AGGREGATE)),
        STEERING,
    ),
    # Administration.
    MenuEntry(_("Équipe"), "accounts:team", frozenset({Role.MANAGER, Role.COORDINATOR}), ADMINISTRATION),
    MenuEntry(_("Journal des accès"), "journal:search", frozenset(perms.JOURNAL_ROLES), ADMINISTRATION),
    MenuEntry(_("Accès exceptionnel"), "journal:break_glass", frozenset({Role.DPO}), ADMINISTRATION),
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
        # A broken URL name raises NoReverseMatch (a 500 on every page, caught by the tests), never a
        # silently missing entry.
        url = reverse(entry.url_name)
        items.append({"label": entry.label, "url": url, "current": False, "group": entry.group})
    matches = [
        item
        for item in items
        if request.path == item["url"]
        or (item["url"] != reverse("home") and request.path.startswith(item["url"]))
    ]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["current"] = True
    return items


def menu_sections(items: list[dict]) -> list[dict]:
    """The menu as the header shows it: single entries, and sections (drop-downs) of two or more.

    A section is current when one of its entries is; its entries keep the order of ``MENU``.
    """
    by_group: dict[str, list[dict]] = {}
    for item in items:
        if item["group"]:
            by_group.setdefault(item["group"], []).append(item)
    sections, placed = [], set()
    for item in items:
        group = item["group"]
        if not group or len(by_group[group]) == 1:
            sections.append(item)
        elif group not in placed:
            placed.add(group)
            entries = by_group[group]
            sections.append(
                {
                    "label": GROUPS[group],
                    "id": f"menu-{group}",
                    "entries": entries,
                    "current": any(entry["current"] for entry in entries),
                }
            )
    return sections
