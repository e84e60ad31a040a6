from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.core.fields import EncryptedTextField
from maillage.core.models import BaseModel
from maillage.core.text import normalise_name
from maillage.people.enums import GuardianRelation, SchoolLevel, Sex
from maillage.referrals.enums import ReferralState


class Referral(BaseModel):
    """A *fiche d'orientation* (referral, *saisine*): a partner's worry about a child, sent to the programme.

    The referrer (``submitted_by``) only ever sees its state. The child's identity stays on the
    referral until the coordinator links it to a ``Child`` (new or existing, after duplicate check).
    """

    programme = models.ForeignKey("programmes.Programme", on_delete=models.PROTECT, related_name="referrals")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("transmise le"), default=timezone.now)
    on_behalf_of_family = models.BooleanField(
        _("saisie pour la famille ou par téléphone"),
        default=False,
        help_text=_(
            "La coordination saisit la fiche pour une famille qui s'adresse directement au programme."
        ),
    )
    referrer_type = models.ForeignKey(
        "programmes.ListItem", on_delete=models.PROTECT, related_name="+", verbose_name=_("type d'orienteur")
    )
    referrer_organisation = models.ForeignKey(
        "programmes.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("structure qui oriente"),
    )
    referrer_contact = models.CharField(
        _("personne à contacter chez l'orienteur"), max_length=200, blank=True
    )
    motifs = models.ManyToManyField("programmes.ListItem", related_name="+", verbose_name=_("motifs"))

    child = models.ForeignKey(
        "people.Child", on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    child_first_name = models.CharField(_("prénom de l'enfant"), max_length=150)
    child_last_name = models.CharField(_("nom de l'enfant"), max_length=150)
    child_first_name_normalised = models.CharField(max_length=150, editable=False, default="")
    child_last_name_normalised = models.CharField(max_length=150, editable=False, default="")
    child_birth_date = models.DateField(_("date de naissance"))
    child_sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices)
    school = models.ForeignKey(
        "territories.School", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("établissement")
    )
    school_level = models.CharField(
        _("niveau scolaire"), max_length=8, choices=SchoolLevel.choices, default=SchoolLevel.NOT_SCHOOLED
    )
    address = models.CharField(_("adresse de l'enfant"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True)
    commune = models.ForeignKey(
        "territories.Commune", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("commune")
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    priority_area = models.ForeignKey(
        "territories.PriorityArea",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("quartier prioritaire de résidence"),
    )
    guardian_name = models.CharField(_("nom du parent ou responsable"), max_length=200)
    guardian_relation = models.CharField(
        _("lien avec l'enfant"),
        max_length=20,
        choices=GuardianRelation.choices,
        default=GuardianRelation.MOTHER,
    )
    guardian_phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    guardian_email = models.EmailField(_("adresse électronique"), blank=True)
    context = EncryptedTextField(_("contexte"), blank=True)
    family_informed = models.BooleanField(_("la famille a été informée de cette orientation"))

    state = models.CharField(
        _("état"), max_length=20, choices=ReferralState.choices, default=ReferralState.SUBMITTED
    )
    state_changed_at = models.DateTimeField(default=timezone.now)
    decision_reason = models.TextField(_("motif de la décision"), blank=True)
    redirected_to = models.CharField(_("réorientée vers"), max_length=255, blank=True)
    eligibility = models.JSONField(_("éligibilité"), default=dict, blank=True)
    derogation = models.BooleanField(_("dérogation"), default=False)
    derogation_reason = models.TextField(_("motif de la dérogation"), blank=True)

    class Meta:
        verbose_name = _("orientation")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["programme", "state", "submitted_at"], name="referral_programme_state"),
            models.Index(fields=["submitted_by", "submitted_at"], name="referral_submitter"),
            models.Index(
                fields=["programme", "child_last_name_normalised", "child_birth_date"],
                name="referral_child_name",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(family_informed=True), name="referral_family_informed"),
            models.CheckConstraint(
                condition=~Q(state="redirected") | ~Q(redirected_to=""), name="referral_redirect_has_target"
            ),
            models.CheckConstraint(
                condition=Q(derogation=False) | ~Q(derogation_reason=""),
                name="referral_derogation_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Orientation du {self.submitted_at:%d/%m/%Y}"

    def save(self, *args, **kwargs):
        self.child_first_name_normalised = normalise_name(self.child_first_name)
        self.child_last_name_normalised = normalise_name(self.child_last_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"child_first_name", "child_last_name"} & set(update_fields):
            kwargs["update_fields"] = {
                *update_fields,
                "child_first_name_normalised",
                "child_last_name_normalised",
            }
        super().save(*args, **kwargs)


class ReferralTransition(BaseModel):
    """One change of a referral's state: who, when, why."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=20, choices=ReferralState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=ReferralState.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"
