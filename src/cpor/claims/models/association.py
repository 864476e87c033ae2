"""Associations: partner P is partner of record for a unit, held by at most one partner.

Most come from approved claim lines; legacy ones were imported from the associations
that existed before CPOR (``LegacyImport``) and last until their subscription ends.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cpor.catalog.models import Product
from cpor.claims.models.claim import Claim, ClaimLine
from cpor.customers.models import Subscription, Tenant
from cpor.partners.models import PartnerOrganisation


class AssociationStatus(models.TextChoices):
    PENDING_CUSTOMER = "pending_customer", _("Pending customer")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


HELD_STATUSES = (AssociationStatus.PENDING_CUSTOMER, AssociationStatus.ACTIVE)


class EndReason(models.TextChoices):
    DECLINED_BY_CUSTOMER = "declined_by_customer", _("Declined by the customer")
    SUPERSEDED = "superseded", _("Superseded by another partner")
    WITHDRAWN = "withdrawn", _("Withdrawn by the partner")
    EXPIRED = "expired", _("Subscription ended")
    REVOKED = "revoked", _("Revoked by the program")
    # A legacy association replaced by the same partner's approved claim for its unit.
    REASSOCIATED = "reassociated", _("Re-associated through a claim")


class LegacyImport(models.Model):
    """One upload of associations that existed before CPOR (e.g. Dynamics 365 partner
    admin links), imported all or nothing by a program admin."""

    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    rows = models.PositiveIntegerField(_("rows"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("imported by")
    )
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)

    class Meta:
        ordering = ("-imported_at", "-id")
        verbose_name = _("legacy import")
        verbose_name_plural = _("legacy imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"


class Association(models.Model):
    """Partner P is partner of record for unit U (a tenant's workload, or a subscription)."""

    claim = models.ForeignKey(Claim, models.PROTECT, related_name="associations")
    line = models.OneToOneField(ClaimLine, models.PROTECT, related_name="association")
    organisation = models.ForeignKey(
        PartnerOrganisation, models.PROTECT, related_name="associations"
    )
    tenant = models.ForeignKey(Tenant, models.PROTECT, related_name="associations")
    product = models.ForeignKey(Product, models.PROTECT, related_name="+")
    # Set for subscription units; moves to the renewal when a subscription is renewed.
    subscription = models.ForeignKey(
        Subscription, models.PROTECT, null=True, blank=True, related_name="associations"
    )
    status = models.CharField(_("status"), max_length=20, choices=AssociationStatus.choices)
    end_reason = models.CharField(
        _("end reason"), max_length=30, choices=EndReason.choices, blank=True
    )
    end_message = models.TextField(_("end message"), blank=True)
    superseded_by = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"))
    notice_ends_at = models.DateTimeField(_("customer notice ends"))
    activated_at = models.DateTimeField(_("official since"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # Legacy: made before CPOR and imported as active; holds its subscription until the
    # subscription ends (never carried over to a renewal), then the partner claims again.
    legacy = models.BooleanField(_("legacy"), default=False, db_default=False)
    legacy_source = models.CharField(_("legacy source"), max_length=100, blank=True)
    legacy_since = models.DateField(_("associated before CPOR on"), null=True, blank=True)
    legacy_import = models.ForeignKey(
        LegacyImport, models.PROTECT, null=True, blank=True, related_name="associations"
    )
    reassociation_warned_at = models.DateTimeField(
        _("re-association notice sent"), null=True, blank=True
    )

    class Meta:
        ordering = ("-approved_at", "-id")
        verbose_name = _("association")
        verbose_name_plural = _("associations")
        constraints = [
            # The invariant: at most one held association per unit, whatever the partner.
            models.UniqueConstraint(
                fields=["tenant", "product"],
                condition=Q(subscription__isnull=True, status__in=HELD_STATUSES),
                name="one_holder_per_workload",
            ),
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(subscription__isnull=False, status__in=HELD_STATUSES),
                name="one_holder_per_subscription",
            ),
            models.CheckConstraint(
                condition=(Q(status=AssociationStatus.ENDED) & ~Q(end_reason=""))
                | (~Q(status=AssociationStatus.ENDED) & Q(end_reason="")),
                name="association_ended_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(legacy=False)
                | (
                    Q(subscription__isnull=False, legacy_since__isnull=False) & ~Q(legacy_source="")
                ),
                name="association_legacy_has_origin",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status"]),
            models.Index(fields=["status", "notice_ends_at"]),
            # The expiry job's re-association notice: held legacy associations not yet told.
            models.Index(
                fields=["subscription"],
                condition=Q(
                    legacy=True, reassociation_warned_at__isnull=True, status__in=HELD_STATUSES
                ),
                name="association_legacy_unwarned",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.unit_label}"

    @property
    def display_end_message(self) -> str:
        """The end message in the reader's language if the system wrote it."""
        from cpor.claims.history_text import history_message

        return history_message(self.end_message)

    @property
    def unit_label(self) -> str:
        if self.subscription_id:
            return f"{self.product} · {self.subscription.subscription_id}"
        return f"{self.product} · {self.tenant.name}"

    @property
    def is_held(self) -> bool:
        return self.status in HELD_STATUSES
