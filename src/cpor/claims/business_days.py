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
    """Whole business days from ``start`` to ``end`` (0 when end is not after start)."""
    if end <= start:
        return 0
    days = 0
    day = start.date()
    while day < end.date():
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            days += 1
    return days
