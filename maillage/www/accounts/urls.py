from django.urls import path

from maillage.www.accounts import views

app_name = "accounts"

urlpatterns = [
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    # Same address as allauth's session list, which this page replaces (adds "end this session").
    path("sessions/", views.sessions, name="sessions"),
    path("equipe/", views.team, name="team"),
    path("equipe/inviter/", views.invite, name="invite"),
    path("equipe/invitations/<int:pk>/annuler/", views.invitation_revoke, name="invitation_revoke"),
    path("equipe/membres/<int:pk>/fin/", views.membership_end, name="membership_end"),
    path("equipe/propositions/<int:pk>/confirmer/", views.proposal_confirm, name="proposal_confirm"),
    path("equipe/propositions/<int:pk>/refuser/", views.proposal_decline, name="proposal_decline"),
]
