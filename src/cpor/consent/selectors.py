"""What a customer sees: always one tenant's data, through a link or a customer admin."""

from dataclasses import dataclass

from django.db.models import QuerySet

from cpor.accounts.models import User
from cpor.claims.models import (
    HELD_STATUSES,
    OPEN_STATUSES,
    Association,
    Claim,
    ClaimLine,
    EndReason,
    LineStatus,
)
from cpor.consent.models import CustomerAdmin
from cpor.customers.models import Tenant


def customer_tenant_of(user: User | None) -> Tenant | None:
    if user is None or not user.is_authenticated:
        return None
    link = CustomerAdmin.objects.select_related("tenant").filter(user=user).first()
    return link.tenant if link else None


@dataclass
class Unit:
    """One line of a request as the customer sees it, and whether it can be declined."""

    line: ClaimLine
    association: Association | None
    state: str
    since: object
    declinable: bool
    declined: bool


def request_units(claim: Claim) -> list[Unit]:
    lines = claim.lines.select_related("product", "subscription", "association").order_by("id")
    units = []
    for line in lines:
        association = getattr(line, "association", None)
        if association is not None:
            declined = association.end_reason == EndReason.DECLINED_BY_CUSTOMER
            units.append(
                Unit(
                    line=line,
                    association=association,
                    state=association.get_end_reason_display()
                    if association.end_reason
                    else association.get_status_display(),
                    since=association.ended_at
                    or association.activated_at
                    or association.approved_at,
                    declinable=association.status in HELD_STATUSES,
                    declined=declined,
                )
            )
        else:
            pending = line.status == LineStatus.PENDING and claim.status in OPEN_STATUSES
            units.append(
                Unit(
                    line=line,
                    association=None,
                    state=line.get_status_display() if not pending else claim.get_status_display(),
                    since=claim.submitted_at,
                    declinable=pending,
                    declined=line.status == LineStatus.DECLINED,
                )
            )
    return units


def tenant_associations(*, tenant: Tenant) -> QuerySet[Association]:
    """Every association of the tenant, held ones first, newest first."""
    return (
        Association.objects.filter(tenant=tenant)
        .select_related("organisation", "product", "subscription", "claim__location")
        .order_by("ended_at", "product__name", "-approved_at")
    )


def tenant_open_requests(*, tenant: Tenant) -> QuerySet[Claim]:
    """Claims under review for the tenant that still have lines the customer can decline."""
    return (
        Claim.objects.filter(tenant=tenant, status__in=OPEN_STATUSES, lines__status="pending")
        .select_related("organisation", "location")
        .prefetch_related("lines__product", "lines__subscription")
        .distinct()
        .order_by("-submitted_at")
    )


def tenant_association_get(*, tenant: Tenant, pk: int) -> Association | None:
    return Association.objects.filter(tenant=tenant, pk=pk).first()


def tenant_claim_get(*, tenant: Tenant, pk: int) -> Claim | None:
    return Claim.objects.filter(tenant=tenant, pk=pk, status__in=OPEN_STATUSES).first()
