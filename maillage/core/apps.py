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

        from django.db.backends.signals import connection_created

        from maillage.core import trigram

        # Name search: pg_trgm's threshold on PostgreSQL, its functions in Python on SQLite.
        connection_created.connect(trigram.install, dispatch_uid="maillage.core.trigram")
