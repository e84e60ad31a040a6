from django.urls import path

from maillage.www.steering import views

app_name = "steering"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("objectifs/", views.objectives, name="objectives"),
    path("budget/", views.budget, name="budget"),
    path("comite/", views.copil_page, name="copil"),
    path("comite/dossier/", views.copil_document, name="copil_pdf"),
    path("enquete-anct/", views.anct_document, name="anct"),
    path("diagnostic/", views.diagnosis, name="diagnosis"),
    path("reseau/", views.network, name="network"),
    path("reseau/enquete-anct/", views.network_anct_document, name="network_anct"),
    path("reseau/structuration/", views.structuring, name="structuring"),
    path("reseau/structuration/export/", views.structuring_document, name="structuring_export"),
    path("documents/<uuid:pk>/etat/", views.export_status, name="export_status"),
    path("documents/<uuid:pk>/telecharger/", views.export_download, name="export_download"),
    path("barometre/", views.barometer, name="barometer"),
    path("barometre/<int:pk>/", views.barometer_results, name="barometer_results"),
    path("barometre/<int:pk>/repondre/", views.barometer_answer, name="barometer_answer"),
]
