"""Technical administration of configuration objects (programmes, partners, memberships, charter).

Only configuration lives in the admin. Children, households, guardians and the journal are never
registered: the admin does not go through the scopes of ``maillage.permissions``, so registering a
nominative model here would open a door around the policy (see ``maillage/people/admin.py``).
Every change made here is journaled like any other write.
"""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from maillage.audit import services as audit
from maillage.programmes.models import (
    CharterSignature,
    CharterVersion,
    ListItem,
    Membership,
    NetworkLevel,
    Organisation,
    Programme,
)
from maillage.programmes.services import programme_setup


class JournaledAdminMixin:
    """Write a journal entry for every creation, change and deletion made through the admin."""

    def _journal(self, request, obj, action: str, payload: dict) -> None:
        programme = obj if isinstance(obj, Programme) else getattr(obj, "programme", None)
        audit.record(
            verb=f"admin.{obj._meta.model_name}.{action}",
            actor=request.user,
            target=obj,
            programme=programme,
            payload=payload,
            request=request,
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._journal(request, obj, "changed" if change else "created", {"fields": sorted(form.changed_data)})

    def delete_model(self, request, obj):
        self._journal(request, obj, "deleted", {"label": str(obj)})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._journal(request, obj, "deleted", {"label": str(obj)})
        super().delete_queryset(request, queryset)


@admin.register(NetworkLevel)
class NetworkLevelAdmin(JournaledAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["name"]
    autocomplete_fields = ["parent"]


class ListItemInline(admin.TabularInline):
    """The programme's own wording of its lists (motifs, referrer types, exit reasons)."""

    model = ListItem
    extra = 0
    fields = ["kind", "code", "label", "position", "is_active", "needs_final_review"]
    ordering = ["kind", "position"]

    def has_delete_permission(self, request, obj=None):
        # Entries are used by referrals and pathways: deactivate them instead.
        return False


@admin.register(Programme)
class ProgrammeAdmin(JournaledAdminMixin, admin.ModelAdmin):
    inlines = [ListItemInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            # A new programme starts with its default lists and the seeded charter, published.
            programme_setup(programme=obj, by=request.user)

    list_display = ["name", "label", "lead_body_type", "lead_body_name", "network_level"]
    list_filter = ["lead_body_type", "eligibility_rule", "network_level"]
    search_fields = ["name", "slug", "lead_body_name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["network_level"]
    # Thousands of communes and schools: identifiers here; the profile page offers the friendly form.
    raw_id_fields = ["communes", "priority_areas", "schools"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "label", "case_code_prefix"]}),
        (
            _("Structure porteuse et réseau"),
            {"fields": ["lead_body_type", "lead_body_name", "network_level"]},
        ),
        (_("Territoire"), {"fields": ["communes", "priority_areas", "schools"]}),
        (
            _("Public et éligibilité"),
            {
                "fields": [
                    "prior_veille_educative",
                    "prior_veille_year",
                    "age_min",
                    "age_max",
                    "eligibility_rule",
                ]
            },
        ),
        (
            _("Confidentialité et conservation"),
            {
                "fields": [
                    "eps_access_window_days",
                    "active_retention_years",
                    "archive_retention_years",
                    "log_retention_months",
                    "review_cadence_weeks",
                    "mfa_for_aggregate_roles",
                ]
            },
        ),
    ]

    def has_delete_permission(self, request, obj=None):
        # A programme holds the history of children and the journal: it is never deleted from here.
        return False


@admin.register(Organisation)
class OrganisationAdmin(JournaledAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "programme", "is_active"]
    list_filter = ["kind", "is_active", "programme"]
    search_fields = ["name", "name_normalised"]
    autocomplete_fields = ["programme"]
    raw_id_fields = ["school"]
    list_select_related = ["programme"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Membership)
class MembershipAdmin(JournaledAdminMixin, admin.ModelAdmin):
    list_display = ["user", "programme", "role", "organisation", "bound_by_secrecy", "starts_on", "ends_on"]
    list_filter = ["role", "bound_by_secrecy", "refuses_shared_secret", "programme"]
    search_fields = ["user__email", "user__last_name", "organisation__name"]
    autocomplete_fields = ["user", "programme", "organisation"]
    list_select_related = ["user", "programme", "organisation"]
    date_hierarchy = "starts_on"

    def has_delete_permission(self, request, obj=None):
        # The journal refers to memberships: end one by setting its end date instead.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        tell_membership_change(request, obj, form, created=not change)


# Fields whose change grants or ends access: the programme's coordinators and DPO are told.
ACCESS_FIELDS = {"user", "programme", "role", "starts_on", "ends_on"}


def tell_membership_change(request, membership, form, *, created: bool) -> None:
    """Granting access is itself access: a membership reaching names given or ended here is notified."""
    from maillage.accounts.services import membership_change_tell

    if created or ACCESS_FIELDS & set(form.changed_data):
        membership_change_tell(membership=membership, by=request.user, created=created)


class CharterSignatureInline(admin.TabularInline):
    model = CharterSignature
    fields = ["membership", "institution", "signed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CharterVersion)
class CharterVersionAdmin(admin.ModelAdmin):
    """Read-only: versions are published, and signed, from the programme's charter page."""

    list_display = ["programme", "number", "title", "published_at", "published_by"]
    list_filter = ["programme"]
    list_select_related = ["programme", "published_by"]
    readonly_fields = ["programme", "number", "title", "body", "published_at", "published_by"]
    inlines = [CharterSignatureInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
