"""Reads for the program operator: the review queue and the review screen.

The queue must open in a fixed number of queries whatever its size (100,000 pending
claims in the benchmark), so every per-row flag is computed by the database:

- ``has_conflict``: a pending line names a unit another partner holds (the unit rules
  of ``claims.selectors.unit_filter`` inside an ``EXISTS``);
- ``poe_flag``: no PoE signed within the engagement's PoE age limit (missing, too old
  or dated in the future);
- ``unit_flag``: a pending subscription line whose subscription is not active today or
  was bought through a channel the engagement does not accept;
- ``location_flag``: the PartnerID is no longer active.

These are the SQL-cheap subset of ``claims.checks``; the review screen re-runs every
check. The SLA clock counts business days since the claim entered its current state
(``updated_at``): the pickup target while it waits (submitted, disputed), the decision
target once a reviewer took it (in review).
"""

import datetime
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.lookups import Exact
from django.utils import timezone

from cpor.accounts.models import User
from cpor.catalog.models import Engagement, ProgramSettings
from cpor.claims import checks
from cpor.claims.business_days import add_business_days, business_days_between
from cpor.claims.models import (
    HELD_STATUSES,
    OPEN_STATUSES,
    Association,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    LineStatus,
    ProofOfExecution,
)
from cpor.claims.permissions import require_operator
from cpor.claims.selectors import claim_history, claim_list, unit_filter, unit_holder

# What the queue lists: claims waiting for a reviewer's decision.
QUEUE_STATUSES = (ClaimStatus.SUBMITTED, ClaimStatus.IN_REVIEW, ClaimStatus.DISPUTED)
# The counts at the top also show claims waiting for the partner.
COUNTED_STATUSES = (*QUEUE_STATUSES, ClaimStatus.ACTION_REQUIRED)
PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueFilters:
    status: str = ""
    engagement: str = ""
    solution_area: str = ""
    conflict: bool = False
    failed_checks: bool = False
    mine: bool = False
    text: str = ""


def _holder_elsewhere(*, subscription: bool) -> Exists:
    """A held association on the line's unit, owned by another partner than the claim's.

    Evaluated for a ``ClaimLine`` row that is itself inside a subquery on ``Claim``."""
    unit = unit_filter(
        tenant_id=OuterRef(OuterRef("tenant_id")),
        product_id=OuterRef("product_id"),
        subscription_id=OuterRef("subscription_id") if subscription else None,
    )
    return Exists(
        Association.objects.filter(unit, status__in=HELD_STATUSES).exclude(
            organisation_id=OuterRef(OuterRef("organisation_id"))
        )
    )


def _conflict() -> Q:
    pending = ClaimLine.objects.filter(claim_id=OuterRef("pk"), status=LineStatus.PENDING)
    return Q(
        Exists(pending.filter(_holder_elsewhere(subscription=False), subscription__isnull=True))
    ) | Q(Exists(pending.filter(_holder_elsewhere(subscription=True), subscription__isnull=False)))


def _flag_conditions(today: datetime.date) -> dict[str, Q]:
    """The cheap checks as SQL conditions on a claim row (see the module docstring)."""
    engagements = list(Engagement.objects.values_list("pk", "poe_max_age_days", "allowed_channels"))
    # The engagement's PoE age limit, picked per claim row of the outer query.
    cutoff = Case(
        *[
            When(
                Exact(OuterRef("role__engagement_id"), pk),
                then=Value(today - datetime.timedelta(days=days)),
            )
            for pk, days, _channels in engagements
        ],
        default=Value(today - datetime.timedelta(days=365)),
        output_field=DateField(),
    )
    valid_poe = Exists(
        ProofOfExecution.objects.filter(
            claim_id=OuterRef("pk"), signed_on__lte=today, signed_on__gte=cutoff
        )
    )
    wrong_channel = Q(pk__in=[])
    for pk, _days, channels in engagements:
        if channels:
            wrong_channel |= Q(claim__role__engagement_id=pk) & ~Q(
                subscription__purchase_channel__in=channels
            )
    bad_unit = Exists(
        ClaimLine.objects.filter(
            claim_id=OuterRef("pk"), status=LineStatus.PENDING, subscription__isnull=False
        ).filter(
            Q(subscription__ends_on__lt=today)
            | Q(subscription__starts_on__gt=today)
            | wrong_channel
        )
    )
    return {
        "conflict_flag": _conflict(),
        "poe_flag": ~Q(valid_poe),
        "unit_flag": Q(bad_unit),
        "location_flag": Q(location__active=False),
    }


def _annotate_flags(claims: QuerySet[Claim], today: datetime.date) -> QuerySet[Claim]:
    return claims.annotate(
        **{
            name: ExpressionWrapper(condition, output_field=BooleanField())
            for name, condition in _flag_conditions(today).items()
        }
    )


def _queue_filtered(*, actor: User, filters: QueueFilters, today: datetime.date) -> QuerySet[Claim]:
    """The queue's rows as a filter, without the columns a page shows."""
    require_operator(actor)
    statuses = [filters.status] if filters.status in QUEUE_STATUSES else QUEUE_STATUSES
    claims = claim_list(actor=actor).filter(status__in=statuses)
    if filters.engagement:
        claims = claims.filter(role__engagement__code=filters.engagement)
    if filters.solution_area:
        claims = claims.filter(role__solution_area__code=filters.solution_area)
    if filters.mine:
        claims = claims.filter(assigned_reviewer=actor)
    text = filters.text.strip().removeprefix("#")
    if text.isdigit() and len(text) < 18:
        # A number is a claim number or a PartnerID.
        claims = claims.filter(Q(pk=int(text)) | Q(location__partner_id=text))
    elif text:
        claims = claims.filter(
            Q(name__icontains=text)
            | Q(tenant__name__icontains=text)
            | Q(organisation__name__icontains=text)
            | Q(tenant__tenant_id__iexact=text)
        )
    if filters.conflict or filters.failed_checks:
        flags = _flag_conditions(today)
        if filters.conflict:
            claims = claims.filter(flags["conflict_flag"])
        if filters.failed_checks:
            claims = claims.filter(flags["poe_flag"] | flags["unit_flag"] | flags["location_flag"])
    return claims


QUEUE_ORDER = ("submitted_at", "pk")


def review_queue(
    *, actor: User, filters: QueueFilters | None = None, today: datetime.date | None = None
) -> QuerySet[Claim]:
    """Claims awaiting a decision, oldest submission first, with their flags."""
    today = today or timezone.localdate()
    claims = _queue_filtered(actor=actor, filters=filters or QueueFilters(), today=today)
    return _annotate_flags(claims.select_related("assigned_reviewer"), today).order_by(*QUEUE_ORDER)


def queue_counts(*, actor: User) -> dict[str, int]:
    """How many claims are in each state the operator follows, and how many are in
    review with the actor (one query)."""
    require_operator(actor)
    counts = Claim.objects.filter(status__in=COUNTED_STATUSES).aggregate(
        **{status: Count("pk", filter=Q(status=status)) for status in COUNTED_STATUSES},
        mine=Count("pk", filter=Q(status=ClaimStatus.IN_REVIEW, assigned_reviewer=actor)),
    )
    counts["queue"] = sum(counts[status] for status in QUEUE_STATUSES)
    return counts


@dataclass
class SlaClock:
    """How close a claim is to its service-level target, in business days."""

    age: int  # since submission
    target: int
    elapsed: int  # since it entered its current state
    due: datetime.datetime
    kind: str  # "pickup" or "decision"

    @property
    def remaining(self) -> int:
        return self.target - self.elapsed

    @property
    def state(self) -> str:
        if self.remaining < 0:
            return "overdue"
        if self.remaining <= 1:
            return "due_soon"
        return "on_track"


def sla_clock(
    claim: Claim, *, settings: ProgramSettings, now: datetime.datetime | None = None
) -> SlaClock:
    now = now or timezone.now()
    started = claim.updated_at or claim.submitted_at or now
    if claim.status == ClaimStatus.IN_REVIEW:
        target, kind = settings.decision_target_business_days, "decision"
    else:
        target, kind = settings.pickup_target_business_days, "pickup"
    return SlaClock(
        age=business_days_between(claim.submitted_at or now, now),
        target=target,
        elapsed=business_days_between(started, now),
        due=add_business_days(started, target),
        kind=kind,
    )


@dataclass
class QueuePage:
    page: Page
    rows: list[tuple[Claim, SlaClock]] = field(default_factory=list)


def review_queue_page(
    *,
    actor: User,
    filters: QueueFilters | None = None,
    page_number: str | int = 1,
    counts: dict[str, int] | None = None,
) -> QueuePage:
    """One page of the queue with each row's SLA clock, in a fixed number of queries.

    Two steps so that a queue of 100,000 claims stays fast: the page's claim IDs come
    from a narrow query on ``claims_claim`` (the partial index ``claim_awaiting_oldest``
    of migration review/0001), then only those 50 claims are read with their joins and
    flags. Without filters the total comes from ``counts`` (``queue_counts``), so it
    costs no query of its own."""
    filters = filters or QueueFilters()
    today = timezone.localdate()
    filtered = _queue_filtered(actor=actor, filters=filters, today=today)
    ids = filtered.order_by(*QUEUE_ORDER).values_list("pk", flat=True)
    paginator = Paginator(ids, PAGE_SIZE)
    if counts is not None and QueueFilters(status=filters.status) == filters:
        paginator.__dict__["count"] = counts[filters.status or "queue"]
    page = paginator.get_page(page_number)
    chosen = list(page.object_list)
    rows = _annotate_flags(
        claim_list(actor=actor).select_related("assigned_reviewer").filter(pk__in=chosen), today
    )
    by_pk = {claim.pk: claim for claim in rows}
    settings = ProgramSettings.load()
    now = timezone.now()
    return QueuePage(
        page,
        [
            (by_pk[pk], sla_clock(by_pk[pk], settings=settings, now=now))
            for pk in chosen
            if pk in by_pk
        ],
    )


# ---------------------------------------------------------------------------
# The review screen


@dataclass
class UnitView:
    """One line of the claim beside whoever holds its unit today."""

    line: ClaimLine
    holder: Association | None
    holder_poe: datetime.date | None
    claim_poe: datetime.date | None

    @property
    def conflict(self) -> bool:
        return (
            self.holder is not None
            and self.holder.organisation_id != self.line.claim.organisation_id
        )

    @property
    def newest(self) -> str:
        """Which side has the most recent PoE: "claim", "holder" or "" (tie / unknown)."""
        if self.claim_poe and (self.holder_poe is None or self.claim_poe > self.holder_poe):
            return "claim"
        if self.holder_poe and (self.claim_poe is None or self.holder_poe > self.claim_poe):
            return "holder"
        return ""


@dataclass
class ReviewScreen:
    claim: Claim
    results: list[checks.CheckResult]
    units: list[UnitView]
    proofs: list[ProofOfExecution]
    history: list[ClaimEvent]
    rivals: list[ClaimLine]
    sla: SlaClock | None

    @property
    def awaiting_decision(self) -> bool:
        return self.claim.status in QUEUE_STATUSES

    @property
    def pending_lines(self) -> list[ClaimLine]:
        return [unit.line for unit in self.units if unit.line.status == LineStatus.PENDING]

    @property
    def has_conflict(self) -> bool:
        return any(unit.conflict for unit in self.units)


def review_screen(*, actor: User, pk: int) -> ReviewScreen:
    """Everything the reviewer needs to decide: checks re-run now, each unit's holder
    with both PoE dates, other partners' open claims on the same units, the history
    (internal notes included)."""
    require_operator(actor)
    claim = (
        claim_list(actor=actor)
        .select_related("assigned_reviewer", "created_by", "role__engagement")
        .get(pk=pk)
    )
    proofs = list(claim.proofs.select_related("uploaded_by"))
    claim_poe = max((p.signed_on for p in proofs), default=None)
    units = []
    lines = list(claim.lines.select_related("product", "subscription"))
    for line in lines:
        line.claim = claim
        holder = unit_holder(
            tenant_id=claim.tenant_id,
            product_id=line.product_id,
            subscription_id=line.subscription_id,
        )
        holder_poe = None
        if holder is not None:
            holder_poe = max((p.signed_on for p in holder.claim.proofs.all()), default=None)
        units.append(UnitView(line, holder, holder_poe, claim_poe))
    rival_filter = Q(pk__in=[])
    for line in lines:
        rival_filter |= unit_filter(
            tenant_id=claim.tenant_id,
            product_id=line.product_id,
            subscription_id=line.subscription_id,
            prefix="claim__tenant_id",
        )
    rivals = list(
        ClaimLine.objects.filter(rival_filter, claim__status__in=OPEN_STATUSES)
        .exclude(claim__organisation_id=claim.organisation_id)
        .select_related("claim__organisation", "product", "subscription")
    )
    sla = (
        sla_clock(claim, settings=ProgramSettings.load())
        if claim.status in QUEUE_STATUSES
        else None
    )
    return ReviewScreen(
        claim=claim,
        results=checks.run_checks(claim),
        units=units,
        proofs=proofs,
        history=list(claim_history(actor=actor, claim=claim)),
        rivals=rivals,
        sla=sla,
    )


def proof_for_operator(*, actor: User, pk: int) -> ProofOfExecution:
    """A PoE of a claim the operator may see; ``DoesNotExist`` for anything else."""
    require_operator(actor)
    return ProofOfExecution.objects.select_related("claim").get(
        pk=pk, claim__in=claim_list(actor=actor)
    )
