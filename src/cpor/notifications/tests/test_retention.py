"""Retention: sent messages, webhook deliveries, decline links and idempotency records
are deleted by periodic jobs once past their retention, set-based; nothing unsent goes."""

import datetime

import pytest
from django.utils import timezone

from cpor.api.models import IdempotencyRecord, WebhookDelivery, WebhookEndpoint
from cpor.consent.models import DeclineLink
from cpor.notifications import periodic
from cpor.notifications.models import MessageStatus, OutboxMessage
from cpor.retention import delete_in_batches
from cpor.testing.factories import customer_tenant, partner_user, submitted_claim

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
MINUTE = datetime.timedelta(minutes=1)


def message(key: str, *, status: str, sent_at=None) -> OutboxMessage:
    return OutboxMessage.objects.create(
        kind="email",
        dedupe_key=key,
        recipient="ana@customer.example",
        subject="Claim approved",
        status=status,
        sent_at=sent_at,
    )


def test_sent_messages_go_after_their_retention_and_unsent_ones_never(settings):
    days = settings.RETENTION_SENT_MESSAGES_DAYS
    now = timezone.now()
    edge = now - days * DAY
    message("old", status=MessageStatus.SENT, sent_at=edge - MINUTE)
    message("recent", status=MessageStatus.SENT, sent_at=edge + MINUTE)
    message("pending", status=MessageStatus.PENDING)
    message("gave-up", status=MessageStatus.FAILED)
    OutboxMessage.objects.filter(dedupe_key__in=["pending", "gave-up"]).update(
        created_at=now - 10 * days * DAY
    )
    assert periodic.run_job("purge_sent_messages") == 1
    assert set(OutboxMessage.objects.values_list("dedupe_key", flat=True)) == {
        "recent",
        "pending",
        "gave-up",
    }


def test_delivered_webhook_calls_go_after_the_retention_failing_ones_stay(settings):
    days = settings.RETENTION_SENT_MESSAGES_DAYS
    user = partner_user()
    endpoint = WebhookEndpoint.objects.create(
        organisation=user.partner_membership.organisation,
        url="https://hooks.partner.example/cpor",
        secret="whsec_x",
        created_by=user,
    )
    edge = timezone.now() - days * DAY
    rows = {
        "old": (WebhookDelivery.Status.DELIVERED, edge - MINUTE),
        "recent": (WebhookDelivery.Status.DELIVERED, edge + MINUTE),
        "failing": (WebhookDelivery.Status.FAILED, None),
        "pending": (WebhookDelivery.Status.PENDING, None),
    }
    for event_id, (name, (status, delivered_at)) in enumerate(rows.items(), start=1):
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=event_id,
            event_type=name,
            payload={},
            status=status,
            delivered_at=delivered_at,
            created_at=edge - 10 * DAY,
        )
    assert periodic.run_job("purge_sent_messages") == 1
    assert set(WebhookDelivery.objects.values_list("event_type", flat=True)) == {
        "recent",
        "failing",
        "pending",
    }


def test_decline_links_go_a_retention_period_after_they_expire(settings):
    days = settings.RETENTION_DECLINE_LINKS_DAYS
    claim = submitted_claim(partner_user(), customer_tenant())
    now = timezone.now()
    edge = now - days * DAY
    links = {
        "expired-long-ago": (edge - MINUTE, None),
        "used-and-expired-long-ago": (edge - MINUTE, edge - 2 * DAY),
        "expired-lately": (edge + MINUTE, None),
        "used-still-valid": (now + DAY, now - DAY),
    }
    for nonce, (expires_at, used_at) in links.items():
        DeclineLink.objects.create(
            nonce=nonce,
            claim=claim,
            email="ana@customer.example",
            expires_at=expires_at,
            last_used_at=used_at,
        )
    assert periodic.run_job("purge_decline_links") == 2
    assert set(DeclineLink.objects.values_list("nonce", flat=True)) == {
        "expired-lately",
        "used-still-valid",
    }


def test_idempotency_records_are_purged_by_a_scheduled_job(settings):
    user = partner_user()
    edge = timezone.now() - datetime.timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    for key, created_at in (("old", edge - MINUTE), ("recent", edge + MINUTE)):
        IdempotencyRecord.objects.create(
            user=user,
            key=key,
            fingerprint="f",
            status_code=201,
            body=b"{}",
            content_type="application/json",
            created_at=created_at,
        )
    assert periodic.run_job("purge_idempotency_records") == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
    scheduled = {entry["args"][0] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for job in (
        "purge_sent_messages",
        "purge_decline_links",
        "purge_idempotency_records",
        "sweep_poe_orphans",
    ):
        assert job in scheduled and job in periodic.JOBS


def test_a_purge_costs_one_statement_per_batch_whatever_its_size(django_assert_num_queries):
    old = timezone.now() - 400 * DAY
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            kind="email",
            dedupe_key=f"m{i}",
            recipient="a@b.example",
            status=MessageStatus.SENT,
            sent_at=old,
        )
        for i in range(250)
    )
    sent = OutboxMessage.objects.filter(status=MessageStatus.SENT)
    # 250 rows in batches of 100: three DELETEs (the last one short), nothing else.
    with django_assert_num_queries(3):
        assert delete_in_batches(sent, batch_size=100) == 250
    assert not OutboxMessage.objects.exists()
