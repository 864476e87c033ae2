"""Reads of earnings estimates, scoped to the caller: a partner sees its own
organisation's associations, a program admin the liability of the whole program.

Estimates are computed on read from the associations, the usage and the rate cards
(``accrual.accrue``): a constant number of queries per chunk of associations (the
associations, their usage, their renewed subscriptions' usage, the channels, the rate
cards), never one per association. Usage figures stay visible only while the partner
actively holds the unit, as on the usage dashboard: an ended association keeps its
estimated amounts, with the figures behind them withheld.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from cpor.accounts.models import User
from cpor.claims.models import Association, AssociationStatus
from cpor.claims.permissions import partner_membership, require_program_admin
from cpor.customers.models import Subscription
from cpor.earnings.accrual import Accrual, MonthFigures, UnitFacts, accrue, reason_text
from cpor.earnings.models import RateCard
from cpor.earnings.money import add_to
from cpor.usage.models import SubscriptionUsage, WorkloadUsage
from cpor.usage.selectors import DEFAULT_MONTHS, MONTH_CHOICES, month_window  # noqa: F401

CHUNK = 500


def _organisation_id(actor: User | None) -> int | None:
    membership = partner_membership(actor)
    if membership is None or not membership.organisation.active:
        return None
    return membership.organisation_id


def _with_relations(associations: QuerySet[Association]) -> QuerySet[Association]:
    return associations.select_related(
        "claim__role__engagement", "claim__location", "tenant", "product", "subscription"
    )


# What the totals read of an association: the rules' inputs and the grouping keys only,
# so a large partner's totals build no tenant, product or subscription objects.
TOTALS_FIELDS = (
    "id",
    "status",
    "tenant_id",
    "product_id",
    "subscription_id",
    "activated_at",
    "ended_at",
    "claim__incentive_opt_out",
    "claim__role__engagement__name",
    "claim__role__engagement__name_pt",
    "claim__role__engagement__incentivized",
    "claim__role__engagement__requires_revenue_details",
    "claim__location__partner_id",
)


def _for_totals(associations: QuerySet[Association]) -> QuerySet[Association]:
    return associations.select_related("claim__role__engagement", "claim__location").only(
        *TOTALS_FIELDS
    )


def partner_associations(*, actor: User | None) -> QuerySet[Association]:
    """Every association of the caller's organisation, whatever its status: ended ones
    keep what they accrued while they were held."""
    organisation_id = _organisation_id(actor)
    if organisation_id is None:
        return Association.objects.none()
    return _with_relations(Association.objects.filter(organisation_id=organisation_id)).order_by(
        "tenant__name", "product__name", "pk"
    )


def _may_accrue_in(associations: QuerySet[Association], since: datetime.date) -> QuerySet:
    """Associations that were official at some moment of the window and may earn."""
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    return associations.filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=start),
        activated_at__isnull=False,
        claim__incentive_opt_out=False,
        claim__role__engagement__incentivized=True,
        claim__role__engagement__requires_revenue_details=False,
    )


def _local_day(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(moment).date() if moment else None


def earns_nothing(association: Association) -> str:
    """The association-wide reason an association earns nothing, or ""."""
    engagement = association.claim.role.engagement
    if engagement.requires_revenue_details:
        return "revenue_only"
    if not engagement.incentivized:
        return "not_incentivized"
    if association.claim.incentive_opt_out:
        return "opted_out"
    if association.activated_at is None:
        return "never_active" if association.status == AssociationStatus.ENDED else "not_active"
    return ""


def _facts(associations: list[Association], until: datetime.date) -> dict[int, UnitFacts]:
    """What the rules need of each association, in five queries whatever their number."""
    facts = {
        a.pk: UnitFacts(
            association_id=a.pk,
            engagement_id=a.claim.role.engagement_id,
            is_subscription=a.subscription_id is not None,
            activated_on=_local_day(a.activated_at),
            ended_on=_local_day(a.ended_at) if a.activated_at else None,
            earns_nothing=earns_nothing(a),
        )
        for a in associations
    }
    workloads = [
        a for a in associations if a.subscription_id is None and not facts[a.pk].earns_nothing
    ]
    if workloads:
        rows = WorkloadUsage.objects.filter(
            tenant__associations__pk__in=[a.pk for a in workloads],
            tenant__associations__product_id=F("product_id"),
            tenant__associations__subscription__isnull=True,
            month__lt=until,
        ).values_list("tenant__associations__pk", "month", "active_users", "paid_units")
        for pk, month, active, paid in rows:
            facts[pk].usage[month] = MonthFigures(active, paid)
        # A workload's channels are those of the tenant's subscriptions to it.
        channels: dict[tuple[int, int], set[str]] = defaultdict(set)
        for tenant_id, product_id, channel in Subscription.objects.filter(
            tenant_id__in={a.tenant_id for a in workloads},
            product_id__in={a.product_id for a in workloads},
        ).values_list("tenant_id", "product_id", "purchase_channel"):
            channels[(tenant_id, product_id)].add(channel)
        for a in workloads:
            unit = facts[a.pk]
            unit.channels = frozenset(channels.get((a.tenant_id, a.product_id), ()))
            unit.usage = {m: replace(f, channels=unit.channels) for m, f in unit.usage.items()}
    held = [
        a for a in associations if a.subscription_id is not None and not facts[a.pk].earns_nothing
    ]
    if held:
        _subscription_facts(held, facts, until)
    return facts


def _subscription_facts(
    associations: list[Association], facts: dict[int, UnitFacts], until: datetime.date
) -> None:
    """Usage of subscription units across renewals: a carried-over association reads its
    current subscription and every predecessor (the newest one wins a shared month)."""
    depth: dict[int, tuple[int, int, str]] = {}  # subscription -> (association, depth, channel)
    frontier = {a.subscription_id: (a.pk, 0) for a in associations}
    while frontier:
        rows = Subscription.objects.filter(pk__in=list(frontier)).values_list(
            "pk", "predecessor_id", "purchase_channel"
        )
        following = {}
        for pk, predecessor_id, channel in rows:
            association_id, level = frontier[pk]
            depth[pk] = (association_id, level, channel)
            if predecessor_id and predecessor_id not in depth:
                following[predecessor_id] = (association_id, level + 1)
        frontier = following
    for a in associations:
        facts[a.pk].channels = frozenset({depth[a.subscription_id][2]})
    best: dict[tuple[int, datetime.date], int] = {}
    rows = SubscriptionUsage.objects.filter(
        subscription_id__in=list(depth), month__lt=until
    ).values_list("subscription_id", "month", "licensed_units")
    for subscription_id, month, units in rows:
        association_id, level, channel = depth[subscription_id]
        key = (association_id, month)
        if key in best and best[key] <= level:
            continue
        best[key] = level
        facts[association_id].usage[month] = MonthFigures(None, units, frozenset({channel}))


def _cards(engagement_ids: Iterable[int]) -> dict[int, list[RateCard]]:
    cards: dict[int, list[RateCard]] = defaultdict(list)
    for card in RateCard.objects.filter(engagement_id__in=set(engagement_ids)).order_by(
        "effective_from"
    ):
        cards[card.engagement_id].append(card)
    return cards


@dataclass
class AssociationEarnings:
    """One association's estimate over the window, month by month."""

    association: Association
    reason: str
    rows: list[Accrual]
    figures_hidden: bool

    @property
    def reason_text(self) -> str:
        return reason_text(self.reason)

    @property
    def totals(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for row in self.rows:
            if row.money is not None:
                add_to(totals, row.money)
        return totals

    @property
    def partner_id(self) -> str:
        return self.association.claim.location.partner_id

    @property
    def engagement(self):
        return self.association.claim.role.engagement


def _hide_figures(row: Accrual) -> Accrual:
    return replace(row, active_users=None, paid_units=None, baseline=None)


def association_earnings(
    *, associations: list[Association], months: list[datetime.date]
) -> list[AssociationEarnings]:
    """The estimates of associations already read within the caller's scope."""
    if not associations:
        return []
    until = (months[-1] + datetime.timedelta(days=32)).replace(day=1)
    facts = _facts(associations, until)
    cards = _cards(f.engagement_id for f in facts.values())
    result = []
    for association in associations:
        unit = facts[association.pk]
        rows = accrue(unit, cards.get(unit.engagement_id, []), months)
        hidden = association.status != AssociationStatus.ACTIVE
        if hidden:
            rows = [_hide_figures(row) for row in rows]
        result.append(AssociationEarnings(association, unit.earns_nothing, rows, hidden))
    return result


def earnings_get(
    *, actor: User | None, pk: int, months: list[datetime.date]
) -> AssociationEarnings:
    """One association of the caller's organisation; ``Association.DoesNotExist`` (404)
    otherwise."""
    association = partner_associations(actor=actor).get(pk=pk)
    return association_earnings(associations=[association], months=months)[0]


def _chunks(associations: QuerySet[Association]) -> Iterator[list[Association]]:
    chunk: list[Association] = []
    for association in associations.order_by("pk").iterator(chunk_size=CHUNK):
        chunk.append(association)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class EarningsTotals:
    """Per-currency totals of a partner's estimates: by month, engagement and PartnerID."""

    months: list[datetime.date]
    by_month: dict[datetime.date, dict[str, Decimal]] = field(default_factory=dict)
    by_engagement: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    by_partner_id: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    total: dict[str, Decimal] = field(default_factory=dict)

    @property
    def currencies(self) -> list[str]:
        return sorted(self.total)


def _add(table: dict, key, row: Accrual) -> None:
    add_to(table.setdefault(key, {}), row.money)


def earnings_totals(*, actor: User | None, months: list[datetime.date]) -> EarningsTotals:
    totals = EarningsTotals(months=months, by_month={m: {} for m in months})
    scoped = _for_totals(_may_accrue_in(partner_associations(actor=actor), months[0]))
    for chunk in _chunks(scoped):
        for earnings in association_earnings(associations=chunk, months=months):
            for row in earnings.rows:
                if row.money is None:
                    continue
                _add(totals.by_month, row.month, row)
                _add(totals.by_engagement, earnings.engagement.name, row)
                _add(totals.by_partner_id, earnings.partner_id, row)
                add_to(totals.total, row.money)
    return totals


@dataclass
class Liability:
    """The program's estimated liability: per engagement and month, per currency."""

    months: list[datetime.date]
    rows: dict[str, dict[datetime.date, dict[str, Decimal]]] = field(default_factory=dict)
    total: dict[str, Decimal] = field(default_factory=dict)

    @property
    def currencies(self) -> list[str]:
        return sorted(self.total)


def program_liability(*, actor: User | None, months: list[datetime.date]) -> Liability:
    """Every association of the program that may accrue in the window. Program admins."""
    require_program_admin(actor)
    liability = Liability(months=months)
    scoped = _for_totals(_may_accrue_in(Association.objects.all(), months[0]))
    for chunk in _chunks(scoped):
        for earnings in association_earnings(associations=chunk, months=months):
            for row in earnings.rows:
                if row.money is None:
                    continue
                by_month = liability.rows.setdefault(earnings.engagement.name, {})
                add_to(by_month.setdefault(row.month, {}), row.money)
                add_to(liability.total, row.money)
    return liability


LIABILITY_COLUMNS = ("engagement", "month", "currency", "estimated_liability")


def liability_export_rows(liability: Liability) -> Iterator[tuple]:
    for engagement, by_month in sorted(liability.rows.items()):
        for month in liability.months:
            for currency, amount in sorted(by_month.get(month, {}).items()):
                yield (engagement, month, currency, amount)


EXPORT_COLUMNS = (
    "partner_id",
    "engagement",
    "association",
    "customer",
    "tenant_id",
    "product",
    "subscription_id",
    "month",
    "rate_card_version",
    "base",
    "rate",
    "days",
    "days_in_month",
    "active_users",
    "paid_units",
    "baseline",
    "units",
    "capped",
    "amount",
    "currency",
    "reason",
)


def earnings_export_rows(*, actor: User | None, months: list[datetime.date]) -> Iterator[tuple]:
    """One line per association, month and rate card version, in chunks; an association
    that earns nothing at all gets one line saying why."""
    for chunk in _chunks(partner_associations(actor=actor)):
        for earnings in association_earnings(associations=chunk, months=months):
            a = earnings.association
            unit = (
                earnings.partner_id,
                earnings.engagement.name,
                a.pk,
                a.tenant.name,
                a.tenant.tenant_id,
                a.product.name,
                a.subscription.subscription_id if a.subscription_id else "",
            )
            if earnings.reason:
                yield (*unit, "", "", "", "", "", "", "", "", "", "", "", "", "", earnings.reason)
            for row in earnings.rows:
                card = row.card
                yield (
                    *unit,
                    row.month,
                    card.version_label if card else "",
                    card.base if card else "",
                    card.rate if card else "",
                    row.days,
                    row.days_in_month,
                    row.active_users,
                    row.paid_units,
                    row.baseline,
                    row.units,
                    "yes" if row.capped else "",
                    row.money.amount if row.money else "",
                    row.money.currency if row.money else "",
                    row.reason,
                )
