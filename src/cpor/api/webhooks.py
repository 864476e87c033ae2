"""Webhooks: every state change of a partner's claims and associations, POSTed as JSON
to the partner's endpoints, signed with HMAC-SHA256 of the endpoint's secret.

``webhook_messages`` is the "webhook" event consumer (``notifications.consumers``): after
a transition commits, each of its events becomes one outbox message per active
endpoint of the claim's partner, so a rolled-back change sends nothing and a committed
one is delivered, retried with backoff by the outbox until the endpoint answers 2xx.
``deliver`` is the outbox's deliverer for the kind "webhook". Each call is logged in
``WebhookDelivery``, which the partner sees.

Signature: ``X-CPOR-Signature: sha256=<hex>`` where ``<hex>`` is
HMAC-SHA256(secret, ``<X-CPOR-Timestamp>.<body>``); receivers recompute it and reject
timestamps older than a few minutes (replays).
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from cpor.api.models import WebhookDelivery, WebhookEndpoint
from cpor.claims.models import Association, Claim, ClaimEvent, EventAction
from cpor.notifications.models import MessageKind, OutboxMessage

TIMEOUT_SECONDS = 10
USER_AGENT = "CPOR-Webhooks/1.0"
# Events that are not state changes of a claim, a line or an association.
NOT_STATE_CHANGES = frozenset({EventAction.EDIT, EventAction.ADD_POE, EventAction.NOTE})


def event_type(event: ClaimEvent) -> str:
    """``claim.<action>`` or ``association.<action>``, e.g. ``claim.submit``."""
    subject = "association" if event.association_id else "claim"
    return f"{subject}.{event.action}"


def event_payload(event: ClaimEvent) -> dict:
    """The JSON body of an event, with the states the event recorded."""
    claim = event.claim
    association = event.association
    claim_status = event.to_status if association is None and event.to_status else claim.status
    body = {
        "id": f"evt_{event.pk}",
        "type": event_type(event),
        "created_at": event.at.isoformat(),
        "data": {
            "claim": {
                "id": claim.pk,
                "name": claim.name,
                "status": claim_status,
                "tenant_id": str(claim.tenant.tenant_id),
                "partner_id": claim.location.partner_id,
            },
            "event": {
                "action": event.action,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "reason_code": event.reason_code,
                "message": event.message,
            },
            "association": None,
        },
    }
    if association is not None:
        ended = event.action == EventAction.END
        body["data"]["association"] = {
            "id": association.pk,
            "status": event.to_status or association.status,
            "end_reason": event.reason_code if ended else "",
            "product": association.product.code,
            "subscription_id": str(association.subscription.subscription_id)
            if association.subscription_id
            else None,
        }
    return body


def webhook_messages(events: list[ClaimEvent]) -> list[OutboxMessage]:
    """The webhook calls a batch of committed events causes (unsaved outbox messages).

    Internal notes and edits are not sent; everything else in the history is a state
    change of the claim, a line or an association. Two queries when no partner of the
    batch has an endpoint."""
    changes = [e for e in events if not e.internal and e.action not in NOT_STATE_CHANGES]
    if not changes:
        return []
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(
        organisation_id__in={e.claim.organisation_id for e in changes}, active=True
    ).order_by("pk"):
        endpoints.setdefault(endpoint.organisation_id, []).append(endpoint)
    calls = [
        (event, endpoint)
        for event in changes
        for endpoint in endpoints.get(event.claim.organisation_id, ())
    ]
    if not calls:
        return []
    claims = Claim.objects.select_related("tenant", "location").in_bulk(
        {event.claim_id for event, _ in calls}
    )
    associations = Association.objects.select_related("product", "subscription").in_bulk(
        {event.association_id for event, _ in calls if event.association_id}
    )
    for event, _ in calls:
        event.claim = claims[event.claim_id]
        if event.association_id:
            event.association = associations[event.association_id]
    payloads = {event.pk: event_payload(event) for event, _ in calls}
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=endpoint,
                event_id=event.pk,
                event_type=payloads[event.pk]["type"],
                payload=payloads[event.pk],
            )
            for event, endpoint in calls
        ]
    )
    return [
        OutboxMessage(
            kind=MessageKind.WEBHOOK,
            dedupe_key=f"webhook:{endpoint.pk}:{event.pk}",
            recipient=endpoint.url,
            payload={**payloads[event.pk], "delivery_id": delivery.pk},
            secret=endpoint.secret,
            endpoint_id=endpoint.pk,
            event_id=event.pk,
        )
        for (event, endpoint), delivery in zip(calls, deliveries, strict=True)
    ]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def _refuse_private_address(host: str, port: int) -> None:
    """No calls into the operator's own network, unless the host is explicitly allowed
    (tests and local development)."""
    if host in settings.API_WEBHOOK_INSECURE_HOSTS:
        return
    for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP):
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ConnectionRefusedError(f"{host} resolves to a non-public address")


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST without following redirects; the response status."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    _refuse_private_address(parts.hostname or "", port)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname, port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=TIMEOUT_SECONDS)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(64 * 1024)
        return response.status
    finally:
        conn.close()


class WebhookRefused(Exception):
    """The endpoint answered, but not with 2xx: the outbox retries later."""


def deliver(message, session) -> None:
    """The outbox deliverer for "webhook" messages: sign, POST, log; raise to retry."""
    payload = message.payload
    delivery_id = payload.get("delivery_id")
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-CPOR-Event": payload.get("type", ""),
        "X-CPOR-Delivery": str(delivery_id or message.pk),
        "X-CPOR-Timestamp": timestamp,
        "X-CPOR-Signature": sign(message.secret, timestamp, body),
    }
    log = WebhookDelivery.objects.filter(pk=delivery_id)
    try:
        status = post(message.recipient, body, headers)
        if not 200 <= status < 300:
            raise WebhookRefused(f"the endpoint answered HTTP {status}")
    except WebhookRefused as error:
        log.update(
            status=WebhookDelivery.Status.FAILED,
            attempts=F("attempts") + 1,
            response_status=status,
            last_error=str(error),
        )
        raise
    except (OSError, http.client.HTTPException) as error:
        log.update(
            status=WebhookDelivery.Status.FAILED,
            attempts=F("attempts") + 1,
            response_status=None,
            last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        raise
    log.update(
        status=WebhookDelivery.Status.DELIVERED,
        attempts=F("attempts") + 1,
        response_status=status,
        last_error="",
        delivered_at=timezone.now(),
    )
