"""What the Add customer wizard and the claim page read: the partner's locations, the
subscriptions it may claim, the latest request for information and the dates the
partner is told to expect."""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.catalog.models import ProgramSettings
from cpor.claims.business_days import add_business_days
from cpor.claims.models import (
    AWAITING_DECISION,
    Claim,
    ClaimEvent,
    ClaimStatus,
    EventAction,
)
from cpor.claims.permissions import partner_membership
from cpor.customers.models import Subscription, Tenant
from cpor.partners.models import PartnerLocation


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
