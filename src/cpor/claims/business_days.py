"""Deadlines counted in business days (Monday to Friday)."""

import datetime


def add_business_days(start: datetime.datetime, days: int) -> datetime.datetime:
    moment = start
    remaining = days
    while remaining > 0:
        moment += datetime.timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment


def business_days_between(start: datetime.datetime, end: datetime.datetime) -> int:
    """Whole business days from ``start`` to ``end`` (0 when end is not after start).

    Counted per whole week and then the few days left, so a claim a year old costs no
    more than a new one (the review queue computes this for every row it shows)."""
    if end <= start:
        return 0
    first = start.date()
    weeks, rest = divmod((end.date() - first).days, 7)
    weekday = first.weekday()
    return weeks * 5 + sum(1 for i in range(1, rest + 1) if (weekday + i) % 7 < 5)
