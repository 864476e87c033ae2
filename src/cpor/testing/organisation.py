"""Fixtures of the Organisation area, customer relationships and audit tests."""

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Tenant look-up counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def org(db):
    """Organisation A with one user per partner role, organisation B with its admin, the
    program's staff, and a customer admin."""
    from cpor.accounts.models import OperatorRole
    from cpor.consent.models import CustomerAdmin
    from cpor.partners.models import PartnerRoleName
    from cpor.testing.factories import UserFactory, customer_tenant, operator_user, partner_user

    admin = partner_user(PartnerRoleName.PARTNER_ADMIN)
    organisation = admin.partner_membership.organisation
    customer = UserFactory()
    tenant = customer_tenant()
    CustomerAdmin.objects.create(user=customer, tenant=tenant)
    return {
        "organisation": organisation,
        "partner_admin": admin,
        "incentives_admin": partner_user(PartnerRoleName.INCENTIVES_ADMIN, organisation),
        "incentives_user": partner_user(PartnerRoleName.INCENTIVES_USER, organisation),
        "other_admin": partner_user(PartnerRoleName.PARTNER_ADMIN),
        "reviewer": operator_user(OperatorRole.REVIEWER),
        "program_admin": operator_user(OperatorRole.PROGRAM_ADMIN),
        "customer_admin": customer,
        "tenant": tenant,
    }


@pytest.fixture
def as_user(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def grant_relationship(organisation, tenant):
    """The customer invited ``organisation`` and its admin accepted: it sees the tenant's
    name and subscriptions."""
    import datetime
    import secrets

    from django.utils import timezone

    from cpor.customers.models import PartnerInvitation

    now = timezone.now()
    return PartnerInvitation.objects.create(
        nonce=secrets.token_urlsafe(24),
        tenant=tenant,
        expires_at=now + datetime.timedelta(days=1),
        organisation=organisation,
        accepted_at=now,
    )


def tenants_asked(sql: str) -> list[list[int]]:
    """The tenant ids that each half of ``related_tenant_ids``'s captured SQL names: the
    array of PostgreSQL (``ANY('{2,3}'::bigint[])``) or the JSON list of SQLite."""
    import re

    found = re.findall(r"ANY\('\{([\d,]*)\}'|json_each\('\[([\d, ]*)\]'\)", sql)
    return [[int(i) for i in "".join(ids).replace(" ", "").split(",") if i] for ids in found]
