"""What every report shares: the filters, and the table a report returns."""

import datetime
from dataclasses import dataclass, field

from django.db.models import (
    Q,
)
from django.utils import timezone

from cpor.catalog.models import Engagement, SolutionArea
from cpor.claims.models import (
    ClaimStatus,
)

DECIDED = (ClaimStatus.APPROVED, ClaimStatus.PARTIALLY_APPROVED, ClaimStatus.REJECTED)
# Claim statuses once decided; a claim approved and then declined keeps "approved".
DAY = 86400.0


@dataclass(frozen=True)
class Filters:
    start: datetime.date
    end: datetime.date  # inclusive
    engagement: Engagement | None = None
    solution_area: SolutionArea | None = None

    @property
    def since(self) -> datetime.datetime:
        return _midnight(self.start)

    @property
    def until(self) -> datetime.datetime:
        return _midnight(self.end + datetime.timedelta(days=1))

    def claims(self, via: str = "") -> Q:
        """The claims of the chosen engagement and solution area; ``via`` is the path to
        the claim from another model (``"claim__"`` for associations)."""
        where = Q()
        if self.engagement is not None:
            where &= Q(**{f"{via}role__engagement": self.engagement})
        if self.solution_area is not None:
            where &= Q(**{f"{via}role__solution_area": self.solution_area})
        return where

    def as_query(self) -> dict[str, str]:
        query = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.engagement is not None:
            query["engagement"] = str(self.engagement.pk)
        if self.solution_area is not None:
            query["solution_area"] = str(self.solution_area.pk)
        return query


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "int"  # int, float (one decimal), percent, date, text


@dataclass
class Table:
    key: str
    title: str
    description: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    # Which columns the chart draws as bars, labelled by the first column.
    chart_columns: tuple[str, ...] = ()
    # When the database computed it (``selectors.report`` and ``all_reports`` keep
    # tables for ANALYTICS_CACHE_SECONDS).
    computed_at: datetime.datetime | None = None

    def cells(self) -> list[list[tuple[Column, object]]]:
        """Each row as (column, value) pairs, for the table view."""
        return [list(zip(self.columns, row, strict=True)) for row in self.rows]

    def dicts(self) -> list[dict]:
        keys = [column.key for column in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None
