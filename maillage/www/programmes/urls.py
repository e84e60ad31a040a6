from django.urls import path

from maillage.www.programmes import views

app_name = "programmes"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("modifier/", views.profile_edit, name="profile_edit"),
    path("partenaires/", views.organisations, name="organisations"),
    path("partenaires/nouveau/", views.organisation_create, name="organisation_create"),
    path("partenaires/<int:pk>/", views.organisation_detail, name="organisation"),
    path("partenaires/<int:pk>/modifier/", views.organisation_edit, name="organisation_edit"),
    path("charte/", views.charter, name="charter"),
    path("charte/signer/", views.charter_sign, name="charter_sign"),
    path("charte/publier/", views.charter_publish, name="charter_publish"),
]
