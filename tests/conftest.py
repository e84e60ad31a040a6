import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Uploaded files of one test never leak into another, nor into the developer's var/.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _plain_email_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def login_as(client):
    """Log the test client in as a new member of ``programme`` (a new programme if none) with ``role``."""
    from tests.factories import MembershipFactory

    def _login(role: str, programme=None, **membership_fields):
        kwargs = {"role": role, **membership_fields}
        if programme is not None:
            kwargs["programme"] = programme
        membership = MembershipFactory(**kwargs)
        client.force_login(membership.user)
        return membership

    return _login


@pytest.fixture
def admin_user(db, django_user_model):
    """pytest-django's superuser, with the TOTP second factor every staff account must have."""
    from tests.factories import TEST_PASSWORD, enrol_totp

    user = django_user_model.objects.create_superuser("admin@example.com", TEST_PASSWORD)
    enrol_totp(user)
    return user
