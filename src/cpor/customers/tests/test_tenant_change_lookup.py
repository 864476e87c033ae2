"""Moving a draft claim to another tenant is a tenant look-up like naming it at
creation: counted against the per-user and per-organisation limits, and an unknown
tenant is audited as an enumeration attempt. Through the API and the web wizard."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from cpor.audit.models import AuditAction, AuditEntry
from cpor.claims import services
from cpor.claims.models import Claim
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import claim_input, customer_tenant, partner_user

pytestmark = pytest.mark.django_db

UNKNOWN = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()


@pytest.fixture
def partner():
    return partner_user(PartnerRoleName.INCENTIVES_ADMIN)


@pytest.fixture
def draft(partner):
    return services.claim_create(
        actor=partner, data=claim_input(partner, customer_tenant(), name="Teams rollout")
    )


def test_api_tenant_change_counts_against_the_limit(partner, draft, settings):
    settings.TENANT_LOOKUP_LIMIT_PER_USER = 1  # the draft's own tenant used it
    api = APIClient()
    api.force_authenticate(partner)
    other = customer_tenant()

    refused = api.patch(
        f"/api/v1/claims/{draft.pk}/", {"tenant_id": str(other.tenant_id)}, format="json"
    )

    assert refused.status_code == 429, refused.content
    assert refused.json()["code"] == "tenant_lookup_limited"
    assert Claim.objects.get(pk=draft.pk).tenant == draft.tenant
    assert AuditEntry.objects.filter(action=AuditAction.TENANT_LOOKUP_LIMITED).count() == 1
    # Editing other fields of the draft, its tenant unchanged, costs nothing.
    kept = api.patch(f"/api/v1/claims/{draft.pk}/", {"name": "Teams pilot"}, format="json")
    assert kept.status_code == 200, kept.content


def test_api_tenant_change_to_an_unknown_tenant_is_audited(partner, draft):
    api = APIClient()
    api.force_authenticate(partner)

    response = api.patch(f"/api/v1/claims/{draft.pk}/", {"tenant_id": UNKNOWN}, format="json")

    assert response.status_code == 400
    entry = AuditEntry.objects.get(action=AuditAction.TENANT_LOOKUP_UNKNOWN)
    assert entry.target_id == UNKNOWN
    assert entry.organisation == partner.partner_membership.organisation


def test_service_tenant_change_counts_for_the_web_wizard_too(partner, draft, settings):
    """The wizard's last step saves through claim_update: the same count applies."""
    settings.TENANT_LOOKUP_LIMIT_PER_USER = 1
    data = claim_input(partner, customer_tenant(), name="Teams rollout")
    from cpor.customers.lookup import LookupLimited

    with pytest.raises(LookupLimited):
        services.claim_update(actor=partner, claim=draft, data=data)
    assert Claim.objects.get(pk=draft.pk).tenant == draft.tenant
