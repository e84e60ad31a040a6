from django.urls import path

from maillage.www.accounts import views

app_name = "accounts"

urlpatterns = [
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("equipe/", views.team, name="team"),
    path("equipe/inviter/", views.invite, name="invite"),
    path("equipe/invitations/<int:pk>/annuler/", views.invitation_revoke, name="invitation_revoke"),
]
