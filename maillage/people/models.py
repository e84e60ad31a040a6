from django.db import models
from django.utils.translation import gettext_lazy as _

from maillage.core.models import BaseModel
from maillage.core.text import normalise_name
from maillage.people.enums import GuardianRelation, SchoolLevel, Sex


class NormalisedNamesMixin(models.Model):
    """Keeps accent- and hyphen-free copies of the names for search and duplicate detection."""

    first_name_normalised = models.CharField(max_length=150, editable=False, default="")
    last_name_normalised = models.CharField(max_length=150, editable=False, default="")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.first_name_normalised = normalise_name(self.first_name)
        self.last_name_normalised = normalise_name(self.last_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"first_name", "last_name"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "first_name_normalised", "last_name_normalised"}
        super().save(*args, **kwargs)


class Household(BaseModel):
    """A family (*foyer*): the children it groups are siblings for the programme."""

    programme = models.ForeignKey("programmes.Programme", on_delete=models.PROTECT, related_name="households")
    name = models.CharField(_("nom du foyer"), max_length=200)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True)
    commune = models.ForeignKey("territories.Commune", on_delete=models.PROTECT, null=True, blank=True)
    languages = models.CharField(_("langues parlées"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("foyer")
        indexes = [models.Index(fields=["programme", "name"], name="household_programme_name")]

    def __str__(self) -> str:
        return self.name


class Guardian(NormalisedNamesMixin, BaseModel):
    """A parent or other adult of the household; ``has_parental_authority`` marks who must consent."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="guardians")
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    relation = models.CharField(_("lien"), max_length=20, choices=GuardianRelation.choices)
    has_parental_authority = models.BooleanField(_("titulaire de l'autorité parentale"), default=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    email = models.EmailField(_("adresse électronique"), blank=True)
    address = models.CharField(_("adresse, si différente du foyer"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("responsable légal·e ou adulte du foyer")
        verbose_name_plural = _("responsables légaux et adultes du foyer")
        indexes = [models.Index(fields=["last_name_normalised"], name="guardian_last_name_norm")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Child(NormalisedNamesMixin, BaseModel):
    """A child known to the programme. Nominative: reach it only through ``permissions`` scopes."""

    programme = models.ForeignKey("programmes.Programme", on_delete=models.PROTECT, related_name="children")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="children")
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    birth_date = models.DateField(_("date de naissance"))
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices)
    school = models.ForeignKey(
        "territories.School", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    school_level = models.CharField(
        _("niveau scolaire"), max_length=8, choices=SchoolLevel.choices, default=SchoolLevel.NOT_SCHOOLED
    )
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True)
    commune = models.ForeignKey("territories.Commune", on_delete=models.PROTECT, null=True, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    # Kept when the coordinates are erased at anonymisation, for the indicators (None: unknown).
    in_priority_area = models.BooleanField(_("réside en quartier prioritaire"), null=True, blank=True)

    class Meta:
        verbose_name = _("enfant")
        verbose_name_plural = _("enfants")
        ordering = ["last_name_normalised", "first_name_normalised"]
        indexes = [
            models.Index(
                fields=["programme", "last_name_normalised", "first_name_normalised"],
                name="child_programme_name",
            ),
            models.Index(fields=["programme", "birth_date"], name="child_programme_birth_date"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"
