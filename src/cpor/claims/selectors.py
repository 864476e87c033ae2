"""Reads of claims and associations, always scoped to who is asking."""

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.db.models.lookups import IContains
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cpor.accounts.models import User
from cpor.catalog.models import ProgramSettings, in_reader_language
from cpor.claims.business_days import add_business_days
from cpor.claims.models import (
    AWAITING_DECISION,
    HELD_STATUSES,
    Association,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    EventAction,
)
from cpor.claims.permissions import partner_membership
from cpor.customers.models import Subscription, Tenant
from cpor.customers.relationships import (
    has_relationship,
    related_tenant,
    related_tenant_ids,
    related_tenant_probe,
)
from cpor.keyset import KeysetPage, SortKey, bounded_count, keyset_page
from cpor.partners.models import PartnerLocation


def unit_filter(
    *,
    tenant_id: int,
    product_id: int,
    subscription_id: int | None,
    prefix: str = "tenant_id",
) -> Q:
    """The rows about one unit: a subscription, or a tenant's workload.

    ``prefix`` names the path to the tenant from the queried model (``tenant_id`` on
    associations, ``claim__tenant_id`` on lines)."""
    if subscription_id is not None:
        return Q(subscription_id=subscription_id)
    return Q(**{prefix: tenant_id}, product_id=product_id, subscription__isnull=True)


def unit_holder(
    *, tenant_id: int, product_id: int, subscription_id: int | None
) -> Association | None:
    """The association currently holding the unit, if any (at most one: the invariant)."""
    return (
        Association.objects.filter(
            unit_filter(
                tenant_id=tenant_id, product_id=product_id, subscription_id=subscription_id
            ),
            status__in=HELD_STATUSES,
        )
        .select_related("organisation", "claim")
        .first()
    )


def latest_poe_date(claim: Claim) -> datetime.date | None:
    return claim.proofs.aggregate(latest=Max("signed_on"))["latest"]


def _claims_visible_to(actor: User | None, *, flagged: bool = True) -> QuerySet[Claim]:
    """The actor's claims, each annotated ``tenant_related``: whether the actor may see
    the tenant's name. Program staff always may; a partner only with a relationship
    (``cpor.customers.relationships``): a pending claim is not one."""
    # Nobody's claims carry the annotation too: every reader may name it.
    nothing = Claim.objects.none().annotate(tenant_related=Value(False))
    if actor is None or not actor.is_authenticated:
        return nothing
    if actor.is_operator:
        return Claim.objects.exclude(status=ClaimStatus.DRAFT).annotate(tenant_related=Value(True))
    membership = partner_membership(actor)
    if membership is None:
        return nothing
    claims = Claim.objects.filter(organisation_id=membership.organisation_id)
    if not flagged:  # the caller flags the rows it fetched (``tenants_shown``)
        return claims
    return claims.annotate(
        tenant_related=ExpressionWrapper(
            related_tenant(membership.organisation_id), output_field=BooleanField()
        )
    )


# What a partner without a relationship sees instead of the tenant's name.
TENANT_UNCONFIRMED = gettext_lazy("Customer not yet confirmed")


def claim_tenant_related(*, actor: User | None, claim: Claim) -> bool:
    """Whether the actor may see the name of the claim's tenant: what ``claim_list``
    annotated, or for a claim a service returned, the same rule asked once."""
    annotated = getattr(claim, "tenant_related", None)
    if annotated is not None:
        return bool(annotated)
    if actor is not None and actor.is_authenticated and actor.is_operator:
        return True
    membership = partner_membership(actor)
    return membership is not None and has_relationship(
        organisation_id=membership.organisation_id, tenant=claim.tenant
    )


def claim_tenant_name(*, actor: User | None, claim: Claim) -> str:
    """The tenant's name, or ``TENANT_UNCONFIRMED`` for a partner without a relationship."""
    if claim_tenant_related(actor=actor, claim=claim):
        return claim.tenant.name
    return str(TENANT_UNCONFIRMED)


@dataclass(frozen=True)
class ClaimFilters:
    status: str | None = None
    solution_area: str | None = None
    role: str | None = None
    tenant: str | None = None
    text: str | None = None


# Above this many matching customers, a search filters on the joined customer instead
# of naming their ids: a term that common matches claims on almost every page anyway.
SEARCH_TENANT_IDS = 100


def _through(match: Q, relation: str) -> Q:
    """``match`` (a condition on customers) as a condition on rows that reach the
    customer through ``relation``."""
    moved = Q()
    moved.connector, moved.negated = match.connector, match.negated
    moved.children = [
        _through(child, relation) if isinstance(child, Q) else (f"{relation}__{child[0]}", child[1])
        for child in match.children
    ]
    return moved


def _listed_ids(tenants: QuerySet[Tenant]) -> list[int] | None:
    """The ids of ``tenants``, or None when there are more than ``SEARCH_TENANT_IDS``
    (a term so common that listing its customers costs more than joining them)."""
    ids = list(tenants.order_by().values_list("pk", flat=True)[: SEARCH_TENANT_IDS + 1])
    return ids if len(ids) <= SEARCH_TENANT_IDS else None


def tenants_matching(match: Q, *, through: str = "tenant") -> Q:
    """Claims (or rows ``through`` a claim) of the customers ``match`` finds.

    The customers are looked up first (a trigram index on PostgreSQL), so the condition
    on claims is a plain list of ids that an index answers, also inside an OR."""
    ids = _listed_ids(Tenant.objects.filter(match))
    if ids is not None:
        return Q(**{f"{through}_id__in": ids})
    return _through(match, through)


def _tenant_names_matching(text: str, actor: User | None) -> Q:
    """Claims whose customer's name holds ``text``. A partner finds by name only the
    customers it has a relationship with: a search must not reveal a name the list hides."""
    match = Q(name__icontains=text)
    membership = partner_membership(actor)
    if membership is None:
        return tenants_matching(match)
    tenants = Tenant.objects.filter(match)
    ids = _listed_ids(tenants)
    if ids is not None:
        return Q(tenant_id__in=related_tenant_ids(membership.organisation_id, ids))
    # A common term: each claim the scan reaches is tested, its customer's name and then
    # the relationship, each by an index probe, so that a page or a bounded count tests
    # only the rows it reads. At a million claims, "Harbor" (7,800 customers) costs 5 ms
    # a page instead of 17 ms for finding the related customers first; a join of the
    # customers would have a count hash all 125,000 of them (37 ms). A term that matches
    # few of the partner's claims makes the scan long, each row an index probe: the
    # trade-off is in docs/architecture.md (Lists).
    name = Subquery(Tenant.objects.filter(pk=OuterRef("tenant_id")).values("name"))
    return Q(IContains(name, text)) & related_tenant_probe(membership.organisation_id)


def claim_list(
    *, actor: User | None, filters: ClaimFilters | None = None, flagged: bool = True
) -> QuerySet[Claim]:
    """Claims the actor may see: a partner its own, operators every submitted claim.
    Each row says ``tenant_related`` unless ``flagged`` is False (a partner's rows then
    lack it: the caller asks ``tenants_shown`` for the rows it fetched)."""
    filters = filters or ClaimFilters()
    claims = _claims_visible_to(actor, flagged=flagged).select_related(
        "role__solution_area", "role__engagement", "tenant", "location", "organisation"
    )
    if filters.status:
        claims = claims.filter(status=filters.status)
    if filters.solution_area:
        claims = claims.filter(role__solution_area__code=filters.solution_area)
    if filters.role:
        claims = claims.filter(role__code=filters.role)
    if filters.tenant:
        claims = claims.filter(
            tenants_matching(Q(tenant_id__iexact=filters.tenant))
            | _tenant_names_matching(filters.tenant, actor)
        )
    if filters.text:
        locations = PartnerLocation.objects.filter(partner_id=filters.text).values_list(
            "pk", flat=True
        )
        claims = claims.filter(
            Q(name__icontains=filters.text)
            | _tenant_names_matching(filters.text, actor)
            | Q(location_id__in=list(locations))
        )
    return claims


def claim_get(*, actor: User | None, pk: int) -> Claim:
    """One claim the actor may see; ``Claim.DoesNotExist`` (a 404) for any other."""
    return claim_list(actor=actor).get(pk=pk)


def claim_history(*, actor: User | None, claim: Claim) -> QuerySet[ClaimEvent]:
    """The claim's history. Partners never see internal notes; a reviewer sees their own
    and shared ones; program admins (all read access) see every note."""
    events = claim.events.select_related("actor", "association")
    if actor is None or not actor.is_operator:
        return events.filter(internal=False)
    if actor.is_program_admin:
        return events
    # A reviewer sees another reviewer's notes only when they were shared.
    return events.filter(Q(internal=False) | Q(shared=True) | Q(actor=actor))


def association_list(*, actor: User | None) -> QuerySet[Association]:
    if actor is None or not actor.is_authenticated:
        return Association.objects.none()
    associations = Association.objects.select_related(
        "organisation", "tenant", "product", "subscription", "claim"
    )
    if actor.is_operator:
        return associations
    membership = partner_membership(actor)
    if membership is None:
        return Association.objects.none()
    return associations.filter(organisation_id=membership.organisation_id)


# ---------------------------------------------------------------------------
# The partner web experience (claim list, Add customer wizard, claim detail)


def _newest_within(*keys: SortKey) -> tuple[SortKey, ...]:
    return (*keys, SortKey("created_at", descending=True), SortKey("pk", descending=True))


# Each sort of the list, ending on the primary key so that pages never overlap or skip.
CLAIM_SORTS: dict[str, tuple[SortKey, ...]] = {
    "name": (SortKey("name"), SortKey("pk")),
    "status": _newest_within(SortKey("status")),
    "tenant": _newest_within(SortKey("tenant_shown", field="tenant__name")),
    "role": _newest_within(SortKey("role__name")),
    "created": (SortKey("created_at"), SortKey("pk")),
    "submitted": (SortKey("submitted_at", nullable=True), SortKey("pk")),
}
DEFAULT_CLAIM_SORT = "-created"
# The list counts this many claims at most; past it, it says "more than". A search
# tests every claim it counts (a customer's name, a relationship), so it counts no
# further than one page of the list: its first page shows that much without a count.
CLAIM_COUNT_LIMIT = 1000
SEARCH_COUNT_LIMIT = 50
# The action-required badge counts up to this many.
BADGE_LIMIT = 99


def _by_shown_tenant(keys: tuple[SortKey, ...]) -> bool:
    return any(key.path == "tenant_shown" for key in keys)


def _sortable(claims: QuerySet[Claim], keys: tuple[SortKey, ...]) -> QuerySet[Claim]:
    """``claims`` with what ``keys`` sort on. By customer, that is what the reader is
    shown: the name, or for a partner without a relationship the tenant ID; the hidden
    name would give itself away through the order."""
    if _by_shown_tenant(keys):
        return claims.annotate(
            tenant_shown=Case(
                When(tenant_related=True, then=F("tenant__name")),
                default=Cast("tenant__tenant_id", CharField()),
            )
        )
    return claims


def claim_sort_keys(sort: str) -> tuple[SortKey, ...]:
    """The keys of a sort named in the list's query string ("name", "-created"…)."""
    key = sort.removeprefix("-")
    if key not in CLAIM_SORTS:
        key, sort = "created", DEFAULT_CLAIM_SORT
    keys = CLAIM_SORTS[key]
    if sort.startswith("-"):
        keys = tuple(replace(k, descending=not k.descending) for k in keys)
    return keys


def claim_list_page_rows(
    *, actor: User | None, filters: ClaimFilters | None = None, sort: str = DEFAULT_CLAIM_SORT
) -> QuerySet[Claim]:
    """The claim list in the chosen order with everything a row shows: one select for
    the claims (and their role, area, tenant, location) and one for all their lines."""
    keys = claim_sort_keys(sort)
    return (
        _sortable(claim_list(actor=actor, filters=filters), keys)
        .order_by(*(key.order() for key in keys))
        .prefetch_related(
            Prefetch("lines", queryset=ClaimLine.objects.select_related("product", "subscription"))
        )
    )


# What a row of the list shows, and nothing more, read as values.
LIST_COLUMNS = (
    "pk",
    "name",
    "status",
    "created_at",
    "submitted_at",
    "organisation_id",
    "tenant_id",
    "role__name",
    "role__name_pt",
    "role__solution_area__name",
    "role__solution_area__name_pt",
    "tenant__name",
    "tenant__tenant_id",
    "location__partner_id",
)


@dataclass(eq=False)
class ListedClaim:
    """A row of the claim list: what it shows, read as values rather than as a claim and
    four related model instances (at 50 rows, 1.4 ms of CPU instead of 3.9). Catalog
    names are in the reader's language."""

    pk: int
    name: str
    status: str
    created_at: datetime.datetime
    submitted_at: datetime.datetime | None
    organisation_id: int
    tenant_id: int
    tenant_name: str
    tenant_guid: uuid.UUID  # the tenant's directory ID
    partner_id: str
    area: str
    role: str
    tenant_related: bool = False
    # (product name, subscription ID or None) per line, in the lines' order.
    units: list[tuple[str, str | None]] = field(default_factory=list)

    @classmethod
    def from_values(cls, row: dict) -> "ListedClaim":
        return cls(
            pk=row["pk"],
            name=row["name"],
            status=row["status"],
            created_at=row["created_at"],
            submitted_at=row["submitted_at"],
            organisation_id=row["organisation_id"],
            tenant_id=row["tenant_id"],
            tenant_name=row["tenant__name"],
            tenant_guid=row["tenant__tenant_id"],
            partner_id=row["location__partner_id"],
            area=in_reader_language(
                row["role__solution_area__name"], row["role__solution_area__name_pt"]
            ),
            role=in_reader_language(row["role__name"], row["role__name_pt"]),
            tenant_related=row.get("tenant_related", False),
        )


def claim_list_page(
    *,
    actor: User | None,
    filters: ClaimFilters | None = None,
    sort: str = DEFAULT_CLAIM_SORT,
    cursor: str | None = None,
    size: int = 50,
    count: bool = False,
    exact: bool = False,
) -> KeysetPage:
    """One page of the claim list as ``ListedClaim`` rows, after or before ``cursor``
    (``InvalidCursor`` if it was tampered with), in two queries whatever the page: the
    claims with the columns a row shows, then their units. With ``count``, the page's
    ``total`` as
    ``claim_list_count`` gives it: no query when one page holds the whole list, nor on
    a search's first page when a next page exists (the page itself shows "more than")."""
    keys = claim_sort_keys(sort)
    # The relationship test stays in SQL only for the sort by customer, which orders by
    # what the partner is shown. Otherwise the page's own rows are flagged after the
    # fact (at a million claims, 29 ms a page instead of 96); a search by customer name
    # asks it of the matching customers, not of the claims (``_tenant_names_matching``).
    in_sql = _by_shown_tenant(keys)
    claims = _sortable(claim_list(actor=actor, filters=filters, flagged=in_sql), keys)
    columns = (*LIST_COLUMNS, "tenant_related", "tenant_shown") if in_sql else LIST_COLUMNS
    page = keyset_page(claims.values(*columns), keys, cursor=cursor, size=size)
    page.rows = [ListedClaim.from_values(row) for row in page.rows]
    units = {claim.pk: claim.units for claim in page.rows}
    lines = (
        ClaimLine.objects.filter(claim_id__in=list(units))
        .order_by("claim_id", "pk")
        .values_list("claim_id", "product__name", "subscription__subscription_id")
    )
    for claim_id, product, subscription in lines:
        units[claim_id].append((product, str(subscription) if subscription else None))
    if not in_sql:
        _flag_relationships(page.rows, actor)
    if count:
        if not page.has_other_pages:
            page.total = (len(page.rows), False)
        elif _searching(filters) and not exact and not page.has_previous:
            page.total = (min(len(page.rows), SEARCH_COUNT_LIMIT), True)
        else:
            page.total = _count(claims, filters, exact=exact)
    return page


def tenants_shown(*, actor: User | None, tenant_ids: Iterable[int]) -> set[int]:
    """Which of ``tenant_ids`` the actor may see the name of (``claim_tenant_related``),
    for rows a list fetched without the test: program staff every one, a partner those
    it has a relationship with, in one query over these tenants only."""
    tenant_ids = set(tenant_ids)
    if actor is not None and actor.is_authenticated and actor.is_operator:
        return tenant_ids
    membership = partner_membership(actor)
    if membership is None or not tenant_ids:
        return set()
    return related_tenant_ids(membership.organisation_id, tenant_ids)


def _flag_relationships(claims: list[ListedClaim], actor: User | None) -> None:
    """``tenant_related`` on rows fetched without it."""
    shown = tenants_shown(actor=actor, tenant_ids={c.tenant_id for c in claims})
    for claim in claims:
        claim.tenant_related = claim.tenant_id in shown


def _searching(filters: ClaimFilters | None) -> bool:
    return filters is not None and bool(filters.text or filters.tenant)


def _count(claims: QuerySet[Claim], filters: ClaimFilters | None, *, exact: bool):
    if exact:
        return claims.count(), False
    return bounded_count(claims, SEARCH_COUNT_LIMIT if _searching(filters) else CLAIM_COUNT_LIMIT)


def claim_list_count(
    *, actor: User | None, filters: ClaimFilters | None = None, exact: bool = False
) -> tuple[int, bool]:
    """How many claims the list holds: (count, whether there are more than that).

    Counts up to ``CLAIM_COUNT_LIMIT`` (``SEARCH_COUNT_LIMIT`` for a search) unless
    ``exact`` is asked for."""
    claims = claim_list(actor=actor, filters=filters, flagged=False)  # a count names nobody
    return _count(claims, filters, exact=exact)


def claims_needing_action_count(*, actor: User | None) -> tuple[int, bool]:
    """How many of the actor's claims wait for the partner (a reviewer asked for more),
    counting up to ``BADGE_LIMIT``: (count, whether there are more)."""
    claims = claim_list(
        actor=actor, filters=ClaimFilters(status=ClaimStatus.ACTION_REQUIRED), flagged=False
    )
    return bounded_count(claims, BADGE_LIMIT)


def partner_locations(*, actor: User | None):
    """The active locations (PartnerIDs) of the actor's organisation."""
    membership = partner_membership(actor)
    if membership is None:
        return PartnerLocation.objects.none()
    return PartnerLocation.objects.filter(
        organisation_id=membership.organisation_id, active=True
    ).order_by("partner_id")


def tenant_by_tenant_id(tenant_id) -> Tenant | None:
    """The tenant with this directory ID (a GUID), if the program knows it."""
    return Tenant.objects.filter(tenant_id=tenant_id).first()


@dataclass(frozen=True)
class SubscriptionChoice:
    subscription: Subscription
    reason: str  # empty when the subscription can be claimed under the role

    @property
    def eligible(self) -> bool:
        return not self.reason


def subscription_ineligibility(subscription: Subscription, role, today) -> str:
    """Why ``subscription`` cannot be claimed under ``role`` (ended, not started, channel,
    other area), or an empty string when it can."""
    if subscription.product.solution_area_id != role.solution_area_id:
        return _("Not a %s product.") % role.solution_area.name
    if subscription.ends_on < today:
        return _("Ended on %s.") % date_format(subscription.ends_on)
    if subscription.starts_on > today:
        return _("Starts on %s.") % date_format(subscription.starts_on)
    if not role.engagement.allows_channel(subscription.purchase_channel):
        return _("Bought through %s: only Volume Licensing or Web Direct qualify.") % (
            subscription.get_purchase_channel_display()
        )
    return ""


def claimable_subscriptions(*, tenant, role) -> list[SubscriptionChoice]:
    """The tenant's subscriptions for the Business Applications step, each with why it
    cannot be claimed under ``role``, if so. Only for a partner with a relationship with
    the tenant (``cpor.customers.lookup``): others type the IDs the customer gave them."""
    today = timezone.localdate()
    return [
        SubscriptionChoice(subscription, subscription_ineligibility(subscription, role, today))
        for subscription in Subscription.objects.filter(tenant=tenant)
        .select_related("product")
        .order_by("product__name", "ends_on")
    ]


def latest_info_request(*, claim: Claim) -> ClaimEvent | None:
    """The reviewer's most recent request for information on the claim."""
    return (
        claim.events.filter(action=EventAction.REQUEST_INFO, internal=False)
        .order_by("-at", "-id")
        .first()
    )


@dataclass(frozen=True)
class ExpectedDates:
    """When the partner can expect the program to act, or must act itself.

    ``pickup``: a reviewer takes the claim up (submitted or disputed, waiting); ``decision``:
    the reviewer decides (counted from the pickup target while it waits, from the moment a
    reviewer took it once in review); ``reply``: the partner's answer to a request for
    information is due (past it, the claim is rejected)."""

    pickup: datetime.datetime | None = None
    decision: datetime.datetime | None = None
    reply: datetime.datetime | None = None


def claim_expected_dates(
    *,
    status: str,
    entered_at: datetime.datetime | None,
    info_requested_until: datetime.datetime | None,
    settings: ProgramSettings | None,
) -> ExpectedDates:
    """The dates one claim's partner and reviewer see, from its status and when it entered
    it (``updated_at``): the reviewer's service-level targets are the partner's
    expectations. ``settings`` is needed only while the claim awaits a decision
    (``needs_targets``)."""
    if status == ClaimStatus.ACTION_REQUIRED:
        return ExpectedDates(reply=info_requested_until)
    if status not in AWAITING_DECISION or settings is None:
        return ExpectedDates()
    started = entered_at or timezone.now()
    if status == ClaimStatus.IN_REVIEW:
        return ExpectedDates(
            decision=add_business_days(started, settings.decision_target_business_days)
        )
    pickup = add_business_days(started, settings.pickup_target_business_days)
    return ExpectedDates(
        pickup=pickup,
        decision=add_business_days(pickup, settings.decision_target_business_days),
    )


def needs_targets(statuses) -> bool:
    """Whether claims in these statuses need the program's targets (one query) for their
    expected dates: only those awaiting a decision."""
    return any(status in AWAITING_DECISION for status in statuses)


def expected_dates(claim: Claim, *, settings: ProgramSettings | None = None) -> ExpectedDates:
    """``claim_expected_dates`` of a loaded claim, reading the targets when needed."""
    if settings is None and needs_targets([claim.status]):
        settings = ProgramSettings.load()
    return claim_expected_dates(
        status=claim.status,
        entered_at=claim.updated_at,
        info_requested_until=claim.info_requested_until,
        settings=settings,
    )
