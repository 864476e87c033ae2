import pytest
from django.db import transaction

from cpor.errors import DomainError
from cpor.notifications.models import MessageKind, MessageStatus, OutboxMessage
from cpor.notifications.services import queue_email

pytestmark = pytest.mark.django_db

CONTEXT = {
    "claim_id": 7,
    "claim_name": "Adoption <programme>",
    "partner_contact_name": "Rui",
    "headline": "Claim approved",
    "claim_status": "Approved",
    "to_status": "Approved",
    "tenant_name": "Contoso",
}


def test_queue_email_renders_subject_text_and_html_in_the_transaction():
    message = queue_email(
        to="rui@partner.example",
        template="partner_event",
        context=CONTEXT,
        dedupe_key="event-1",
    )
    assert message.kind == MessageKind.EMAIL
    assert message.status == MessageStatus.PENDING
    assert message.subject == "Claim approved: Adoption <programme>"
    assert "Adoption <programme>" in message.body_text  # text is not HTML-escaped
    assert "Adoption &lt;programme&gt;" in message.body_html
    assert "/claims/7/" in message.body_html


def test_queue_email_in_portuguese_marks_the_language():
    message = queue_email(
        to="rui@partner.example",
        template="partner_event",
        context=CONTEXT,
        language="pt-PT",
        dedupe_key="event-pt",
    )
    assert message.language == "pt-pt"
    assert '<html lang="pt-pt">' in message.body_html


def test_the_same_event_is_queued_once():
    first = queue_email(to="a@x.example", template="partner_event", context=CONTEXT, dedupe_key="k")
    second = queue_email(
        to="a@x.example", template="partner_event", context=CONTEXT, dedupe_key="k"
    )
    assert first is not None and second is None
    assert OutboxMessage.objects.count() == 1


def test_a_rolled_back_transaction_leaves_no_message():
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_email(to="a@x.example", template="partner_event", context=CONTEXT, dedupe_key="k")
        raise RuntimeError("the state change failed")
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "address",
    [
        "a@x.example\r\nBcc: victim@y.example",
        "a@x.example\nSubject: hi",
        "a@x.example, b@y.example",
    ],
)
def test_header_injection_in_the_recipient_is_refused(address):
    with pytest.raises(DomainError) as caught:
        queue_email(to=address, template="partner_event", context=CONTEXT, dedupe_key="k")
    assert caught.value.code == "invalid_recipient"
    assert not OutboxMessage.objects.exists()


def test_line_breaks_in_data_never_reach_the_subject_header():
    message = queue_email(
        to="a@x.example",
        template="partner_event",
        context={**CONTEXT, "claim_name": "Name\r\nBcc: victim@y.example"},
        dedupe_key="k",
    )
    assert "\n" not in message.subject and "\r" not in message.subject


def test_outbox_insert_writes_each_dedupe_key_once():
    from cpor.notifications.consumers import outbox_insert

    def webhook(key: str) -> OutboxMessage:
        return OutboxMessage(
            kind=MessageKind.WEBHOOK,
            dedupe_key=key,
            recipient="https://hooks.partner.example/cpor",
            payload={"event": "claim.approve", "claim": {"id": 5}},
            secret="s3cret",
        )

    first = outbox_insert([webhook("w1"), webhook("w2")])
    assert len(first) == 2
    assert outbox_insert([webhook("w1"), webhook("w3")]) == [
        OutboxMessage.objects.get(dedupe_key="w3").pk
    ]
    stored = OutboxMessage.objects.get(dedupe_key="w1")
    assert stored.kind == MessageKind.WEBHOOK and stored.payload["claim"] == {"id": 5}
    assert stored.status == MessageStatus.PENDING and stored.next_attempt_at is not None
    assert OutboxMessage.objects.count() == 3
