"""Conflicts and their outcomes, customer declines, and the backlog's age."""

import datetime

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cpor.analytics.selectors.tables import Column, Filters, Table, percent
from cpor.catalog.models import in_reader_language
from cpor.claims.models import (
    AWAITING_DECISION,
    Association,
    Claim,
    ClaimEvent,
    ClaimStatus,
    EndReason,
    EventAction,
)
from cpor.claims.reasons import RejectionReason

# --- conflicts ---------------------------------------------------------------------------


def conflicts(filters: Filters) -> Table:
    """Claims that met another partner's hold on a unit, and how that ended."""
    rejected_for = ClaimEvent.objects.filter(claim=OuterRef("pk"), action=EventAction.REJECT)
    # Conditions written into each count (not as annotations, which an aggregate over
    # them may prune from its subquery).
    won = Exists(Association.objects.filter(superseded_by__claim=OuterRef("pk")))
    lost = Exists(rejected_for.filter(reason_code=RejectionReason.UNIT_HELD_NEWER_POE))
    duplicate = Exists(rejected_for.filter(reason_code=RejectionReason.DUPLICATE_ASSOCIATION))
    counts = Claim.objects.filter(
        filters.claims(),
        submitted_at__gte=filters.since,
        submitted_at__lt=filters.until,
    ).aggregate(
        submitted=Count("id"),
        won=Count("id", filter=Q(won)),
        lost=Count("id", filter=Q(lost)),
        duplicate=Count("id", filter=Q(duplicate)),
        open=Count("id", filter=Q(status__in=AWAITING_DECISION, has_conflict=True)),
    )
    submitted = counts["submitted"]
    outcomes = (
        ("won", _("Approved, superseding the previous holder")),
        ("lost", _("Rejected: another partner holds the unit with newer PoE")),
        ("duplicate", _("Closed as a duplicate of the partner's own association")),
        ("open", _("Awaiting a decision, with a conflict")),
    )
    table = Table(
        "conflicts",
        _("Conflicts and their outcomes"),
        _(
            "Claims submitted in the period that claimed a unit already held: "
            "%(count)s of %(submitted)s submitted (%(rate)s%%)."
        )
        % {
            "count": sum(counts[key] for key, _label in outcomes),
            "submitted": submitted,
            "rate": percent(sum(counts[key] for key, _label in outcomes), submitted) or 0,
        },
        [
            Column("outcome", _("Outcome"), "text"),
            Column("claims", _("Claims")),
            Column("rate", _("Share of submitted"), "percent"),
        ],
        chart_columns=("claims",),
    )
    for key, label in outcomes:
        table.rows.append([label, counts[key], percent(counts[key], submitted)])
    return table


# --- customer declines -------------------------------------------------------------------


def declines(filters: Filters) -> Table:
    declined = Q(end_reason=EndReason.DECLINED_BY_CUSTOMER)
    rows = (
        Association.objects.filter(
            filters.claims(via="claim__"),
            approved_at__gte=filters.since,
            approved_at__lt=filters.until,
        )
        .values("claim__role__engagement__name", "claim__role__engagement__name_pt")
        .annotate(
            associations=Count("id"),
            in_notice=Count("id", filter=declined & Q(ended_at__lte=F("notice_ends_at"))),
            later=Count("id", filter=declined & Q(ended_at__gt=F("notice_ends_at"))),
        )
        .order_by("claim__role__engagement__name")
    )
    table = Table(
        "declines",
        _("Customer declines"),
        _(
            "Associations approved in the period that the customer declined: within the "
            "notice period, or later."
        ),
        [
            Column("engagement", _("Engagement"), "text"),
            Column("associations", _("Associations")),
            Column("declined_in_notice", _("Declined in the notice period")),
            Column("declined_later", _("Declined later")),
            Column("decline_rate", _("Decline rate"), "percent"),
        ],
        chart_columns=("declined_in_notice", "declined_later"),
    )
    for row in rows:
        total = row["associations"]
        declined_count = row["in_notice"] + row["later"]
        table.rows.append(
            [
                in_reader_language(
                    row["claim__role__engagement__name"] or "",
                    row["claim__role__engagement__name_pt"] or "",
                )
                or _("No engagement (revenue only)"),
                total,
                row["in_notice"],
                row["later"],
                percent(declined_count, total),
            ]
        )
    return table


# --- backlog age -------------------------------------------------------------------------

BACKLOG_BUCKETS = (
    (0, 2, gettext_lazy("0 to 2 days")),
    (3, 7, gettext_lazy("3 to 7 days")),
    (8, 14, gettext_lazy("8 to 14 days")),
    (15, 30, gettext_lazy("15 to 30 days")),
    (31, None, gettext_lazy("More than 30 days")),
)


def backlog(filters: Filters, *, now: datetime.datetime | None = None) -> Table:
    """Claims waiting for a reviewer now, by days since submission (the period is not
    used: a backlog is today's)."""
    now = now or timezone.now()
    whens = []
    for index, (low, _high, _label) in enumerate(BACKLOG_BUCKETS):
        # Newest bucket first: submitted after (now - (low) days) falls in an earlier one.
        whens.append(When(submitted_at__lte=now - datetime.timedelta(days=low), then=index))
    bucket = Case(*reversed(whens), default=Value(0), output_field=IntegerField())
    statuses = (ClaimStatus.SUBMITTED, ClaimStatus.IN_REVIEW, ClaimStatus.DISPUTED)
    rows = (
        Claim.objects.filter(filters.claims(), status__in=statuses)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(**{status: Count("id", filter=Q(status=status)) for status in statuses})
        .order_by("bucket")
    )
    found = {row["bucket"]: row for row in rows}
    table = Table(
        "backlog",
        _("Backlog age"),
        _("Claims waiting for a reviewer now, by days since submission."),
        [
            Column("age", _("Waiting"), "text"),
            Column("submitted", _("Submitted")),
            Column("in_review", _("In review")),
            Column("disputed", _("Disputed")),
            Column("total", _("Total")),
        ],
        chart_columns=("submitted", "in_review", "disputed"),
    )
    for index, (_low, _high, label) in enumerate(BACKLOG_BUCKETS):
        row = found.get(index, {})
        counts = [row.get(status, 0) for status in statuses]
        table.rows.append([str(label), *counts, sum(counts)])
    return table
