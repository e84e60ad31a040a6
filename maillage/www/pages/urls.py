from django.urls import path

from maillage.www.pages import views

urlpatterns = [
    path("", views.home, name="home"),
    path("programme-courant/", views.switch_membership, name="switch_membership"),
    path("accessibilite/", views.static_page, {"page": "accessibility"}, name="accessibility"),
    path("mentions-legales/", views.static_page, {"page": "legal"}, name="legal"),
    path("donnees-personnelles/", views.static_page, {"page": "privacy"}, name="privacy"),
    path("sante/", views.health, name="health"),
]
