"""Writing one-off notifications into the outbox, inside the caller's transaction.

Messages that follow from history events are written by the event consumers
(``consumers.py``). The others (a fresh set of decline links, an invitation) go through
``queue_email``: rendered in the recipient's language and written as one
``OutboxMessage``; after the transaction commits it is handed to delivery (in-process
in the embedded mode, a Celery task in production). A rolled-back transaction leaves
no message behind.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from cpor import retention, rowwrite
from cpor.errors import DomainError
from cpor.notifications.models import MessageKind, MessageStatus, OutboxMessage

logger = logging.getLogger(__name__)


def email_language(language: str | None) -> str:
    """The supported language closest to ``language`` ("pt", "pt-PT" → "pt-pt")."""
    try:
        return translation.get_supported_language_variant((language or "en").lower())
    except LookupError:
        return settings.LANGUAGE_CODE


def clean_recipient(address: str) -> str:
    """A single, valid e-mail address, or a ``DomainError``: never a header with line breaks."""
    address = (address or "").strip()
    if "\r" in address or "\n" in address or "," in address:
        raise DomainError("invalid_recipient", "Malformed e-mail address.", field="to")
    try:
        validate_email(address)
    except ValidationError:
        raise DomainError("invalid_recipient", "Malformed e-mail address.", field="to") from None
    return address


def render_email(*, template: str, context: dict, language: str) -> tuple[str, str, str]:
    """Subject, text and HTML of ``notifications/email/<template>`` in ``language``."""
    base = f"notifications/email/{template}"
    context = {"base_url": settings.CPOR_BASE_URL.rstrip("/"), **context}
    context.setdefault("operator_name", settings.CPOR_OPERATOR_NAME)
    with translation.override(language):
        subject = render_to_string(f"{base}_subject.txt", context)
        text = render_to_string(f"{base}.txt", context)
        html = render_to_string(f"{base}.html", context)
    # A subject is one header line, whatever the template or the data put in it.
    subject = " ".join(subject.split())[:900]
    return subject, text.strip() + "\n", html


def outbox_queue(*, kind: str, dedupe_key: str, recipient: str, **fields) -> OutboxMessage | None:
    """Write one message in the current transaction; ``None`` if its event is already queued.

    One statement, ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`` (PostgreSQL
    and SQLite 3.35+): no savepoint, and a concurrent duplicate simply inserts nothing.
    Delivery starts once the transaction commits. Other kinds (webhooks) use this too."""
    message = OutboxMessage(kind=kind, dedupe_key=dedupe_key, recipient=recipient, **fields)
    if not rowwrite.insert_new([message], unique="dedupe_key"):
        return None
    transaction.on_commit(lambda: dispatch(message.pk))
    return message


def queue_email(
    *, to: str, template: str, context: dict, language: str = "en", dedupe_key: str
) -> OutboxMessage | None:
    """Render ``template`` for ``to`` in ``language`` and write it to the outbox."""
    to = clean_recipient(to)
    language = email_language(language)
    subject, text, html = render_email(template=template, context=context, language=language)
    return outbox_queue(
        kind=MessageKind.EMAIL,
        dedupe_key=dedupe_key[:255],
        recipient=to,
        language=language,
        subject=subject,
        body_text=text,
        body_html=html,
    )


def dispatch(message_id: int) -> None:
    """Hand a committed message to delivery; failures leave it for the retry job.

    ``CPOR_BACKGROUND``: "celery" queues a task, "inline" delivers in this process, and
    anything else leaves every message to the retry job (benchmarks)."""
    try:
        if settings.CPOR_BACKGROUND == "celery":
            from cpor.notifications.tasks import outbox_deliver_task

            outbox_deliver_task.delay(message_id)
        elif settings.CPOR_BACKGROUND == "inline":
            from cpor.notifications.delivery import outbox_deliver_message

            outbox_deliver_message(message_id=message_id)
    except Exception:
        logger.exception("outbox message %s left for the retry job", message_id)


def outbox_sent_purge(*, now=None) -> int:
    """Delete the messages sent longer ago than ``RETENTION_SENT_MESSAGES_DAYS`` (e-mails
    leave the mail log with them). Pending and given-up messages are never purged."""
    old = OutboxMessage.objects.filter(
        status=MessageStatus.SENT,
        sent_at__lt=retention.cutoff(settings.RETENTION_SENT_MESSAGES_DAYS, now=now),
    )
    return retention.delete_in_batches(old)
