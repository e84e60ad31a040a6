from django.urls import path

from maillage.www.pathways import views

app_name = "pathways"

urlpatterns = [
    path("", views.pathway_list, name="list"),
    path("mes-parcours/", views.caseload, name="caseload"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/etape/", views.transition, name="transition"),
    path("<int:pk>/referent/", views.referent, name="referent"),
    path("<int:pk>/equipe/ajouter/", views.team_add, name="team_add"),
    path("<int:pk>/equipe/<int:member_pk>/retirer/", views.team_remove, name="team_remove"),
    path("<int:pk>/cloturer/", views.close, name="close"),
    path("<int:pk>/rouvrir/", views.reopen, name="reopen"),
]
