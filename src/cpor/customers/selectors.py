"""Reads of customers for the program admin's pages."""

from cpor.accounts.models import User
from cpor.claims.permissions import require_program_admin
from cpor.customers.models import Subscription, Tenant, TenantAdminContact, TenantDomain


def customer_totals(*, actor: User) -> dict[str, int]:
    """How many records of each kind the program knows (shown beside the import)."""
    require_program_admin(actor)
    return {
        "tenants": Tenant.objects.count(),
        "domains": TenantDomain.objects.count(),
        "contacts": TenantAdminContact.objects.count(),
        "subscriptions": Subscription.objects.count(),
    }
