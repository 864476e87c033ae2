"""The accrual rules, as pure functions over facts the selectors read: no queries here,
so every rule is tested through month boundaries without a database round trip each.

The rules (docs/architecture.md, "Rate cards and accrual"):

- An association accrues only on the days it is official: from the day of its
  activation (counted) to the day it ends (not counted: a superseded holder's accrual
  stops on the day the association ends). Nothing accrues while it waits for the
  customer, nor after it ends. A renewal carry-over keeps the same association, so its
  accrual simply continues (its usage is read across the renewed subscriptions).
- A month's amount under one rate card version is ``rate * units`` of its base (growth
  of active users over the starting high-water mark, PAU, or 1 for the flat base),
  capped at the card's cap, then pro-rated by the days of the month the association was
  official while that version was in force: ``amount * days / days in the month``. A
  version changing mid-month splits the month in two rows, each with its own card.
- Thresholds are met on the month's figures: at least ``min_paid_units`` paid units
  (PAU for a workload, licensed units for a subscription) and, for the growth base, at
  least ``min_growth`` active users over the mark. Below them the month earns nothing.
- Each row is rounded once, half up to the currency's minor unit (``money.py``).
"""

import calendar
import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from cpor.earnings.models import IncentiveBase, RateCard
from cpor.earnings.money import Money, quantize

# Why an association, or one month of it, earns nothing: shown to the partner.
REASONS = {
    "opted_out": _("The claim opted out of incentive payments."),
    "revenue_only": _(
        "Revenue association only (influenced revenue recognition): it never earns incentives."
    ),
    "not_incentivized": _("This engagement pays no incentives."),
    "not_active": _("Not official yet: nothing accrues before the association is activated."),
    "never_active": _("Ended before it became official: nothing accrued."),
    "no_rate_card": _("No rate card was in force on these days."),
    "channel_not_eligible": _("Bought through a purchase channel this rate card does not pay."),
    "no_usage": _("No usage was reported for this month."),
    "below_paid_units": _("Below the rate card's minimum of paid units."),
    "below_growth": _("Below the rate card's minimum growth over the high-water mark."),
    "no_growth": _("No growth over the starting high-water mark."),
}


def reason_text(code: str) -> str:
    return str(REASONS.get(code, "")) if code else ""


@dataclass(frozen=True)
class MonthFigures:
    """One month's usage of a unit: ``active`` (MAU, workloads only), ``paid`` (PAU, or a
    subscription's licensed units) and the purchase channels it came through."""

    active: int | None = None
    paid: int | None = None
    channels: frozenset[str] = frozenset()


@dataclass
class UnitFacts:
    association_id: int
    engagement_id: int
    is_subscription: bool
    activated_on: datetime.date | None
    ended_on: datetime.date | None  # the first day that does not accrue
    earns_nothing: str = ""  # an association-wide reason code
    usage: dict[datetime.date, MonthFigures] = field(default_factory=dict)
    channels: frozenset[str] = frozenset()  # when a month has no usage row

    def measure(self, figures: MonthFigures) -> int | None:
        """What growth is measured on: active users of a workload, a subscription's
        licensed units (it reports no active users)."""
        return figures.paid if self.is_subscription else figures.active

    @property
    def baseline(self) -> int | None:
        """The starting high-water mark: the highest measure of any month before the
        month of activation."""
        if self.activated_on is None:
            return None
        start = self.activated_on.replace(day=1)
        before = [
            value
            for month, figures in self.usage.items()
            if month < start and (value := self.measure(figures)) is not None
        ]
        return max(before) if before else None


@dataclass(frozen=True)
class Accrual:
    """One association, one month, one rate card version (or the days no version
    covered): the figures used and the estimate."""

    association_id: int
    month: datetime.date
    card: RateCard | None
    days: int
    days_in_month: int
    active_users: int | None
    paid_units: int | None
    baseline: int | None
    units: int | None  # of the base: growth, PAU, or 1 (flat)
    month_amount: Decimal | None  # rate * units, capped; before pro-rating
    capped: bool
    money: Money | None
    reason: str = ""

    @property
    def reason_text(self) -> str:
        return reason_text(self.reason)

    @property
    def prorated(self) -> bool:
        return self.days < self.days_in_month


def next_month(month: datetime.date) -> datetime.date:
    return (month + datetime.timedelta(days=32)).replace(day=1)


def days_in(month: datetime.date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def _overlap(
    start: datetime.date, stop: datetime.date, card: RateCard
) -> tuple[datetime.date, datetime.date] | None:
    """The days [from, to) of [start, stop) on which the card is in force."""
    card_stop = card.effective_until + datetime.timedelta(days=1) if card.effective_until else stop
    low, high = max(start, card.effective_from), min(stop, card_stop)
    return (low, high) if low < high else None


def _month_amount(
    unit: UnitFacts, card: RateCard, figures: MonthFigures | None, baseline: int | None
) -> tuple[int | None, Decimal | None, bool, str]:
    """(units, capped month amount, capped?, reason) under one card."""
    if card.eligible_channels:
        channels = figures.channels if figures and figures.channels else unit.channels
        if not channels & set(card.eligible_channels):
            return None, Decimal(0), False, "channel_not_eligible"
    needs_usage = card.base != IncentiveBase.FLAT or card.min_paid_units > 0
    if needs_usage and (figures is None or figures.paid is None):
        return None, Decimal(0), False, "no_usage"
    if figures is not None and figures.paid is not None and figures.paid < card.min_paid_units:
        return None, Decimal(0), False, "below_paid_units"
    reason = ""
    if card.base == IncentiveBase.FLAT:
        units = 1
    elif card.base == IncentiveBase.PAU:
        units = figures.paid
    else:
        measure = unit.measure(figures)
        if measure is None:
            return None, Decimal(0), False, "no_usage"
        units = max(0, measure - (baseline or 0))
        if units < card.min_growth:
            return units, Decimal(0), False, "below_growth"
        if units == 0:
            reason = "no_growth"
    amount = card.rate * units
    capped = card.cap is not None and amount > card.cap
    return units, (card.cap if capped else amount), capped, reason


def accrue(
    unit: UnitFacts, cards: Sequence[RateCard], months: Iterable[datetime.date]
) -> list[Accrual]:
    """The rows of one association over the given months (firsts of months), in order.
    An association that earns nothing at all has no rows (``unit.earns_nothing``)."""
    if unit.earns_nothing or unit.activated_on is None:
        return []
    rows: list[Accrual] = []
    baseline = unit.baseline
    for month in months:
        start = max(month, unit.activated_on)
        stop = next_month(month)
        if unit.ended_on is not None:
            stop = min(stop, unit.ended_on)
        if start >= stop:
            continue
        figures = unit.usage.get(month)
        common = {
            "association_id": unit.association_id,
            "month": month,
            "days_in_month": days_in(month),
            "active_users": figures.active if figures else None,
            "paid_units": figures.paid if figures else None,
            "baseline": baseline,
        }
        covered = 0
        for card in cards:
            span = _overlap(start, stop, card)
            if span is None:
                continue
            days = (span[1] - span[0]).days
            covered += days
            units, amount, capped, reason = _month_amount(unit, card, figures, baseline)
            share = amount * days / common["days_in_month"]
            money = Money(quantize(share, card.currency), card.currency)
            rows.append(
                Accrual(
                    card=card,
                    days=days,
                    units=units,
                    month_amount=amount,
                    capped=capped,
                    money=money,
                    reason=reason,
                    **common,
                )
            )
        uncovered = (stop - start).days - covered
        if uncovered > 0:
            rows.append(
                Accrual(
                    card=None,
                    days=uncovered,
                    units=None,
                    month_amount=None,
                    capped=False,
                    money=None,
                    reason="no_rate_card",
                    **common,
                )
            )
    return rows
