from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Operational commands (backup, restore): above the domain, which never imports them."""

    name = "maillage.operations"
    label = "operations"
