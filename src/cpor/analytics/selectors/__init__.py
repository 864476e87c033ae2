"""How the program performs, for reviewers and program admins: one aggregate query per
table, computed by the database over the claims in the chosen period.

Every report is a ``Table``: named columns and rows of plain values (ints, floats,
dates, text). The dashboard draws a chart from it and shows it as a table, the CSV
export writes it, and the API returns it, so the four always agree.

Cohorts (which claims a report counts):

- funnel and conflicts: claims *created* (funnel) or *submitted* (conflicts) in the
  period;
- time to decision and SLA: claims *decided* in the period (approved, partially
  approved or rejected);
- customer declines: associations *approved* in the period;
- backlog: what waits for a reviewer *now*, whatever the period.

The SLA is the program's promise end to end: a decision within the pickup target plus
the decision target, in business days from submission (``ProgramSettings``). It is
counted per deciding reviewer, by comparing the decision time with the submission time
plus the number of calendar days those business days span from that weekday, so the
database needs no calendar table.

Percentiles are ``percentile_cont`` on PostgreSQL; SQLite (the embedded mode, small
data) has none, so there they are interpolated the same way from the durations.
"""

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language

from cpor.analytics.selectors.decisions import (
    decision_time_by_engagement,
    decision_time_by_week,
    due_offset,
    quantile,
    sla_by_reviewer,
)
from cpor.analytics.selectors.funnel import funnel, funnel_exits, funnel_groups
from cpor.analytics.selectors.outcomes import backlog, conflicts, declines
from cpor.analytics.selectors.tables import Column, Filters, Table

__all__ = [
    "REPORTS",
    "Column",
    "Filters",
    "Table",
    "all_reports",
    "backlog",
    "conflicts",
    "decision_time_by_engagement",
    "decision_time_by_week",
    "declines",
    "due_offset",
    "funnel",
    "funnel_exits",
    "funnel_groups",
    "quantile",
    "report",
    "sla_by_reviewer",
]

REPORTS = {
    "funnel": funnel,
    "funnel-exits": funnel_exits,
    "decision-time-engagement": decision_time_by_engagement,
    "decision-time-week": decision_time_by_week,
    "sla": sla_by_reviewer,
    "conflicts": conflicts,
    "declines": declines,
    "backlog": backlog,
}


def all_reports(filters: Filters) -> list[Table]:
    """Every table of the dashboard, in order, each kept for ANALYTICS_CACHE_SECONDS."""
    return _kept(list(REPORTS), filters)


def report(key: str, filters: Filters) -> Table:
    """One table, as the dashboard shows it (the same kept copy, if it is still kept)."""
    return _kept([key], filters)[0]


# At a million claims each table costs the database up to seconds. The dashboard, its CSV
# exports and the API keep what they computed in the shared cache for a few minutes, per
# filters and language (titles and labels are translated): a reviewer who changes a
# filter and back, downloads the CSV of a table on screen or polls the API pays once,
# and the CSV holds the numbers the page showed. The page says when they were computed.


def _cache_key(key: str, filters: Filters) -> str:
    query = "&".join(f"{name}={value}" for name, value in sorted(filters.as_query().items()))
    return f"cpor:analytics:{get_language()}:{key}:{query}"


def _kept(keys: list[str], filters: Filters) -> list[Table]:
    seconds = settings.ANALYTICS_CACHE_SECONDS
    cache_keys = {key: _cache_key(key, filters) for key in keys}
    found = cache.get_many(list(cache_keys.values())) if seconds else {}
    tables = {key: found[cache_keys[key]] for key in keys if cache_keys[key] in found}
    missing = [key for key in keys if key not in tables]
    if missing:
        computed = _compute(missing, filters)
        now = timezone.now()
        for table in computed.values():
            table.computed_at = now
        if seconds:
            cache.set_many({cache_keys[key]: table for key, table in computed.items()}, seconds)
        tables |= computed
    return [tables[key] for key in keys]


def _compute(keys: list[str], filters: Filters) -> dict[str, Table]:
    """The tables ``keys`` name; the two funnel tables share one query."""
    tables = {}
    funnel_keys = [key for key in keys if key.startswith("funnel")]
    if funnel_keys:
        groups = funnel_groups(filters)
        for key in funnel_keys:
            tables[key] = REPORTS[key](filters, groups=groups)
    for key in keys:
        if key not in tables:
            tables[key] = REPORTS[key](filters)
    return tables
