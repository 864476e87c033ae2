"""Declining through the signed link: valid, reused, tampered, expired, another
tenant's units, units no longer held."""

import datetime

import pytest
from django.utils import timezone

from cpor.claims import services
from cpor.claims.models import (
    AssociationStatus,
    ClaimEvent,
    ClaimStatus,
    EndReason,
    LineStatus,
)
from cpor.consent.models import DeclineLink
from cpor.consent.tests.helpers import decline_url_for
from cpor.notifications.models import OutboxMessage
from cpor.testing.events import consume_events, rendered
from cpor.testing.factories import customer_tenant, operator_user, partner_user, submitted_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(partner, tenant):
    return submitted_claim(partner, tenant, products=["teams", "intune"])


def state(claim) -> tuple:
    claim.refresh_from_db()
    return (
        claim.status,
        sorted(claim.lines.values_list("status", flat=True)),
        sorted(claim.associations.values_list("status", "end_reason")),
        claim.events.count(),
    )


def test_the_link_shows_the_request_without_an_account(client, claim):
    response = client.get(decline_url_for(claim))
    assert response.status_code == 200
    body = response.content.decode()
    assert claim.organisation.name in body
    assert claim.location.partner_id in body
    assert claim.name in body
    assert "Microsoft Teams" in body or "Teams" in body
    assert response["Referrer-Policy"] == "same-origin"


def test_declining_every_line_declines_the_claim_and_twice_is_harmless(client, claim):
    url = decline_url_for(claim)
    line_ids = list(claim.lines.values_list("pk", flat=True))
    response = client.post(
        url, {"units": line_ids, "reason": "We never hired them.", "confirm": "1"}
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DECLINED
    assert set(claim.lines.values_list("status", flat=True)) == {LineStatus.DECLINED}
    event = claim.events.get(action="decline")
    assert event.message == "We never hired them." and event.actor_label.startswith("customer (")
    before = state(claim)
    again = client.post(url, {"units": line_ids, "confirm": "1"})
    assert again.status_code in (302, 400)
    assert state(claim) == before
    # The partner was told.
    consume_events()
    told = OutboxMessage.objects.filter(recipient=claim.partner_contact_email)
    assert any(rendered(m).subject.startswith("The customer declined") for m in told)


def test_declining_some_lines_leaves_the_others_under_review(client, claim):
    first = claim.lines.first()
    client.post(decline_url_for(claim), {"units": [first.pk], "confirm": "1"})
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    assert dict(claim.lines.values_list("pk", "status"))[first.pk] == LineStatus.DECLINED


def test_declining_an_approved_association_ends_it(client, claim):
    services.claim_approve(actor=operator_user(), claim=claim)
    association = claim.associations.first()
    response = client.post(decline_url_for(claim), {"units": [association.line_id], "confirm": "1"})
    assert response.status_code == 302
    association.refresh_from_db()
    assert association.status == AssociationStatus.ENDED
    assert association.end_reason == EndReason.DECLINED_BY_CUSTOMER
    assert claim.associations.exclude(pk=association.pk).get().is_held


def test_a_unit_no_longer_held_gets_a_clear_answer_and_nothing_changes(client, partner, claim):
    services.claim_approve(actor=operator_user(), claim=claim)
    association = claim.associations.first()
    services.association_withdraw(actor=partner, association=association, reason="Project over")
    before = state(claim)
    response = client.post(decline_url_for(claim), {"units": [association.line_id], "confirm": "1"})
    assert response.status_code == 400
    assert "no longer held" in response.content.decode()
    assert state(claim) == before


def test_units_of_another_tenant_cannot_be_declined_through_this_link(client, claim):
    other = submitted_claim(partner_user(), customer_tenant())
    other_before = state(other)
    before = state(claim)
    response = client.post(
        decline_url_for(claim), {"units": [other.lines.get().pk], "confirm": "1"}
    )
    assert response.status_code == 400
    assert "Choose units of this request only." in response.content.decode()
    assert other.tenant.name not in response.content.decode()
    assert state(other) == other_before and state(claim) == before


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "x" + token,
        lambda token: "not-a-token",
        lambda token: "A" * 190,
    ],
)
def test_a_tampered_or_malformed_link_opens_nothing(client, claim, mangle):
    url = decline_url_for(claim)
    token = url.rstrip("/").rsplit("/", 1)[1]
    before = state(claim)
    bad = f"/customer/decline/{mangle(token)}/"
    assert client.get(bad).status_code == 404
    response = client.post(bad, {"units": list(claim.lines.values_list("pk", flat=True))})
    assert response.status_code == 404
    body = response.content.decode()
    assert "fresh link" in body and claim.name not in body
    assert state(claim) == before


def test_an_expired_link_explains_how_to_get_a_fresh_one(client, claim):
    url = decline_url_for(claim)
    DeclineLink.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    before = state(claim)
    response = client.post(url, {"units": list(claim.lines.values_list("pk", flat=True))})
    assert response.status_code == 410
    body = response.content.decode()
    assert "expired" in body and "fresh link" in body and claim.name not in body
    assert state(claim) == before


def test_a_link_for_a_claim_of_another_tenant_shows_only_that_claim(client, claim):
    other = submitted_claim(partner_user(), customer_tenant())
    body = client.get(decline_url_for(other)).content.decode()
    assert other.name in body and claim.name not in body and claim.tenant.name not in body


def test_the_link_expires_well_after_the_notice_period(claim):
    consume_events()
    link = DeclineLink.objects.filter(claim=claim).first()
    assert link.expires_at - link.created_at == datetime.timedelta(days=30)
    assert ClaimEvent.objects.filter(claim=claim).exists()
