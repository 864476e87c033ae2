"""The workload endpoints: bulk decisions, assignment, duty, saved filters; who may call
them, their errors and idempotency."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from cpor.accounts.models import OperatorRole
from cpor.api.services import api_token_create
from cpor.claims import services
from cpor.claims.models import Claim, ClaimStatus, ReviewerDuty
from cpor.review.tests.test_workload import held_with_newer_poe
from cpor.testing.factories import operator_user, partner_user, submitted_claim

pytestmark = pytest.mark.django_db


def token_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        _row, token = api_token_create(actor=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    from django.core.cache import cache

    cache.clear()


def test_bulk_approve_reports_every_claim_and_replays_with_the_same_key():
    reviewer, colleague = operator_user(), operator_user()
    fine, conflicting, decided = submitted_claim(), held_with_newer_poe(), submitted_claim()
    services.claim_approve(actor=colleague, claim=decided)
    client = token_client(reviewer)
    body = {"action": "approve", "claims": [fine.pk, conflicting.pk, decided.pk]}
    response = client.post(
        reverse("review-bulk"), body, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1"
    )
    assert response.status_code == 200
    data = response.json()
    assert (data["done"], data["refused"]) == (1, 2)
    results = {r["claim"]: r for r in data["results"]}
    assert results[fine.pk]["ok"] and results[fine.pk]["status"] == "approved"
    assert results[conflicting.pk]["code"] == "unit_held_with_newer_poe"
    assert results[decided.pk]["code"] == "illegal_transition"
    assert results[decided.pk]["field"] == "status"
    again = client.post(reverse("review-bulk"), body, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert again.json() == data and again["Idempotent-Replayed"] == "true"
    assert Claim.objects.get(pk=conflicting.pk).status == ClaimStatus.SUBMITTED


@pytest.mark.parametrize(
    "body, field",
    [
        ({"action": "approve", "claims": []}, "claims"),
        ({"action": "explode", "claims": [1]}, "action"),
        ({"action": "reject", "claims": [1]}, "reason_code"),
        ({"action": "request_info", "claims": [1], "reason_code": "poe_missing"}, "message"),
        ({"action": "approve", "claims": list(range(1, 102))}, "claims"),
        ({"action": "approve", "claims": [1], "extra": 1}, "extra"),
    ],
)
def test_bulk_refuses_bad_input_naming_the_field(body, field):
    response = token_client(operator_user()).post(reverse("review-bulk"), body, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    "who, status",
    [("anonymous", 401), ("partner", 403), ("program_admin", 403), ("reviewer", 200)],
)
def test_bulk_permission_matrix(who, status):
    users = {
        "anonymous": None,
        "partner": partner_user(),
        "program_admin": operator_user(OperatorRole.PROGRAM_ADMIN),
        "reviewer": operator_user(),
    }
    claim = submitted_claim()
    response = token_client(users[who]).post(
        reverse("review-bulk"), {"action": "start_review", "claims": [claim.pk]}, format="json"
    )
    assert response.status_code == status


def test_assign_a_claim_to_a_named_reviewer():
    admin, reviewer = operator_user(OperatorRole.PROGRAM_ADMIN), operator_user()
    claim = submitted_claim()
    url = reverse("review-assign", args=[claim.pk])
    response = token_client(admin).post(url, {"reviewer": reviewer.pk}, format="json")
    assert response.status_code == 200 and response.json()["id"] == claim.pk
    assert Claim.objects.get(pk=claim.pk).assigned_reviewer == reviewer
    refused = token_client(admin).post(url, {"reviewer": admin.pk}, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "reviewer"
    partner = token_client(partner_user()).post(url, {"reviewer": reviewer.pk}, format="json")
    assert partner.status_code == 404  # a claim the partner cannot see does not exist


def test_reviewers_duty_and_reassignment():
    admin = operator_user(OperatorRole.PROGRAM_ADMIN)
    away, other = operator_user(), operator_user()
    claim = submitted_claim()
    services.claim_assign(actor=admin, claim=claim, reviewer=away)
    client = token_client(admin)
    listed = {r["id"]: r for r in client.get(reverse("review-reviewers")).json()}
    assert listed[away.pk]["open_claims"] == 1 and not listed[away.pk]["on_duty"]
    put = client.post(
        reverse("review-reviewer-duty", args=[other.pk]), {"on_duty": True}, format="json"
    )
    assert put.json() == {"reviewer": other.pk, "on_duty": True, "reassigned": 0}
    gone = client.post(
        reverse("review-reviewer-duty", args=[away.pk]), {"on_duty": False}, format="json"
    )
    assert gone.json()["reassigned"] == 1
    assert Claim.objects.get(pk=claim.pk).assigned_reviewer == other
    colleague = token_client(away).post(
        reverse("review-reviewer-duty", args=[other.pk]), {"on_duty": False}, format="json"
    )
    assert colleague.status_code == 403 and ReviewerDuty.objects.get(pk=other.pk).on_duty
    assert token_client(partner_user()).get(reverse("review-reviewers")).status_code == 403


def test_saved_filters_through_the_api():
    reviewer, colleague = operator_user(), operator_user()
    client = token_client(reviewer)
    created = client.post(
        reverse("review-saved-filters"),
        {"name": "Disputed, mine", "status": "disputed", "mine": True},
        format="json",
    )
    assert created.status_code == 201
    saved = created.json()
    assert saved["query"] == "status=disputed&mine=on"
    assert [f["name"] for f in client.get(reverse("review-saved-filters")).json()] == [
        "Disputed, mine"
    ]
    other = token_client(colleague)
    assert other.get(reverse("review-saved-filters")).json() == []
    assert other.delete(reverse("review-saved-filter", args=[saved["id"]])).status_code == 404
    bad = client.post(
        reverse("review-saved-filters"), {"name": "x", "status": "approved"}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["field"] == "status"
    assert client.delete(reverse("review-saved-filter", args=[saved["id"]])).status_code == 204


def test_the_schema_documents_the_workload_and_legacy_endpoints():
    document = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = set(document.json()["paths"])
    assert {
        "/api/v1/review/bulk/",
        "/api/v1/review/claims/{id}/assign/",
        "/api/v1/review/reviewers/",
        "/api/v1/review/reviewers/{id}/duty/",
        "/api/v1/review/saved-filters/",
        "/api/v1/review/saved-filters/{id}/",
        "/api/v1/legacy-associations/",
        "/api/v1/legacy-associations/import/",
    } <= paths
