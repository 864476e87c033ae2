"""Delivery over real SMTP (aiosmtpd in the test process): both parts, exactly once,
across an outage, and with two workers at once."""

import datetime
import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from cpor.notifications.delivery import backoff, outbox_deliver_due, outbox_deliver_message
from cpor.notifications.models import MessageStatus, OutboxMessage
from cpor.notifications.services import queue_email
from cpor.notifications.tests.smtp import parts

CONTEXT = {
    "claim_id": 7,
    "claim_name": "Adoption programme",
    "partner_contact_name": "Rui",
    "headline": "Claim approved",
    "tenant_name": "Contoso",
    "to_status": "Approved",
}


def queue(n: int, prefix: str = "m") -> list[OutboxMessage]:
    return [
        queue_email(
            to=f"{prefix}{i}@partner.example",
            template="partner_event",
            context=CONTEXT,
            dedupe_key=f"{prefix}-{i}",
        )
        for i in range(n)
    ]


@pytest.mark.django_db
def test_a_committed_message_is_delivered_with_both_parts(
    smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.CPOR_OPERATOR_NAME = "Fabrikam Partner Program"
    with django_capture_on_commit_callbacks(execute=True):
        (message,) = queue(1)
    (received,) = smtp_server.messages
    text, html = parts(received)
    assert "Adoption programme" in text and "Adoption programme" in html
    assert "Fabrikam Partner Program" in str(received["From"])
    assert received["To"] == "m0@partner.example"
    assert received["Content-Language"] == "en"
    assert received["Message-ID"].startswith(f"<outbox.{message.pk}.")
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 1


@pytest.mark.django_db
def test_smtp_down_for_a_while_every_message_arrives_once_when_it_returns(
    smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.stop()
    with django_capture_on_commit_callbacks(execute=True):
        messages = queue(5)
    assert OutboxMessage.objects.filter(status=MessageStatus.PENDING, attempts=1).count() == 5
    assert all(m.last_error for m in OutboxMessage.objects.all())

    later = timezone.now() + datetime.timedelta(minutes=10)
    assert outbox_deliver_due(now=later) == 0  # still down: retried, rescheduled
    assert OutboxMessage.objects.filter(attempts=2).count() == 5

    smtp_server.start()
    assert outbox_deliver_due(now=later) == 0  # not due again yet (backoff)
    much_later = later + datetime.timedelta(hours=1)
    assert outbox_deliver_due(now=much_later) == 5
    assert outbox_deliver_due(now=much_later + datetime.timedelta(days=1)) == 0
    for message in messages:
        outbox_deliver_message(message_id=message.pk)  # a late duplicate hand-off
    received = Counter(str(m["To"]) for m in smtp_server.messages)
    assert received == {f"m{i}@partner.example": 1 for i in range(5)}
    assert OutboxMessage.objects.filter(status=MessageStatus.SENT).count() == 5


@pytest.mark.django_db
def test_delivery_gives_up_after_the_last_attempt(smtp_server, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    smtp_server.stop()
    (message,) = queue(1)
    now = timezone.now()
    outbox_deliver_due(now=now)
    outbox_deliver_due(now=now + datetime.timedelta(days=1))
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.attempts == 2
    smtp_server.start()
    assert outbox_deliver_due(now=now + datetime.timedelta(days=2)) == 0
    assert smtp_server.messages == []


def test_backoff_doubles_and_is_capped(settings):
    settings.OUTBOX_BACKOFF_SECONDS = 30
    settings.OUTBOX_BACKOFF_MAX_SECONDS = 600
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 5, 9)] == [30, 60, 120, 480, 600]


@pytest.mark.django_db
def test_a_message_leased_by_another_worker_is_left_alone(smtp_server):
    (message,) = queue(1)
    now = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk).update(
        lease_token="other", lease_until=now + datetime.timedelta(minutes=5)
    )
    assert outbox_deliver_due(now=now) == 0
    assert outbox_deliver_message(message_id=message.pk, now=now) is False
    # The other worker died: once its lease runs out, the message is delivered.
    assert outbox_deliver_due(now=now + datetime.timedelta(minutes=6)) == 1
    assert len(smtp_server.messages) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.usefixtures("seeded_catalog")
def test_two_workers_at_once_send_each_message_once(smtp_server):
    smtp_server.stop()  # the hand-off after commit fails: every message waits for a retry
    queue(60, prefix="race")
    smtp_server.start()
    later = timezone.now() + datetime.timedelta(hours=1)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = outbox_deliver_due(now=later, batch_size=5)
        except Exception as error:  # reported below
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 60
    received = Counter(str(m["To"]) for m in smtp_server.messages)
    assert len(received) == 60 and set(received.values()) == {1}
