"""Password rules (CNIL délibération 2022-100) and hashing."""

import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse

from maillage.accounts.models import User
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SETTINGS_FILE = Path(settings.BASE_DIR) / "config" / "settings.py"
ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_a_password_of_eleven_characters_is_refused():
    with pytest.raises(ValidationError) as raised:
        password_validation.validate_password("Lavande2026", user=User(email="a@exemple.test"))
    assert "password_too_short" in {error.code for error in raised.value.error_list}


@pytest.mark.parametrize("common", ["password1234", "telechargement", "qwertyuiop123"])
def test_a_common_password_is_refused_even_when_long_enough(common):
    with pytest.raises(ValidationError) as raised:
        password_validation.validate_password(common, user=User(email="a@exemple.test"))
    assert "password_too_common" in {error.code for error in raised.value.error_list}


@pytest.mark.parametrize(
    "passphrase", ["cerf-volant lavande orage", "La marée monte sur Pornic 44", "hibou tartine velours"]
)
def test_a_passphrase_of_twelve_characters_or_more_is_accepted(passphrase):
    assert len(passphrase) >= 12
    password_validation.validate_password(passphrase, user=User(email="a@exemple.test"))


def test_a_password_of_more_than_sixty_four_characters_is_accepted():
    password_validation.validate_password("ronce " * 20, user=User(email="a@exemple.test"))


def test_changing_the_password_applies_the_same_rules(client):
    user = UserFactory()
    client.force_login(user)
    url = reverse("account_change_password")

    page = client.get(url).content.decode()
    assert "12 caractères" in page, "the rules are shown where a password is chosen"

    short = client.post(
        url, {"oldpassword": TEST_PASSWORD, "password1": "Lavande2026", "password2": "Lavande2026"}
    )
    assert short.status_code == 200
    assert "trop court" in short.content.decode()
    common = client.post(
        url, {"oldpassword": TEST_PASSWORD, "password1": "password1234", "password2": "password1234"}
    )
    assert "trop courant" in common.content.decode()
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)

    good = client.post(
        url,
        {
            "oldpassword": TEST_PASSWORD,
            "password1": "hibou tartine velours",
            "password2": "hibou tartine velours",
        },
    )
    assert good.status_code == 302
    user.refresh_from_db()
    assert user.check_password("hibou tartine velours")


def _settings_for(monkeypatch, mode: str) -> dict:
    monkeypatch.setenv("MAILLAGE_ENV", mode)
    monkeypatch.setenv("SECRET_KEY", "x" * 20 + "-only-for-this-test-of-the-settings-module-" + "y" * 20)
    monkeypatch.setenv("MAILLAGE_ENCRYPTION_KEYS", "k1:c29tZS1vdGhlci1rZXktZm9yLXRoZS10ZXN0LTMyYnl0ZXM=")
    monkeypatch.setenv("MAILLAGE_AUDIT_KEY", "audit-key-only-for-this-test-of-the-settings-module")
    return runpy.run_path(str(SETTINGS_FILE))


def test_argon2_hashes_passwords_in_production(monkeypatch):
    production = _settings_for(monkeypatch, "production")
    assert production["PASSWORD_HASHERS"][0] == ARGON2
    assert not any("MD5" in hasher for hasher in production["PASSWORD_HASHERS"])


def test_argon2_hashes_passwords_in_development(monkeypatch):
    assert _settings_for(monkeypatch, "dev")["PASSWORD_HASHERS"][0] == ARGON2


def test_the_test_suite_only_puts_the_fast_md5_hasher_in_front_of_argon2():
    without_md5 = [hasher for hasher in settings.PASSWORD_HASHERS if "MD5" not in hasher]
    assert without_md5[0] == ARGON2


def test_argon2_is_installed_and_produces_argon2_hashes():
    from django.contrib.auth.hashers import make_password

    encoded = make_password("hibou tartine velours", hasher="argon2")
    assert encoded.startswith("argon2$argon2id$")


def test_the_minimum_length_is_twelve_and_common_passwords_are_checked():
    validators = {v["NAME"].rsplit(".", 1)[-1]: v for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert validators["MinimumLengthValidator"]["OPTIONS"]["min_length"] >= 12
    assert "CommonPasswordValidator" in validators
