from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from maillage.territories.models import Commune, PriorityArea, School


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ("insee_code", "name", "kind", "parent_code", "epci_name", "epci_siren")
    search_fields = ("insee_code", "name", "epci_name", "epci_siren")
    list_filter = ("kind", "epci_name")
    ordering = ("name",)


@admin.register(PriorityArea)
class PriorityAreaAdmin(admin.ModelAdmin):
    """QPV come from the official contours file (``import_qpv``): the geometry is never edited by hand."""

    list_display = ("code", "name", "geometry_kind", "updated_at")
    search_fields = ("code", "name")
    list_filter = ("programmes",)
    readonly_fields = (
        "geometry_summary",
        "min_lon",
        "min_lat",
        "max_lon",
        "max_lat",
        "geometry",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("code", "name")}),
        (_("Contour"), {"fields": ("geometry_summary", ("min_lat", "max_lat"), ("min_lon", "max_lon"))}),
        (_("GeoJSON"), {"classes": ("collapse",), "fields": ("geometry",)}),
        (_("Historique"), {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description=_("géométrie"))
    def geometry_kind(self, obj: PriorityArea) -> str:
        return (obj.geometry or {}).get("type", "—")

    @admin.display(description=_("résumé du contour"))
    def geometry_summary(self, obj: PriorityArea) -> str:
        geometry = obj.geometry or {}
        polygons = geometry.get("coordinates") or []
        if geometry.get("type") == "Polygon":
            polygons = [polygons]
        holes = sum(max(len(rings) - 1, 0) for rings in polygons)
        points = sum(len(ring) for rings in polygons for ring in rings)
        return _("%(type)s : %(parts)d partie(s), %(holes)d enclave(s), %(points)d sommets") % {
            "type": geometry.get("type", "—"),
            "parts": len(polygons),
            "holes": holes,
            "points": points,
        }


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ("uai", "name", "kind", "priority_education", "commune_code", "commune")
    search_fields = ("uai", "name", "name_normalised", "commune_code", "commune__name")
    list_filter = ("kind", "priority_education")
    list_select_related = ("commune",)
    autocomplete_fields = ("commune",)
    readonly_fields = ("created_at", "updated_at")
