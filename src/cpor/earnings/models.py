"""Rate cards: what an engagement pays per association and month, versioned by the
date each version takes effect. Estimates are computed from them on read
(``accrual.py``, ``selectors.py``); nothing here is a payment."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cpor.catalog.models import Engagement


class IncentiveBase(models.TextChoices):
    MAU_GROWTH = "mau_growth", _("Growth of monthly active users over the starting high-water mark")
    PAU = "pau", _("Paid available units (PAU)")
    FLAT = "flat", _("Flat amount per activated workload or subscription")


class RateCard(models.Model):
    """One version of an engagement's rates, in force from ``effective_from`` up to and
    including ``effective_until`` (open-ended when empty). Versions of one engagement
    never overlap (``services.rate_card_save``); adding a later version closes the
    open-ended one the day before it starts."""

    engagement = models.ForeignKey(
        Engagement, models.PROTECT, related_name="rate_cards", verbose_name=_("engagement")
    )
    effective_from = models.DateField(_("effective from"))
    effective_until = models.DateField(
        _("effective until"),
        null=True,
        blank=True,
        help_text=_("Last day this version applies; empty keeps it in force."),
    )
    base = models.CharField(_("incentive base"), max_length=20, choices=IncentiveBase.choices)
    rate = models.DecimalField(
        _("rate per unit"),
        max_digits=12,
        decimal_places=4,
        help_text=_("Per unit of the base and month; for the flat base, the amount per month."),
    )
    currency = models.CharField(_("currency"), max_length=3)
    min_paid_units = models.PositiveIntegerField(
        _("minimum paid units"),
        default=0,
        help_text=_("Paid seats (PAU or licensed units) an association needs in a month to earn."),
    )
    min_growth = models.PositiveIntegerField(
        _("minimum growth"),
        default=0,
        help_text=_("For the growth base: active users over the high-water mark needed to earn."),
    )
    cap = models.DecimalField(
        _("cap per association and month"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty for no cap."),
    )
    eligible_channels = models.JSONField(
        _("eligible purchase channels"),
        default=list,
        blank=True,
        help_text=_("Empty pays whatever the channel."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now)

    class Meta:
        ordering = ("engagement__name", "effective_from")
        verbose_name = _("rate card")
        verbose_name_plural = _("rate cards")
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "effective_from"], name="rate_card_one_version_per_day"
            ),
            models.CheckConstraint(condition=Q(rate__gte=0), name="rate_card_rate_not_negative"),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(cap__gte=0), name="rate_card_cap_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gte=models.F("effective_from")),
                name="rate_card_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engagement} · {self.version_label}"

    @property
    def version_label(self) -> str:
        return f"{self.effective_from:%Y-%m-%d}"

    def applies_on(self, day) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day <= self.effective_until
        )
