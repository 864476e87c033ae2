"""``manage.py erase_contact EMAIL``: the address is gone from every table, the history
still verifies, and the erasure is on record; an unknown address changes nothing."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from rest_framework.test import APIClient

from cpor.api.models import IdempotencyRecord
from cpor.api.services import api_token_create
from cpor.api.tests.conftest import claim_body
from cpor.claims import integrity
from cpor.claims import services as claims
from cpor.claims.models import Claim, ClaimEvent, ClaimStatus
from cpor.claims.tests.test_integrity import as_dba, seal_all
from cpor.consent import services as consent
from cpor.consent.erasure import contact_reference
from cpor.consent.models import ContactErasure, DeclineLink, EventRedaction
from cpor.notifications.models import OutboxMessage
from cpor.testing.events import deliver_events
from cpor.testing.factories import (
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db


def tables_quoting(text: str) -> dict[str, int]:
    """Rows per table whose any column holds ``text`` (any case), binary columns included."""
    needle = text.lower()
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", errors="replace")
                    if needle in str(value).lower():
                        found[table] = found.get(table, 0) + 1
                        break
    return found


def verify() -> str:
    out = io.StringIO()
    call_command("verify_history", stdout=out)
    return out.getvalue()


def erase(email: str, *args: str) -> str:
    out = io.StringIO()
    call_command("erase_contact", email, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def lived_history(settings):
    """A customer contact quoted everywhere: two claims naming them, one approved with
    decline links e-mailed and used, an API answer stored under an Idempotency-Key, the
    mail sent and the history sealed and checkpointed. And another customer's claim."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    partner = partner_user()
    tenant = customer_tenant()
    email = f"ana@{tenant.domains.first().domain}"
    approved = submitted_claim(partner, tenant)
    claims.claim_approve(actor=operator_user(), claim=approved)
    _row, token = api_token_create(actor=partner, name="t")
    body = claim_body(partner, tenant, name="Second programme", customer_contact_email=email)
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert (
        api.post("/api/v1/claims/", body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code
        == 201
    )
    deliver_events()
    link = DeclineLink.objects.get(claim=approved, email=email)
    consent.decline_by_link(link=link, line_ids=[approved.lines.get().pk], reason="Not them")
    other = submitted_claim(partner_user(), customer_tenant())
    deliver_events()
    seal_all()
    integrity.history_checkpoint()
    assert {"claims_claim", "claims_claimevent", "notifications_outboxmessage"} <= set(
        tables_quoting(email)
    )
    assert IdempotencyRecord.objects.exists() and tables_quoting(email).get("api_idempotencyrecord")
    return {"email": email, "approved": approved, "other": other}


def test_erasure_leaves_the_address_nowhere_and_the_history_verifiable(lived_history):
    email = lived_history["email"]
    other = lived_history["other"]
    other_before = Claim.objects.values().get(pk=other.pk)
    out = erase(email.upper(), "--by", "Data protection officer, ticket 42")
    assert tables_quoting(email) == {}
    assert "erased: reference" in out
    # The person's name went with the address on their claims; the other claim is as it was.
    approved = Claim.objects.get(pk=lived_history["approved"].pk)
    assert approved.customer_contact_name == "[erased]"
    assert approved.customer_contact_email.endswith("@erased.invalid")
    assert approved.status == ClaimStatus.APPROVED  # nothing but the contact changed
    assert Claim.objects.values().get(pk=other.pk) == other_before
    # The history verifies: redacted events by their signed redactions, and the events
    # recording the erasure once sealed.
    assert "with personal data erased" in verify()
    seal_all()
    result = integrity.history_verify()
    assert result.broken is None and result.redacted >= 1 and result.pending == 0
    # The erasure is on record: who, when, and a keyed reference, never the address.
    erasure = ContactErasure.objects.get()
    assert erasure.requested_by == "Data protection officer, ticket 42"
    assert erasure.reference == contact_reference(email) != contact_reference("x@y.example")
    assert erasure.counts["claims"] == 2 and erasure.counts["events"] >= 1
    recorded = ClaimEvent.objects.filter(actor_label="erasure", claim=approved).get()
    assert erasure.reference[:16] in recorded.message
    # Nothing more is sent to the erased address.
    assert not OutboxMessage.objects.filter(status="pending", recipient__endswith=".invalid")


def test_a_redacted_event_changed_again_is_still_caught(lived_history):
    erase(lived_history["email"], "--by", "DPO")
    redacted = EventRedaction.objects.first().event_id
    as_dba("UPDATE claims_claimevent SET message = 'rewritten' WHERE id = %s", [redacted])
    result = integrity.history_verify()
    assert result.broken is not None and result.broken.problem == "content_changed"


def test_a_forged_redaction_does_not_verify(lived_history, settings):
    erase(lived_history["email"], "--by", "DPO")
    settings.CPOR_HISTORY_KEY = "another key than the one that signed"
    result = integrity.history_verify()
    assert result.broken is not None and result.broken.problem == "content_changed"


def test_an_unknown_address_is_a_clear_error_and_writes_nothing(lived_history):
    before = {
        "events": ClaimEvent.objects.count(),
        "outbox": list(OutboxMessage.objects.values()),
        "claims": list(Claim.objects.values()),
    }
    with pytest.raises(CommandError, match=r"contact_not_found.*nobody@nowhere\.example"):
        erase("nobody@nowhere.example", "--by", "DPO")
    assert not ContactErasure.objects.exists()
    assert ClaimEvent.objects.count() == before["events"]
    assert list(OutboxMessage.objects.values()) == before["outbox"]
    assert list(Claim.objects.values()) == before["claims"]
    assert verify().startswith("history intact")


def test_a_malformed_address_is_refused():
    with pytest.raises(CommandError, match="invalid_email"):
        erase("not an address", "--by", "DPO")
