import pytest
from rest_framework.test import APIClient

from cpor.accounts.models import OperatorRole
from cpor.api.services import api_token_create
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import customer_tenant, operator_user, partner_user


def token_client(user) -> APIClient:
    """An API client authenticated as ``user`` with a fresh personal token."""
    client = APIClient()
    if user is not None:
        _row, token = api_token_create(actor=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.user = user
    return client


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def people(db):
    """One user per role: two partner organisations and the program's staff."""
    from cpor.consent.models import CustomerAdmin
    from cpor.testing.factories import UserFactory

    customer = UserFactory()
    CustomerAdmin.objects.create(user=customer, tenant=customer_tenant())
    admin = partner_user(PartnerRoleName.PARTNER_ADMIN)
    organisation = admin.partner_membership.organisation
    return {
        "partner_admin": admin,
        "incentives_admin": partner_user(PartnerRoleName.INCENTIVES_ADMIN, organisation),
        "incentives_user": partner_user(PartnerRoleName.INCENTIVES_USER, organisation),
        "other_partner": partner_user(PartnerRoleName.INCENTIVES_ADMIN),
        "reviewer": operator_user(OperatorRole.REVIEWER),
        "program_admin": operator_user(OperatorRole.PROGRAM_ADMIN),
        "customer_admin": customer,
    }


@pytest.fixture
def clients(people):
    return {"anonymous": token_client(None)} | {
        name: token_client(user) for name, user in people.items()
    }


@pytest.fixture
def customer(db):
    return customer_tenant()


def claim_body(user, tenant, **overrides) -> dict:
    """A valid JSON body for POST /api/v1/claims/."""
    domain = tenant.domains.first().domain
    body = {
        "role": "use_or_consume",
        "partner_id": user.partner_membership.organisation.locations.first().partner_id,
        "tenant_id": str(tenant.tenant_id),
        "name": f"Adoption programme for {tenant.name}",
        "customer_contact_name": "Ana Silva",
        "customer_contact_title": "CIO",
        "customer_contact_email": f"ana@{domain}",
        "partner_contact_name": "Rui Costa",
        "partner_contact_email": "rui@partner.example",
        "products": ["teams"],
    }
    body.update(overrides)
    return body
