"""The accrual rules through month boundaries, without a database: facts in, rows out."""

import datetime
from decimal import Decimal

import pytest

from cpor.earnings.accrual import MonthFigures, UnitFacts, accrue
from cpor.earnings.models import IncentiveBase, RateCard
from cpor.earnings.money import Money, quantize

D = datetime.date


def months(*pairs):
    return [D(y, m, 1) for y, m in pairs]


def card(**values) -> RateCard:
    values = {
        "engagement_id": 1,
        "effective_from": D(2025, 1, 1),
        "base": IncentiveBase.PAU,
        "rate": Decimal("2.00"),
        "currency": "EUR",
        **values,
    }
    return RateCard(**values)


def unit(activated_on, ended_on=None, usage=None, **values) -> UnitFacts:
    return UnitFacts(
        association_id=1,
        engagement_id=1,
        is_subscription=values.pop("is_subscription", False),
        activated_on=activated_on,
        ended_on=ended_on,
        usage=usage or {},
        **values,
    )


def pau(paid: int, active: int = 0) -> MonthFigures:
    return MonthFigures(active, paid)


def amounts(rows) -> list[tuple[datetime.date, int, Decimal | None]]:
    return [(r.month, r.days, r.money.amount if r.money else None) for r in rows]


WINTER = months((2026, 1), (2026, 2), (2026, 3), (2026, 4))
FULL = {m: pau(100) for m in WINTER}


def test_nothing_accrues_before_activation_and_the_first_day_counts():
    rows = accrue(unit(D(2026, 2, 15), usage=FULL), [card()], WINTER)
    # January: not official yet. February (28 days): the 15th to the 28th, 14 days.
    assert amounts(rows) == [
        (D(2026, 2, 1), 14, Decimal("100.00")),  # 200 * 14 / 28
        (D(2026, 3, 1), 31, Decimal("200.00")),
        (D(2026, 4, 1), 30, Decimal("200.00")),
    ]


def test_activation_on_the_last_day_of_a_month_accrues_one_day_of_it():
    rows = accrue(unit(D(2026, 1, 31), usage=FULL), [card()], WINTER[:2])
    assert amounts(rows) == [
        (D(2026, 1, 1), 1, Decimal("6.45")),  # 200 / 31 = 6.4516…
        (D(2026, 2, 1), 28, Decimal("200.00")),
    ]


def test_a_superseded_holder_stops_on_the_day_it_ends_and_the_newcomer_starts_that_day():
    holder = accrue(unit(D(2025, 12, 1), D(2026, 3, 10), usage=FULL), [card()], WINTER)
    newcomer = accrue(unit(D(2026, 3, 10), usage=FULL), [card()], WINTER)
    assert amounts(holder)[-1] == (D(2026, 3, 1), 9, Decimal("58.06"))  # 1st-9th: 200 * 9/31
    assert amounts(newcomer)[0] == (D(2026, 3, 1), 22, Decimal("141.94"))  # 10th-31st
    # Every day of March accrues once, to one partner.
    assert holder[-1].days + newcomer[0].days == 31
    assert holder[-1].money.amount + newcomer[0].money.amount == Decimal("200.00")
    assert D(2026, 4, 1) not in [r.month for r in holder]


def test_an_association_ending_on_the_first_of_a_month_accrues_nothing_in_it():
    rows = accrue(unit(D(2026, 1, 1), D(2026, 3, 1), usage=FULL), [card()], WINTER)
    assert [r.month for r in rows] == months((2026, 1), (2026, 2))
    assert all(r.days == r.days_in_month for r in rows)


def test_an_association_ended_the_day_it_became_official_accrues_nothing():
    assert accrue(unit(D(2026, 2, 5), D(2026, 2, 5), usage=FULL), [card()], WINTER) == []


def test_a_rate_card_changing_mid_month_splits_the_month_by_days():
    old = card(effective_until=D(2026, 2, 14))
    new = card(effective_from=D(2026, 2, 15), rate=Decimal("3.00"), currency="EUR")
    rows = accrue(unit(D(2026, 1, 1), usage=FULL), [old, new], WINTER[:3])
    assert [(r.month, r.card, r.days, r.money.amount) for r in rows] == [
        (D(2026, 1, 1), old, 31, Decimal("200.00")),
        (D(2026, 2, 1), old, 14, Decimal("100.00")),  # 200 * 14/28
        (D(2026, 2, 1), new, 14, Decimal("150.00")),  # 300 * 14/28
        (D(2026, 3, 1), new, 31, Decimal("300.00")),
    ]


def test_days_no_rate_card_covers_are_shown_as_such():
    later = card(effective_from=D(2026, 2, 8))
    rows = accrue(unit(D(2026, 2, 1), usage=FULL), [later], WINTER[1:2])
    assert [(r.card, r.days, r.reason) for r in rows] == [
        (later, 21, ""),
        (None, 7, "no_rate_card"),
    ]
    assert rows[0].money.amount == Decimal("150.00")
    assert rows[1].money is None


def test_the_cap_binds_before_pro_rating():
    growth = card(base=IncentiveBase.MAU_GROWTH, rate=Decimal("1.50"), cap=Decimal("300.00"))
    usage = {
        D(2025, 12, 1): pau(500, active=100),  # the high-water mark before activation
        D(2026, 1, 1): pau(500, active=250),  # growth 150: 225.00, under the cap
        D(2026, 2, 1): pau(500, active=400),  # growth 300: 450.00, capped at 300.00
        D(2026, 3, 1): pau(500, active=400),
    }
    rows = accrue(unit(D(2026, 1, 1), D(2026, 3, 16), usage=usage), [growth], WINTER)
    assert [(r.units, r.capped, r.month_amount, r.money.amount) for r in rows] == [
        (150, False, Decimal("225.0000"), Decimal("225.00")),
        (300, True, Decimal("300.00"), Decimal("300.00")),
        (300, True, Decimal("300.00"), Decimal("145.16")),  # 300 * 15/31
    ]
    assert rows[0].baseline == 100


def test_the_paid_units_threshold_is_met_month_by_month():
    seats = card(min_paid_units=50)
    usage = {D(2026, 1, 1): pau(49), D(2026, 2, 1): pau(50), D(2026, 3, 1): pau(51)}
    rows = accrue(unit(D(2026, 1, 1), usage=usage), [seats], WINTER)
    assert [(r.month, r.money and r.money.amount, r.reason) for r in rows] == [
        (D(2026, 1, 1), Decimal("0.00"), "below_paid_units"),
        (D(2026, 2, 1), Decimal("100.00"), ""),
        (D(2026, 3, 1), Decimal("102.00"), ""),
        (D(2026, 4, 1), Decimal("0.00"), "no_usage"),
    ]


def test_growth_is_measured_over_the_high_water_mark_before_activation():
    growth = card(base=IncentiveBase.MAU_GROWTH, rate=Decimal("1"), min_growth=20)
    usage = {
        D(2025, 11, 1): pau(500, active=300),  # the mark: the highest month before
        D(2025, 12, 1): pau(500, active=200),
        D(2026, 1, 1): pau(500, active=310),  # growth 10: below the minimum of 20
        D(2026, 2, 1): pau(500, active=290),  # below the mark: no growth
        D(2026, 3, 1): pau(500, active=340),  # growth 40
    }
    # Official mid-January: January's own usage is not part of the mark.
    rows = accrue(unit(D(2026, 1, 20), usage=usage), [growth], WINTER[:3])
    assert [(r.units, r.reason, r.money.amount) for r in rows] == [
        (10, "below_growth", Decimal("0.00")),
        (0, "below_growth", Decimal("0.00")),
        (40, "", Decimal("40.00")),
    ]
    assert {r.baseline for r in rows} == {300}


def test_growth_without_earlier_usage_starts_from_zero():
    growth = card(base=IncentiveBase.MAU_GROWTH, rate=Decimal("1"))
    rows = accrue(unit(D(2026, 1, 1), usage={D(2026, 1, 1): pau(50, 30)}), [growth], WINTER[:1])
    assert rows[0].baseline is None and rows[0].units == 30


def test_growth_of_a_subscription_is_measured_on_its_licensed_units():
    growth = card(base=IncentiveBase.MAU_GROWTH, rate=Decimal("1"))
    usage = {D(2025, 12, 1): MonthFigures(None, 40), D(2026, 1, 1): MonthFigures(None, 55)}
    rows = accrue(unit(D(2026, 1, 1), usage=usage, is_subscription=True), [growth], WINTER[:1])
    assert (rows[0].baseline, rows[0].units, rows[0].money.amount) == (40, 15, Decimal("15.00"))


def test_flat_amount_per_workload_needs_no_usage_unless_a_threshold_asks_for_it():
    flat = card(base=IncentiveBase.FLAT, rate=Decimal("250"))
    rows = accrue(unit(D(2026, 4, 16)), [flat], WINTER)
    assert amounts(rows) == [(D(2026, 4, 1), 15, Decimal("125.00"))]
    gated = card(base=IncentiveBase.FLAT, rate=Decimal("250"), min_paid_units=10)
    assert accrue(unit(D(2026, 4, 1)), [gated], WINTER)[0].reason == "no_usage"


def test_a_channel_the_card_does_not_pay_earns_nothing():
    vl_only = card(eligible_channels=["volume_licensing"])
    web = {m: MonthFigures(None, 100, frozenset({"web_direct"})) for m in WINTER}
    rows = accrue(unit(D(2026, 1, 1), usage=web, is_subscription=True), [vl_only], WINTER[:1])
    assert (rows[0].reason, rows[0].money.amount) == ("channel_not_eligible", Decimal("0.00"))
    vl = {m: MonthFigures(None, 100, frozenset({"volume_licensing"})) for m in WINTER}
    rows = accrue(unit(D(2026, 1, 1), usage=vl, is_subscription=True), [vl_only], WINTER[:1])
    assert rows[0].money.amount == Decimal("200.00")


def test_february_of_a_leap_year_has_29_days():
    rows = accrue(unit(D(2028, 2, 15), usage={D(2028, 2, 1): pau(100)}), [card()], [D(2028, 2, 1)])
    assert (rows[0].days, rows[0].days_in_month, rows[0].money.amount) == (
        15,
        29,
        Decimal("103.45"),  # 200 * 15/29 = 103.448…
    )


def test_an_association_that_earns_nothing_has_no_rows():
    assert (
        accrue(unit(D(2026, 1, 1), usage=FULL, earns_nothing="opted_out"), [card()], WINTER) == []
    )
    assert accrue(unit(None, usage=FULL), [card()], WINTER) == []


def test_rounding_is_half_up_to_the_currency_minor_unit():
    assert quantize(Decimal("0.005"), "EUR") == Decimal("0.01")
    assert quantize(Decimal("0.015"), "EUR") == Decimal("0.02")  # half up, not to even
    assert quantize(Decimal("2.5"), "JPY") == Decimal("3")
    rows = accrue(
        unit(D(2026, 1, 1), usage=FULL), [card(currency="JPY", rate=Decimal("7"))], WINTER[1:2]
    )
    assert rows[0].money == Money(Decimal("700"), "JPY")


def test_money_refuses_a_float():
    with pytest.raises(TypeError):
        Money(1.5, "EUR")
