"""Dates as the reader's language writes them, for pages that print many."""

import datetime

from django.utils import timezone
from django.utils.formats import date_format


class LocalDays:
    """The local day of each instant, formatted once per day: a page of 50 rows holds a
    handful of days, and ``date_format`` costs about 15 µs. One per page, as the
    language and time zone are the page's."""

    def __init__(self) -> None:
        self._labels: dict[datetime.date, str] = {}

    def __call__(self, at: datetime.datetime) -> str:
        day = timezone.localdate(at)
        label = self._labels.get(day)
        if label is None:
            label = self._labels[day] = date_format(day)
        return label
