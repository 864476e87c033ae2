"""Reads of partner organisations for the program admin's pages."""

from django.db.models import Count, Prefetch, Q, QuerySet

from cpor.accounts.models import User
from cpor.claims.permissions import require_program_admin
from cpor.partners.models import Membership, PartnerOrganisation


def partner_list(*, actor: User, text: str = "") -> QuerySet[PartnerOrganisation]:
    require_program_admin(actor)
    organisations = PartnerOrganisation.objects.annotate(
        location_count=Count("locations", distinct=True),
        user_count=Count("memberships", distinct=True),
    )
    if text.strip():
        organisations = organisations.filter(
            Q(name__icontains=text.strip()) | Q(locations__partner_id=text.strip())
        ).distinct()
    return organisations.order_by("name")


def partner_get(*, actor: User, pk: int) -> PartnerOrganisation:
    require_program_admin(actor)
    return PartnerOrganisation.objects.prefetch_related(
        "locations",
        Prefetch("memberships", queryset=Membership.objects.select_related("user")),
    ).get(pk=pk)
