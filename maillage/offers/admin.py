"""Technical administration of the actions' configuration: the catalogue and the breach rules.

Rosters, attendance, collective-only beneficiaries, contracts, alerts and fund requests are
nominative: they are never registered here (see ``maillage/programmes/admin.py``). Breach rules are
configured per programme here (seeded defaults: 3 unexcused absences within 30 days; 2 missed
appointments in a row). Every change is journaled.
"""

from django.contrib import admin

from maillage.offers.models import BreachRule, Offer
from maillage.programmes.admin import JournaledAdminMixin


@admin.register(Offer)
class OfferAdmin(JournaledAdminMixin, admin.ModelAdmin):
    list_display = ["title", "programme", "kind", "provider", "capacity", "is_active"]
    list_filter = ["programme", "kind", "is_active"]
    search_fields = ["title"]
    raw_id_fields = ["provider", "funding_line"]


@admin.register(BreachRule)
class BreachRuleAdmin(JournaledAdminMixin, admin.ModelAdmin):
    list_display = ["programme", "kind", "threshold", "window_days", "is_active"]
    list_filter = ["programme", "kind", "is_active"]
