"""Delivering outbox messages: claim, send, mark, with retries and backoff.

A worker claims a message with one conditional UPDATE that writes a random lease token
(on PostgreSQL candidates are picked with ``SKIP LOCKED`` so workers do not queue
behind each other); only the worker holding the lease sends it and marks it sent. Two
workers, or a worker and the in-process delivery after commit, never both send a
message. A failed send is retried after an exponentially growing delay until
``OUTBOX_MAX_ATTEMPTS``, then marked failed.

Each kind is delivered by the function named in ``DELIVERERS``: ``deliver(message,
session)``, raising on failure. ``session.resources`` keeps connections open across a
batch (one SMTP connection for many e-mails).
"""

import datetime
import email.utils
import hashlib
import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from cpor.notifications.models import MessageKind, MessageStatus, OutboxMessage
from cpor.notifications.notices import render_event_message

logger = logging.getLogger(__name__)

# kind → dotted path of ``deliver(message, session)``; the API adds "webhook".
DELIVERERS: dict[str, str] = {
    "email": "cpor.notifications.delivery.deliver_email",
    "webhook": "cpor.api.webhooks.deliver",
}


class DeliverySession:
    """Connections shared by the deliveries of one batch, closed at its end."""

    def __init__(self) -> None:
        self.resources: dict[str, object] = {}

    def close(self) -> None:
        for resource in self.resources.values():
            try:
                resource.close()
            except Exception:  # a connection that cannot close cleanly is dropped anyway
                logger.debug("closing %r failed", resource, exc_info=True)
        self.resources.clear()

    def __enter__(self) -> "DeliverySession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sender() -> str:
    """The From header: the operator's name with the configured address."""
    _, address = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)
    return email.utils.formataddr((f"{settings.CPOR_OPERATOR_NAME} · CPOR", address))


def deliver_email(message: OutboxMessage, session: DeliverySession) -> None:
    if message.template and message.event_id is not None:
        # Derived from a history event: rendered now, from the state the event recorded.
        message.subject, message.body_text, message.body_html = render_event_message(message)
    smtp = session.resources.get("email")
    if smtp is None:
        smtp = get_connection(fail_silently=False)
        smtp.open()
        session.resources["email"] = smtp
    _, domain = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[::2]
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:16]
    mail = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=sender(),
        to=[message.recipient],
        connection=smtp,
        headers={
            # Stable per message: a receiver can recognise a re-sent copy.
            "Message-ID": f"<outbox.{message.pk}.{digest}@{domain or 'cpor.localhost'}>",
            "Auto-Submitted": "auto-generated",
            "Content-Language": message.language,
        },
    )
    if message.body_html:
        mail.attach_alternative(message.body_html, "text/html")
    try:
        sent = mail.send()
    except Exception:
        # The connection may be half-broken: the next message opens a fresh one.
        session.resources.pop("email", None)
        try:
            smtp.close()
        except Exception:
            logger.debug("closing a failed SMTP connection", exc_info=True)
        raise
    if sent != 1:
        raise RuntimeError("the mail backend accepted no message")


def deliverer(kind: str) -> Callable[[OutboxMessage, DeliverySession], None]:
    return import_string(DELIVERERS[kind])


def backoff(attempts: int) -> datetime.timedelta:
    """Delay before the next attempt after ``attempts`` failed ones (doubling, capped)."""
    base = settings.OUTBOX_BACKOFF_SECONDS
    seconds = min(base * 2 ** max(attempts - 1, 0), settings.OUTBOX_BACKOFF_MAX_SECONDS)
    return datetime.timedelta(seconds=seconds)


def _due(now: datetime.datetime) -> Q:
    return Q(status=MessageStatus.PENDING, next_attempt_at__lte=now) & (
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )


def _claim(ids: list[int], now: datetime.datetime) -> tuple[str, list[OutboxMessage]]:
    """Lease the due messages among ``ids``; return the lease token and what this worker holds."""
    token = uuid.uuid4().hex
    lease = now + datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    OutboxMessage.objects.filter(_due(now), pk__in=ids).update(
        lease_token=token, lease_until=lease, attempts=F("attempts") + 1
    )
    return token, list(OutboxMessage.objects.filter(lease_token=token).order_by("id"))


def _renew(message: OutboxMessage, token: str, now: datetime.datetime) -> bool:
    """Extend this worker's lease on ``message`` right before sending it; False if it was
    lost (a slow batch outlived the lease and another worker took the message over)."""
    lease = max(now, timezone.now()) + datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    return bool(
        OutboxMessage.objects.filter(pk=message.pk, lease_token=token).update(lease_until=lease)
    )


def _send_claimed(
    token: str, messages: list[OutboxMessage], session: DeliverySession, now: datetime.datetime
) -> int:
    sent = 0
    for message in messages:
        if len(messages) > 1 and not _renew(message, token, now):
            continue
        try:
            deliverer(message.kind)(message, session)
        except Exception as error:
            gave_up = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
            logger.warning(
                "outbox message %s (attempt %s) failed: %s", message.pk, message.attempts, error
            )
            OutboxMessage.objects.filter(pk=message.pk, lease_token=token).update(
                status=MessageStatus.FAILED if gave_up else MessageStatus.PENDING,
                # Never due again within this run, even when ``now`` is in the future.
                next_attempt_at=max(now, timezone.now()) + backoff(message.attempts),
                last_error=f"{type(error).__name__}: {error}"[:2000],
                lease_token="",
                lease_until=None,
            )
        else:
            # What was sent stays readable in the mail log.
            rendered = {}
            if message.kind == MessageKind.EMAIL and message.template:
                rendered = {
                    "subject": message.subject,
                    "body_text": message.body_text,
                    "body_html": message.body_html,
                }
            OutboxMessage.objects.filter(pk=message.pk, lease_token=token).update(
                status=MessageStatus.SENT,
                sent_at=timezone.now(),
                last_error="",
                lease_token="",
                lease_until=None,
                **rendered,
            )
            sent += 1
    return sent


def outbox_deliver_message(*, message_id: int, now: datetime.datetime | None = None) -> bool:
    """Deliver one message now if it is due and nobody else holds it; whether it was sent."""
    return outbox_deliver_messages(ids=[message_id], now=now) == 1


def outbox_deliver_messages(*, ids: list[int], now: datetime.datetime | None = None) -> int:
    """Deliver these messages now, those still due and free; how many were sent."""
    if not ids:
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        token, messages = _claim(ids, now)
    with DeliverySession() as session:
        return _send_claimed(token, messages, session, now)


def outbox_deliver_due(*, now: datetime.datetime | None = None, batch_size: int = 200) -> int:
    """The retry job: deliver every due message, batch after batch; how many were sent.

    Bounded: each message is claimed at most once per run, because a claimed message is
    either sent or rescheduled after ``now``."""
    now = now or timezone.now()
    sent = 0
    with DeliverySession() as session:
        while True:
            with transaction.atomic():
                candidates = OutboxMessage.objects.filter(_due(now)).order_by("next_attempt_at")
                if connection.features.has_select_for_update_skip_locked:
                    candidates = candidates.select_for_update(skip_locked=True)
                ids = list(candidates.values_list("pk", flat=True)[:batch_size])
                if not ids:
                    return sent
                token, messages = _claim(ids, now)
            sent += _send_claimed(token, messages, session, now)
