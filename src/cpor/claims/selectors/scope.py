"""Which claims and associations a reader may see, and the search over them: every read
of claims starts from ``claim_list``."""

import datetime
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.lookups import IContains
from django.utils.translation import gettext_lazy

from cpor.accounts.models import User
from cpor.claims.models import (
    HELD_STATUSES,
    Association,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
)
from cpor.claims.permissions import partner_membership
from cpor.customers.models import Tenant
from cpor.customers.relationships import (
    has_relationship,
    related_tenant,
    related_tenant_ids,
    related_tenant_probe,
    related_tenant_sql,
)
from cpor.partners.models import PartnerLocation
from cpor.rowload import RowLoader


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


def unit_sql(*, tenant_id: int, product_id: int, subscription_id: int | None) -> tuple[str, list]:
    """``unit_filter`` in SQL on an association row (``{row}``), for the reads built
    without the ORM (``cpor.rowload``)."""
    if subscription_id is not None:
        return "{row}.subscription_id = %s", [subscription_id]
    return (
        "{row}.tenant_id = %s AND {row}.product_id = %s AND {row}.subscription_id IS NULL",
        [tenant_id, product_id],
    )


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


# A claim's lines with their units, in order, by a statement built once (``cpor.rowload``):
# what a transition locks with the claim, and what the approval form offers.
CLAIM_LINES = RowLoader(ClaimLine, ("product", "subscription"), order=ClaimLine._meta.ordering)


@dataclass(frozen=True)
class ClaimScope:
    """``_claims_visible_to`` in SQL on a claim row (``{row}``), for the reads built
    without the ORM (``cpor.rowload``): the condition, and whether the reader may see
    the tenant's name, as a constant or an SQL expression with its parameters."""

    where: str
    params: list
    tenant_related: bool | tuple[str, list]


def claim_scope(actor: User | None) -> ClaimScope | None:
    """The reader's ``ClaimScope``; None when they see no claim.
    ``test_both_forms_of_the_visibility_rule_agree`` holds it to ``claim_list``."""
    if actor is None or not actor.is_authenticated:
        return None
    if actor.is_operator:
        return ClaimScope("{row}.status <> %s", [str(ClaimStatus.DRAFT)], True)
    membership = partner_membership(actor)
    if membership is None:
        return None
    organisation_id = membership.organisation_id
    return ClaimScope(
        "{row}.organisation_id = %s",
        [organisation_id],
        related_tenant_sql(organisation_id, "{row}.tenant_id"),
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
