from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "maillage.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from maillage.accounts import signals
        from maillage.accounts.stepup import record_login_time

        user_logged_in.connect(record_login_time, dispatch_uid="maillage_record_login_time")
        signals.connect()
