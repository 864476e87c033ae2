"""Monthly usage, imported in bulk: per tenant and workload, and per subscription.

Built for tens of millions of rows. Each table's primary key is its natural key
(tenant, product, month) / (subscription, month): no surrogate id column and no second
index to maintain on import, and the key index is the one the dashboard walks (all
months of one unit). On PostgreSQL, migration 0002 makes that key index cover the
measures (``INCLUDE``) so the dashboard reads no table pages, and adds a BRIN index on
the month for program-wide monthly scans. ``month`` is always the first of the month.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from cpor.catalog.models import Product
from cpor.customers.models import Subscription, Tenant


class WorkloadUsage(models.Model):
    """One month of a tenant's workload: monthly active users (MAU: users with an
    intentional action in the last 28 days) and paid available units (PAU)."""

    pk = models.CompositePrimaryKey("tenant", "product", "month")
    tenant = models.ForeignKey(
        Tenant,
        models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("tenant"),
    )
    product = models.ForeignKey(
        Product,
        models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("workload"),
    )
    month = models.DateField(_("month"))
    active_users = models.PositiveIntegerField(_("monthly active users"))
    paid_units = models.PositiveIntegerField(_("paid available units"))

    class Meta:
        verbose_name = _("workload usage")
        verbose_name_plural = _("workload usage")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="workload_usage_month_is_first_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} · {self.active_users}/{self.paid_units}"

    @property
    def usage_percent(self) -> float | None:
        return usage_percent(self.active_users, self.paid_units)


class SubscriptionUsage(models.Model):
    """One month of a subscription: licensed units (seats) and revenue."""

    pk = models.CompositePrimaryKey("subscription", "month")
    subscription = models.ForeignKey(
        Subscription,
        models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("subscription"),
    )
    month = models.DateField(_("month"))
    licensed_units = models.PositiveIntegerField(_("licensed units"))
    revenue = models.DecimalField(_("revenue"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("subscription usage")
        verbose_name_plural = _("subscription usage")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="subscription_usage_month_is_first_day"
            ),
            models.CheckConstraint(
                condition=models.Q(revenue__gte=0), name="subscription_usage_revenue_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} · {self.licensed_units} · {self.revenue} {self.currency}"


def usage_percent(active: int | None, paid: int | None) -> float | None:
    """MAU / PAU as a percentage; None when nothing is paid for."""
    if not paid or active is None:
        return None
    return round(100.0 * active / paid, 1)
