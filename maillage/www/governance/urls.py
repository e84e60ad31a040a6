from django.urls import path

from maillage.www.governance import views

app_name = "governance"

urlpatterns = [
    path("", views.bodies, name="bodies"),
    path("nouvelle/", views.body_create, name="body_create"),
    path("<int:pk>/", views.body_detail, name="body"),
    path("<int:pk>/membres/", views.body_member_add, name="body_member_add"),
    path("<int:pk>/reunion/", views.meeting_schedule, name="meeting_schedule"),
    path("reunions/<int:pk>/", views.meeting_detail, name="meeting"),
    path("reunions/<int:pk>/modifier/", views.meeting_edit, name="meeting_edit"),
    path("reunions/<int:pk>/publier/", views.meeting_publish, name="meeting_publish"),
    path("reunions/<int:pk>/annuler/", views.meeting_cancel, name="meeting_cancel"),
    path("reunions/<int:pk>/invitations/", views.meeting_invite, name="meeting_invite"),
    path("reunions/<int:pk>/agenda.ics", views.meeting_ics, name="meeting_ics"),
    path("reunions/<int:pk>/points/", views.agenda_item_add, name="agenda_item_add"),
    path("parcours/<int:pk>/inscrire-eps/", views.pathway_to_eps, name="pathway_to_eps"),
    path("reunions/<int:pk>/situations/", views.situation_add, name="situation_add"),
    path("reunions/<int:pk>/compte-rendu/", views.minutes_edit, name="minutes"),
    path("reunions/<int:pk>/presences/", views.attendance_edit, name="attendance"),
    path("reunions/<int:pk>/documents/", views.document_add, name="document_add"),
    path("reunions/<int:pk>/transmettre/", views.forward, name="forward"),
    path("points/<int:pk>/decision/", views.decision_add, name="decision"),
    path("points/<int:pk>/retirer/", views.agenda_item_remove, name="agenda_item_remove"),
    path("documents/<int:pk>/", views.document_download, name="document"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/lues/", views.notifications_read, name="notifications_read"),
    path("fiches-missions/", views.mission_sheets, name="mission_sheets"),
    path("fiches-missions/nouvelle/", views.mission_sheet_create, name="mission_sheet_create"),
    path("fiches-missions/<int:pk>/", views.mission_sheet_detail, name="mission_sheet"),
    path("fiches-missions/<int:pk>/modifier/", views.mission_sheet_edit, name="mission_sheet_edit"),
    path("fiches-missions/<int:pk>/commenter/", views.mission_sheet_comment, name="mission_sheet_comment"),
    path("fiches-missions/<int:pk>/proposer/", views.mission_sheet_propose, name="mission_sheet_propose"),
    path("fiches-missions/<int:pk>/valider/", views.mission_sheet_validate, name="mission_sheet_validate"),
    path("memento/", views.memento_index, name="memento"),
    path("memento/nouvelle-page/", views.memento_page_edit, name="memento_page_create"),
    path("memento/pages/<int:pk>/", views.memento_page_edit, name="memento_page_edit"),
    path("memento/livret.pdf", views.memento_pdf, name="memento_pdf"),
]
