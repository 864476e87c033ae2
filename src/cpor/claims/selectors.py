"""Reads of claims and associations, always scoped to who is asking."""

import datetime
from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet

from cpor.accounts.models import User
from cpor.claims.models import (
    HELD_STATUSES,
    Association,
    Claim,
    ClaimEvent,
    ClaimStatus,
)
from cpor.claims.permissions import partner_membership


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
            Q(tenant__tenant_id__iexact=filters.tenant) | Q(tenant__name__icontains=filters.tenant)
        )
    if filters.text:
        claims = claims.filter(
            Q(name__icontains=filters.text)
            | Q(tenant__name__icontains=filters.text)
            | Q(location__partner_id=filters.text)
        )
    return claims


def claim_get(*, actor: User | None, pk: int) -> Claim:
    """One claim the actor may see; ``Claim.DoesNotExist`` (a 404) for any other."""
    return claim_list(actor=actor).get(pk=pk)


def claim_history(*, actor: User | None, claim: Claim) -> QuerySet[ClaimEvent]:
    """The claim's history; internal notes only for the program operator."""
    events = claim.events.select_related("actor", "association")
    if actor is None or not actor.is_operator:
        events = events.filter(internal=False)
    return events


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
