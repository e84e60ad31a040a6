from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "maillage.referrals"
    label = "referrals"
