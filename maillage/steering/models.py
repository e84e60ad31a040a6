from django.db import models
from django.utils.translation import gettext_lazy as _

from maillage.core.models import BaseModel
from maillage.steering.enums import FundingSource


class FundingLine(BaseModel):
    """A line of the programme's budget for one calendar year: money granted by a source, or an
    in-kind contribution valued in euros (premises, staff made available…)."""

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="funding_lines"
    )
    year = models.PositiveSmallIntegerField(_("année"))
    source = models.CharField(_("financeur"), max_length=20, choices=FundingSource.choices)
    label = models.CharField(_("intitulé"), max_length=200)
    amount = models.DecimalField(_("montant (€)"), max_digits=12, decimal_places=2)
    in_kind = models.BooleanField(_("contribution en nature valorisée"), default=False)

    class Meta:
        verbose_name = _("ligne de financement")
        verbose_name_plural = _("lignes de financement")
        ordering = ["programme", "-year", "source", "label"]
        indexes = [models.Index(fields=["programme", "year"], name="funding_line_programme_year")]
        constraints = [
            models.UniqueConstraint(fields=["programme", "year", "label"], name="funding_line_unique_label"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="funding_line_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.year})"
