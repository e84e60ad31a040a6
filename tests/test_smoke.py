import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_health_page_answers_ok(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.content == b"ok"


def test_home_sends_anonymous_visitors_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_login_page_renders_in_french(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert 'lang="fr"' in response.content.decode()
