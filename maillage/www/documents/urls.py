from django.urls import path

from maillage.www.documents import views

app_name = "documents"

# Mounted at /parcours/<int:pathway_pk>/documents/ (config/urls.py).
urlpatterns = [
    path("accord-ecrit/<int:guardian_pk>/", views.consent_form, name="consent_form"),
    path("notice-parents/", views.notice_parents, name="notice_parents"),
    path("notice-enfant/", views.notice_child, name="notice_child"),
    path("plan/", views.plan_summary, name="plan_summary"),
]
