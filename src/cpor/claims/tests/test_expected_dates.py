"""The partner sees when to expect the program to act: the reviewer's targets, on the
claim page and in the API's claim body, from the one selector both use."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from rest_framework.test import APIClient

from cpor.catalog.models import ProgramSettings
from cpor.claims import services
from cpor.claims.business_days import add_business_days
from cpor.claims.models import Claim
from cpor.claims.selectors import expected_dates
from cpor.review.selectors import sla_clock
from cpor.testing.factories import customer_tenant, submitted_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(partner, tenant):
    settings = ProgramSettings.load()
    settings.pickup_target_business_days, settings.decision_target_business_days = 3, 4
    settings.save()
    return submitted_claim(partner, tenant)


def _day(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "DATE_FORMAT")


def test_the_partner_sees_when_a_reviewer_should_pick_up_and_decide(client, partner, submitted):
    claim = Claim.objects.get(pk=submitted.pk)
    pickup = add_business_days(claim.updated_at, 3)
    decision = add_business_days(pickup, 4)
    client.force_login(partner)
    body = client.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert "Expected pick-up by a reviewer" in body and _day(pickup) in body
    assert "Expected decision" in body and _day(decision) in body
    # The reviewer's clock shows the same pick-up date.
    assert sla_clock(claim, settings=ProgramSettings.load()).due == pickup
    with translation.override("pt-pt"):
        client.cookies["django_language"] = "pt-pt"
        partner.language = "pt-pt"
        partner.save()
        body = client.get(reverse("claims:detail", args=[claim.pk])).content.decode()
        assert _day(decision) in body  # "7 de dezembro de 2026", not 2026-12-07
    assert "Expected decision" not in body


def test_in_review_the_partner_sees_the_decision_date_only(client, partner, reviewer, submitted):
    claim = services.claim_start_review(actor=reviewer, claim=submitted)
    claim = Claim.objects.get(pk=claim.pk)
    dates = expected_dates(claim)
    assert dates.pickup is None and dates.decision == add_business_days(claim.updated_at, 4)
    client.force_login(partner)
    body = client.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert "Expected pick-up" not in body and _day(dates.decision) in body


def _api(user) -> APIClient:
    from cpor.api.tests.conftest import token_client

    return token_client(user)


def test_the_api_claim_body_gives_the_expected_dates(partner, reviewer, submitted):
    claim = Claim.objects.get(pk=submitted.pk)
    api = _api(partner)
    expected = api.get(f"/api/v1/claims/{claim.pk}/").json()["expected"]
    pickup = add_business_days(claim.updated_at, 3)
    assert datetime.datetime.fromisoformat(expected["pickup_by"]) == pickup
    assert datetime.datetime.fromisoformat(expected["decision_by"]) == add_business_days(pickup, 4)
    assert expected["reply_by"] is None
    listed = api.get("/api/v1/claims/").json()["results"]
    assert [row["expected"] for row in listed] == [expected]

    services.claim_request_info(
        actor=reviewer, claim=claim, reason_code="poe_missing", message="Which customer signed?"
    )
    claim.refresh_from_db()
    expected = api.get(f"/api/v1/claims/{claim.pk}/").json()["expected"]
    assert expected["pickup_by"] is None and expected["decision_by"] is None
    assert datetime.datetime.fromisoformat(expected["reply_by"]) == claim.info_requested_until


def test_a_draft_expects_nothing(partner):
    from cpor.testing.factories import claim_input

    draft = services.claim_create(actor=partner, data=claim_input(partner, customer_tenant()))
    body = _api(partner).get(f"/api/v1/claims/{draft.pk}/").json()
    assert body["expected"] == {"pickup_by": None, "decision_by": None, "reply_by": None}


def test_the_schema_documents_the_expected_dates():
    document = (
        APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    )
    claim = document["components"]["schemas"]["Claim"]["properties"]
    assert "expected" in claim
    dates = document["components"]["schemas"]["ExpectedDates"]["properties"]
    assert set(dates) == {"pickup_by", "decision_by", "reply_by"}
    assert dates["reply_by"]["format"] == "date-time" and dates["reply_by"]["nullable"]
