"""Demo usage for ``manage.py seed_demo``: realistic monthly curves, imported through the
real import service (so the demo also exercises it).

Each unit gets an adoption curve (an S-curve of active users over paid units, rising
faster once a partner's association became official), steps in the paid units as the
customer buys more, seasonality (August and the turn of the year dip) and noise.
``rows=N`` instead writes N workload rows across every tenant, adding benchmark
tenants when there are too few: for load tests and benchmarks.
"""

import csv
import datetime
import io
import math
import random
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from cpor.catalog.models import Product
from cpor.claims.models import Association
from cpor.customers.models import Subscription, Tenant
from cpor.usage.selectors import first_of_month, month_window
from cpor.usage.services import ImportReport, usage_import
from cpor.usage.sources import SUBSCRIPTION_COLUMNS, WORKLOAD_COLUMNS

MODERN_WORK = "modern_work_security"
SEASON = {1: 0.95, 8: 0.86, 12: 0.9}
CURRENCY = {"GB": "GBP", "US": "USD", "CH": "CHF"}
# A monthly list price per seat, roughly; other products cost 30.
PRICE = {
    "d365_sales": Decimal("95.00"),
    "d365_customer_service": Decimal("85.00"),
    "d365_field_service": Decimal("90.00"),
    "d365_finance": Decimal("180.00"),
    "d365_supply_chain": Decimal("180.00"),
    "d365_business_central": Decimal("70.00"),
    "power_apps": Decimal("20.00"),
    "power_automate": Decimal("15.00"),
    "power_pages": Decimal("200.00"),
    "copilot_studio": Decimal("200.00"),
}
BENCHMARK_TENANT_PREFIX = "Usage benchmark customer"


def _curve(
    rng: random.Random, window: list[datetime.date], started: datetime.date | None
) -> Iterator[tuple[datetime.date, int, int]]:
    """(month, active users, paid units) for one workload over the window."""
    count = len(window)
    paid = int(rng.choice((25, 50, 100, 250, 500, 1000, 2500)) * rng.uniform(0.8, 1.2)) + 5
    low, high = rng.uniform(0.15, 0.4), rng.uniform(0.7, 0.95)
    steepness = rng.uniform(0.25, 0.6)
    if started is not None and started in window:
        middle = window.index(started) + rng.uniform(1, 4)
    else:
        middle = rng.uniform(count * 0.3, count * 0.9)
    for index, month in enumerate(window):
        if rng.random() < 0.08:
            paid = int(paid * rng.uniform(1.05, 1.25))
        adoption = low + (high - low) / (1 + math.exp(-steepness * (index - middle)))
        noise = rng.gauss(1, 0.03)
        active = int(paid * adoption * SEASON.get(month.month, 1.0) * noise)
        yield month, max(0, min(active, int(paid * 1.05))), paid


def _seats(
    rng: random.Random, subscription: Subscription, window: list[datetime.date]
) -> Iterator[tuple[datetime.date, int]]:
    seats = max(subscription.seats, 5)
    first, last = first_of_month(subscription.starts_on), subscription.ends_on
    for month in window:
        if month < first or month > last:
            continue
        if rng.random() < 0.1:
            seats = int(seats * rng.uniform(1.03, 1.2)) + 1
        yield month, seats


def _activation_months(tenant_ids: Iterable[int] | None) -> dict[tuple[int, int], datetime.date]:
    associations = Association.objects.filter(subscription__isnull=True, activated_at__isnull=False)
    if tenant_ids is not None:
        associations = associations.filter(tenant_id__in=list(tenant_ids))
    return {
        (tenant_id, product_id): first_of_month(timezone.localtime(activated).date())
        for tenant_id, product_id, activated in associations.values_list(
            "tenant_id", "product_id", "activated_at"
        )
    }


def _import(columns: tuple[str, ...], rows: Iterable[tuple]) -> ImportReport:
    """Stream rows through a temporary CSV file into the import service."""
    with tempfile.TemporaryFile() as file:
        text = io.TextIOWrapper(file, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(columns)
        writer.writerows(rows)
        text.flush()
        text.detach()
        file.seek(0)
        report = usage_import(file=file)
    if report.error:
        raise report.error
    return report


def demo_tenants() -> list[Tenant]:
    from cpor.web import demo

    ids = [demo._demo_uuid("tenant", spec.key) for spec in demo.TENANTS]
    return list(Tenant.objects.filter(tenant_id__in=ids).order_by("pk"))


def generate_usage(
    tenants: Iterable[Tenant] | None = None,
    months: int = 24,
    rows: int | None = None,
    *,
    seed: int = 2026,
    today: datetime.date | None = None,
) -> dict[str, int]:
    """Monthly usage for the last ``months`` months; returns the rows written per kind.

    Without ``rows``: for the given tenants (the demo tenants by default), every
    Modern Work and Security workload they license or that a claim associated, and every
    subscription. With ``rows``: that many workload rows across all tenants."""
    window = month_window(months, today)
    if rows is not None:
        report = _import(WORKLOAD_COLUMNS, _bulk_rows(rows, window, seed))
        return {"workload": report.rows_written, "subscription": 0}
    tenants = list(tenants) if tenants is not None else demo_tenants()
    if not tenants:
        return {"workload": 0, "subscription": 0}
    activation = _activation_months(t.pk for t in tenants)
    workloads: dict[int, set[int]] = {t.pk: set() for t in tenants}
    modern = Q(product__solution_area__code=MODERN_WORK)
    for tenant_id, product_id in Subscription.objects.filter(
        modern, tenant__in=tenants
    ).values_list("tenant_id", "product_id"):
        workloads[tenant_id].add(product_id)
    for tenant_id, product_id in Association.objects.filter(
        modern, tenant__in=tenants, subscription__isnull=True
    ).values_list("tenant_id", "product_id"):
        workloads[tenant_id].add(product_id)
    codes = dict(Product.objects.values_list("pk", "code"))

    def workload_rows() -> Iterator[tuple]:
        for tenant in tenants:
            for product_id in sorted(workloads[tenant.pk]):
                rng = random.Random(f"{seed}:{tenant.pk}:{product_id}")  # noqa: S311 (demo data)
                started = activation.get((tenant.pk, product_id))
                for month, active, paid in _curve(rng, window, started):
                    yield tenant.tenant_id, codes[product_id], f"{month:%Y-%m}", active, paid

    def subscription_rows() -> Iterator[tuple]:
        subscriptions = Subscription.objects.filter(tenant__in=tenants).select_related(
            "tenant", "product"
        )
        for subscription in subscriptions.order_by("pk"):
            rng = random.Random(f"{seed}:subscription:{subscription.pk}")  # noqa: S311
            price = PRICE.get(subscription.product.code, Decimal("30.00"))
            currency = CURRENCY.get(subscription.tenant.country, "EUR")
            for month, seats in _seats(rng, subscription, window):
                yield subscription.subscription_id, f"{month:%Y-%m}", seats, seats * price, currency

    workload = _import(WORKLOAD_COLUMNS, workload_rows())
    subscription = _import(SUBSCRIPTION_COLUMNS, subscription_rows())
    return {"workload": workload.rows_written, "subscription": subscription.rows_written}


def _bulk_rows(count: int, window: list[datetime.date], seed: int) -> Iterator[tuple]:
    """``count`` workload rows: every Modern Work workload of every tenant, month by
    month, in tenant order (tenants with claims first); benchmark tenants are added
    when the existing ones are too few."""
    products = list(
        Product.objects.filter(solution_area__code=MODERN_WORK, active=True)
        .order_by("pk")
        .values_list("pk", "code")
    )
    per_tenant = len(products) * len(window)
    needed = -(-count // per_tenant) - Tenant.objects.count()
    if needed > 0:
        for start in range(0, needed, 5000):
            Tenant.objects.bulk_create(
                Tenant(tenant_id=uuid.uuid4(), name=f"{BENCHMARK_TENANT_PREFIX} {start + i + 1}")
                for i in range(min(5000, needed - start))
            )
    activation = _activation_months(None)
    written = 0
    tenants = Tenant.objects.order_by("pk").values_list("pk", "tenant_id")
    for tenant_pk, tenant_id in tenants.iterator(chunk_size=5000):
        for product_pk, code in products:
            rng = random.Random(f"{seed}:{tenant_pk}:{product_pk}")  # noqa: S311 (demo data)
            started = activation.get((tenant_pk, product_pk))
            for month, active, paid in _curve(rng, window, started):
                if written == count:
                    return
                yield tenant_id, code, f"{month:%Y-%m}", active, paid
                written += 1
