from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Accounts come from invitations only: nobody signs up alone."""

    def is_open_for_signup(self, request) -> bool:
        return False
