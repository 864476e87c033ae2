"""The claim funnel and where claims leave it."""

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cpor.analytics.selectors.tables import Column, Filters, Table, percent
from cpor.claims.models import (
    Association,
    Claim,
    ClaimEvent,
    ClaimStatus,
    EventAction,
)
from cpor.claims.reasons import RejectionReason

# Where a claim that stopped short of "active" stands, by the stage it reached.
EXITS = (
    ("draft", ClaimStatus.DRAFT, gettext_lazy("Still a draft")),
    ("draft", ClaimStatus.EXPIRED, gettext_lazy("Draft expired")),
    ("draft", ClaimStatus.WITHDRAWN, gettext_lazy("Withdrawn as a draft")),
    ("submitted", ClaimStatus.SUBMITTED, gettext_lazy("Awaiting a reviewer")),
    ("submitted", ClaimStatus.IN_REVIEW, gettext_lazy("In review")),
    ("submitted", ClaimStatus.DISPUTED, gettext_lazy("Disputed")),
    ("submitted", ClaimStatus.ACTION_REQUIRED, gettext_lazy("Waiting for the partner")),
    ("submitted", ClaimStatus.REJECTED, gettext_lazy("Rejected")),
    ("submitted", ClaimStatus.WITHDRAWN, gettext_lazy("Withdrawn after submission")),
    ("submitted", ClaimStatus.DECLINED, gettext_lazy("Declined by the customer before a decision")),
    ("submitted", ClaimStatus.EXPIRED, gettext_lazy("Expired after submission")),
)
STAGES = (
    ("draft", gettext_lazy("Drafted")),
    ("submitted", gettext_lazy("Submitted")),
    ("approved", gettext_lazy("Approved")),
    ("active", gettext_lazy("Active")),
)


def funnel_groups(filters: Filters) -> list[dict]:
    """The cohort counted by status and stage reached: both funnel tables read it."""
    has_association = Association.objects.filter(claim=OuterRef("pk"))
    return list(
        Claim.objects.filter(
            filters.claims(), created_at__gte=filters.since, created_at__lt=filters.until
        )
        .annotate(
            submitted=Q(submitted_at__isnull=False),
            approved=Exists(has_association),
            active=Exists(has_association.filter(activated_at__isnull=False)),
        )
        .values("status", "submitted", "approved", "active")
        .annotate(claims=Count("id"))
        .order_by()
    )


def funnel(filters: Filters, *, groups: list[dict] | None = None) -> Table:
    groups = funnel_groups(filters) if groups is None else groups
    reached = {
        "draft": sum(g["claims"] for g in groups),
        "submitted": sum(g["claims"] for g in groups if g["submitted"]),
        "approved": sum(g["claims"] for g in groups if g["approved"]),
        "active": sum(g["claims"] for g in groups if g["active"]),
    }
    table = Table(
        "funnel",
        _("Claim funnel"),
        _("Claims created in the period, by the furthest stage each reached."),
        [
            Column("stage", _("Stage"), "text"),
            Column("claims", _("Claims")),
            Column("share", _("Share of drafted"), "percent"),
        ],
        chart_columns=("claims",),
    )
    for key, label in STAGES:
        table.rows.append([str(label), reached[key], percent(reached[key], reached["draft"])])
    return table


def funnel_exits(filters: Filters, *, groups: list[dict] | None = None) -> Table:
    """Where claims left the funnel, and why (rejections by reason code)."""
    groups = funnel_groups(filters) if groups is None else groups
    table = Table(
        "funnel-exits",
        _("Where claims leave the funnel"),
        _(
            "Claims created in the period that are not active, by where they stopped; "
            "rejections by reason."
        ),
        [
            Column("stage", _("Left after"), "text"),
            Column("outcome", _("Outcome"), "text"),
            Column("claims", _("Claims")),
        ],
        chart_columns=("claims",),
    )
    stage_names = dict(STAGES)
    for stage, status, label in EXITS:
        count = sum(
            g["claims"]
            for g in groups
            if g["status"] == status
            and not g["approved"]
            and g["submitted"] == (stage == "submitted")
        )
        if status == ClaimStatus.REJECTED:
            continue  # by reason, below
        if count:
            table.rows.append([str(stage_names[stage]), str(label), count])
    reasons = dict(RejectionReason.choices)
    for row in _rejections_by_reason(filters):
        label = reasons.get(row["reason_code"], row["reason_code"] or _("No reason given"))
        table.rows.append(
            [str(stage_names["submitted"]), _("Rejected: %(reason)s") % {"reason": label}, row["n"]]
        )
    pending = sum(g["claims"] for g in groups if g["approved"] and not g["active"])
    if pending:
        table.rows.append(
            [
                str(stage_names["approved"]),
                _("Not yet official (customer notice) or declined in the notice period"),
                pending,
            ]
        )
    return table


def _rejections_by_reason(filters: Filters) -> list[dict]:
    cohort = Claim.objects.filter(
        filters.claims(),
        created_at__gte=filters.since,
        created_at__lt=filters.until,
        status=ClaimStatus.REJECTED,
    )
    # The claim's final rejection: a dispute can reopen and re-reject it, so only the
    # latest reject event of each claim counts.
    latest = (
        ClaimEvent.objects.filter(claim=OuterRef("claim"), action=EventAction.REJECT)
        .order_by("-at", "-id")
        .values("id")[:1]
    )
    return list(
        ClaimEvent.objects.filter(claim__in=cohort, action=EventAction.REJECT, id=latest)
        .values("reason_code")
        .annotate(n=Count("id"))
        .order_by("-n", "reason_code")
    )
