from django.urls import path

from maillage.www.people import views

app_name = "people"

urlpatterns = [
    path("", views.children, name="children"),
    path("<int:pk>/", views.child_detail, name="child"),
    path("foyers/<int:pk>/", views.household_detail, name="household"),
]
