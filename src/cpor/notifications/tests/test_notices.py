"""Who is told what: the e-mails the event consumer derives from committed transitions."""

import datetime

import pytest
from django.utils import timezone

from cpor.claims import services
from cpor.consent.models import DeclineLink
from cpor.notifications.models import OutboxMessage
from cpor.notifications.notices import customer_recipients
from cpor.testing.events import consume_events, rendered
from cpor.testing.factories import (
    AdminContactFactory,
    TenantDomainFactory,
    add_poe,
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db


def mail_to(address: str) -> list:
    """What ``address`` is sent once the consumer has read the history, as rendered."""
    consume_events()
    return [rendered(m) for m in OutboxMessage.objects.filter(recipient=address).order_by("id")]


def test_submission_tells_the_admin_contacts_and_the_verified_customer_contact(partner):
    tenant = customer_tenant(domain="contoso.example")
    second = AdminContactFactory(tenant=tenant, language="pt-pt")
    claim = submitted_claim(partner, tenant, customer_contact_email="ana@contoso.example")
    consume_events()
    recipients = {
        m.recipient for m in OutboxMessage.objects.filter(dedupe_key__contains="customer")
    }
    first = tenant.admin_contacts.exclude(pk=second.pk).get()
    assert recipients == {first.email, second.email, "ana@contoso.example"}
    (message,) = mail_to("ana@contoso.example")
    location = claim.location
    for body in (message.body_text, message.body_html):
        assert claim.organisation.name in body
        assert location.partner_id in body
        assert claim.name in body
        assert "Microsoft Teams" in body or "Teams" in body
        assert "/customer/decline/" in body
    assert claim.organisation.name in message.subject
    assert mail_to(second.email)[0].language == "pt-pt"
    # One single-purpose link per recipient, with nothing guessable in the URL.
    assert DeclineLink.objects.filter(claim=claim).count() == 3
    assert f"/{claim.pk}/" not in message.body_text.split("/customer/decline/")[1].split()[0]


def test_a_customer_contact_on_an_unverified_domain_is_not_told(partner):
    tenant = customer_tenant(domain="contoso.example")
    TenantDomainFactory(tenant=tenant, domain="unverified.example", verified=False)
    data = claim_input(partner, tenant, customer_contact_email="eve@unverified.example")
    claim = services.claim_create(actor=partner, data=data)
    recipients = {email for email, _ in customer_recipients(claim)}
    assert recipients == set(tenant.admin_contacts.values_list("email", flat=True))


def test_every_decision_tells_the_partner_contact(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    services.claim_start_review(actor=reviewer, claim=claim)
    services.claim_request_info(
        actor=reviewer, claim=claim, reason_code="poe_missing", message="Please add the SoW."
    )
    services.claim_reply(actor=partner, claim=claim, message="Added.")
    services.claim_approve(actor=reviewer, claim=claim)
    subjects = [m.subject for m in mail_to(claim.partner_contact_email)]
    assert subjects == [
        f"Claim submitted: {claim.name}",
        f"Review started: {claim.name}",
        f"More information requested: {claim.name}",
        f"Reply received: claim resubmitted: {claim.name}",
        f"Claim approved: {claim.name}",
    ]
    info = mail_to(claim.partner_contact_email)[2]
    assert "Please add the SoW." in info.body_text
    assert "The PoE is missing" in info.body_text


def test_internal_notes_and_drafting_notify_nobody(partner, reviewer, tenant):
    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    services.claim_update(actor=partner, claim=claim, data=claim_input(partner, tenant))
    assert consume_events() == []
    add_poe(partner, claim)
    services.claim_submit(actor=partner, claim=claim, confirmed=True)
    assert consume_events()  # the consumer did read the history: submission tells people
    services.claim_add_note(actor=reviewer, claim=claim, message="Secret remark")
    assert consume_events() == []


def test_a_superseded_holder_is_told(reviewer, tenant):
    today = timezone.localdate()
    holder = submitted_claim(
        partner_user(),
        tenant,
        signed_on=today - datetime.timedelta(days=60),
        partner_contact_email="holder@first.example",
    )
    services.claim_approve(actor=reviewer, claim=holder)
    newcomer = submitted_claim(partner_user(), tenant, signed_on=today - datetime.timedelta(days=5))
    services.claim_approve(actor=reviewer, claim=newcomer)
    last = mail_to(holder.partner_contact_email)[-1]
    assert last.subject.startswith("Association superseded by another partner")
    assert "Teams" in last.body_text


def test_activation_and_rejection_for_no_answer_tell_the_partner(partner, tenant):
    reviewer = operator_user()
    claim = submitted_claim(partner, tenant)
    services.claim_approve(actor=reviewer, claim=claim)
    services.associations_activate_due(now=timezone.now() + datetime.timedelta(days=8))
    assert mail_to(claim.partner_contact_email)[-1].subject.startswith("Association official")
    other = submitted_claim(partner, customer_tenant())
    services.claim_request_info(actor=reviewer, claim=other, reason_code="poe_missing", message="?")
    services.claims_reject_unanswered(now=timezone.now() + datetime.timedelta(days=30))
    (rejected,) = [
        m for m in mail_to(other.partner_contact_email) if m.subject.startswith("Claim rejected")
    ]
    assert "did not answer" in rejected.body_text


def test_stale_drafts_are_warned_once_before_they_expire(partner, tenant):
    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    eighty_five_days = timezone.now() + datetime.timedelta(days=85)
    assert services.claims_warn_stale_drafts(now=timezone.now()) == 0
    assert services.claims_warn_stale_drafts(now=eighty_five_days) == 1
    assert services.claims_warn_stale_drafts(now=eighty_five_days) == 0
    (warning,) = mail_to(partner.email)
    assert "expire" in warning.subject and claim.name in warning.subject
    claim.refresh_from_db()
    assert claim.draft_warned_at is not None
