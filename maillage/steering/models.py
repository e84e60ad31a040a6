import datetime
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from maillage.core.models import BaseModel
from maillage.core.uploads import RandomName
from maillage.steering.enums import (
    ActorPosition,
    ExportKind,
    ExportState,
    FundingSource,
    Likert,
    RoundState,
)


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


class Target(BaseModel):
    """A yearly objective of the programme on one indicator (e.g. 160 children, delay ≤ 20 days).

    ``year`` is the year the school year starts in (2025 for 2025-2026) or the calendar year,
    as the indicator's period says; ``indicator`` is a code of ``maillage.steering.indicators.TARGETABLE``.
    """

    programme = models.ForeignKey("programmes.Programme", on_delete=models.CASCADE, related_name="targets")
    year = models.PositiveSmallIntegerField(_("année"))
    indicator = models.CharField(_("indicateur"), max_length=40)
    value = models.DecimalField(_("valeur cible"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("objectif annuel")
        verbose_name_plural = _("objectifs annuels")
        ordering = ["programme", "-year", "indicator"]
        indexes = [models.Index(fields=["programme", "year"], name="target_programme_year")]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "year", "indicator"], name="target_unique_indicator"
            ),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="target_value_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.year}: {self.value}"


class CopilNote(BaseModel):
    """The highlights the coordinator writes for a comité de pilotage pack (one text per year)."""

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="copil_notes"
    )
    year = models.PositiveSmallIntegerField(_("année"))
    highlights = models.TextField(_("faits marquants"), blank=True)
    updated_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("faits marquants du comité de pilotage")
        constraints = [models.UniqueConstraint(fields=["programme", "year"], name="copil_note_unique_year")]

    def __str__(self) -> str:
        return f"{self.programme} {self.year}"


class BarometerRound(BaseModel):
    """A round of the partnership barometer: the questionnaire sent to partner members."""

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="barometer_rounds"
    )
    title = models.CharField(_("intitulé"), max_length=200)
    opened_on = models.DateField(_("ouvert le"))
    closes_on = models.DateField(_("clôture le"), null=True, blank=True)
    state = models.CharField(_("état"), max_length=10, choices=RoundState.choices, default=RoundState.OPEN)
    open_question = models.CharField(
        _("question ouverte"),
        max_length=300,
        default=_("Qu'est-ce qui améliorerait le plus le travail en commun ?"),
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("baromètre du partenariat")
        ordering = ["programme", "-opened_on", "-pk"]
        indexes = [models.Index(fields=["programme", "state"], name="barometer_round_programme")]

    def __str__(self) -> str:
        return self.title


class BarometerItem(BaseModel):
    """A Likert statement of a round (seeded from ``BAROMETER_ITEMS``; the code compares rounds)."""

    round = models.ForeignKey(BarometerRound, on_delete=models.CASCADE, related_name="items")
    code = models.SlugField(_("code"), max_length=40)
    statement = models.CharField(_("affirmation"), max_length=300)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["round", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["round", "code"], name="barometer_item_unique_code")]

    def __str__(self) -> str:
        return self.statement


class BarometerParticipation(models.Model):
    """Marker that a user has answered a round — kept apart from the answers, which name no one.

    No timestamps: the marker and the answer must not be matchable by their creation time.
    """

    round = models.ForeignKey(BarometerRound, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "user"], name="barometer_participation_once")]

    def __str__(self) -> str:
        return f"{self.round_id}"


class BarometerResponse(models.Model):
    """An anonymous answer: the respondent's position only, a random identifier, no timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(BarometerRound, on_delete=models.CASCADE, related_name="responses")
    position = models.CharField(_("position"), max_length=20, choices=ActorPosition.choices)
    open_answer = models.TextField(_("réponse libre"), blank=True)

    class Meta:
        indexes = [models.Index(fields=["round", "position"], name="barometer_response_position")]

    def __str__(self) -> str:
        return self.get_position_display()


class BarometerScore(models.Model):
    response = models.ForeignKey(BarometerResponse, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(BarometerItem, on_delete=models.CASCADE, related_name="scores")
    value = models.PositiveSmallIntegerField(choices=Likert.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="barometer_score_once"),
            models.CheckConstraint(
                condition=models.Q(value__gte=1, value__lte=4), name="barometer_score_likert_range"
            ),
        ]

    def __str__(self) -> str:
        return str(self.value)


class ExportJob(BaseModel):
    """A document prepared by the task worker (*document préparé*): the comité pack, an ANCT
    workbook, the network's exports. Rendered outside the request (seconds at national scale).

    ``parameters`` hold what the document depends on besides its programme or level (the period,
    the filters, whether counts are suppressed, the network's programmes); ``fingerprint`` digests
    the kind, the programme or level and the parameters, so that a second request for the same
    document while one is being prepared reuses it (one job queued or running per fingerprint).
    The file is stored under a random name (``RandomName``) and served only through a view that
    checks the same permission as the page that offered it; it is deleted after
    ``MAILLAGE_EXPORT_RETENTION_DAYS``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("document"), max_length=20, choices=ExportKind.choices)
    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    network_level = models.ForeignKey(
        "programmes.NetworkLevel", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    parameters = models.JSONField(_("paramètres"), default=dict)
    fingerprint = models.CharField(max_length=64)
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(
        _("état"), max_length=10, choices=ExportState.choices, default=ExportState.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    file = models.FileField(_("fichier"), upload_to=RandomName("exports"), blank=True)
    filename = models.CharField(_("nom du fichier"), max_length=150, blank=True)
    size = models.PositiveIntegerField(_("taille (octets)"), default=0)
    rows = models.PositiveIntegerField(_("lignes"), default=0)
    # What the download journals besides the rows and the file name (period, suppression…).
    summary = models.JSONField(default=dict, blank=True)
    error = models.CharField(_("erreur"), max_length=300, blank=True)
    started_at = models.DateTimeField(_("commencé le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("document préparé")
        verbose_name_plural = _("documents préparés")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["fingerprint", "-created_at"], name="export_job_fingerprint"),
            models.Index(fields=["programme", "kind"], name="export_job_programme"),
            models.Index(fields=["network_level", "kind"], name="export_job_network_level"),
            models.Index(fields=["finished_at"], name="export_job_finished"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(programme__isnull=False, network_level__isnull=True)
                | models.Q(programme__isnull=True, network_level__isnull=False),
                name="export_job_one_scope",
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="export_job_progress_range"),
            # A second request for the same document while one is prepared reuses it.
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=models.Q(state__in=["queued", "running"]),
                name="export_job_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"

    @property
    def pending(self) -> bool:
        return self.state in {ExportState.QUEUED, ExportState.RUNNING}

    @property
    def ready(self) -> bool:
        return self.state == ExportState.DONE and bool(self.file)

    @property
    def stale(self) -> bool:
        """Pending for longer than a worker ever takes: shown as failed (the worker was stopped)."""
        from django.conf import settings
        from django.utils import timezone

        minutes = int(getattr(settings, "MAILLAGE_EXPORT_STALE_MINUTES", 30))
        return self.pending and self.created_at < timezone.now() - datetime.timedelta(minutes=minutes)
