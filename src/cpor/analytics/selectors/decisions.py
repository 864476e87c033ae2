"""Time to decision (median and 90th percentile) and SLA compliance per reviewer."""

import datetime
import math

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DateTimeField,
    DurationField,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.analytics.selectors.tables import DAY, DECIDED, Column, Filters, Table, percent
from cpor.catalog.models import Engagement, ProgramSettings
from cpor.claims.business_days import add_business_days
from cpor.claims.models import (
    Claim,
)

# --- time to decision -------------------------------------------------------------------


class PercentileCont(Aggregate):
    """``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``: PostgreSQL."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


class EpochSeconds(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def quantile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, as ``percentile_cont`` does."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _decided(filters: Filters) -> QuerySet:
    return Claim.objects.filter(
        filters.claims(),
        status__in=DECIDED,
        submitted_at__isnull=False,
        decided_at__gte=filters.since,
        decided_at__lt=filters.until,
    )


def _decision_days(filters: Filters, group: str, group_expression) -> list[tuple]:
    """(group, decisions, median days, p90 days) per group, in the group's order."""
    decided = _decided(filters).annotate(group=group_expression)
    if connection.vendor == "postgresql":
        seconds = EpochSeconds(F("decided_at") - F("submitted_at"))
        rows = (
            decided.values("group")
            .annotate(
                n=Count("id"),
                median=PercentileCont(seconds, 0.5),
                p90=PercentileCont(seconds, 0.9),
            )
            .order_by("group")
        )
        return [(r["group"], r["n"], r["median"] / DAY, r["p90"] / DAY) for r in rows]
    durations: dict = {}
    for key, submitted, decided_at in decided.values_list("group", "submitted_at", "decided_at"):
        durations.setdefault(key, []).append((decided_at - submitted).total_seconds())
    return [
        (key, len(values), quantile(values, 0.5) / DAY, quantile(values, 0.9) / DAY)
        for key, values in sorted(durations.items(), key=lambda item: (item[0] is None, item[0]))
    ]


def _decision_columns(first: Column) -> list[Column]:
    return [
        first,
        Column("decisions", _("Decisions")),
        Column("median_days", _("Median (days)"), "float"),
        Column("p90_days", _("90th percentile (days)"), "float"),
    ]


def decision_time_by_engagement(filters: Filters) -> Table:
    names = {e.pk: e.display_name for e in Engagement.objects.only("name", "name_pt")}
    table = Table(
        "decision-time-engagement",
        _("Time to decision by engagement"),
        _("Claims decided in the period: days from submission to the decision."),
        _decision_columns(Column("engagement", _("Engagement"), "text")),
        chart_columns=("median_days", "p90_days"),
    )
    for key, n, median, p90 in _decision_days(filters, "engagement", F("role__engagement")):
        label = names.get(key) or _("No engagement (revenue only)")
        table.rows.append([label, n, round(median, 1), round(p90, 1)])
    return table


def decision_time_by_week(filters: Filters) -> Table:
    table = Table(
        "decision-time-week",
        _("Time to decision by week"),
        _("Claims decided in the period, by the week of the decision (weeks start on Monday)."),
        _decision_columns(Column("week", _("Week of"), "date")),
        chart_columns=("median_days", "p90_days"),
    )
    week = TruncWeek("decided_at", output_field=DateTimeField())
    for key, n, median, p90 in _decision_days(filters, "week", week):
        table.rows.append([timezone.localtime(key).date(), n, round(median, 1), round(p90, 1)])
    return table


# --- SLA compliance per reviewer ---------------------------------------------------------


def due_offset(target_business_days: int) -> Case:
    """Calendar days that ``target_business_days`` span from the submission's weekday."""
    whens = []
    for iso_weekday in range(1, 8):
        # Any date with that ISO weekday: 2024-01-01 was a Monday.
        start = datetime.datetime(2024, 1, iso_weekday)
        days = (add_business_days(start, target_business_days) - start).days
        whens.append(
            When(submitted_at__iso_week_day=iso_weekday, then=Value(datetime.timedelta(days)))
        )
    return Case(*whens, output_field=DurationField())


def sla_by_reviewer(filters: Filters) -> Table:
    program = ProgramSettings.load()
    target = program.pickup_target_business_days + program.decision_target_business_days
    rows = (
        _decided(filters)
        .annotate(due=F("submitted_at") + due_offset(target))
        .values("assigned_reviewer__email")
        .annotate(
            decisions=Count("id"),
            on_time=Count("id", filter=Q(decided_at__lte=F("due"))),
        )
        .order_by("assigned_reviewer__email")
    )
    table = Table(
        "sla",
        _("SLA compliance per reviewer"),
        _(
            "Claims decided in the period within %(days)d business days of submission "
            "(pickup target plus decision target), by the reviewer who decided them."
        )
        % {"days": target},
        [
            Column("reviewer", _("Reviewer"), "text"),
            Column("decisions", _("Decisions")),
            Column("on_time", _("Within target")),
            Column("compliance", _("Compliance"), "percent"),
        ],
        chart_columns=("compliance",),
    )
    for row in rows:
        table.rows.append(
            [
                row["assigned_reviewer__email"] or _("Unassigned"),
                row["decisions"],
                row["on_time"],
                percent(row["on_time"], row["decisions"]),
            ]
        )
    return table
