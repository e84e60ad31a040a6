"""The ANCT annual survey workbook (*enquête annuelle de suivi du PRE*): four sheets of aggregates.

*Structure* (structure porteuse, communes, QPV, partners in steering and on the ground, EPS count
and meetings, staff posts and FTE by role), *Financement* (direct funding and in-kind contributions
by source), *Bénéficiaires* (breakdowns, parcours vs collective) and *Processus* (delays, durations,
motifs, referrers, exits, action types). Each line: indicator, category, value, definition. Text
cells go through ``maillage.core.exports.safe_cell``; the workbook never holds a name.

Counts are the display tables of ``maillage.steering.dashboard``: exact for the coordinator,
suppressed ("< 5", "s") for any other audience.
"""

import io

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from maillage.governance.enums import BodyKind
from maillage.governance.models import Body
from maillage.programmes.enums import OrganisationKind, Role
from maillage.programmes.models import Organisation, Programme
from maillage.steering.dashboard import Table
from maillage.steering.indicators import Scope, staff_posts_by_role

HEADER = [
    gettext_lazy("Indicateur"),
    gettext_lazy("Catégorie"),
    gettext_lazy("Valeur"),
    gettext_lazy("Définition"),
]

SHEETS = {
    "Bénéficiaires": [
        "pathway_vs_collective",
        "children_by_sex",
        "children_by_age",
        "children_by_school_level",
        "children_by_qpv",
        "children_by_priority_education",
        "parents_reached",
    ],
    "Processus": [
        "referral_to_eps_delay",
        "pathway_duration",
        "review_rate",
        "referrals_by_motif",
        "referrals_by_referrer",
        "exits_by_reason",
        "plan_actions_by_dimension",
        "plan_actions_by_kind",
        "offers_by_dimension",
    ],
    "Financement": ["funding_by_source", "in_kind_by_source", "cost_per_child"],
}


def _cell_value(cell):
    """Numbers as numbers (so that the sheet adds up), suppressed cells as their text."""
    if cell.hidden or cell.value is None:
        return cell.text
    return float(cell.value) if not isinstance(cell.value, int) else cell.value


def _table_rows(table: Table) -> list[list]:
    rows = [[table.label, cell.label, _cell_value(cell), table.definition] for cell in table.cells]
    if table.total is not None:
        rows.append([table.label, table.total.label, _cell_value(table.total), table.definition])
    return rows


def structure_rows(programmes: list[Programme], scope: Scope, tables: dict[str, Table]) -> list[list]:
    ids = [p.pk for p in programmes]
    rows = []
    for programme in programmes:
        rows.append(
            [_("Structure porteuse"), programme.get_lead_body_type_display(), programme.lead_body_name, ""]
        )
        rows.append([_("Programme"), _("Nom"), programme.name, ""])
    communes = sorted({c.name for p in programmes for c in p.communes.all()})
    rows.append([_("Communes couvertes"), _("Nombre"), len(communes), ", ".join(communes)])
    qpv = sorted({a.code for p in programmes for a in p.priority_areas.all()})
    rows.append([_("Quartiers prioritaires couverts"), _("Nombre"), len(qpv), ", ".join(qpv)])
    schools = {s.pk: s for p in programmes for s in p.schools.all()}
    rows.append(
        [
            _("Établissements couverts"),
            _("dont REP / REP+"),
            sum(1 for s in schools.values() if s.priority_education),
            _("%(n)s établissements au total") % {"n": len(schools)},
        ]
    )
    partners = (
        Organisation.objects.filter(programme_id__in=ids, is_active=True)
        .values("kind")
        .annotate(n=Count("pk"))
        .order_by("kind")
    )
    labels = dict(OrganisationKind.choices)
    for group in partners:
        rows.append(
            [
                _("Partenaires de terrain, par type"),
                str(labels.get(group["kind"], group["kind"])),
                group["n"],
                "",
            ]
        )
    steering_partners = (
        Body.objects.filter(programme_id__in=ids, kind=BodyKind.STEERING_COMMITTEE)
        .values("members__membership__organisation__kind")
        .annotate(n=Count("members__membership__organisation", distinct=True))
        .order_by("members__membership__organisation__kind")
    )
    for group in steering_partners:
        kind = group["members__membership__organisation__kind"]
        if kind:
            rows.append([_("Partenaires du pilotage, par type"), str(labels.get(kind, kind)), group["n"], ""])
    eps = Body.objects.filter(programme_id__in=ids, kind=BodyKind.EPS).count()
    rows.append([_("Équipes pluridisciplinaires de soutien (EPS)"), _("Nombre"), eps, ""])
    meetings = tables["meetings_held"]
    for cell in meetings.cells:
        rows.append([meetings.label, cell.label, _cell_value(cell), meetings.definition])
    posts = staff_posts_by_role(scope)
    staff = tables["staff_by_role"]
    role_keys = {str(label): value for value, label in Role.choices}
    for cell in staff.cells:
        role = role_keys.get(cell.label, "")
        rows.append([_("Postes par rôle"), cell.label, posts.get(role, 0), ""])
        rows.append([_("ETP par rôle"), cell.label, _cell_value(cell), staff.definition])
    return rows


def workbook(programmes: list[Programme], scope: Scope, tables: dict[str, Table]):
    """The openpyxl workbook and its number of data rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from maillage.core.exports import safe_cell

    book = Workbook()
    count = 0
    sheets = {"Structure": structure_rows(programmes, scope, tables)}
    for title, codes in SHEETS.items():
        sheets[title] = [
            row
            for code in codes
            if code in tables and tables[code].available
            for row in _table_rows(tables[code])
        ]
    first = True
    for title in ["Structure", "Financement", "Bénéficiaires", "Processus"]:
        sheet = book.active if first else book.create_sheet()
        first = False
        sheet.title = title
        sheet.append([safe_cell(h) for h in HEADER])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in sheets[title]:
            sheet.append([safe_cell(value) for value in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
            count += 1
        sheet.freeze_panes = "A2"
        sheet.column_dimensions["A"].width = 50
        sheet.column_dimensions["B"].width = 40
        sheet.column_dimensions["D"].width = 80
    book.properties.title = _("Enquête annuelle PRE — %(period)s") % {"period": scope.period.label}
    return book, count


def workbook_bytes(programmes, scope, tables) -> tuple[bytes, int]:
    book, count = workbook(programmes, scope, tables)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), count
