"""The event consumers: messages derived from committed history, once, whatever happens."""

import datetime
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from cpor.claims import events, services
from cpor.notifications import consumers
from cpor.notifications.delivery import outbox_deliver_due
from cpor.notifications.models import EventCursor, OutboxMessage
from cpor.notifications.services import queue_email
from cpor.testing.events import consume_events, rendered
from cpor.testing.factories import (
    UserFactory,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs real concurrent connections"
)


@pytest.mark.usefixtures("seeded_catalog")
def test_a_transition_wakes_the_consumers_once_after_its_commit(monkeypatch, settings):
    settings.CPOR_BACKGROUND = "off"
    reviewer, tenant = operator_user(), customer_tenant()
    today = timezone.localdate()
    holder = submitted_claim(partner_user(), tenant, signed_on=today - datetime.timedelta(days=60))
    services.claim_approve(actor=reviewer, claim=holder)
    newcomer = submitted_claim(partner_user(), tenant, signed_on=today - datetime.timedelta(days=5))
    wakes: list[int] = []
    monkeypatch.setattr(events, "_subscribers", [lambda: wakes.append(newcomer.events.count())])
    with transaction.atomic():
        # Ends the holder's association and approves: two events, one transaction.
        services.claim_approve(actor=reviewer, claim=newcomer)
        assert wakes == []  # nothing before the commit
    assert holder.associations.get().end_reason == "superseded"
    assert wakes == [newcomer.events.count()]  # once, after both events were committed


@pytest.mark.django_db
def test_each_event_becomes_messages_once(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    first = consume_events()
    assert first  # the customer's request and the partner's notice
    assert consume_events() == []
    services.claim_approve(actor=reviewer, claim=claim)
    (approved,) = consume_events()
    assert OutboxMessage.objects.count() == len(first) + 1
    cursor = EventCursor.objects.get(consumer="email")
    assert cursor.event_id == claim.events.order_by("-id").first().pk
    assert rendered(OutboxMessage.objects.get(pk=approved)).subject.startswith("Claim approved")


@pytest.mark.django_db
def test_a_message_shows_the_state_its_event_recorded_in_the_recipients_language(reviewer, tenant):
    partner = partner_user()
    UserFactory(email="rita@partner.example", language="pt-pt")
    claim = submitted_claim(partner, tenant, partner_contact_email="rita@partner.example")
    services.claim_request_info(
        actor=reviewer, claim=claim, reason_code="poe_missing", message="Falta o SoW."
    )
    services.claim_reply(actor=partner, claim=claim, message="Added.")
    services.claim_approve(actor=reviewer, claim=claim)
    consume_events()
    # Rendered after the claim moved on: the request still reads as a request.
    request = OutboxMessage.objects.get(
        template="partner_event",
        event_id__in=claim.events.filter(action="request_info").values("pk"),
    )
    assert request.language == "pt-pt"
    mail = rendered(request)
    assert "Falta o SoW." in mail.body_text
    assert "Aprovad" not in mail.body_text  # not the approval that happened since
    english = rendered(OutboxMessage(**{**_fields(request), "language": "en"}))
    assert mail.subject != english.subject


def consume_until(count: int, timeout: float = 30.0) -> None:
    """Consume until ``count`` messages exist. On a shared PostgreSQL server a write
    transaction of another database that began before ours holds the horizon back."""
    deadline = time.monotonic() + timeout
    while OutboxMessage.objects.count() < count and time.monotonic() < deadline:
        consumers.consume_all()
        time.sleep(0.1)


def _fields(message: OutboxMessage) -> dict:
    return {
        f.name: getattr(message, f.name)
        for f in OutboxMessage._meta.concrete_fields
        if f.name != "id"
    }


@pytest.mark.django_db
def test_a_draft_warning_event_e_mails_the_author(partner, tenant):
    claim = services.claim_create(actor=partner, data=_input(partner, tenant))
    assert services.claims_warn_stale_drafts(now=timezone.now() + datetime.timedelta(days=85))
    consume_events()
    (warning,) = OutboxMessage.objects.filter(recipient=partner.email)
    mail = rendered(warning)
    assert claim.name in mail.subject and "expire" in mail.body_text


def _input(partner, tenant):
    from cpor.testing.factories import claim_input

    return claim_input(partner, tenant)


@postgres_only
@pytest.mark.usefixtures("seeded_catalog")
def test_an_event_committed_after_a_later_one_is_not_skipped(settings):
    """PostgreSQL hands out ids before commit: the cursor must not pass an event whose
    transaction is still open."""
    settings.CPOR_BACKGROUND = "off"  # this test runs the consumer itself
    partner, reviewer = partner_user(), operator_user()
    early = submitted_claim(partner, customer_tenant())
    late = submitted_claim(partner, customer_tenant())
    consume_until(4)  # the two requests and the two partner notices
    before = OutboxMessage.objects.count()
    written, release, done = threading.Event(), threading.Event(), threading.Event()

    def slow_transition() -> None:
        try:
            with transaction.atomic():
                services.claim_start_review(actor=reviewer, claim=early)  # the smaller id
                written.set()
                release.wait(20)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=slow_transition)
    thread.start()
    assert written.wait(20)
    services.claim_start_review(actor=reviewer, claim=late)  # larger id, committed first
    consumers.consume_all()
    release.set()
    thread.join(20)
    assert done.is_set()
    consume_until(before + 2)
    told = {m.event_id for m in OutboxMessage.objects.filter(template="partner_event")}
    started = {
        e.pk
        for e in (early.events.get(action="start_review"), late.events.get(action="start_review"))
    }
    assert started <= told


CHILD = """
import os, sys, time
import django
django.setup()
from cpor.notifications import consumers
real_insert = consumers.outbox_insert

def insert_then_hang(messages):
    ids = real_insert(messages)
    if not ids:
        return ids
    print("DERIVED", len(ids), flush=True)
    time.sleep(60)  # killed here: messages written, cursor not moved, nothing committed
    return ids

consumers.outbox_insert = insert_then_hang
for _ in range(300):  # until the committed claims are past every older transaction
    consumers.consume_all()
    time.sleep(0.1)
"""


@postgres_only
@pytest.mark.usefixtures("seeded_catalog")
def test_a_consumer_killed_before_it_commits_loses_and_doubles_nothing(
    smtp_server, settings, tmp_path
):
    settings.CPOR_BACKGROUND = "off"  # only the processes below consume
    partner = partner_user()
    claims = [submitted_claim(partner, customer_tenant()) for _ in range(3)]
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cpor.settings",
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CPOR_VAR_DIR": str(tmp_path),
    }
    child = subprocess.Popen(  # noqa: S603 (our own script)
        [sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        line = child.stdout.readline()
        assert line.startswith("DERIVED"), line
        assert int(line.split()[1]) > 0
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert not OutboxMessage.objects.exists()
    # The cursor did not move past what the killed consumer had derived.
    first_submission = min(c.events.get(action="submit").pk for c in claims)
    cursor = EventCursor.objects.filter(consumer="email").first()  # none: rolled back too
    assert cursor is None or cursor.event_id < first_submission
    # Another worker takes over: every e-mail once.
    consume_until(2 * len(claims))
    expected = OutboxMessage.objects.filter(kind="email").count()
    assert expected >= 2 * len(claims)
    assert outbox_deliver_due() == expected
    received = Counter(m["Message-ID"] for m in smtp_server.wait_for(expected))
    assert len(received) == expected and set(received.values()) == {1}


@postgres_only
@pytest.mark.usefixtures("seeded_catalog")
def test_a_slow_smtp_server_and_a_backlog_larger_than_a_batch_each_mail_once(smtp_server, settings):
    """Each message takes 1.5 s; a batch of five outlives its lease, so the second
    worker takes over what the first has not reached: renewing the lease per message
    keeps any message from going out twice."""
    settings.CPOR_BACKGROUND = "off"
    settings.OUTBOX_LEASE_SECONDS = 4
    for i in range(12):
        queue_email(
            to=f"slow{i}@partner.example",
            template="partner_event",
            context={"claim_id": i, "claim_name": f"Backlog {i}", "headline": "Claim approved"},
            dedupe_key=f"slow-{i}",
        )
    smtp_server.inbox.delay = 1.5
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = outbox_deliver_due(batch_size=5)
        except Exception as error:  # reported below
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    started = time.monotonic()
    while (
        OutboxMessage.objects.filter(status="pending").exists() and time.monotonic() - started < 30
    ):
        outbox_deliver_due(now=timezone.now() + datetime.timedelta(seconds=5))
    assert all(isinstance(r, int) for r in results), results
    received = Counter(str(m["To"]) for m in smtp_server.wait_for(12))
    assert len(received) == 12 and set(received.values()) == {1}
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_an_upgraded_database_starts_after_its_history(partner, tenant):
    submitted_claim(partner, tenant)
    consumers.skip_to_head()
    assert consume_events() == []
    assert not OutboxMessage.objects.exists()
