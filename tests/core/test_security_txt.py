"""/.well-known/security.txt (RFC 9116): how to report a flaw, served by the application itself."""

import datetime

import pytest
import time_machine
from django.utils import timezone


def fields(response) -> dict[str, str]:
    lines = response.content.decode().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


@pytest.mark.django_db
def test_security_txt_names_the_security_address_of_the_host_and_expires_within_a_year(client, settings):
    settings.ALLOWED_HOSTS = ["maillage.example.org"]
    with time_machine.travel(datetime.datetime(2026, 11, 28, 12, tzinfo=datetime.UTC), tick=False):
        response = client.get("/.well-known/security.txt", HTTP_HOST="maillage.example.org")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    found = fields(response)
    assert found["Contact"] == "mailto:security@maillage.example.org"
    expires = datetime.datetime.fromisoformat(found["Expires"].replace("Z", "+00:00"))
    assert timezone.now() < expires < timezone.now() + datetime.timedelta(days=365)
    assert expires == datetime.datetime(2027, 5, 27, 12, tzinfo=datetime.UTC)
    assert found["Canonical"] == "http://maillage.example.org/.well-known/security.txt"
    assert "fr" in found["Preferred-Languages"]


@pytest.mark.django_db
def test_the_operator_can_set_the_security_address(client, settings):
    settings.MAILLAGE_SECURITY_EMAIL = "rssi@ville-de-demo.fr"

    response = client.get("/.well-known/security.txt")

    assert fields(response)["Contact"] == "mailto:rssi@ville-de-demo.fr"


@pytest.mark.django_db
def test_security_txt_is_public_and_read_only(client):
    assert client.get("/.well-known/security.txt").status_code == 200
    assert client.post("/.well-known/security.txt").status_code == 405
