from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.core.fields import EncryptedTextField
from maillage.core.models import BaseModel
from maillage.pathways.enums import (
    ActionKind,
    Circle,
    ContactKind,
    Dimension,
    ObjectiveStatus,
    PathwayState,
    Rating,
    ReviewKind,
)


class Pathway(BaseModel):
    """A child's individual pathway (*parcours individualisé*), from first contact to exit.

    ``case_code`` (``<PREFIX>-<YEAR>-<NNNN>``) is the pseudonym used wherever the identity may not be
    shown. Reopening creates a new pathway whose ``previous`` is the closed one.
    """

    programme = models.ForeignKey("programmes.Programme", on_delete=models.PROTECT, related_name="pathways")
    child = models.ForeignKey("people.Child", on_delete=models.PROTECT, related_name="pathways")
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, null=True, blank=True, related_name="pathways"
    )
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_pathway"
    )
    case_code = models.CharField(_("code de situation"), max_length=40, unique=True)
    state = models.CharField(
        _("étape"), max_length=20, choices=PathwayState.choices, default=PathwayState.ENGAGEMENT
    )
    state_changed_at = models.DateTimeField(default=timezone.now)
    referent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pathways_as_referent",
        verbose_name=_("référent·e de parcours"),
    )
    opened_on = models.DateField(_("ouvert le"), default=timezone.localdate)
    closed_on = models.DateField(_("clôturé le"), null=True, blank=True)
    exit_reason = models.ForeignKey(
        "programmes.ListItem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("motif de sortie"),
    )
    exit_note = models.TextField(_("précisions sur la sortie"), blank=True)
    relay_partner = models.CharField(_("relais"), max_length=255, blank=True)
    next_review_on = models.DateField(_("prochain bilan"), null=True, blank=True)
    last_contact_on = models.DateField(_("dernier contact"), null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("parcours")
        verbose_name_plural = _("parcours")
        ordering = ["-opened_on", "-pk"]
        indexes = [
            models.Index(fields=["programme", "state", "next_review_on"], name="pathway_programme_state"),
            models.Index(fields=["referent", "state"], name="pathway_referent_state"),
            models.Index(fields=["child", "state"], name="pathway_child_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="closed") | (Q(exit_reason__isnull=False) & Q(closed_on__isnull=False)),
                name="pathway_closed_has_exit_reason_and_date",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="pathway_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return self.case_code

    @property
    def is_open(self) -> bool:
        return self.state != PathwayState.CLOSED


class PathwayTransition(BaseModel):
    """One change of a pathway's step: who, when, why."""

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=20, choices=PathwayState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=PathwayState.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class ReferentAssignment(BaseModel):
    """History of the accountable référent of a pathway (one at a time)."""

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="referent_assignments")
    referent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["pathway"], condition=Q(ends_at__isnull=True), name="referent_assignment_one_current"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pathway} — {self.referent}"


class CaseTeamMemberQuerySet(models.QuerySet):
    def current(self, on=None):
        on = on or timezone.localdate()
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on), starts_on__lte=on)


class CaseTeamMember(BaseModel):
    """A professional explicitly added to a pathway's case team, with dates and a reason."""

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="team_members")
    membership = models.ForeignKey(
        "programmes.Membership", on_delete=models.PROTECT, related_name="case_teams"
    )
    starts_on = models.DateField(_("à partir du"), default=timezone.localdate)
    ends_on = models.DateField(_("jusqu'au"), null=True, blank=True)
    reason = models.CharField(_("raison"), max_length=255)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = CaseTeamMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("membre de l'équipe du parcours")
        indexes = [models.Index(fields=["membership", "pathway"], name="case_team_membership")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="case_team_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership} → {self.pathway}"


def consent_proof_path(instance, filename: str) -> str:
    # Random stored names: the original file name may carry a child's name.
    import uuid

    return f"consents/{instance.pathway.programme_id}/{uuid.uuid4().hex}"


class ConsentQuerySet(models.QuerySet):
    def valid(self):
        """Consents in force: agreement to the *prise en charge*, not withdrawn."""
        return self.filter(care=True, withdrawn_on__isnull=True)


class Consent(BaseModel):
    """The written agreement (*accord écrit*) of one holder of parental authority, with its scope."""

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="consents")
    guardian = models.ForeignKey("people.Guardian", on_delete=models.PROTECT, related_name="consents")
    given_on = models.DateField(_("date de l'accord"))
    care = models.BooleanField(_("accord pour l'accompagnement par le programme"), default=True)
    shared_with = models.ManyToManyField(
        "programmes.Organisation",
        blank=True,
        related_name="consents",
        verbose_name=_("partage d'informations avec"),
    )
    image_use = models.BooleanField(_("droit à l'image"), default=False)
    evaluation_use = models.BooleanField(_("usage pour l'évaluation du programme"), default=False)
    proof = models.FileField(_("accord signé (PDF, JPEG ou PNG)"), upload_to=consent_proof_path, blank=True)
    proof_content_type = models.CharField(max_length=50, blank=True)
    notice_delivered_on = models.DateField(_("notice d'information remise le"), null=True, blank=True)
    child_informed_on = models.DateField(_("enfant informé le"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawn_on = models.DateField(_("retiré le"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_note = models.TextField(_("précisions sur le retrait"), blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("accord de la famille")
        verbose_name_plural = _("accords de la famille")
        ordering = ["given_on", "pk"]
        indexes = [models.Index(fields=["pathway", "withdrawn_on"], name="consent_pathway_valid")]
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=F("given_on")),
                name="consent_withdrawn_after_given",
            )
        ]

    def __str__(self) -> str:
        return f"Accord du {self.given_on:%d/%m/%Y}"

    @property
    def is_valid(self) -> bool:
        return self.care and self.withdrawn_on is None


class WrittenItem(BaseModel):
    """What a professional writes about a child: it has a circle and may be withheld from access exports."""

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    circle = models.CharField(_("qui peut lire"), max_length=10, choices=Circle.choices, default=Circle.TEAM)
    withheld = models.BooleanField(_("réservé (informations sur des tiers)"), default=False)
    withheld_reason = models.CharField(_("raison de la réserve"), max_length=255, blank=True)

    class Meta:
        abstract = True


class DiagnosticSection(WrittenItem):
    """One dimension of the diagnosis: difficulties and resources, facts apart from assessment."""

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="diagnostic_sections")
    dimension = models.CharField(_("dimension"), max_length=20, choices=Dimension.choices)
    difficulties = EncryptedTextField(_("difficultés"), blank=True)
    resources = EncryptedTextField(_("ressources et leviers"), blank=True)
    facts = EncryptedTextField(_("faits observés"), blank=True)
    assessment = EncryptedTextField(_("appréciation professionnelle"), blank=True)
    written_on = models.DateField(_("date"), default=timezone.localdate)

    class Meta:
        verbose_name = _("section du diagnostic")
        ordering = ["dimension", "written_on"]
        indexes = [models.Index(fields=["pathway", "circle"], name="diagnostic_pathway_circle")]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(circle="partners") & Q(dimension__in=["physical_health", "psychological"])),
                name="diagnostic_health_never_partners",
            )
        ]

    def __str__(self) -> str:
        return self.get_dimension_display()


def _refuse_redacted(row) -> None:
    """A plan row whose text was replaced for a reader outside its circle is never written back."""
    if getattr(row, "text_hidden", False):
        raise ValueError("a redacted plan row cannot be saved")


class Objective(BaseModel):
    """An objective of the plan, tied to a dimension of the diagnosis."""

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="objectives")
    dimension = models.CharField(_("dimension"), max_length=20, choices=Dimension.choices)
    wording = models.CharField(_("objectif"), max_length=300)
    target_date = models.DateField(_("échéance"), null=True, blank=True)
    status = models.CharField(
        _("état"), max_length=20, choices=ObjectiveStatus.choices, default=ObjectiveStatus.OPEN
    )
    # The wording is a written item: it carries a circle (most restrictive by default); readers
    # outside it see that the objective exists (state, dates), not its text.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    circle = models.CharField(_("qui peut lire"), max_length=10, choices=Circle.choices, default=Circle.TEAM)

    class Meta:
        verbose_name = _("objectif")
        ordering = ["pk"]
        # A pathway's plan texts are read by ``pathway_id = … AND (circle IN (…) OR author = …)``.
        indexes = [models.Index(fields=["pathway", "circle"], name="objective_pathway_circle")]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(circle="partners") & Q(dimension__in=["physical_health", "psychological"])),
                name="objective_health_never_partners",
            )
        ]

    @property
    def health_related(self) -> bool:
        return self.dimension in {"physical_health", "psychological"}

    def save(self, *args, **kwargs):
        _refuse_redacted(self)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.wording


class PlanAction(BaseModel):
    """An action of the plan, individual or collective, from the catalogue or written freely."""

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="plan_actions")
    objective = models.ForeignKey(
        Objective,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("objectif"),
    )
    kind = models.CharField(
        _("type"), max_length=20, choices=ActionKind.choices, default=ActionKind.INDIVIDUAL
    )
    title = models.CharField(_("action"), max_length=200)
    provider = models.ForeignKey(
        "programmes.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_actions",
        verbose_name=_("intervenant"),
    )
    starts_on = models.DateField(_("début"), null=True, blank=True)
    ends_on = models.DateField(_("fin"), null=True, blank=True)
    frequency = models.CharField(_("fréquence"), max_length=100, blank=True)
    cost = models.DecimalField(_("coût (€)"), max_digits=9, decimal_places=2, null=True, blank=True)
    funding_line = models.CharField(_("ligne de financement"), max_length=150, blank=True)
    offer = models.ForeignKey(
        "offers.Offer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_actions",
        verbose_name=_("action du catalogue"),
    )
    # Like an objective's wording, the action's text carries a circle (see ``Objective``).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    circle = models.CharField(_("qui peut lire"), max_length=10, choices=Circle.choices, default=Circle.TEAM)
    health_related = models.BooleanField(_("concerne la santé"), default=False)

    class Meta:
        verbose_name = _("action du plan")
        ordering = ["starts_on", "pk"]
        indexes = [models.Index(fields=["pathway", "circle"], name="plan_action_pathway_circle")]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(circle="partners") & Q(health_related=True)),
                name="plan_action_health_never_partners",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="plan_action_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | Q(cost__gte=0), name="plan_action_cost_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        _refuse_redacted(self)
        super().save(*args, **kwargs)


class Contact(WrittenItem):
    """An entry of the contact log (visit, phone call, meeting…)."""

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="contacts")
    kind = models.CharField(_("type"), max_length=20, choices=ContactKind.choices)
    occurred_on = models.DateField(_("date"))
    duration_minutes = models.PositiveSmallIntegerField(_("durée (minutes)"), null=True, blank=True)
    participants = models.CharField(_("participants"), max_length=255, blank=True)
    summary = EncryptedTextField(_("compte rendu"), blank=True)
    # A planned appointment the family did not come to (counts for the breach rules).
    missed = models.BooleanField(_("rendez-vous manqué"), default=False)

    class Meta:
        verbose_name = _("contact")
        ordering = ["-occurred_on", "-pk"]
        indexes = [
            models.Index(fields=["pathway", "occurred_on"], name="contact_pathway_date"),
            models.Index(fields=["pathway", "circle"], name="contact_pathway_circle"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.occurred_on:%d/%m/%Y})"


class Note(WrittenItem):
    """A free note on the pathway."""

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="notes")
    body = EncryptedTextField(_("note"))
    health_related = models.BooleanField(_("concerne la santé"), default=False)

    class Meta:
        verbose_name = _("note")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["pathway", "circle"], name="note_pathway_circle")]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(circle="partners") & Q(health_related=True)), name="note_health_never_partners"
            )
        ]

    def __str__(self) -> str:
        return f"Note du {self.created_at:%d/%m/%Y}"


class Review(WrittenItem):
    """A bilan, intermediate or final, rating each objective."""

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(_("type"), max_length=20, choices=ReviewKind.choices)
    held_on = models.DateField(_("date"))
    summary = EncryptedTextField(_("synthèse"), blank=True)

    class Meta:
        verbose_name = _("bilan")
        ordering = ["held_on", "pk"]
        indexes = [models.Index(fields=["pathway", "circle"], name="review_pathway_circle")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.held_on:%d/%m/%Y})"


class ReviewRating(BaseModel):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="ratings")
    objective = models.ForeignKey(Objective, on_delete=models.PROTECT, related_name="ratings")
    rating = models.CharField(_("résultat"), max_length=20, choices=Rating.choices)
    comment = models.CharField(_("commentaire"), max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "objective"], name="review_rating_once")]

    def __str__(self) -> str:
        return f"{self.objective}: {self.rating}"


class BreakGlassQuerySet(models.QuerySet):
    def current(self):
        return self.filter(expires_at__gt=timezone.now())


class BreakGlass(BaseModel):
    """A journaled, time-limited opening of a file outside one’s scope, with a mandatory reason."""

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="break_glass_grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    membership = models.ForeignKey("programmes.Membership", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("motif"))
    expires_at = models.DateTimeField()

    objects = BreakGlassQuerySet.as_manager()

    class Meta:
        verbose_name = _("accès exceptionnel")
        indexes = [models.Index(fields=["user", "expires_at"], name="break_glass_user_expiry")]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="break_glass_has_reason")]

    def __str__(self) -> str:
        return f"{self.user} → {self.pathway}"
