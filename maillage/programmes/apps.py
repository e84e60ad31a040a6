from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "maillage.programmes"
    label = "programmes"
