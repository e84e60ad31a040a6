from django.apps import AppConfig


class OffersConfig(AppConfig):
    name = "maillage.offers"
    label = "offers"
    verbose_name = "Actions"
