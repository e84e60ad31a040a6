from django.urls import path

from maillage.www.referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.referral_list, name="list"),
    path("nouvelle/", views.referral_new, name="new"),
    path("mes-orientations/", views.referral_mine, name="mine"),
    path("<int:pk>/", views.referral_detail, name="detail"),
]
