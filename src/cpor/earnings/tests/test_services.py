"""Rate card rules: every mistake refused with the field to blame, nothing written."""

import datetime
from decimal import Decimal

import pytest

from cpor.accounts.models import OperatorRole
from cpor.catalog.models import Engagement
from cpor.claims.services.history import ValidationFailed
from cpor.earnings import services
from cpor.earnings.models import IncentiveBase, RateCard
from cpor.earnings.tests.conftest import MWS, card
from cpor.errors import PermissionDenied
from cpor.testing.factories import operator_user, partner_user

pytestmark = pytest.mark.django_db
D = datetime.date


def refused(**values) -> dict[str, str]:
    before = RateCard.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        card(**values)
    assert RateCard.objects.count() == before
    return {e.field: e.code for e in caught.value.errors}


def test_a_later_version_closes_the_open_ended_one_the_day_before():
    first = card(effective_from=D(2026, 1, 1))
    second = card(effective_from=D(2026, 7, 1), rate=Decimal("2.50"))
    first.refresh_from_db()
    assert first.effective_until == D(2026, 6, 30)
    assert second.effective_until is None


def test_overlapping_dates_are_refused():
    card(effective_from=D(2026, 1, 1), effective_until=D(2026, 6, 30))
    errors = refused(effective_from=D(2026, 3, 1), effective_until=D(2026, 9, 30))
    assert errors == {"effective_from": "overlapping_dates"}
    # An open-ended version starting before a closed one would run over it.
    assert refused(effective_from=D(2025, 6, 1)) == {"effective_from": "overlapping_dates"}
    assert refused(effective_from=D(2026, 1, 1)) == {"effective_from": "overlapping_dates"}


def test_the_message_names_the_version_overlapped():
    card(effective_from=D(2026, 1, 1), effective_until=D(2026, 6, 30))
    with pytest.raises(ValidationFailed) as caught:
        card(effective_from=D(2026, 6, 30), effective_until=D(2026, 7, 30))
    assert "Jan. 1, 2026" in caught.value.message and "June 30, 2026" in caught.value.message


def test_adjacent_versions_are_accepted():
    card(effective_from=D(2026, 1, 1), effective_until=D(2026, 6, 30))
    card(effective_from=D(2026, 7, 1))
    assert RateCard.objects.count() == 2


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"rate": Decimal("-0.01")}, "rate", "negative_rate"),
        ({"currency": "XYZ"}, "currency", "unknown_currency"),
        ({"currency": ""}, "currency", "unknown_currency"),
        ({"cap": Decimal("-1")}, "cap", "negative_cap"),
        ({"cap": Decimal("99.99"), "min_paid_units": 50}, "cap", "cap_below_threshold"),
        (
            {"base": IncentiveBase.MAU_GROWTH, "min_growth": 10, "cap": Decimal("19")},
            "cap",
            "cap_below_threshold",
        ),
        (
            {"base": IncentiveBase.FLAT, "rate": Decimal("100"), "cap": Decimal("50")},
            "cap",
            "cap_below_threshold",
        ),
        ({"eligible_channels": ["csp", "fax"]}, "eligible_channels", "unknown_channel"),
        ({"effective_until": D(2024, 12, 31)}, "effective_until", "ends_before_start"),
        ({"base": "royalties"}, "base", "unknown_base"),
    ],
)
def test_bad_values_are_refused_with_their_field(values, field, code):
    assert refused(**values) == {field: code}


def test_a_cap_equal_to_what_the_threshold_earns_is_accepted():
    saved = card(cap=Decimal("100.00"), min_paid_units=50)
    assert saved.cap == Decimal("100.00")


def test_every_problem_is_reported_at_once():
    errors = refused(rate=Decimal("-1"), currency="EURO", eligible_channels=["fax"])
    assert errors == {
        "rate": "negative_rate",
        "currency": "unknown_currency",
        "eligible_channels": "unknown_channel",
    }


@pytest.mark.parametrize("engagement", ["bizapps_revenue", "usage_recognition_bizapps"])
def test_engagements_that_pay_no_incentives_take_no_rate_card(engagement):
    assert refused(engagement=engagement) == {"engagement": "engagement_not_incentivized"}


def test_currency_is_stored_upper_case():
    assert card(currency="usd").currency == "USD"


@pytest.mark.parametrize("role", ["reviewer", "partner"])
def test_only_program_admins_write_rate_cards(role):
    actor = operator_user(OperatorRole.REVIEWER) if role == "reviewer" else partner_user()
    values = {
        "engagement": Engagement.objects.get(code=MWS),
        "effective_from": D(2026, 1, 1),
        "base": IncentiveBase.PAU,
        "rate": Decimal("1"),
        "currency": "EUR",
    }
    with pytest.raises(PermissionDenied):
        services.rate_card_save(actor=actor, card=None, values=values)
    first = card()
    with pytest.raises(PermissionDenied):
        services.rate_card_delete(actor=actor, card=first)
    assert RateCard.objects.count() == 1


def test_editing_a_version_keeps_the_overlap_rule():
    first = card(effective_from=D(2026, 1, 1), effective_until=D(2026, 6, 30))
    card(effective_from=D(2026, 7, 1))
    admin = operator_user(OperatorRole.PROGRAM_ADMIN)
    with pytest.raises(ValidationFailed) as caught:
        services.rate_card_save(actor=admin, card=first, values={"effective_until": D(2026, 7, 15)})
    assert caught.value.field == "effective_from"
    first.refresh_from_db()
    assert first.effective_until == D(2026, 6, 30)


def test_demo_rate_cards_are_valid_and_seeded_once():
    from cpor.earnings.demo import seed_rate_cards

    assert seed_rate_cards() == 2
    assert seed_rate_cards() == 0
    assert set(RateCard.objects.values_list("engagement__code", flat=True)) == {
        MWS,
        "mci_bizapps_presales_advisor",
    }
