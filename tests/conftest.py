import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Uploaded files of one test never leak into another, nor into the developer's var/.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _plain_email_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
