from django.urls import path

from maillage.www.journal import views

app_name = "journal"

# Mounted at /journal/ (config/urls.py).
urlpatterns = [
    path("", views.search, name="search"),
    path("consultations/<int:pk>/", views.consultations, name="consultations"),
    path("consultations/<int:pk>/pdf/", views.consultations_pdf, name="consultations_pdf"),
    path("parcours/<int:pk>/consultations/", views.pathway_consultations, name="pathway_consultations"),
    path("acces-exceptionnel/", views.break_glass, name="break_glass"),
]
