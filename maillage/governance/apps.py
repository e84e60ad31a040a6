from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "maillage.governance"
    label = "governance"

    def ready(self) -> None:
        from maillage.accounts.signals import team_changed

        team_changed.connect(_notify_team_change, dispatch_uid="governance_notify_team_change")


def _notify_team_change(sender, *, programme, users, verb, message, url="", **kwargs) -> None:
    from maillage.governance.services import notify

    notify(users=users, verb=verb, message=message, url=url, programme=programme)
