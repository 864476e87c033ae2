"""Webhooks: every state change of a partner's claims and associations, POSTed as JSON
to the partner's endpoints, signed with HMAC-SHA256 of the endpoint's secret.

``queue_webhooks_for_event`` runs inside the transaction that writes the history event
(``claims.services._record``): one outbox message per endpoint, so a rolled-back change
sends nothing and a committed one is delivered, retried with backoff by the outbox
until the endpoint answers 2xx. ``deliver`` is the outbox's deliverer for the kind
"webhook". Each call is logged in ``WebhookDelivery``, which the partner sees.

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
from cpor.claims.models import ClaimEvent, EventAction
from cpor.notifications.services import queue_webhook

TIMEOUT_SECONDS = 10
USER_AGENT = "CPOR-Webhooks/1.0"
# Events that are not state changes of a claim, a line or an association.
NOT_STATE_CHANGES = frozenset({EventAction.EDIT, EventAction.ADD_POE, EventAction.NOTE})


def event_type(event: ClaimEvent) -> str:
    """``claim.<action>`` or ``association.<action>``, e.g. ``claim.submit``."""
    subject = "association" if event.association_id else "claim"
    return f"{subject}.{event.action}"


def event_payload(event: ClaimEvent) -> dict:
    claim = event.claim
    body = {
        "id": f"evt_{event.pk}",
        "type": event_type(event),
        "created_at": event.at.isoformat(),
        "data": {
            "claim": {
                "id": claim.pk,
                "name": claim.name,
                "status": claim.status,
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
    association = event.association
    if association is not None:
        body["data"]["association"] = {
            "id": association.pk,
            "status": association.status,
            "end_reason": association.end_reason,
            "product": association.product.code,
            "subscription_id": str(association.subscription.subscription_id)
            if association.subscription_id
            else None,
        }
    return body


def queue_webhooks_for_event(*, event: ClaimEvent) -> int:
    """Queue the event for every active endpoint of the claim's partner; how many.

    Internal notes and edits are not sent; everything else in the history is a state
    change of the claim, a line or an association."""
    if event.internal or event.action in NOT_STATE_CHANGES:
        return 0
    endpoints = list(
        WebhookEndpoint.objects.filter(organisation_id=event.claim.organisation_id, active=True)
    )
    if not endpoints:
        return 0
    payload = event_payload(event)
    queued = 0
    for endpoint in endpoints:
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event_id=event.pk, event_type=payload["type"], payload=payload
        )
        message = queue_webhook(
            url=endpoint.url,
            secret=endpoint.secret,
            payload={**payload, "delivery_id": delivery.pk},
            dedupe_key=f"webhook:{endpoint.pk}:{event.pk}",
            endpoint_id=endpoint.pk,
        )
        queued += message is not None
    return queued


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
