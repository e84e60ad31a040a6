"""Mounted at /parcours/<pathway_pk>/suivi/: every view receives ``pathway_pk``."""

from django.urls import path

from maillage.www.followup import views

app_name = "followup"

urlpatterns = [
    path("accords/ajouter/", views.consent_add, name="consent_add"),
    path("accords/<int:pk>/retrait/", views.consent_withdraw, name="consent_withdraw"),
    path("accords/<int:pk>/accord-signe/", views.consent_proof, name="consent_proof"),
    path("diagnostic/<slug:dimension>/", views.diagnostic_edit, name="diagnostic_edit"),
    path("objectifs/ajouter/", views.objective_add, name="objective_add"),
    path("objectifs/<int:pk>/etat/", views.objective_status, name="objective_status"),
    path("actions/ajouter/", views.action_add, name="action_add"),
    path("contacts/ajouter/", views.contact_add, name="contact_add"),
    path("notes/ajouter/", views.note_add, name="note_add"),
    path("bilans/ajouter/", views.review_add, name="review_add"),
]
