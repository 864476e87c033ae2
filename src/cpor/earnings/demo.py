"""Demo rate cards for ``manage.py seed_demo``: one version per incentivized engagement
that has none, so the demo's associations show estimates. Safe to run again."""

import datetime
from decimal import Decimal

from cpor.catalog.models import Engagement
from cpor.earnings.models import IncentiveBase, RateCard

DEMO_CARDS = {
    # Growth of active users, capped per association and month, from 25 paid seats.
    "modern_work_security_usage": {
        "base": IncentiveBase.MAU_GROWTH,
        "rate": Decimal("1.2500"),
        "min_paid_units": 25,
        "cap": Decimal("1500.00"),
    },
    # Per licensed seat of subscriptions bought through Volume Licensing or Web Direct.
    "mci_bizapps_presales_advisor": {
        "base": IncentiveBase.PAU,
        "rate": Decimal("0.8000"),
        "min_paid_units": 50,
        "cap": Decimal("2500.00"),
        "eligible_channels": ["volume_licensing", "web_direct"],
    },
}


def seed_rate_cards(*, since: datetime.date | None = None) -> int:
    """Rate cards in EUR from the first of January two years back; returns how many
    were created. Written directly (no acting admin): demo data, checked by the same
    validation as every other route."""
    from cpor.earnings.services import rate_card_validate

    since = since or datetime.date(datetime.date.today().year - 2, 1, 1)
    created = 0
    for engagement in Engagement.objects.filter(code__in=DEMO_CARDS, rate_cards__isnull=True):
        card = RateCard(
            engagement=engagement,
            effective_from=since,
            currency="EUR",
            note="Demo rate card",
            **DEMO_CARDS[engagement.code],
        )
        rate_card_validate(card)
        card.save()
        created += 1
    return created
