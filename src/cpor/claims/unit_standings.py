"""What the wizard's units step tells the partner before it picks: per workload or
subscription, whether the tenant licenses it and whether a partner already holds it.

The holder is said only as "your organisation" or "another partner", never by name. The
caller decides which units to ask about: every row for a partner related to the tenant,
only what it picked or typed for any other (``cpor.customers.relationships``), so nothing
enumerates a tenant's licences. The submission checks (``claims.checks``) confirm the same
facts when the claim is checked.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.utils import timezone

from cpor.catalog.models import Product
from cpor.claims.models import HELD_STATUSES, Association
from cpor.customers.models import Subscription, Tenant


class Holder:
    NONE = ""
    YOURS = "yours"
    YOURS_LEGACY = "yours_legacy"  # a claim of ours re-associates it: no obstacle
    OTHER = "other"


@dataclass(frozen=True)
class UnitStanding:
    licensed: bool  # the tenant has an active subscription of it (or it is one, active)
    holder: str  # a ``Holder`` value

    @classmethod
    def of(cls, licensed, ours, ours_legacy, others) -> "UnitStanding":
        # SQLite answers the EXISTS as 0/1.
        if ours:
            holder = Holder.YOURS
        elif others:
            holder = Holder.OTHER
        elif ours_legacy:
            holder = Holder.YOURS_LEGACY
        else:
            holder = Holder.NONE
        return cls(licensed=bool(licensed), holder=holder)


def _holders(held, organisation_id: int) -> dict:
    return {
        "ours": Exists(held.filter(organisation_id=organisation_id, legacy=False)),
        "ours_legacy": Exists(held.filter(organisation_id=organisation_id, legacy=True)),
        "others": Exists(held.exclude(organisation_id=organisation_id)),
    }


def workload_standings(
    *,
    organisation_id: int,
    tenant: Tenant,
    codes: Iterable[str],
    today: datetime.date | None = None,
) -> dict[str, UnitStanding]:
    """The standing of each workload (product code) of ``codes`` at the tenant: one query
    for all of them."""
    codes = list(codes)
    if not codes:
        return {}
    today = today or timezone.localdate()
    held = Association.objects.filter(
        status__in=HELD_STATUSES,
        tenant=tenant,
        product_id=OuterRef("pk"),
        subscription__isnull=True,
    )
    rows = (
        Product.objects.filter(code__in=codes)
        .annotate(
            licensed=Exists(
                Subscription.objects.filter(
                    tenant=tenant,
                    product_id=OuterRef("pk"),
                    starts_on__lte=today,
                    ends_on__gte=today,
                )
            ),
            **_holders(held, organisation_id),
        )
        .values_list("code", "licensed", "ours", "ours_legacy", "others")
    )
    return {code: UnitStanding.of(*flags) for code, *flags in rows}


def subscription_standings(
    *,
    organisation_id: int,
    tenant: Tenant,
    subscription_ids: Iterable,
    today: datetime.date | None = None,
) -> dict[str, UnitStanding]:
    """The standing of each of the tenant's subscriptions among ``subscription_ids`` (by
    their ID as text): one query for all of them. Another tenant's are not answered."""
    ids = [str(value) for value in subscription_ids]
    if not ids:
        return {}
    today = today or timezone.localdate()
    held = Association.objects.filter(status__in=HELD_STATUSES, subscription_id=OuterRef("pk"))
    rows = (
        Subscription.objects.filter(tenant=tenant, subscription_id__in=ids)
        .annotate(
            licensed=ExpressionWrapper(
                Q(starts_on__lte=today, ends_on__gte=today), output_field=BooleanField()
            ),
            **_holders(held, organisation_id),
        )
        .values_list("subscription_id", "licensed", "ours", "ours_legacy", "others")
    )
    return {str(guid): UnitStanding.of(*flags) for guid, *flags in rows}
