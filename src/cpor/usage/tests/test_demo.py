"""Demo usage: realistic curves for the demo tenants, and bulk rows for benchmarks."""

import pytest

from cpor.catalog.models import Product
from cpor.customers.models import Tenant
from cpor.testing.factories import (
    AdminContactFactory,
    SubscriptionFactory,
    TenantFactory,
    active_associations,
)
from cpor.usage.demo import BENCHMARK_TENANT_PREFIX, generate_usage
from cpor.usage.models import SubscriptionUsage, WorkloadUsage

pytestmark = pytest.mark.django_db


def test_usage_for_licensed_and_associated_workloads_and_subscriptions(partner):
    tenant = TenantFactory(country="GB")
    AdminContactFactory(tenant=tenant)  # a customer the program can tell, so claims pass
    SubscriptionFactory(tenant=tenant, product=Product.objects.get(code="intune"))
    SubscriptionFactory(tenant=tenant)  # Dynamics 365 Sales
    active_associations(partner, tenant, products=["teams"])

    written = generate_usage([tenant], months=12)

    workloads = set(
        WorkloadUsage.objects.filter(tenant=tenant).values_list("product__code", flat=True)
    )
    assert workloads == {"intune", "teams"}
    assert written["workload"] == 24
    assert written["subscription"] == SubscriptionUsage.objects.count() > 0
    for row in WorkloadUsage.objects.all():
        assert 0 <= row.active_users <= row.paid_units * 1.05
    revenue = SubscriptionUsage.objects.filter(subscription__product__code="d365_sales")
    assert {row.currency for row in revenue} == {"GBP"}

    before = list(WorkloadUsage.objects.order_by("product", "month").values_list())
    generate_usage([tenant], months=12)
    assert list(WorkloadUsage.objects.order_by("product", "month").values_list()) == before


def test_usage_rows_for_benchmarks_add_tenants_when_needed():
    written = generate_usage(rows=1000, months=6)
    assert written == {"workload": 1000, "subscription": 0}
    assert WorkloadUsage.objects.count() == 1000
    assert Tenant.objects.filter(name__startswith=BENCHMARK_TENANT_PREFIX).exists()


def test_seed_demo_imports_demo_usage_and_bulk_rows_on_request():
    import io

    from django.core.management import call_command

    from cpor.usage.demo import demo_tenants

    out = io.StringIO()
    call_command("seed_demo", usage_rows=300, stdout=out)
    assert "Demo usage:" in out.getvalue()
    assert "Generated 300 usage rows in bulk." in out.getvalue()
    demo = set(t.pk for t in demo_tenants())
    assert WorkloadUsage.objects.filter(tenant__in=demo).exists()
    assert SubscriptionUsage.objects.exists()
    # The demo partner sees usage of its active workload associations.
    from cpor.claims.models import Association, AssociationStatus

    active = Association.objects.filter(status=AssociationStatus.ACTIVE, subscription=None)
    for association in active:
        assert WorkloadUsage.objects.filter(
            tenant=association.tenant, product=association.product
        ).exists()
