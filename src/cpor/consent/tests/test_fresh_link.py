"""Asking for a fresh link: sent only to a tenant's admin contacts or verified customer
contacts, with the same answer either way, and rate limited."""

import re

import pytest
from django.core.cache import cache

from cpor.claims import services
from cpor.consent.models import DeclineLink
from cpor.consent.tests.helpers import decline_links_in
from cpor.notifications.models import OutboxMessage
from cpor.testing.factories import customer_tenant, operator_user, submitted_claim

pytestmark = pytest.mark.django_db

URL = "/customer/decline/new-link/"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def fresh_links_to(email: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(recipient=email, dedupe_key__startswith="decline-"))


def test_an_admin_contact_gets_fresh_links_that_work(client, partner, tenant):
    claim = submitted_claim(partner, tenant)
    contact = tenant.admin_contacts.get()
    response = client.post(URL, {"email": contact.email.upper()})
    assert response.status_code == 200
    (message,) = fresh_links_to(contact.email.upper())
    (url,) = decline_links_in(message.body_text)
    assert claim.organisation.name in message.body_text
    page = client.get("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert page.status_code == 200 and claim.name in page.content.decode()


def test_a_verified_customer_contact_gets_links_for_held_associations(client, partner):
    tenant = customer_tenant(domain="contoso.example")
    claim = submitted_claim(partner, tenant, customer_contact_email="ana@contoso.example")
    services.claim_approve(actor=operator_user(), claim=claim)
    client.post(URL, {"email": "ana@contoso.example"})
    assert len(fresh_links_to("ana@contoso.example")) == 1


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, partner, tenant):
    submitted_claim(partner, tenant)
    contact = tenant.admin_contacts.get()
    known = client.post(URL, {"email": contact.email})
    unknown = client.post(URL, {"email": "stranger@elsewhere.example"})

    def normalise(response, email):
        body = response.content.decode().replace(email, "EMAIL")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)

    assert known.status_code == unknown.status_code == 200
    assert normalise(known, contact.email) == normalise(unknown, "stranger@elsewhere.example")
    assert not fresh_links_to("stranger@elsewhere.example")


def test_a_contact_whose_tenant_has_no_claims_gets_nothing(client, tenant):
    client.post(URL, {"email": tenant.admin_contacts.get().email})
    assert not OutboxMessage.objects.exists() and not DeclineLink.objects.exists()


def test_header_injection_in_the_address_is_refused(client, tenant):
    response = client.post(URL, {"email": "a@x.example\r\nBcc: victim@y.example"})
    assert response.status_code == 400
    assert not OutboxMessage.objects.exists()


def test_the_form_is_rate_limited_per_address(client, partner, tenant):
    submitted_claim(partner, tenant)
    email = tenant.admin_contacts.get().email
    codes = [client.post(URL, {"email": email}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert len(fresh_links_to(email)) == 3
