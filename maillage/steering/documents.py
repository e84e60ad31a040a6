"""The steering documents the task worker prepares: the comité de pilotage pack (PDF), the ANCT
workbook of a programme and of a network level, the network's structuring table (XLSX).

The figures are those of the pages: ``programme_figures`` is what the programme's dashboard shows
(``maillage.www.steering.views`` calls it too) and ``network_tables`` what the network page shows,
with the same suppression decisions (``maillage.steering.levels``). Nothing here checks a permission:
the view that creates the job checks it, and the view that serves the file checks it again.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field

from maillage.core import exports
from maillage.programmes.models import Programme
from maillage.steering import anct, copil, levels, queries
from maillage.steering import indicators as ind
from maillage.steering.dashboard import key_figures, present
from maillage.steering.enums import ExportKind
from maillage.steering.models import CopilNote, ExportJob, Target

PDF_CONTENT_TYPE = "application/pdf"

# The journal's verb of each download (the same as when the documents were rendered in the request).
VERBS = {
    ExportKind.COPIL_PDF: "export.copil_pack",
    ExportKind.ANCT_XLSX: "export.anct_survey",
    ExportKind.NETWORK_ANCT_XLSX: "export.anct_survey",
    ExportKind.STRUCTURING_XLSX: "export.structuring_table",
}


@dataclass
class Rendered:
    """A prepared file, and what its download journals."""

    content: bytes
    filename: str
    rows: int
    payload: dict = field(default_factory=dict)

    @property
    def file_format(self) -> str:
        return self.filename.rsplit(".", 1)[-1]


# --- the figures ------------------------------------------------------------------------------------


def decided_states(
    programme: Programme, period: ind.Period, filters: ind.Filters | None = None
) -> dict | None:
    """The states of the programme's figures in the decision shared with its network level (None
    outside a network): the network pages sum the same counts (``maillage.steering.levels``)."""
    if not programme.network_level_id:
        return None
    decision = levels.decision([programme.network_level_id], period, filters)
    return decision.programmes.get(programme.pk, {})


def programme_figures(
    programme: Programme, period: ind.Period, filters: ind.Filters, *, suppressed: bool
) -> dict:
    """The programme's dashboard: computed indicators, display tables, key figures, objectives."""
    scope = ind.Scope((programme.pk,), period, filters)
    computed = ind.compute(scope)
    decided = decided_states(programme, period, filters) if suppressed else None
    tables = present(computed, suppressed=suppressed, decided=decided)
    targets = Target.objects.filter(programme=programme, year=period.year)
    progress = ind.progress(tables, targets)
    return {
        "programme": programme,
        "period": period,
        "filters": filters,
        "scope": scope,
        "computed": computed,
        "tables": tables,
        "key_figures": key_figures(tables),
        "suppressed": suppressed,
        "progress": [] if filters.any else progress,
    }


def network_decided(programmes: list[Programme], scope: ind.Scope) -> dict:
    """The states of the network page's sums in the decision shared with the programmes' dashboards."""
    decision = levels.decision(
        {p.network_level_id for p in programmes if p.network_level_id},
        scope.period,
        scope.filters,
        extra_scope=scope.programme_ids,
    )
    return decision.networks[frozenset(scope.programme_ids)]


def network_tables(programmes: list[Programme], scope: ind.Scope) -> dict:
    """The network page's tables: sums over the programmes, always suppressed."""
    return present(ind.compute(scope), suppressed=True, decided=network_decided(programmes, scope))


def network_programmes(ids) -> list[Programme]:
    """The programmes of a network job, loaded as the network pages load them."""
    return list(
        Programme.objects.filter(pk__in=ids)
        .select_related("network_level")
        .prefetch_related("communes", "priority_areas", "schools")
        .order_by("name")
    )


# --- the parameters of a job --------------------------------------------------------------------------


def period_parameters(period: ind.Period, filters: ind.Filters | None = None) -> dict:
    parameters = {"period_kind": str(period.kind), "year": period.year}
    if filters is not None:
        parameters.update({"eps": filters.eps, "school": filters.school, "qpv": filters.qpv})
    return parameters


def period_of(parameters: dict) -> ind.Period:
    return ind.Period(parameters["period_kind"], parameters["year"])


def filters_of(parameters: dict) -> ind.Filters:
    return ind.Filters(
        eps=parameters.get("eps"), school=parameters.get("school"), qpv=parameters.get("qpv", "")
    )


# --- rendering ----------------------------------------------------------------------------------------


def _workbook_content(book) -> bytes:
    exports.sanitise_workbook(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _copil(job: ExportJob, step: Callable[[int], None]) -> Rendered:
    programme = Programme.objects.prefetch_related("schools", "communes", "priority_areas").get(
        pk=job.programme_id
    )
    period = period_of(job.parameters)
    # The pack is read by the comité (not the programme's team): suppressed whoever asks for it.
    context = programme_figures(programme, period, filters_of(job.parameters), suppressed=True)
    step(40)
    note = CopilNote.objects.filter(programme=programme, year=period.year).first()
    content = copil.copil_pdf(
        programme=programme, context=context, highlights=note.highlights if note else ""
    )
    return Rendered(
        content=content,
        filename=exports.safe_filename(f"comite-de-pilotage-{programme.slug}-{period.label}.pdf", ".pdf"),
        rows=sum(len(t.cells) for t in context["tables"].values()),
        payload={"period": period.label, "suppressed": True},
    )


def _anct(job: ExportJob, step: Callable[[int], None]) -> Rendered:
    programme = Programme.objects.prefetch_related("schools", "communes", "priority_areas").get(
        pk=job.programme_id
    )
    period = period_of(job.parameters)
    suppressed = bool(job.parameters["suppressed"])
    context = programme_figures(programme, period, filters_of(job.parameters), suppressed=suppressed)
    step(60)
    book, rows = anct.workbook([programme], context["scope"], context["tables"])
    return Rendered(
        content=_workbook_content(book),
        filename=exports.safe_filename(f"enquete-anct-{programme.slug}-{period.label}.xlsx", ".xlsx"),
        rows=rows,
        payload={"period": period.label, "suppressed": suppressed},
    )


def _network_anct(job: ExportJob, step: Callable[[int], None]) -> Rendered:
    programmes = network_programmes(job.parameters["programmes"])
    period = period_of(job.parameters)
    scope = ind.Scope(tuple(p.pk for p in programmes), period)
    tables = network_tables(programmes, scope)
    step(60)
    book, rows = anct.workbook(programmes, scope, tables)
    return Rendered(
        content=_workbook_content(book),
        filename=exports.safe_filename(f"enquete-anct-reseau-{period.label}.xlsx", ".xlsx"),
        rows=rows,
        payload={"period": period.label, "suppressed": True, "programmes": len(programmes)},
    )


def structuring_rows(rows: list[dict]) -> list[list]:
    return [
        [
            row["programme"].name,
            row["lead_body"],
            row["communes"],
            row["qpv"],
            row["rep_schools"],
            row["veille"],
            row["bodies"],
            row["eps"],
            row["staff"],
            row["partners"],
            row["budget"],
            row["children_text"] if row["children_hidden"] else row["children"],
        ]
        for row in rows
    ]


def _structuring(job: ExportJob, step: Callable[[int], None]) -> Rendered:
    programmes = network_programmes(job.parameters["programmes"])
    period = period_of(job.parameters)
    rows = queries.structuring_table(programmes, period)
    step(60)
    header = [str(label) for _key, label in queries.STRUCTURING_COLUMNS]
    content, _count = exports.xlsx_bytes(header, structuring_rows(rows), sheet_title="Structuration")
    return Rendered(
        content=content,
        filename=exports.safe_filename(f"tableau-de-structuration-{period.label}.xlsx", ".xlsx"),
        rows=len(rows),
        payload={"programmes": len(rows)},
    )


RENDERERS: dict[str, Callable[[ExportJob, Callable[[int], None]], Rendered]] = {
    ExportKind.COPIL_PDF: _copil,
    ExportKind.ANCT_XLSX: _anct,
    ExportKind.NETWORK_ANCT_XLSX: _network_anct,
    ExportKind.STRUCTURING_XLSX: _structuring,
}


def render(job: ExportJob, step: Callable[[int], None]) -> Rendered:
    """The job's file; ``step(percent)`` is called as the work advances."""
    return RENDERERS[job.kind](job, step)


def content_type(filename: str) -> str:
    return PDF_CONTENT_TYPE if filename.endswith(".pdf") else exports.XLSX_CONTENT_TYPE
