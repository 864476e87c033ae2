import pytest
from django.urls import reverse

from cpor.testing.factories import PASSWORD, partner_user

pytestmark = pytest.mark.django_db


def test_home_explains_which_partner_role_to_choose(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for role in (
        "Use or consume",
        "Build intent - Advisor",
        "Usage recognition - Non-incentivized",
        "Influenced revenue recognition - Non-incentivized",
    ):
        assert role in body
    assert "cdn" not in body.lower()


def test_health_reports_the_database(client):
    assert client.get(reverse("web:health")).json() == {"status": "ok"}


def test_partner_signs_in_with_email_in_any_case(client):
    user = partner_user()
    response = client.post(
        reverse("account_login"), {"login": user.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"] == user


def test_wrong_password_is_refused_with_a_message(client):
    user = partner_user()
    response = client.post(reverse("account_login"), {"login": user.email, "password": "nope"})
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
