"""The comité de pilotage pack: one PDF (cover, key figures, charts with their tables, objectives
against targets, budget, meetings held, the coordinator's highlights). Aggregates only; the counts
are those of the dashboard the requester sees (suppressed unless they are the coordinator)."""

from django.utils import timezone

from maillage.governance.enums import BodyKind
from maillage.governance.models import Meeting
from maillage.pathways.documents import lead_body, render_pdf
from maillage.steering import queries


def copil_pdf(*, programme, context: dict, highlights: str) -> bytes:
    period = context["period"]
    start, end = period.datetimes()
    meetings = Meeting.objects.filter(
        body__programme=programme, starts_at__gte=start, starts_at__lt=end, starts_at__lte=timezone.now()
    ).exclude(body__kind=BodyKind.EPS)
    if hasattr(Meeting, "cancelled"):
        meetings = meetings.filter(cancelled=False)
    budget = queries.budget_summary([programme.pk], period.budget_year, suppressed=context["suppressed"])
    paragraphs = [p.strip() for p in highlights.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return render_pdf(
        "steering/copil_pdf.html",
        {
            **context,
            "lead_body": lead_body(programme),
            "today": timezone.localdate(),
            "meetings": meetings.select_related("body").order_by("starts_at"),
            "budget": budget,
            "highlights": paragraphs,
        },
    )
