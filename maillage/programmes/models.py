import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.core.models import BaseModel
from maillage.core.text import normalise_name
from maillage.programmes.enums import (
    EligibilityRule,
    LeadBodyType,
    ListKind,
    NetworkLevelKind,
    OrganisationKind,
    Role,
)


class NetworkLevel(BaseModel):
    """A level above programmes (intercommunal GIP, département, national) that sees aggregates only."""

    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("niveau"), max_length=20, choices=NetworkLevelKind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )

    class Meta:
        verbose_name = _("niveau réseau")
        verbose_name_plural = _("niveaux réseau")

    def __str__(self) -> str:
        return self.name


class Programme(BaseModel):
    """A *Programme / Dispositif de Réussite Éducative* (PRE / DRE): one local scheme."""

    slug = models.SlugField(_("identifiant"), unique=True)
    name = models.CharField(_("nom"), max_length=200)
    case_code_prefix = models.CharField(
        _("préfixe des codes de situation"),
        max_length=12,
        help_text=_("Par exemple DEMO pour DEMO-2026-0142."),
    )
    label = models.CharField(_("appellation"), max_length=40, default="PRE", help_text=_("PRE, DRE, Dred…"))
    lead_body_type = models.CharField(_("structure porteuse"), max_length=20, choices=LeadBodyType.choices)
    lead_body_name = models.CharField(_("nom de la structure porteuse"), max_length=200, blank=True)
    communes = models.ManyToManyField("territories.Commune", blank=True, related_name="programmes")
    priority_areas = models.ManyToManyField("territories.PriorityArea", blank=True, related_name="programmes")
    schools = models.ManyToManyField("territories.School", blank=True, related_name="programmes")
    network_level = models.ForeignKey(
        NetworkLevel, on_delete=models.PROTECT, null=True, blank=True, related_name="programmes"
    )
    prior_veille_educative = models.BooleanField(_("veille éducative préalable"), default=False)
    prior_veille_year = models.PositiveSmallIntegerField(
        _("année de la veille éducative"), null=True, blank=True
    )
    age_min = models.PositiveSmallIntegerField(_("âge minimum"), default=2)
    age_max = models.PositiveSmallIntegerField(_("âge maximum"), default=16)
    eligibility_rule = models.CharField(
        _("règle d'éligibilité"),
        max_length=20,
        choices=EligibilityRule.choices,
        default=EligibilityRule.QPV_OR_REP,
    )
    eps_access_window_days = models.PositiveSmallIntegerField(_("fenêtre d'accès EPS (jours)"), default=30)
    active_retention_years = models.PositiveSmallIntegerField(
        _("conservation en base active (ans)"), default=2
    )
    archive_retention_years = models.PositiveSmallIntegerField(_("archivage intermédiaire (ans)"), default=3)
    log_retention_months = models.PositiveSmallIntegerField(_("conservation du journal (mois)"), default=12)
    review_cadence_weeks = models.PositiveSmallIntegerField(
        _("rythme des bilans (semaines)"),
        default=12,
        help_text=_("12 semaines : environ un trimestre scolaire."),
    )
    mfa_for_aggregate_roles = models.BooleanField(
        _("double authentification pour les rôles agrégés"), default=False
    )

    class Meta:
        verbose_name = _("programme")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(age_min__lt=F("age_max")), name="programme_age_window_valid"),
            models.CheckConstraint(condition=Q(age_max__lte=18), name="programme_age_max_at_most_18"),
            models.CheckConstraint(
                condition=Q(log_retention_months__gte=6, log_retention_months__lte=36),
                name="programme_log_retention_6_to_36_months",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Organisation(BaseModel):
    """A partner of the programme (*partenaire*): school, social service, association…"""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="organisations")
    name = models.CharField(_("nom"), max_length=200)
    name_normalised = models.CharField(max_length=200, editable=False, default="")
    kind = models.CharField(_("type"), max_length=20, choices=OrganisationKind.choices)
    school = models.ForeignKey(
        "territories.School", on_delete=models.SET_NULL, null=True, blank=True, related_name="organisations"
    )
    services = models.TextField(_("services proposés"), blank=True)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    email = models.EmailField(_("adresse électronique"), blank=True)
    website = models.URLField(_("site internet"), blank=True)
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("organisation partenaire")
        verbose_name_plural = _("organisations partenaires")
        ordering = ["name"]
        indexes = [models.Index(fields=["programme", "name_normalised"], name="organisation_programme_name")]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "name"], name="organisation_unique_name_per_programme"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # An accent- and hyphen-free copy of the name for the partner directory's search.
        self.name_normalised = normalise_name(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_normalised"}
        super().save(*args, **kwargs)


class MembershipQuerySet(models.QuerySet):
    def active(self, on: datetime.date | None = None):
        """Memberships in force on a date (today by default) of an active account."""
        on = on or timezone.localdate()
        return self.filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=on), starts_on__lte=on, user__is_active=True
        )


class Membership(BaseModel):
    """A person's role in one programme, for one organisation, between two dates.

    ``bound_by_secrecy``: the person is bound by professional secrecy (social worker, nurse,
    educator…); teachers are not. ``refuses_shared_secret``: the person declined the *secret
    partagé*; nothing they write then leaves the ``team`` circle.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    job_title = models.CharField(_("fonction"), max_length=150, blank=True)
    bound_by_secrecy = models.BooleanField(_("soumis au secret professionnel"), default=False)
    refuses_shared_secret = models.BooleanField(_("refuse le secret partagé"), default=False)
    starts_on = models.DateField(_("début"), default=timezone.localdate)
    ends_on = models.DateField(_("fin"), null=True, blank=True)
    fte = models.DecimalField(_("ETP"), max_digits=4, decimal_places=2, null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("appartenance")
        ordering = ["programme", "role"]
        indexes = [
            models.Index(fields=["user", "programme", "role"], name="membership_user_programme_role"),
            models.Index(fields=["programme", "role"], name="membership_programme_role"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="membership_ends_after_start",
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} ({self.programme})"

    def is_active_on(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.starts_on <= on and (self.ends_on is None or self.ends_on >= on) and self.user.is_active


class CharterVersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__isnull=False)


class CharterVersion(BaseModel):
    """A version of the programme's *charte de confidentialité*. The latest published one is current."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="charter_versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("texte"))
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = CharterVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("version de la charte")
        ordering = ["programme", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="charter_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"


class CharterSignature(BaseModel):
    """A member's signature of one charter version, with the institution they signed for."""

    version = models.ForeignKey(CharterVersion, on_delete=models.PROTECT, related_name="signatures")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="charter_signatures")
    institution = models.CharField(_("institution"), max_length=200, blank=True)
    signed_at = models.DateTimeField(_("signée le"), default=timezone.now)

    class Meta:
        verbose_name = _("signature de la charte")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "membership"], name="charter_signature_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership} — v{self.version.number}"


class ListItemQuerySet(models.QuerySet):
    def of_kind(self, kind: str):
        return self.filter(kind=kind, is_active=True).order_by("position", "label")


class ListItem(BaseModel):
    """An entry of one of the programme's configurable lists (motifs, referrer types, exit reasons).

    ``code`` is stable and used by indicators; ``label`` is the programme's own wording. For exit
    reasons, ``needs_final_review`` says whether closing with it requires a final bilan.
    """

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="list_items")
    kind = models.CharField(_("liste"), max_length=30, choices=ListKind.choices)
    code = models.SlugField(_("code"), max_length=50)
    label = models.CharField(_("libellé"), max_length=200)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    is_active = models.BooleanField(_("actif"), default=True)
    needs_final_review = models.BooleanField(_("bilan final requis"), default=True)

    objects = ListItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("élément de liste")
        verbose_name_plural = _("listes paramétrables")
        ordering = ["programme", "kind", "position"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "kind", "code"], name="list_item_unique_code")
        ]

    def __str__(self) -> str:
        return self.label
