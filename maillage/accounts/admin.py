"""Technical administration of accounts (email login, no username).

What a person may see comes from their memberships, edited here inline or from the team page; the
account only says who they are and whether they may log in.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from maillage.accounts.models import User
from maillage.programmes.admin import JournaledAdminMixin, tell_membership_change
from maillage.programmes.models import Membership


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str:
        # Stored lower-cased, as UserManager.create_user does, so that login ignores the case.
        return self.cleaned_data["email"].lower()


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes: dict = {}

    def clean_email(self) -> str:
        return self.cleaned_data["email"].lower()


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    fields = ["programme", "role", "organisation", "bound_by_secrecy", "starts_on", "ends_on"]
    autocomplete_fields = ["programme", "organisation"]
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(User)
class UserAdmin(JournaledAdminMixin, BaseUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "first_name", "last_name"]
    ordering = ["email"]
    readonly_fields = ["last_login", "date_joined"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Identité"), {"fields": ["first_name", "last_name"]}),
        (
            _("Droits techniques"),
            {
                "fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"],
                "description": _(
                    "Ces droits ne concernent que l'administration technique. L'accès aux données des "
                    "programmes dépend uniquement des rôles (appartenances) de la personne."
                ),
            },
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "usable_password", "password1", "password2"],
            },
        )
    ]

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            for inline_form in formset.forms:
                if inline_form.instance.pk and inline_form.has_changed():
                    created = inline_form.instance in formset.new_objects
                    tell_membership_change(request, inline_form.instance, inline_form, created=created)

    def get_inlines(self, request, obj):
        # Memberships are added once the account exists.
        return self.inlines if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        # The journal refers to accounts: deactivate a person instead of deleting them.
        return False
