from django.db import models
from django.utils.translation import gettext_lazy as _

from maillage.core.models import BaseModel
from maillage.core.text import normalise_name
from maillage.territories.enums import CommuneKind, PriorityEducation, SchoolKind


class Commune(BaseModel):
    """A French commune, identified by its INSEE code (``2A``/``2B`` prefixes in Corsica).

    The municipal arrondissements of Paris, Lyon and Marseille are stored too (``kind`` ARM, with their
    city's code in ``parent_code``): the Annuaire de l'éducation locates those cities' schools by
    arrondissement code.
    """

    insee_code = models.CharField(_("code INSEE"), max_length=5, unique=True)
    name = models.CharField(_("nom"), max_length=150)
    kind = models.CharField(_("type"), max_length=3, choices=CommuneKind.choices, default=CommuneKind.COMMUNE)
    parent_code = models.CharField(_("code INSEE de la commune parente"), max_length=5, blank=True)
    epci_siren = models.CharField(_("SIREN de l'EPCI"), max_length=9, blank=True)
    epci_name = models.CharField(_("nom de l'EPCI"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("commune")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.insee_code})"


class PriorityAreaQuerySet(models.QuerySet):
    def containing_bbox(self, lat: float, lon: float):
        return self.filter(min_lat__lte=lat, max_lat__gte=lat, min_lon__lte=lon, max_lon__gte=lon)


class PriorityArea(BaseModel):
    """A *quartier prioritaire de la politique de la ville* (QPV) and its contour (GeoJSON, WGS84).

    The bounding box columns let ``locate`` keep only a handful of candidates in SQL before the
    exact point-in-polygon test.
    """

    code = models.CharField(_("code QPV"), max_length=20, unique=True)
    name = models.CharField(_("nom"), max_length=255)
    geometry = models.JSONField(_("contour (GeoJSON)"))
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()

    objects = PriorityAreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("quartier prioritaire (QPV)")
        verbose_name_plural = _("quartiers prioritaires (QPV)")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["min_lat", "max_lat", "min_lon", "max_lon"], name="priorityarea_bbox")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class School(BaseModel):
    """A school or establishment of the *Annuaire de l'éducation*, identified by its UAI."""

    uai = models.CharField(_("UAI"), max_length=8, unique=True)
    name = models.CharField(_("nom"), max_length=255)
    name_normalised = models.CharField(max_length=255, editable=False, db_index=True)
    kind = models.CharField(_("type"), max_length=20, choices=SchoolKind.choices, default=SchoolKind.OTHER)
    priority_education = models.CharField(
        _("éducation prioritaire"), max_length=4, choices=PriorityEducation.choices, blank=True, default=""
    )
    commune_code = models.CharField(_("code commune"), max_length=5, blank=True)
    commune = models.ForeignKey(
        Commune, on_delete=models.SET_NULL, null=True, blank=True, related_name="schools"
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("établissement scolaire")
        verbose_name_plural = _("établissements scolaires")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["commune_code", "priority_education"], name="school_commune_priority")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_normalised = normalise_name(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_normalised"}
        super().save(*args, **kwargs)

    @property
    def is_priority(self) -> bool:
        return bool(self.priority_education)
