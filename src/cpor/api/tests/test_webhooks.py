"""Webhooks: state changes queued in the outbox with the change, delivered signed, retried,
and logged for the partner."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import transaction

from cpor.api.models import WebhookDelivery, WebhookEndpoint
from cpor.claims import services
from cpor.claims.models import ClaimEvent, ClaimStatus
from cpor.notifications.delivery import outbox_deliver_due
from cpor.notifications.models import MessageStatus, OutboxMessage
from cpor.testing.events import consume_events, deliver_events
from cpor.testing.factories import claim_input, submitted_claim

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP endpoint that records what it receives and answers ``status``."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.calls: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.API_WEBHOOK_INSECURE_HOSTS = ["127.0.0.1"]
    settings.OUTBOX_MAX_ATTEMPTS = 3
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def endpoint(people, receiver):
    owner = people["incentives_admin"]
    return WebhookEndpoint.objects.create(
        organisation=owner.partner_membership.organisation,
        url=receiver.url,
        secret="whsec_test",
        created_by=owner,
    )


def test_every_state_change_is_queued_with_the_change(people, customer, endpoint):
    claim = submitted_claim(people["incentives_admin"], customer)
    services.claim_add_note(actor=people["reviewer"], claim=claim, message="internal")
    services.claim_approve(actor=people["reviewer"], claim=claim)
    consume_events()
    types = list(WebhookDelivery.objects.order_by("id").values_list("event_type", flat=True))
    # Created, submitted, approved; the PoE upload and the internal note are not sent.
    assert types == ["claim.create", "claim.submit", "claim.approve"]
    assert OutboxMessage.objects.filter(kind="webhook").count() == 3


def test_association_changes_name_the_association(people, customer, endpoint):
    claim = submitted_claim(people["incentives_admin"], customer)
    services.claim_approve(actor=people["reviewer"], claim=claim)
    association = claim.associations.get()
    services.association_withdraw(
        actor=people["incentives_admin"], association=association, reason="Contract over"
    )
    consume_events()
    ended = WebhookDelivery.objects.get(event_type="association.end")
    assert ended.payload["data"]["association"]["id"] == association.pk
    assert ended.payload["data"]["association"]["end_reason"] == "withdrawn"


def test_other_partners_endpoints_get_nothing(people, customer, endpoint):
    submitted_claim(people["other_partner"], customer)
    consume_events()
    assert not WebhookDelivery.objects.exists()


class Abort(Exception):
    pass


def test_a_rolled_back_change_sends_nothing(people, customer, endpoint):
    claim = submitted_claim(people["incentives_admin"], customer)
    consume_events()
    before = OutboxMessage.objects.count(), WebhookDelivery.objects.count()
    with pytest.raises(Abort), transaction.atomic():
        services.claim_approve(actor=people["reviewer"], claim=claim)
        # The approval and its event were written before the rollback.
        assert ClaimEvent.objects.filter(claim=claim, action="approve").exists()
        raise Abort
    consume_events()
    assert (OutboxMessage.objects.count(), WebhookDelivery.objects.count()) == before
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED


def test_delivery_is_signed_and_logged(people, customer, endpoint, receiver):
    submitted_claim(people["incentives_admin"], customer)
    deliver_events()
    # Created and submitted (the PoE upload is not a state change).
    assert len(receiver.calls) == 2
    headers, body = receiver.calls[1]
    expected = hmac.new(
        b"whsec_test", headers["X-CPOR-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-CPOR-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["type"] == headers["X-CPOR-Event"] == "claim.submit"
    assert payload["data"]["claim"]["status"] == "submitted"
    assert payload["data"]["event"]["to_status"] == "submitted"
    log = WebhookDelivery.objects.get(event_type="claim.submit")
    assert (log.status, log.attempts, log.response_status) == ("delivered", 1, 204)
    assert log.delivered_at is not None


def test_failed_deliveries_are_retried_then_given_up(people, customer, endpoint, receiver):
    import datetime

    from django.utils import timezone

    receiver.status = 500
    owner = people["incentives_admin"]
    services.claim_create(actor=owner, data=claim_input(owner, customer))
    assert deliver_events() == 0  # creating a draft e-mails nobody
    log = WebhookDelivery.objects.get()
    assert (log.status, log.attempts, log.response_status) == ("failed", 1, 500)
    assert "HTTP 500" in log.last_error
    message = OutboxMessage.objects.get(kind="webhook")
    assert message.status == MessageStatus.PENDING
    later = timezone.now() + datetime.timedelta(days=1)
    receiver.status = 200
    assert outbox_deliver_due(now=later) == 1
    log.refresh_from_db()
    assert (log.status, log.attempts) == ("delivered", 2)
    assert len(receiver.calls) == 2


def test_private_addresses_are_refused_unless_allowed(people, customer, endpoint, settings):
    settings.API_WEBHOOK_INSECURE_HOSTS = []
    submitted_claim(people["incentives_admin"], customer)
    deliver_events()
    webhooks = OutboxMessage.objects.filter(kind="webhook")
    assert set(webhooks.values_list("status", flat=True)) == {MessageStatus.PENDING}
    log = WebhookDelivery.objects.get(event_type="claim.submit")
    assert "non-public address" in log.last_error


def test_the_partner_reads_the_delivery_log_over_the_api(clients, people, customer, endpoint):
    submitted_claim(people["incentives_admin"], customer)
    deliver_events()
    log = clients["incentives_user"].get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").json()
    assert [d["event_type"] for d in log["results"]] == ["claim.submit", "claim.create"]
    assert all(d["status"] == "delivered" for d in log["results"])
    other = clients["other_partner"].get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/")
    assert other.status_code == 404
