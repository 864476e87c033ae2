"""What a partner sees of a tenant it types into the Add customer wizard (and the API):
without a relationship only the product and channel of the subscription IDs it typed,
never the tenant's name nor its other subscriptions; look-ups limited and audited."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from cpor.audit.models import AuditAction, AuditEntry
from cpor.catalog.models import Product, PurchaseChannel
from cpor.claims.models import ClaimLine
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import SubscriptionFactory, customer_tenant, partner_user
from cpor.testing.organisation import grant_relationship

pytestmark = pytest.mark.django_db

CONTACTS = {
    "customer_contact_name": "Ana Silva",
    "customer_contact_title": "CIO",
    "customer_contact_email": "ana@customer.example",
    "partner_contact_name": "Rui Costa",
    "partner_contact_email": "rui@partner.example",
}


@pytest.fixture
def partner():
    return partner_user(PartnerRoleName.INCENTIVES_ADMIN)


@pytest.fixture
def customer():
    tenant = customer_tenant()
    tenant.name = "Secretive Holdings SA"
    tenant.save()
    return tenant


@pytest.fixture
def subscriptions(customer):
    return {
        "sales": SubscriptionFactory(tenant=customer),
        "apps": SubscriptionFactory(
            tenant=customer,
            product=Product.objects.get(code="power_apps"),
            purchase_channel=PurchaseChannel.CSP,
        ),
        "hidden": SubscriptionFactory(
            tenant=customer, product=Product.objects.get(code="d365_finance")
        ),
    }


def _to_units(client, partner, tenant_id):
    url = client.get(reverse("claims:new")).url
    for data in (
        {"solution_area": "business_applications"},
        {"role": "build_intent_advisor"},
        {
            "name": "Sales rollout",
            "partner_id": partner.partner_membership.organisation.locations.first().partner_id,
            "tenant_id": str(tenant_id),
        },
    ):
        response = client.post(url, data)
        if response.status_code != 302:
            return response
        url = response.url
    return url


def test_without_a_relationship_nothing_of_the_tenant_is_listed(
    client, partner, customer, subscriptions
):
    client.force_login(partner)
    url = _to_units(client, partner, customer.tenant_id)
    body = client.get(url).content.decode()
    assert "Secretive Holdings" not in body
    for subscription in subscriptions.values():
        assert str(subscription.subscription_id) not in body
    assert 'name="subscription_ids"' in body and "<textarea" in body
    assert "no relationship with this customer" in body


def test_typed_ids_show_only_their_product_and_channel(client, partner, customer, subscriptions):
    client.force_login(partner)
    url = _to_units(client, partner, customer.tenant_id)
    sales, apps, hidden = subscriptions["sales"], subscriptions["apps"], subscriptions["hidden"]
    other_tenants = SubscriptionFactory()  # exists, but is another customer's
    typed = (
        f"{sales.subscription_id}\n{apps.subscription_id}, {other_tenants.subscription_id} nonsense"
    )
    response = client.post(url, {"subscription_ids": typed})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Dynamics 365 Sales" in body and "Power Apps" in body
    assert "Cloud Solution Provider" in body or "CSP" in body
    assert f"{other_tenants.subscription_id} is not a subscription of this customer" in body
    assert "nonsense is not a subscription of this customer" in body
    assert "cannot be claimed under this role" in body  # the CSP one
    assert str(hidden.subscription_id) not in body and "Finance" not in body
    assert "Secretive Holdings" not in body
    assert other_tenants.tenant.name not in body
    # Typing only the eligible one moves on; the review shows the ID, not the name.
    response = client.post(url, {"subscription_ids": str(sales.subscription_id)})
    assert response.status_code == 302
    review = client.post(response.url, CONTACTS).url
    page = client.get(review).content.decode()
    assert str(sales.subscription_id) in page and "Secretive Holdings" not in page
    client.post(review, {"save": "1"})
    assert ClaimLine.objects.get().subscription == sales


def test_with_a_relationship_the_name_and_subscriptions_are_listed(
    client, partner, customer, subscriptions
):
    grant_relationship(partner.partner_membership.organisation, customer)
    client.force_login(partner)
    url = _to_units(client, partner, customer.tenant_id)
    body = client.get(url).content.decode()
    assert "Secretive Holdings" in body
    listed = set(re.findall(r'value="([0-9a-f-]{36})"', body))
    assert {str(s.subscription_id) for s in subscriptions.values()} <= listed


def test_a_revoked_invitation_hides_them_again(client, partner, customer, subscriptions):
    from django.utils import timezone

    invitation = grant_relationship(partner.partner_membership.organisation, customer)
    invitation.revoked_at = timezone.now()
    invitation.save()
    client.force_login(partner)
    body = client.get(_to_units(client, partner, customer.tenant_id)).content.decode()
    assert "Secretive Holdings" not in body


def test_unknown_tenant_is_refused_on_the_field_and_audited(client, partner):
    client.force_login(partner)
    response = _to_units(client, partner, "11111111-2222-3333-4444-555555555555")
    assert response.status_code == 200
    assert "No customer tenant has the ID" in response.content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.TENANT_LOOKUP_UNKNOWN)
    assert entry.target_id == "11111111-2222-3333-4444-555555555555"
    assert entry.organisation == partner.partner_membership.organisation


def test_look_ups_over_the_per_user_limit_are_refused_and_audited_once(client, partner, settings):
    settings.TENANT_LOOKUP_LIMIT_PER_USER = 3
    client.force_login(partner)
    tenants = [customer_tenant() for _ in range(5)]
    for tenant in tenants[:3]:
        assert isinstance(_to_units(client, partner, tenant.tenant_id), str)
    # The same tenant again costs nothing.
    assert isinstance(_to_units(client, partner, tenants[0].tenant_id), str)
    for tenant in tenants[3:]:
        response = _to_units(client, partner, tenant.tenant_id)
        assert response.status_code == 200
        assert "You looked up 3 customer tenants within 1 hour, the limit per user" in (
            response.content.decode()
        )
    assert AuditEntry.objects.filter(action=AuditAction.TENANT_LOOKUP_LIMITED).count() == 1


def test_the_organisation_limit_counts_every_colleague(partner, settings):
    settings.TENANT_LOOKUP_LIMIT_PER_ORGANISATION = 2
    colleague = partner_user(organisation=partner.partner_membership.organisation)
    stranger = partner_user()
    api = APIClient()
    for user in (partner, colleague):
        api.force_authenticate(user)
        assert api.get(f"/api/v1/tenants/{customer_tenant().tenant_id}/").status_code == 200
    api.force_authenticate(colleague)
    refused = api.get(f"/api/v1/tenants/{customer_tenant().tenant_id}/")
    assert refused.status_code == 429
    assert refused.json()["code"] == "tenant_lookup_limited"
    assert "the limit per organisation" in refused.json()["message"]
    assert refused["Retry-After"]
    api.force_authenticate(stranger)  # another organisation has its own count
    assert api.get(f"/api/v1/tenants/{customer_tenant().tenant_id}/").status_code == 200


def test_limit_message_in_portuguese(client, partner, settings):
    settings.TENANT_LOOKUP_LIMIT_PER_USER = 1
    partner.language = "pt-pt"
    partner.save()
    client.force_login(partner)
    _to_units(client, partner, customer_tenant().tenant_id)
    response = _to_units(client, partner, customer_tenant().tenant_id)
    assert "limite por utilizador" in response.content.decode()


def test_api_lookup_hides_name_and_subscriptions_without_a_relationship(
    partner, customer, subscriptions
):
    api = APIClient()
    api.force_authenticate(partner)
    body = api.get(f"/api/v1/tenants/{customer.tenant_id}/").json()
    assert body == {
        "tenant_id": str(customer.tenant_id),
        "related": False,
        "name": None,
        "subscriptions": None,
    }
    grant_relationship(partner.partner_membership.organisation, customer)
    body = api.get(f"/api/v1/tenants/{customer.tenant_id}/").json()
    assert body["name"] == "Secretive Holdings SA"
    assert len(body["subscriptions"]) == 3


def test_api_checks_typed_subscription_ids(partner, customer, subscriptions):
    api = APIClient()
    api.force_authenticate(partner)
    stranger = SubscriptionFactory()
    response = api.post(
        f"/api/v1/tenants/{customer.tenant_id}/subscriptions/check/",
        {
            "subscription_ids": [
                str(subscriptions["sales"].subscription_id),
                str(subscriptions["apps"].subscription_id),
                str(stranger.subscription_id),
            ],
            "role": "build_intent_advisor",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [
        (s["product"], s["purchase_channel"], s["eligible"]) for s in body["subscriptions"]
    ] == [
        ("d365_sales", "volume_licensing", True),
        ("power_apps", "csp", False),
    ]
    assert body["not_found"] == [str(stranger.subscription_id)]
    assert "Secretive" not in response.content.decode()


def test_api_unknown_tenant_is_a_404_naming_the_field_and_audited(partner):
    api = APIClient()
    api.force_authenticate(partner)
    response = api.get("/api/v1/tenants/99999999-2222-3333-4444-555555555555/")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_tenant"
    assert response.json()["field"] == "tenant_id"
    assert api.get("/api/v1/tenants/not-a-guid/").status_code == 404
    assert AuditEntry.objects.filter(action=AuditAction.TENANT_LOOKUP_UNKNOWN).count() == 1


def test_claims_created_through_the_api_count_as_look_ups(partner, settings):
    from cpor.testing.factories import claim_input

    settings.TENANT_LOOKUP_LIMIT_PER_USER = 1
    api = APIClient()
    api.force_authenticate(partner)
    data = claim_input(partner, customer_tenant())
    first = api.post("/api/v1/claims/", {**data.__dict__}, format="json")
    assert first.status_code == 201, first.content
    data = claim_input(partner, customer_tenant())
    second = api.post("/api/v1/claims/", {**data.__dict__}, format="json")
    assert second.status_code == 429
    assert second.json()["code"] == "tenant_lookup_limited"
