"""Mounted at /actions/."""

from django.urls import path

from maillage.www.offers import views

app_name = "offers"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("nouvelle/", views.offer_create, name="offer_create"),
    path("<int:pk>/", views.offer_detail, name="offer"),
    path("<int:pk>/modifier/", views.offer_edit, name="offer_edit"),
    path("<int:pk>/groupes/ajouter/", views.group_create, name="group_create"),
    path("groupes/", views.my_groups, name="groups"),
    path("groupes/<int:pk>/", views.group_detail, name="group"),
    path("seances/<int:pk>/appel/", views.rollcall, name="rollcall"),
    path("parcours/<int:pathway_pk>/catalogue/", views.plan_from_catalogue, name="plan_add"),
    path("parcours/<int:pathway_pk>/parents/", views.parent_enrol, name="parent_enrol"),
    path("parcours/<int:pathway_pk>/contrat/", views.contract_create, name="contract_create"),
    path("parcours/<int:pathway_pk>/fonds/", views.fund_request_create, name="fund_request_create"),
    path("contrats/<int:pk>/", views.contract_detail, name="contract"),
    path("contrats/<int:pk>/pdf/", views.contract_pdf, name="contract_pdf"),
    path("alertes/", views.alerts, name="alerts"),
    path("alertes/<int:pk>/", views.alert_detail, name="alert"),
    path("interventions/<int:pk>/", views.task_detail, name="task"),
    path("fonds/", views.fund, name="fund"),
    path("fonds/<int:pk>/", views.fund_request_detail, name="fund_request"),
    path("fonds/<int:pk>/facture/", views.fund_invoice, name="fund_invoice"),
]
