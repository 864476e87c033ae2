"""Reads for the program operator: the review queue and the review screen.

The queue must open in a fixed number of queries, and cost the same on any page,
whatever its size (100,000 pending claims in the benchmark):

- pages by keyset on (submitted_at, id), walking the partial index
  ``claim_awaiting_oldest``; totals are counted up to ``QUEUE_COUNT_LIMIT`` ("more than
  1,000"), the exact one only on request;
- the "conflicts only" and "failed checks only" filters read the flags stored on each
  claim (``claims.check_flags``: ``has_conflict`` and ``checks_fail_from``), plus the
  PartnerID's own active flag, instead of re-running checks for every pending claim;
- each listed row shows flags computed by the database for just that page:

  - ``conflict_flag``: a pending line names a unit another partner holds;
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

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    Q,
    QuerySet,
)
from django.utils import timezone

from cpor.accounts.models import OperatorRole, User
from cpor.catalog.models import PartnerRole, ProgramSettings, in_reader_language
from cpor.claims import checks
from cpor.claims.business_days import add_business_days, business_days_between
from cpor.claims.check_flags import ClaimCondition, conflict_condition, failing_checks
from cpor.claims.models import (
    OPEN_STATUSES,
    Association,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    LegacyImport,
    LineStatus,
    ProofOfExecution,
)
from cpor.claims.permissions import require_operator, require_program_admin
from cpor.claims.selectors import (
    CLAIM_LINES,
    claim_expected_dates,
    claim_history,
    claim_list,
    claim_scope,
    tenants_matching,
    unit_filter,
    unit_holder,
)
from cpor.claims.services.assignment import reviewer_open_loads
from cpor.keyset import KeysetPage, SortKey, bounded_count, bounded_counts, keyset_page
from cpor.partners.models import PartnerLocation, PartnerOrganisation
from cpor.review.models import SavedQueueFilter
from cpor.rowload import placeholders

# What the queue lists: claims waiting for a reviewer's decision.
QUEUE_STATUSES = (ClaimStatus.SUBMITTED, ClaimStatus.IN_REVIEW, ClaimStatus.DISPUTED)
# The counts at the top also show claims waiting for the partner.
COUNTED_STATUSES = (*QUEUE_STATUSES, ClaimStatus.ACTION_REQUIRED)
PAGE_SIZE = 50
# Counts stop here and say "more than".
QUEUE_COUNT_LIMIT = 1000


@dataclass(frozen=True)
class QueueFilters:
    status: str = ""
    engagement: str = ""
    solution_area: str = ""
    conflict: bool = False
    failed_checks: bool = False
    mine: bool = False
    text: str = ""
    # A reviewer's id, or "none" for the claims nobody is assigned.
    reviewer: str = ""


# The PoE and unit checks of one claim row, in SQL (``ClaimCondition`` says why): the
# role's engagement sets the PoE age limit and the purchase channels it accepts.
_POE_MISSING_SQL = """
NOT EXISTS (SELECT 1 FROM claims_proofofexecution p
             WHERE p.claim_id = {row}.id AND p.signed_on <= %s AND p.signed_on >= {cutoff})"""
_UNIT_INVALID_SQL = """
EXISTS (SELECT 1 FROM claims_claimline l
          JOIN customers_subscription s ON s.id = l.subscription_id
         WHERE l.claim_id = {row}.id AND l.status = %s
           AND (s.ends_on < %s OR s.starts_on > %s{wrong_channel}))"""


def _flag_conditions(today: datetime.date) -> dict[str, Q | ClaimCondition]:
    """The cheap checks as conditions on a claim row (see the module docstring)."""
    roles_by_cutoff: dict[datetime.date, list[int]] = {}
    roles_by_channels: dict[tuple[str, ...], list[int]] = {}
    for pk, days, channels in PartnerRole.objects.values_list(
        "pk", "engagement__poe_max_age_days", "engagement__allowed_channels"
    ):
        roles_by_cutoff.setdefault(today - datetime.timedelta(days=days), []).append(pk)
        if channels:
            roles_by_channels.setdefault(tuple(channels), []).append(pk)
    cutoff, cutoff_params = "", []
    for day, roles in roles_by_cutoff.items():
        cutoff += f" WHEN {{row}}.role_id IN ({placeholders(roles)}) THEN %s"
        cutoff_params += [*roles, day]
    cutoff_params.append(today - datetime.timedelta(days=365))  # a role without one
    poe_missing = ClaimCondition(
        _POE_MISSING_SQL.replace("{cutoff}", f"CASE{cutoff} ELSE %s END" if cutoff else "%s"),
        [today, *cutoff_params],
    )
    wrong_channel, channel_params = "", []
    for channels, roles in roles_by_channels.items():
        wrong_channel += (
            f" OR ({{row}}.role_id IN ({placeholders(roles)})"
            f" AND NOT s.purchase_channel IN ({placeholders(channels)}))"
        )
        channel_params += [*roles, *channels]
    unit_invalid = ClaimCondition(
        _UNIT_INVALID_SQL.replace("{wrong_channel}", wrong_channel),
        [str(LineStatus.PENDING), today, today, *channel_params],
    )
    return {
        "conflict_flag": conflict_condition(),
        "poe_flag": poe_missing,
        "unit_flag": unit_invalid,
        "location_flag": Q(location__active=False),
    }


FLAGS = ("conflict_flag", "poe_flag", "unit_flag", "location_flag")


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
    if filters.reviewer == "none":
        claims = claims.filter(assigned_reviewer__isnull=True)
    elif filters.reviewer.isdigit():
        claims = claims.filter(assigned_reviewer_id=int(filters.reviewer))
    text = filters.text.strip().removeprefix("#")
    if text.isdigit() and len(text) < 18:
        # A number is a claim number or a PartnerID.
        locations = PartnerLocation.objects.filter(partner_id=text).values_list("pk", flat=True)
        claims = claims.filter(Q(pk=int(text)) | Q(location_id__in=list(locations)))
    elif text:
        partners = PartnerOrganisation.objects.filter(name__icontains=text).values_list(
            "pk", flat=True
        )
        claims = claims.filter(
            Q(name__icontains=text)
            | tenants_matching(Q(name__icontains=text) | Q(tenant_id__iexact=text))
            | Q(organisation_id__in=list(partners))
        )
    if filters.conflict:
        claims = claims.filter(has_conflict=True)
    if filters.failed_checks:
        claims = claims.filter(failing_checks(today))
    return claims


QUEUE_ORDER = ("submitted_at", "pk")


def review_queue(
    *, actor: User, filters: QueueFilters | None = None, today: datetime.date | None = None
) -> QuerySet[Claim]:
    """Claims awaiting a decision, oldest submission first, with their flags."""
    today = today or timezone.localdate()
    claims = _queue_filtered(actor=actor, filters=filters or QueueFilters(), today=today)
    return _annotate_flags(claims.select_related("assigned_reviewer"), today).order_by(*QUEUE_ORDER)


@dataclass(frozen=True)
class BoundedCount:
    """A count that stopped at a limit: ``more`` when there are more rows than ``count``."""

    count: int
    more: bool = False

    def __int__(self) -> int:
        return self.count


def queue_counts(*, actor: User) -> dict[str, BoundedCount]:
    """How many claims are in each state the operator follows, and how many of those
    awaiting a decision are assigned to the actor, each counted up to
    ``QUEUE_COUNT_LIMIT``."""
    require_operator(actor)
    counted = {status: Claim.objects.filter(status=status) for status in COUNTED_STATUSES}
    # Assigned to the actor, by hand or by workload balancing, and awaiting a decision.
    counted["mine"] = Claim.objects.filter(status__in=QUEUE_STATUSES, assigned_reviewer=actor)
    counts = {
        name: BoundedCount(*found)
        for name, found in bounded_counts(counted, QUEUE_COUNT_LIMIT).items()
    }
    waiting = [counts[status] for status in QUEUE_STATUSES]
    counts["queue"] = BoundedCount(
        sum(count.count for count in waiting), any(count.more for count in waiting)
    )
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
    claim: "Claim | QueuedClaim",
    *,
    settings: ProgramSettings,
    now: datetime.datetime | None = None,
) -> SlaClock:
    now = now or timezone.now()
    started = claim.updated_at or claim.submitted_at or now
    # The same dates the partner is told to expect (claims.selectors.claim_expected_dates).
    expected = claim_expected_dates(
        status=claim.status, entered_at=started, info_requested_until=None, settings=settings
    )
    if claim.status == ClaimStatus.IN_REVIEW:
        target, kind, due = settings.decision_target_business_days, "decision", expected.decision
    else:
        target, kind, due = settings.pickup_target_business_days, "pickup", expected.pickup
    return SlaClock(
        age=business_days_between(claim.submitted_at or now, now),
        target=target,
        elapsed=business_days_between(started, now),
        due=due if due is not None else add_business_days(started, target),
        kind=kind,
    )


@dataclass
class QueuePage:
    page: KeysetPage
    total: BoundedCount
    rows: list[tuple["QueuedClaim", SlaClock]] = field(default_factory=list)


QUEUE_KEYS = (SortKey("submitted_at"), SortKey("pk"))
# What a row of the queue shows (and its SLA clock reads), and nothing more, read as
# values: a claim and six related model instances a row cost more than the flags.
QUEUE_COLUMNS = (
    "pk",
    "name",
    "status",
    "submitted_at",
    "updated_at",
    "organisation__name",
    "location__partner_id",
    "tenant__name",
    "role__engagement__name",
    "role__engagement__name_pt",
    "assigned_reviewer_id",
    "assigned_reviewer__first_name",
    "assigned_reviewer__last_name",
    "assigned_reviewer__email",
    *FLAGS,
)


@dataclass(eq=False)
class QueuedClaim:
    """A row of the review queue: what it shows and what its SLA clock reads, with the
    flags of the cheap checks. The engagement is named in the reader's language."""

    pk: int
    name: str
    status: str
    submitted_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    organisation_name: str
    partner_id: str
    tenant_name: str
    engagement: str
    assigned_reviewer_id: int | None
    reviewer_name: str | None  # as Django names a user: full name, else the e-mail
    conflict_flag: bool
    poe_flag: bool
    unit_flag: bool
    location_flag: bool

    @classmethod
    def from_values(cls, row: dict) -> "QueuedClaim":
        reviewer = row["assigned_reviewer_id"]
        full_name = f"{row['assigned_reviewer__first_name']} {row['assigned_reviewer__last_name']}"
        return cls(
            pk=row["pk"],
            name=row["name"],
            status=row["status"],
            submitted_at=row["submitted_at"],
            updated_at=row["updated_at"],
            organisation_name=row["organisation__name"],
            partner_id=row["location__partner_id"],
            tenant_name=row["tenant__name"],
            engagement=in_reader_language(
                row["role__engagement__name"], row["role__engagement__name_pt"]
            ),
            assigned_reviewer_id=reviewer,
            reviewer_name=reviewer and (full_name.strip() or row["assigned_reviewer__email"]),
            **{flag: row[flag] for flag in FLAGS},
        )


def review_queue_page(
    *,
    actor: User,
    filters: QueueFilters | None = None,
    cursor: str | None = None,
    counts: dict[str, BoundedCount] | None = None,
    exact: bool = False,
    today: datetime.date | None = None,
) -> QueuePage:
    """One page of the queue with each row's flags and SLA clock, in a fixed number of
    queries on any page: the rows after (or before) ``cursor`` in the order of the
    partial index ``claim_awaiting_oldest`` (``InvalidCursor`` if it was tampered with),
    then the total, counted up to ``QUEUE_COUNT_LIMIT`` unless ``exact``. Without filters
    the total comes from ``counts`` (``queue_counts``), so it costs no query of its own."""
    filters = filters or QueueFilters()
    today = today or timezone.localdate()
    filtered = _queue_filtered(actor=actor, filters=filters, today=today)
    page = keyset_page(
        _annotate_flags(filtered, today).values(*QUEUE_COLUMNS),
        QUEUE_KEYS,
        cursor=cursor,
        size=PAGE_SIZE,
    )
    page.rows = [QueuedClaim.from_values(row) for row in page.rows]
    if not page.has_other_pages:
        total = BoundedCount(len(page.rows))
    elif exact:
        total = BoundedCount(filtered.count())
    elif counts is not None and QueueFilters(status=filters.status) == filters:
        total = counts[filters.status or "queue"]
    else:
        total = BoundedCount(*bounded_count(filtered, QUEUE_COUNT_LIMIT))
    settings = ProgramSettings.load()
    now = timezone.now()
    return QueuePage(
        page, total, [(claim, sla_clock(claim, settings=settings, now=now)) for claim in page.rows]
    )


def lines_awaiting_decision(*, actor: User, pk: int) -> list[ClaimLine]:
    """The pending lines of claim ``pk``, none unless the actor may see it: the choices
    of the approval form, read in one statement built once (``cpor.rowload``)."""
    scope = claim_scope(actor)
    if scope is None:
        return []
    visible = scope.where.replace("{row}", "c")  # the scope's values go as parameters
    where = f"{{row}}.claim_id = %s AND {{row}}.status = %s AND EXISTS (SELECT 1 FROM claims_claim c WHERE c.id = {{row}}.claim_id AND {visible})"  # noqa: S608, E501
    return CLAIM_LINES.fetch(where, [pk, str(LineStatus.PENDING), *scope.params])


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


# ---------------------------------------------------------------------------
# Workload


@dataclass
class ReviewerLoad:
    reviewer: User
    name: str
    on_duty: bool
    open: int
    last_assigned_at: datetime.datetime | None


def reviewer_workload(*, actor: User) -> list[ReviewerLoad]:
    """Every active reviewer with their duty and open load, in two queries."""
    require_operator(actor)
    reviewers = list(
        User.objects.filter(operator_role=OperatorRole.REVIEWER, is_active=True)
        .select_related("duty")
        .order_by("first_name", "last_name", "email")
    )
    loads = reviewer_open_loads([r.pk for r in reviewers])
    rows = []
    for reviewer in reviewers:
        duty = getattr(reviewer, "duty", None)
        rows.append(
            ReviewerLoad(
                reviewer=reviewer,
                name=reviewer.get_full_name() or reviewer.email,
                on_duty=bool(duty and duty.on_duty),
                open=loads[reviewer.pk],
                last_assigned_at=duty.last_assigned_at if duty else None,
            )
        )
    return rows


def saved_filters(*, actor: User) -> QuerySet[SavedQueueFilter]:
    """The actor's own saved queue filters (nobody sees another's)."""
    require_operator(actor)
    return SavedQueueFilter.objects.filter(owner=actor)


def legacy_imports(*, actor: User) -> QuerySet[LegacyImport]:
    """The legacy association imports, newest first (program admins)."""
    require_program_admin(actor)
    return LegacyImport.objects.select_related("imported_by")
