"""Writes of rate cards by program admins: the pages under /review/admin/rate-cards/,
the API and the Django admin all come through ``rate_card_validate`` and these two
services, so every route refuses the same mistakes with the same field errors."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.catalog.models import Engagement, PurchaseChannel
from cpor.claims.permissions import require_program_admin
from cpor.claims.services.history import ValidationFailed
from cpor.earnings.models import IncentiveBase, RateCard
from cpor.earnings.money import CURRENCIES
from cpor.errors import DomainError

FIELDS = (
    "engagement",
    "effective_from",
    "effective_until",
    "base",
    "rate",
    "currency",
    "min_paid_units",
    "min_growth",
    "cap",
    "eligible_channels",
    "note",
)


def _threshold_amount(card: RateCard) -> Decimal:
    """What an association earns in a month at the threshold itself: the least a
    qualifying association earns, so a cap below it would always bind."""
    if card.base == IncentiveBase.FLAT:
        return card.rate
    if card.base == IncentiveBase.PAU:
        return card.rate * max(card.min_paid_units, 1)
    return card.rate * max(card.min_growth, 1)


def _overlapping(card: RateCard) -> RateCard | None:
    """Another version of the engagement in force on any day of this one's, except the
    open-ended version this one succeeds (which is closed on save)."""
    others = RateCard.objects.filter(engagement_id=card.engagement_id).exclude(pk=card.pk)
    for other in others.order_by("effective_from"):
        other_end = other.effective_until or datetime.date.max
        end = card.effective_until or datetime.date.max
        if other.effective_from <= end and card.effective_from <= other_end:
            succeeds = other.effective_until is None and other.effective_from < card.effective_from
            if not succeeds:
                return other
    return None


def rate_card_validate(card: RateCard) -> None:
    """Every rule a rate card must meet, all reported at once (``ValidationFailed``)."""
    errors: list[DomainError] = []

    def refuse(code: str, message: str, field: str) -> None:
        errors.append(DomainError(code, message, field=field))

    engagement: Engagement | None = card.engagement if card.engagement_id else None
    if engagement is None:
        refuse("required", _("Choose an engagement."), "engagement")
    elif not engagement.incentivized or engagement.requires_revenue_details:
        refuse(
            "engagement_not_incentivized",
            _("“%(name)s” pays no incentives, so it takes no rate card.")
            % {"name": engagement.name},
            "engagement",
        )
    if card.effective_from is None:
        refuse("required", _("Give the date this version takes effect."), "effective_from")
    elif card.effective_until is not None and card.effective_until < card.effective_from:
        refuse(
            "ends_before_start",
            _("The last day cannot be before the first (%(day)s).")
            % {"day": date_format(card.effective_from)},
            "effective_until",
        )
    if card.base not in IncentiveBase.values:
        refuse("unknown_base", _("Choose an incentive base."), "base")
    if card.rate is None:
        refuse("required", _("Give the rate."), "rate")
    elif card.rate < 0:
        refuse("negative_rate", _("The rate cannot be negative."), "rate")
    if card.currency not in CURRENCIES:
        refuse(
            "unknown_currency",
            _("Unknown currency “%(code)s”: use one of %(known)s.")
            % {"code": card.currency, "known": ", ".join(sorted(CURRENCIES))},
            "currency",
        )
    channels = card.eligible_channels or []
    unknown = sorted(set(channels) - set(PurchaseChannel.values))
    if not isinstance(channels, list) or unknown:
        refuse(
            "unknown_channel",
            _("Unknown purchase channel: %(codes)s.") % {"codes": ", ".join(map(str, unknown))},
            "eligible_channels",
        )
    if card.cap is not None:
        if card.cap < 0:
            refuse("negative_cap", _("The cap cannot be negative."), "cap")
        elif card.rate is not None and card.rate >= 0 and card.cap < _threshold_amount(card):
            refuse(
                "cap_below_threshold",
                _(
                    "The cap (%(cap)s) is below what the threshold itself earns in a month "
                    "(%(least)s): every qualifying association would be capped."
                )
                % {"cap": card.cap, "least": _threshold_amount(card)},
                "cap",
            )
    if not errors and engagement is not None:
        other = _overlapping(card)
        if other is not None:
            refuse(
                "overlapping_dates",
                _("These dates overlap the version in force from %(start)s to %(end)s.")
                % {
                    "start": date_format(other.effective_from),
                    "end": date_format(other.effective_until) if other.effective_until else "…",
                },
                "effective_from",
            )
    if errors:
        raise ValidationFailed(errors)


def rate_card_save(*, actor: User, card: RateCard | None, values: dict) -> RateCard:
    """Create a version or change one. A version that starts after the open-ended one
    succeeds it: that one is closed the day before, in the same transaction."""
    require_program_admin(actor)
    card = card or RateCard()
    for name in FIELDS:
        if name in values:
            setattr(card, name, values[name])
    card.currency = (card.currency or "").upper()
    card.eligible_channels = sorted(set(card.eligible_channels or []))
    with transaction.atomic():
        if card.engagement_id:
            # One writer per engagement at a time: the overlap check reads what it locks.
            Engagement.objects.select_for_update().filter(pk=card.engagement_id).first()
        rate_card_validate(card)
        RateCard.objects.filter(
            engagement_id=card.engagement_id,
            effective_until__isnull=True,
            effective_from__lt=card.effective_from,
        ).exclude(pk=card.pk).update(
            effective_until=card.effective_from - datetime.timedelta(days=1),
            updated_by=actor,
            updated_at=timezone.now(),
        )
        card.updated_by = actor
        card.updated_at = timezone.now()
        card.save()
    return card


def rate_card_delete(*, actor: User, card: RateCard) -> None:
    """Remove a version (estimates are recomputed on read, so nothing else changes)."""
    require_program_admin(actor)
    with transaction.atomic():
        RateCard.objects.filter(pk=card.pk).delete()
