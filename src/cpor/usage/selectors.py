"""Reads of usage, always scoped to the caller's organisation and to the units where it
holds an ``active`` association at the moment of the query.

Every usage query joins the association table itself (status and organisation) instead
of trusting a list of units read earlier or cached: the moment an association ends, the
next query returns nothing of its unit. Query counts do not grow with the number of
units: the units of a page, their usage, and the monthly totals are one query each.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from cpor.accounts.models import User
from cpor.claims.models import Association, AssociationStatus
from cpor.claims.permissions import partner_membership
from cpor.usage.models import SubscriptionUsage, WorkloadUsage, usage_percent

MONTH_CHOICES = (6, 12, 24, 36)
DEFAULT_MONTHS = 12


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_window(months: int, today: datetime.date | None = None) -> list[datetime.date]:
    """The last ``months`` months up to the current one, oldest first."""
    until = first_of_month(today or timezone.localdate())
    return [add_months(until, -offset) for offset in range(months - 1, -1, -1)]


def _organisation_id(actor: User | None) -> int | None:
    membership = partner_membership(actor)
    if membership is None or not membership.organisation.active:
        return None
    return membership.organisation_id


def active_units(*, actor: User | None) -> QuerySet[Association]:
    """The caller's organisation's active associations (its units with visible usage)."""
    organisation_id = _organisation_id(actor)
    if organisation_id is None:
        return Association.objects.none()
    return (
        Association.objects.filter(organisation_id=organisation_id, status=AssociationStatus.ACTIVE)
        .select_related("tenant", "product", "subscription")
        .order_by("tenant__name", "product__name", "pk")
    )


def _held_by(organisation_id: int, path: str, **extra) -> Q:
    """Usage rows of units the organisation actively holds, joined through ``path``
    (``tenant__associations`` or ``subscription__associations``)."""
    conditions = {
        f"{path}__organisation_id": organisation_id,
        f"{path}__status": AssociationStatus.ACTIVE,
        **{f"{path}__{name}": value for name, value in extra.items()},
    }
    return Q(**conditions)


def _workload_rows(organisation_id: int, **extra) -> QuerySet[WorkloadUsage]:
    return WorkloadUsage.objects.filter(
        _held_by(
            organisation_id,
            "tenant__associations",
            subscription__isnull=True,
            product_id=F("product_id"),
            **extra,
        )
    )


def _subscription_rows(organisation_id: int, **extra) -> QuerySet[SubscriptionUsage]:
    return SubscriptionUsage.objects.filter(
        _held_by(organisation_id, "subscription__associations", **extra)
    )


@dataclass(frozen=True)
class MonthUsage:
    """One month of one unit: for a workload, MAU against PAU; for a subscription, the
    licensed units (as both figures' "licensed") and revenue."""

    month: datetime.date
    active: int | None = None
    licensed: int | None = None
    revenue: Decimal | None = None
    currency: str = ""

    @property
    def usage_percent(self) -> float | None:
        return usage_percent(self.active, self.licensed)


@dataclass
class UnitUsage:
    association: Association
    months: list[MonthUsage]
    # The high-water mark before the association became official: the most active users
    # (workloads) or licensed units (subscriptions) in any earlier month.
    baseline: int | None

    @property
    def is_subscription(self) -> bool:
        return self.association.subscription_id is not None

    @property
    def latest(self) -> MonthUsage | None:
        measured = [m for m in self.months if m.licensed is not None]
        return measured[-1] if measured else None

    @property
    def measure(self) -> int | None:
        latest = self.latest
        if latest is None:
            return None
        return latest.licensed if self.is_subscription else latest.active

    @property
    def growth(self) -> int | None:
        if self.baseline is None or self.measure is None:
            return None
        return self.measure - self.baseline

    @property
    def growth_percent(self) -> float | None:
        if not self.baseline or self.growth is None:
            return None
        return round(100.0 * self.growth / self.baseline, 1)

    @property
    def started(self) -> datetime.date:
        moment = self.association.activated_at or self.association.approved_at
        return first_of_month(timezone.localtime(moment).date())


def unit_usage(
    *,
    actor: User | None,
    units: list[Association],
    months: int = DEFAULT_MONTHS,
    today: datetime.date | None = None,
) -> list[UnitUsage]:
    """The monthly usage of the given units over the window, with their baselines.

    Two queries whatever the number of units; units the caller no longer actively holds
    come back with no months."""
    organisation_id = _organisation_id(actor)
    window = month_window(months, today)
    by_unit: dict[int, dict[datetime.date, MonthUsage]] = defaultdict(dict)
    workload_ids = [u.pk for u in units if u.subscription_id is None]
    subscription_ids = [u.pk for u in units if u.subscription_id is not None]
    if organisation_id is not None and workload_ids:
        rows = _workload_rows(organisation_id, pk__in=workload_ids).filter(month__lte=window[-1])
        for pk, month, active, paid in rows.values_list(
            "tenant__associations__pk", "month", "active_users", "paid_units"
        ):
            by_unit[pk][month] = MonthUsage(month, active, paid)
    if organisation_id is not None and subscription_ids:
        rows = _subscription_rows(organisation_id, pk__in=subscription_ids).filter(
            month__lte=window[-1]
        )
        for pk, month, units_, revenue, currency in rows.values_list(
            "subscription__associations__pk", "month", "licensed_units", "revenue", "currency"
        ):
            by_unit[pk][month] = MonthUsage(month, None, units_, revenue, currency)
    result = []
    for unit in units:
        history = by_unit.get(unit.pk, {})
        usage = UnitUsage(unit, [history.get(m, MonthUsage(m)) for m in window], None)
        before = [
            (m.licensed if usage.is_subscription else m.active)
            for month, m in history.items()
            if month < usage.started
        ]
        usage.baseline = max(before) if before else None
        result.append(usage)
    return result


def unit_usage_get(
    *,
    actor: User | None,
    pk: int,
    months: int = DEFAULT_MONTHS,
    today: datetime.date | None = None,
) -> UnitUsage:
    """One unit the caller actively holds; ``Association.DoesNotExist`` (404) otherwise."""
    unit = active_units(actor=actor).get(pk=pk)
    return unit_usage(actor=actor, units=[unit], months=months, today=today)[0]


def ended_unit_get(*, actor: User | None, pk: int) -> Association:
    """One association of the caller's organisation that has ended, so its usage page
    can say how and when; ``Association.DoesNotExist`` for anything else."""
    organisation_id = _organisation_id(actor)
    if organisation_id is None:
        raise Association.DoesNotExist
    return Association.objects.select_related("tenant", "product", "subscription").get(
        pk=pk, organisation_id=organisation_id, status=AssociationStatus.ENDED
    )


@dataclass
class MonthTotals:
    month: datetime.date
    active_users: int = 0
    paid_units: int = 0
    licensed_units: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)

    @property
    def usage_percent(self) -> float | None:
        return usage_percent(self.active_users, self.paid_units)


def usage_totals(
    *, actor: User | None, months: int = DEFAULT_MONTHS, today: datetime.date | None = None
) -> list[MonthTotals]:
    """Totals across every customer, month by month: MAU and PAU of the workloads, the
    licensed units and revenue (per currency) of the subscriptions. Two queries."""
    window = month_window(months, today)
    totals = {m: MonthTotals(m) for m in window}
    organisation_id = _organisation_id(actor)
    if organisation_id is None:
        return list(totals.values())
    in_window = Q(month__gte=window[0], month__lte=window[-1])
    workloads = (
        _workload_rows(organisation_id)
        .filter(in_window)
        .values("month")
        .annotate(active=Sum("active_users"), paid=Sum("paid_units"))
        .order_by()
    )
    for row in workloads:
        total = totals[row["month"]]
        total.active_users, total.paid_units = row["active"], row["paid"]
    subscriptions = (
        _subscription_rows(organisation_id)
        .filter(in_window)
        .values("month", "currency")
        .annotate(units=Sum("licensed_units"), revenue=Sum("revenue"))
        .order_by()
    )
    for row in subscriptions:
        total = totals[row["month"]]
        total.licensed_units += row["units"]
        total.revenue[row["currency"]] = row["revenue"]
    return list(totals.values())


EXPORT_COLUMNS = (
    "tenant_id",
    "customer",
    "product",
    "subscription_id",
    "month",
    "active_users",
    "paid_units",
    "usage_percent",
    "licensed_units",
    "revenue",
    "currency",
)


def usage_export_rows(
    *,
    actor: User | None,
    months: int = DEFAULT_MONTHS,
    today: datetime.date | None = None,
    chunk: int = 2000,
) -> Iterator[tuple]:
    """Every month of every unit the caller actively holds, for a CSV export, read in
    chunks so a large partner streams in constant memory."""
    window = month_window(months, today)
    organisation_id = _organisation_id(actor)
    if organisation_id is None:
        return
    in_window = Q(month__gte=window[0], month__lte=window[-1])
    workloads = (
        _workload_rows(organisation_id)
        .filter(in_window)
        .order_by("tenant__name", "product__name", "month")
        .values_list(
            "tenant__tenant_id",
            "tenant__name",
            "product__name",
            "month",
            "active_users",
            "paid_units",
        )
    )
    for tenant_id, name, product, month, active, paid in workloads.iterator(chunk_size=chunk):
        yield (
            tenant_id,
            name,
            product,
            "",
            month,
            active,
            paid,
            usage_percent(active, paid),
            "",
            "",
            "",
        )
    subscriptions = (
        _subscription_rows(organisation_id)
        .filter(in_window)
        .order_by("subscription__tenant__name", "subscription__product__name", "month")
        .values_list(
            "subscription__tenant__tenant_id",
            "subscription__tenant__name",
            "subscription__product__name",
            "subscription__subscription_id",
            "month",
            "licensed_units",
            "revenue",
            "currency",
        )
    )
    for tenant_id, name, product, sub, month, units, revenue, currency in subscriptions.iterator(
        chunk_size=chunk
    ):
        yield (tenant_id, name, product, sub, month, "", "", "", units, revenue, currency)
