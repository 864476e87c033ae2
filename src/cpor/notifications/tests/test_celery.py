"""A real Celery worker, against Redis on 127.0.0.1:6379, delivers an outbox message.

Skipped when Redis is unreachable, except in CI (CI=true), where it must run."""

import logging
import time

import pytest
import redis
from django.db import connection

from cpor.celery import app
from cpor.notifications.models import MessageStatus, OutboxMessage
from cpor.notifications.services import queue_email
from cpor.testing.broker import publishing_to, require_redis

BROKER = "redis://127.0.0.1:6379/15"


@pytest.fixture
def celery_worker_on_redis(settings, monkeypatch):
    require_redis(BROKER)
    from celery.contrib.testing.worker import start_worker

    settings.CPOR_BACKGROUND = "celery"
    monkeypatch.setenv("CELERY_SKIP_CHECKS", "1")  # the suite checks the project elsewhere
    redis.Redis.from_url(BROKER).flushdb()
    # start_worker sets the root logger to its own level (ERROR); later tests that read
    # INFO lines (cpor.ops's log tests) must find it as it was.
    root = logging.getLogger()
    root_level = root.level
    try:
        with (
            publishing_to(BROKER, result_backend=None),
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
        ):
            yield app
    finally:
        root.setLevel(root_level)


needs_a_database_server = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a worker beside the web process needs a database server (the embedded mode "
    "delivers in-process; an in-memory SQLite test database locks its tables between "
    "the worker's thread and the test's)",
)


@needs_a_database_server
@pytest.mark.usefixtures("seeded_catalog")
def test_a_celery_worker_delivers_a_committed_message(smtp_server, celery_worker_on_redis):
    # queued outside any test transaction: the commit hands it to the broker.
    message = queue_email(
        to="rui@partner.example",
        template="partner_event",
        context={"claim_id": 1, "claim_name": "Via Celery", "headline": "Claim approved"},
        dedupe_key="celery-1",
    )
    (received,) = smtp_server.wait_for(1)
    assert "Via Celery" in str(received["Subject"])
    for _ in range(100):
        message.refresh_from_db()
        if message.status == MessageStatus.SENT:
            break
        time.sleep(0.05)
    assert message.status == MessageStatus.SENT
    assert OutboxMessage.objects.get().attempts == 1


@needs_a_database_server
@pytest.mark.usefixtures("seeded_catalog")
def test_a_committed_transition_reaches_everyone_through_a_worker(
    smtp_server, celery_worker_on_redis
):
    """The web process publishes one task per transition; the worker derives the e-mails
    from the history and sends each once."""
    from cpor.testing.factories import customer_tenant, partner_user, submitted_claim

    claim = submitted_claim(partner_user(), customer_tenant(domain="contoso.example"))
    deadline = time.monotonic() + 30
    while (
        not OutboxMessage.objects.exists()
        or OutboxMessage.objects.exclude(status=MessageStatus.SENT).exists()
    ):
        assert time.monotonic() < deadline, "the worker left messages unsent"
        time.sleep(0.05)
    expected = OutboxMessage.objects.count()
    assert expected >= 2  # the partner and at least one customer admin
    received = smtp_server.wait_for(expected)
    assert len(received) == expected
    subjects = {str(m["Subject"]) for m in received}
    assert f"Claim submitted: {claim.name}" in subjects
    assert any(claim.organisation.name in s for s in subjects)  # the customer's request


@needs_a_database_server
@pytest.mark.usefixtures("seeded_catalog")
def test_a_burst_of_transitions_reaches_everyone_with_one_pending_wake_up(
    smtp_server, celery_worker_on_redis, shared_cache
):
    """With the cache shared with the worker, commits find a wake-up pending and publish
    nothing, yet the worker's runs read every event: each e-mail arrives once."""
    from cpor.claims.models import ClaimEvent
    from cpor.notifications.models import EventCursor
    from cpor.testing.factories import customer_tenant, partner_user, submitted_claim

    partner = partner_user()
    claims = [submitted_claim(partner, customer_tenant()) for _ in range(6)]
    last = ClaimEvent.objects.order_by("-id").values_list("id", flat=True).first()
    deadline = time.monotonic() + 30
    while (
        not EventCursor.objects.filter(consumer="email", event_id__gte=last).exists()
        or OutboxMessage.objects.exclude(status=MessageStatus.SENT).exists()
    ):
        assert time.monotonic() < deadline, "the worker left events unread or messages unsent"
        time.sleep(0.05)
    expected = OutboxMessage.objects.count()
    received = smtp_server.wait_for(expected)
    assert len(received) == expected
    subjects = [str(m["Subject"]) for m in received]
    for claim in claims:
        assert subjects.count(f"Claim submitted: {claim.name}") == 1
