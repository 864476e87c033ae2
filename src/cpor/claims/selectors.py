"""Reads of claims and associations, always scoped to who is asking."""

import datetime
from dataclasses import dataclass, replace

from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.claims.models import (
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


def _claims_visible_to(actor: User | None) -> QuerySet[Claim]:
    if actor is None or not actor.is_authenticated:
        return Claim.objects.none()
    if actor.is_operator:
        return Claim.objects.exclude(status=ClaimStatus.DRAFT)
    membership = partner_membership(actor)
    if membership is None:
        return Claim.objects.none()
    return Claim.objects.filter(organisation_id=membership.organisation_id)


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


def tenants_matching(match: Q, *, through: str = "tenant") -> Q:
    """Claims (or rows ``through`` a claim) of the customers ``match`` finds.

    The customers are looked up first (a trigram index on PostgreSQL), so the condition
    on claims is a plain list of ids that an index answers, also inside an OR."""
    ids = list(Tenant.objects.filter(match).values_list("pk", flat=True)[: SEARCH_TENANT_IDS + 1])
    if len(ids) <= SEARCH_TENANT_IDS:
        return Q(**{f"{through}_id__in": ids})
    return _through(match, through)


def claim_list(*, actor: User | None, filters: ClaimFilters | None = None) -> QuerySet[Claim]:
    """Claims the actor may see: a partner its own, operators every submitted claim."""
    filters = filters or ClaimFilters()
    claims = _claims_visible_to(actor).select_related(
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
            tenants_matching(
                Q(tenant_id__iexact=filters.tenant) | Q(name__icontains=filters.tenant)
            )
        )
    if filters.text:
        locations = PartnerLocation.objects.filter(partner_id=filters.text).values_list(
            "pk", flat=True
        )
        claims = claims.filter(
            Q(name__icontains=filters.text)
            | tenants_matching(Q(name__icontains=filters.text))
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
    "tenant": _newest_within(SortKey("tenant__name")),
    "role": _newest_within(SortKey("role__name")),
    "created": (SortKey("created_at"), SortKey("pk")),
    "submitted": (SortKey("submitted_at", nullable=True), SortKey("pk")),
}
DEFAULT_CLAIM_SORT = "-created"
# The list counts this many claims at most; past it, it says "more than". A search
# tests every claim it counts, so it stops sooner.
CLAIM_COUNT_LIMIT = 1000
SEARCH_COUNT_LIMIT = 250
# The action-required badge counts up to this many.
BADGE_LIMIT = 99


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
    return (
        claim_list(actor=actor, filters=filters)
        .order_by(*(key.order() for key in claim_sort_keys(sort)))
        .prefetch_related(
            Prefetch("lines", queryset=ClaimLine.objects.select_related("product", "subscription"))
        )
    )


# What a row of the list shows, and nothing more: fewer columns and objects per row.
LIST_COLUMNS = (
    "name",
    "status",
    "created_at",
    "submitted_at",
    "organisation_id",
    "role__name",
    "role__solution_area__name",
    "tenant__name",
    "tenant__tenant_id",
    "location__partner_id",
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
    """One page of the claim list, after or before ``cursor`` (``InvalidCursor`` if it
    was tampered with), in two queries whatever the page: the claims with the columns a
    row shows, then their units, given to each claim as ``units``: (product name,
    subscription ID or None) pairs. With ``count``, the page's ``total`` as
    ``claim_list_count`` gives it (no query when one page holds the whole list)."""
    claims = claim_list(actor=actor, filters=filters)
    page = keyset_page(
        claims.select_related(None)
        .select_related("role__solution_area", "tenant", "location")
        .only(*LIST_COLUMNS),
        claim_sort_keys(sort),
        cursor=cursor,
        size=size,
    )
    units: dict[int, list[tuple[str, str | None]]] = {claim.pk: [] for claim in page.rows}
    lines = (
        ClaimLine.objects.filter(claim_id__in=list(units))
        .order_by("claim_id", "pk")
        .values_list("claim_id", "product__name", "subscription__subscription_id")
    )
    for claim_id, product, subscription in lines:
        units[claim_id].append((product, str(subscription) if subscription else None))
    for claim in page.rows:
        claim.units = units[claim.pk]
    if count:
        if not page.has_other_pages:
            page.total = (len(page.rows), False)
        else:
            page.total = _count(claims, filters, exact=exact)
    return page


def _count(claims: QuerySet[Claim], filters: ClaimFilters | None, *, exact: bool):
    if exact:
        return claims.count(), False
    searching = filters is not None and (filters.text or filters.tenant)
    return bounded_count(claims, SEARCH_COUNT_LIMIT if searching else CLAIM_COUNT_LIMIT)


def claim_list_count(
    *, actor: User | None, filters: ClaimFilters | None = None, exact: bool = False
) -> tuple[int, bool]:
    """How many claims the list holds: (count, whether there are more than that).

    Counts up to ``CLAIM_COUNT_LIMIT`` (``SEARCH_COUNT_LIMIT`` for a search) unless
    ``exact`` is asked for."""
    return _count(claim_list(actor=actor, filters=filters), filters, exact=exact)


def claims_needing_action_count(*, actor: User | None) -> tuple[int, bool]:
    """How many of the actor's claims wait for the partner (a reviewer asked for more),
    counting up to ``BADGE_LIMIT``: (count, whether there are more)."""
    return bounded_count(
        claim_list(actor=actor, filters=ClaimFilters(status=ClaimStatus.ACTION_REQUIRED)),
        BADGE_LIMIT,
    )


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


def claimable_subscriptions(*, tenant, role) -> list[SubscriptionChoice]:
    """The tenant's subscriptions for the Business Applications step, each with why it
    cannot be claimed under ``role`` (ended, not started, channel, other area), if so."""
    today = timezone.localdate()
    choices = []
    for subscription in (
        Subscription.objects.filter(tenant=tenant)
        .select_related("product")
        .order_by("product__name", "ends_on")
    ):
        reason = ""
        if subscription.product.solution_area_id != role.solution_area_id:
            reason = _("Not a %s product.") % role.solution_area.name
        elif subscription.ends_on < today:
            reason = _("Ended on %s.") % subscription.ends_on.isoformat()
        elif subscription.starts_on > today:
            reason = _("Starts on %s.") % subscription.starts_on.isoformat()
        elif not role.engagement.allows_channel(subscription.purchase_channel):
            reason = _("Bought through %s: only Volume Licensing or Web Direct qualify.") % (
                subscription.get_purchase_channel_display()
            )
        choices.append(SubscriptionChoice(subscription, reason))
    return choices


def latest_info_request(*, claim: Claim) -> ClaimEvent | None:
    """The reviewer's most recent request for information on the claim."""
    return (
        claim.events.filter(action=EventAction.REQUEST_INFO, internal=False)
        .order_by("-at", "-id")
        .first()
    )
