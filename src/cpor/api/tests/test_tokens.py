import datetime

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from cpor.api.models import ApiToken
from cpor.api.services import api_token_create, api_token_revoke, hash_token
from cpor.testing.factories import PASSWORD, partner_user

pytestmark = pytest.mark.django_db


def test_token_is_stored_hashed_and_authenticates_with_bearer_or_token(partner):
    row, token = api_token_create(actor=partner, name="CRM")
    assert token.startswith(f"cpor_{row.prefix}_")
    assert row.token_hash == hash_token(token)
    assert token not in str(ApiToken.objects.filter(pk=row.pk).values().get())
    for scheme in ("Bearer", "Token", "bearer"):
        client = APIClient(HTTP_AUTHORIZATION=f"{scheme} {token}")
        assert client.get("/api/v1/claims/").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_last_used_is_written_at_most_once_a_minute(partner, django_assert_num_queries):
    row, token = api_token_create(actor=partner, name="CRM")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get("/api/v1/reasons/")
    first = ApiToken.objects.get(pk=row.pk).last_used_at
    client.get("/api/v1/reasons/")
    assert ApiToken.objects.get(pk=row.pk).last_used_at == first
    ApiToken.objects.filter(pk=row.pk).update(
        last_used_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    client.get("/api/v1/reasons/")
    assert ApiToken.objects.get(pk=row.pk).last_used_at > first


@pytest.mark.parametrize(
    "header",
    ["Bearer nope", "Bearer cpor_abc_def", "Bearer", "Bearer a b", "Token cpor_x"],
)
def test_bad_tokens_are_401_with_an_error_body(partner, header):
    response = APIClient(HTTP_AUTHORIZATION=header).get("/api/v1/claims/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_anonymous_is_401(db):
    response = APIClient().get("/api/v1/claims/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_revoked_token_and_inactive_user_are_refused(partner):
    row, token = api_token_create(actor=partner, name="CRM")
    api_token_revoke(actor=partner, token=row)
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/claims/").status_code == 401
    _row, other = api_token_create(actor=partner, name="Second")
    partner.is_active = False
    partner.save()
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {other}").get("/api/v1/claims/").status_code == 401


def test_session_authenticates_the_browsable_api(partner):
    client = Client()
    client.force_login(partner)
    response = client.get("/api/v1/claims/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"<html" in response.content.lower()


def test_session_posts_need_the_csrf_token(partner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner)
    response = client.post("/api/v1/claims/", {}, content_type="application/json")
    assert response.status_code == 403


def test_tokens_page_creates_shows_once_and_revokes(partner):
    client = Client()
    assert client.get("/organisation/api-tokens/").status_code == 302  # sign in first
    client.login(username=partner.email, password=PASSWORD)
    response = client.post("/organisation/api-tokens/", {"name": "CRM integration"})
    assert response.status_code == 200
    row = ApiToken.objects.get(user=partner)
    shown = response.context["new_token"]
    assert shown.startswith(f"cpor_{row.prefix}_")
    assert hash_token(shown) == row.token_hash
    listing = client.get("/organisation/api-tokens/")
    assert shown.encode() not in listing.content
    assert b"CRM integration" in listing.content
    client.post(f"/organisation/api-tokens/{row.pk}/revoke/")
    row.refresh_from_db()
    assert row.revoked_at is not None


def test_tokens_page_refuses_an_empty_name_and_others_tokens(partner):
    client = Client()
    client.force_login(partner)
    response = client.post("/organisation/api-tokens/", {"name": ""})
    assert response.status_code == 200
    assert response.context["form"].errors
    other_row, _token = api_token_create(actor=partner_user(), name="Theirs")
    assert client.post(f"/organisation/api-tokens/{other_row.pk}/revoke/").status_code == 404
    other_row.refresh_from_db()
    assert other_row.revoked_at is None


def test_throttled_per_token_with_429(partner, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/minute", "anon": "3/minute"},
    }
    _row, token = api_token_create(actor=partner, name="CRM")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    codes = [client.get("/api/v1/reasons/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/v1/reasons/")
    assert response.json()["code"] == "throttled"
    assert "Retry-After" in response
    # Another token of the same user has its own budget.
    _row2, token2 = api_token_create(actor=partner, name="Other")
    assert (
        APIClient(HTTP_AUTHORIZATION=f"Bearer {token2}").get("/api/v1/reasons/").status_code == 200
    )
