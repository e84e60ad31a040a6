"""The catalogue of actions, collective groups with their sessions and attendance, family contracts
with their breach rules, and the individual support fund.

Who may read what is decided in ``maillage.permissions``; a provider only ever sees the rosters of
their own groups, with first name, initial and age.
"""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.core.models import BaseModel
from maillage.offers.enums import (
    AgeBand,
    AlertState,
    AttendanceStatus,
    BeneficiarySex,
    BreachKind,
    EnrolmentStatus,
    FundPurpose,
    FundRequestState,
    TaskOutcome,
    TaskState,
)
from maillage.pathways.enums import ActionKind


class OfferQuerySet(models.QuerySet):
    def active(self, on: datetime.date | None = None):
        on = on or timezone.localdate()
        return self.filter(
            Q(starts_on__isnull=True) | Q(starts_on__lte=on),
            Q(ends_on__isnull=True) | Q(ends_on__gte=on),
            is_active=True,
        )


class Offer(BaseModel):
    """An action of the programme's catalogue, individual or collective."""

    programme = models.ForeignKey("programmes.Programme", on_delete=models.PROTECT, related_name="offers")
    title = models.CharField(_("intitulé"), max_length=200)
    description_for_families = models.TextField(_("présentation pour les familles"), blank=True)
    kind = models.CharField(
        _("type"), max_length=20, choices=ActionKind.choices, default=ActionKind.COLLECTIVE
    )
    dimensions = models.JSONField(_("dimensions"), default=list, blank=True)
    provider = models.ForeignKey(
        "programmes.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers",
        verbose_name=_("intervenant"),
    )
    capacity = models.PositiveIntegerField(
        _("places"), null=True, blank=True, help_text=_("Laisser vide : pas de limite.")
    )
    schedule = models.CharField(_("horaires"), max_length=200, blank=True)
    unit_cost = models.DecimalField(
        _("coût unitaire (€)"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    funding_line = models.ForeignKey(
        "steering.FundingLine",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="offers",
        verbose_name=_("ligne de financement"),
    )
    starts_on = models.DateField(_("début"), null=True, blank=True)
    ends_on = models.DateField(_("fin"), null=True, blank=True)
    is_active = models.BooleanField(_("proposée"), default=True)

    objects = OfferQuerySet.as_manager()

    class Meta:
        verbose_name = _("action du catalogue")
        verbose_name_plural = _("catalogue des actions")
        ordering = ["title", "pk"]
        indexes = [
            models.Index(fields=["programme", "is_active", "kind"], name="offer_programme_active_kind"),
            models.Index(fields=["provider"], name="offer_provider"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="offer_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__isnull=True) | Q(unit_cost__gte=0), name="offer_unit_cost_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_collective(self) -> bool:
        return self.kind == ActionKind.COLLECTIVE


class Group(BaseModel):
    """One run of a collective action over a period (a term, a school year)."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(_("nom du groupe"), max_length=150)
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"))
    capacity = models.PositiveIntegerField(
        _("places"), null=True, blank=True, help_text=_("Laisser vide : celles de l'action.")
    )
    place = models.CharField(_("lieu"), max_length=200, blank=True)
    facilitators = models.ManyToManyField(
        "programmes.Membership",
        blank=True,
        related_name="offer_groups",
        verbose_name=_("animateur·rices"),
    )

    class Meta:
        verbose_name = _("groupe")
        ordering = ["starts_on", "name", "pk"]
        indexes = [models.Index(fields=["offer", "starts_on"], name="group_offer_start")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="group_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.offer} — {self.name}"

    @property
    def effective_capacity(self) -> int | None:
        return self.capacity if self.capacity is not None else self.offer.capacity


class Session(BaseModel):
    """A dated meeting of a group."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"))
    cancelled = models.BooleanField(_("annulée"), default=False)

    class Meta:
        verbose_name = _("séance")
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["group", "starts_at"], name="session_group_start")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.group} — {timezone.localtime(self.starts_at):%d/%m/%Y %H:%M}"


class Beneficiary(BaseModel):
    """A participant in a collective action only: minimal data, no pathway, no file, no child page."""

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.PROTECT, related_name="collective_beneficiaries"
    )
    first_name = models.CharField(_("prénom"), max_length=150)
    initial = models.CharField(_("initiale du nom"), max_length=2)
    age_band = models.CharField(_("tranche d'âge"), max_length=8, choices=AgeBand.choices)
    sex = models.CharField(_("sexe"), max_length=1, choices=BeneficiarySex.choices)
    in_qpv = models.BooleanField(_("réside en quartier prioritaire"), default=False)
    is_parent = models.BooleanField(_("parent"), default=False)
    child = models.ForeignKey(
        "people.Child",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="collective_records",
        verbose_name=_("enfant entré·e ensuite en parcours"),
    )

    class Meta:
        verbose_name = _("bénéficiaire d'action collective")
        verbose_name_plural = _("bénéficiaires d'actions collectives")
        ordering = ["first_name", "initial", "pk"]
        indexes = [models.Index(fields=["programme", "is_parent"], name="beneficiary_programme_parent")]
        constraints = [
            models.CheckConstraint(condition=~Q(first_name=""), name="beneficiary_has_first_name"),
            models.CheckConstraint(
                condition=Q(is_parent=False) | Q(age_band="adult"), name="beneficiary_parent_is_adult"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.initial}."


class EnrolmentQuerySet(models.QuerySet):
    def enrolled(self):
        return self.filter(status=EnrolmentStatus.ENROLLED)

    def waiting(self):
        return self.filter(status=EnrolmentStatus.WAITING)


class Enrolment(BaseModel):
    """One person in a group: a child in a pathway, a collective-only beneficiary or a parent."""

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="enrolments")
    child = models.ForeignKey(
        "people.Child", on_delete=models.PROTECT, null=True, blank=True, related_name="enrolments"
    )
    plan_action = models.ForeignKey(
        "pathways.PlanAction", on_delete=models.SET_NULL, null=True, blank=True, related_name="enrolments"
    )
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.PROTECT, null=True, blank=True, related_name="enrolments"
    )
    guardian = models.ForeignKey(
        "people.Guardian", on_delete=models.PROTECT, null=True, blank=True, related_name="enrolments"
    )
    status = models.CharField(
        _("statut"), max_length=10, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ENROLLED
    )
    enrolled_on = models.DateField(_("inscrit·e le"), default=timezone.localdate)
    position = models.PositiveIntegerField(_("rang sur la liste d'attente"), null=True, blank=True)
    left_on = models.DateField(_("sorti·e le"), null=True, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("inscription")
        ordering = ["group", "status", "position", "pk"]
        indexes = [
            models.Index(fields=["group", "status", "position"], name="enrolment_group_status"),
            models.Index(fields=["child", "status"], name="enrolment_child_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(child__isnull=False, beneficiary__isnull=True, guardian__isnull=True)
                    | Q(child__isnull=True, beneficiary__isnull=False, guardian__isnull=True)
                    | Q(child__isnull=True, beneficiary__isnull=True, guardian__isnull=False)
                ),
                name="enrolment_exactly_one_person",
            ),
            models.CheckConstraint(
                condition=Q(plan_action__isnull=True) | Q(child__isnull=False),
                name="enrolment_plan_action_only_for_child",
            ),
            models.CheckConstraint(
                condition=~Q(status="waiting") | Q(position__isnull=False),
                name="enrolment_waiting_has_position",
            ),
            models.UniqueConstraint(
                fields=["group", "child"],
                condition=Q(child__isnull=False) & ~Q(status="left"),
                name="enrolment_child_once_per_group",
            ),
            models.UniqueConstraint(
                fields=["group", "beneficiary"],
                condition=Q(beneficiary__isnull=False) & ~Q(status="left"),
                name="enrolment_beneficiary_once_per_group",
            ),
            models.UniqueConstraint(
                fields=["group", "guardian"],
                condition=Q(guardian__isnull=False) & ~Q(status="left"),
                name="enrolment_guardian_once_per_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.roster_name} → {self.group}"

    @property
    def roster_name(self) -> str:
        """First name and initial only: what the provider sees."""
        if self.child_id:
            return f"{self.child.first_name} {self.child.last_name[:1]}."
        if self.beneficiary_id:
            return str(self.beneficiary)
        return f"{self.guardian.first_name} {self.guardian.last_name[:1]}."

    @property
    def roster_age(self) -> str:
        """The age shown on a roster: years for a child, the band for a beneficiary."""
        if self.child_id:
            today = timezone.localdate()
            born = self.child.birth_date
            years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
            return _("%(years)s ans") % {"years": years}
        if self.beneficiary_id:
            return self.beneficiary.get_age_band_display()
        return str(_("Parent"))


class Attendance(BaseModel):
    """Whether one enrolled person came to one session."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="attendances")
    status = models.CharField(_("présence"), max_length=10, choices=AttendanceStatus.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("présence")
        ordering = ["session", "pk"]
        indexes = [models.Index(fields=["enrolment", "status"], name="attendance_enrolment_status")]
        constraints = [
            models.UniqueConstraint(fields=["session", "enrolment"], name="attendance_once_per_session")
        ]

    def __str__(self) -> str:
        return f"{self.enrolment_id}@{self.session_id}: {self.status}"


class FamilyContract(BaseModel):
    """The *contrat d'engagement* signed with a family: what the child, the family and the team commit to."""

    pathway = models.ForeignKey("pathways.Pathway", on_delete=models.PROTECT, related_name="contracts")
    child_commitments = models.TextField(_("engagements de l'enfant"))
    family_commitments = models.TextField(_("engagements de la famille"))
    team_commitments = models.TextField(_("engagements de l'équipe"))
    starts_on = models.DateField(_("début"), default=timezone.localdate)
    signed_on = models.DateField(_("signé le"), null=True, blank=True)
    review_on = models.DateField(_("à revoir le"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("contrat d'engagement")
        verbose_name_plural = _("contrats d'engagement")
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["pathway", "starts_on"], name="contract_pathway_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(review_on__isnull=True) | Q(review_on__gte=F("starts_on")),
                name="contract_review_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"Contrat du {self.starts_on:%d/%m/%Y}"


class BreachRule(BaseModel):
    """When a family is considered not to keep its contract (configurable per programme).

    ``unexcused_absences``: ``threshold`` unexcused absences within ``window_days`` days;
    ``missed_appointments``: ``threshold`` pathway appointments (contacts marked missed) in a row.
    """

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="breach_rules"
    )
    kind = models.CharField(_("type"), max_length=30, choices=BreachKind.choices)
    threshold = models.PositiveSmallIntegerField(_("seuil"))
    window_days = models.PositiveSmallIntegerField(_("sur (jours)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("règle de manquement")
        verbose_name_plural = _("règles de manquement")
        ordering = ["programme", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "kind"], name="breach_rule_once_per_kind"),
            models.CheckConstraint(condition=Q(threshold__gte=1), name="breach_rule_threshold_positive"),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class BreachAlertQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(state__in=[AlertState.OPEN, AlertState.ESCALATED])


class BreachAlert(BaseModel):
    """A breach of the contract detected by a rule, raised to the pathway's référent.

    ``window_starts_on``/``window_ends_on`` are the dates of the first and last facts counted; a
    later fact falling inside an already-alerted window raises nothing new.
    """

    rule = models.ForeignKey(BreachRule, on_delete=models.PROTECT, related_name="alerts")
    pathway = models.ForeignKey("pathways.Pathway", on_delete=models.PROTECT, related_name="breach_alerts")
    state = models.CharField(_("état"), max_length=10, choices=AlertState.choices, default=AlertState.OPEN)
    window_starts_on = models.DateField(_("du"))
    window_ends_on = models.DateField(_("au"))
    count = models.PositiveSmallIntegerField(_("nombre constaté"))
    raised_at = models.DateTimeField(default=timezone.now)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("précisions"), blank=True)

    objects = BreachAlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alerte de manquement")
        ordering = ["-raised_at", "-pk"]
        indexes = [
            models.Index(fields=["pathway", "rule", "window_ends_on"], name="breach_alert_pathway_rule"),
            models.Index(fields=["state"], name="breach_alert_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_ends_on__gte=F("window_starts_on")), name="breach_alert_window_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} — {self.pathway}"


class InterventionTaskQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(state__in=[TaskState.OPEN, TaskState.IN_PROGRESS])


class InterventionTask(BaseModel):
    """*Intervention au titre du dispositif*: a social worker of the case team steps in (escalation)."""

    alert = models.OneToOneField(BreachAlert, on_delete=models.PROTECT, related_name="task")
    pathway = models.ForeignKey(
        "pathways.Pathway", on_delete=models.PROTECT, related_name="intervention_tasks"
    )
    assignee = models.ForeignKey(
        "programmes.Membership",
        on_delete=models.PROTECT,
        related_name="intervention_tasks",
        verbose_name=_("travailleur·se social·e"),
    )
    state = models.CharField(_("état"), max_length=12, choices=TaskState.choices, default=TaskState.OPEN)
    instructions = models.TextField(_("demande"), blank=True)
    outcome = models.CharField(_("résultat"), max_length=20, choices=TaskOutcome.choices, blank=True)
    outcome_note = models.TextField(_("précisions sur le résultat"), blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = InterventionTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("intervention au titre du dispositif")
        verbose_name_plural = _("interventions au titre du dispositif")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["assignee", "state"], name="intervention_task_assignee")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="done") | ~Q(outcome=""), name="intervention_task_done_has_outcome"
            )
        ]

    def __str__(self) -> str:
        return f"Intervention — {self.pathway}"


def invoice_path(instance, filename: str) -> str:
    # Random stored names: the original file name may carry a family's name.
    return f"fund_invoices/{instance.programme_id}/{uuid.uuid4().hex}"


class FundRequest(BaseModel):
    """A payment from the individual support fund for a child (licence, care, trip, equipment)."""

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.PROTECT, related_name="fund_requests"
    )
    pathway = models.ForeignKey("pathways.Pathway", on_delete=models.PROTECT, related_name="fund_requests")
    purpose = models.CharField(_("objet"), max_length=20, choices=FundPurpose.choices)
    details = models.CharField(_("précisions"), max_length=255, blank=True)
    amount = models.DecimalField(_("montant (€)"), max_digits=9, decimal_places=2)
    payee = models.CharField(_("bénéficiaire du paiement"), max_length=200)
    invoice = models.FileField(_("facture ou devis (PDF, JPEG ou PNG)"), upload_to=invoice_path, blank=True)
    invoice_content_type = models.CharField(max_length=50, blank=True)
    funding_line = models.ForeignKey(
        "steering.FundingLine",
        on_delete=models.PROTECT,
        related_name="fund_requests",
        verbose_name=_("ligne de financement"),
    )
    state = models.CharField(
        _("état"), max_length=10, choices=FundRequestState.choices, default=FundRequestState.REQUESTED
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("motif de la décision"), blank=True)

    class Meta:
        verbose_name = _("demande au fonds d'aide")
        verbose_name_plural = _("demandes au fonds d'aide")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["programme", "state"], name="fund_request_programme_state"),
            models.Index(fields=["pathway"], name="fund_request_pathway"),
            models.Index(fields=["funding_line", "state"], name="fund_request_line_state"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="fund_request_amount_positive"),
            models.CheckConstraint(
                condition=~Q(state="refused") | ~Q(reason=""), name="fund_request_refusal_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(state="requested") | Q(decided_at__isnull=False),
                name="fund_request_decision_dated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} — {self.amount} €"
