from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "maillage.core"
    label = "core"

    def ready(self):
        from maillage.core import lookups

        lookups.register()
        lookups.guard_json_form_field()
