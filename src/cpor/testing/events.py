"""The event consumers for tests that run inside one transaction.

Such tests never commit, so the after-commit wake-up (``claims.events.announce``) never
fires; these helpers do what it does, at the point the test chooses."""

from types import SimpleNamespace

from cpor.notifications import consumers, delivery
from cpor.notifications.models import OutboxMessage
from cpor.notifications.notices import render_event_message


def consume_events() -> list[int]:
    """Derive the messages of every event written so far; the ids of the new ones."""
    return consumers.consume_all()


def deliver_events() -> int:
    """Derive, then deliver everything due (as the embedded mode does after a commit)."""
    consume_events()
    return delivery.outbox_deliver_due()


def rendered(message: OutboxMessage) -> SimpleNamespace:
    """A message as its recipient will read it (event messages render at delivery)."""
    if message.template and message.event_id is not None and not message.body_text:
        subject, text, html = render_event_message(message)
    else:
        subject, text, html = message.subject, message.body_text, message.body_html
    return SimpleNamespace(
        recipient=message.recipient,
        language=message.language,
        subject=subject,
        body_text=text,
        body_html=html,
    )
