from django.apps import AppConfig


class PathwaysConfig(AppConfig):
    name = "maillage.pathways"
    label = "pathways"
