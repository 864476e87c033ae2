"""Reads of partner organisations: the program admin's pages and the partner admin's
Organisation area."""

from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from django.db.models import Count, Prefetch, Q, QuerySet

from cpor.accounts.models import User
from cpor.claims.permissions import require_program_admin
from cpor.partners.models import (
    LocationVerification,
    Membership,
    PartnerLocation,
    PartnerOrganisation,
)
from cpor.partners.self_service import require_partner_admin


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


# ---------------------------------------------------------------------------
# The partner admin's Organisation area, and the program's PartnerID verification


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    mfa: tuple[str, ...]  # the kinds of second factor enrolled (allauth.mfa)

    @property
    def user(self) -> User:
        return self.membership.user


def organisation_members(*, actor: User) -> list[MemberRow]:
    """The actor's organisation's users with their role, last sign-in and MFA: two
    queries whatever the size."""
    membership = require_partner_admin(actor)
    members = list(
        Membership.objects.filter(organisation_id=membership.organisation_id)
        .select_related("user")
        .order_by("user__email")
    )
    kinds: dict[int, list[str]] = {}
    for user_id, kind in (
        Authenticator.objects.filter(user_id__in=[m.user_id for m in members])
        .exclude(type=Authenticator.Type.RECOVERY_CODES)
        .values_list("user_id", "type")
        .order_by("type")
    ):
        kinds.setdefault(user_id, []).append(kind)
    return [MemberRow(m, tuple(kinds.get(m.user_id, ()))) for m in members]


def organisation_locations(*, actor: User) -> QuerySet[PartnerLocation]:
    membership = require_partner_admin(actor)
    return PartnerLocation.objects.filter(organisation_id=membership.organisation_id).order_by(
        "partner_id"
    )


def locations_to_verify(*, actor: User) -> QuerySet[PartnerLocation]:
    """PartnerIDs partner admins added, awaiting the program's decision, oldest first."""
    require_program_admin(actor)
    return (
        PartnerLocation.objects.filter(verification=LocationVerification.PENDING)
        .select_related("organisation", "requested_by")
        .order_by("requested_at", "id")
    )


def locations_decided(*, actor: User, limit: int = 20) -> list[PartnerLocation]:
    require_program_admin(actor)
    return list(
        PartnerLocation.objects.filter(decided_at__isnull=False)
        .select_related("organisation", "decided_by")
        .order_by("-decided_at", "-id")[:limit]
    )
