from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "maillage.core"
    label = "core"

    def ready(self):
        from maillage.core import lookups

        lookups.register()
        lookups.guard_json_form_field()

        from maillage.core import french

        french.install_empty_choice_label()
