import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from cpor.catalog.models import Product, PurchaseChannel


class Tenant(models.Model):
    """A customer's directory, identified by its tenant (directory) ID."""

    tenant_id = models.UUIDField(_("tenant ID"), unique=True)
    name = models.CharField(_("customer name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant_id})"


class TenantDomain(models.Model):
    """A DNS domain of the tenant; only verified domains count for customer contacts."""

    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="domains")
    domain = models.CharField(_("domain"), max_length=253, unique=True)
    verified = models.BooleanField(_("verified"), default=False)

    class Meta:
        ordering = ("domain",)
        verbose_name = _("tenant domain")
        verbose_name_plural = _("tenant domains")

    def __str__(self) -> str:
        return self.domain

    def save(self, *args, **kwargs) -> None:
        self.domain = self.domain.strip().lower()
        super().save(*args, **kwargs)


class TenantAdminContact(models.Model):
    """A customer administrator who is told of association requests."""

    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="admin_contacts")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    language = models.CharField(_("language"), max_length=10, default="en")

    class Meta:
        ordering = ("name",)
        verbose_name = _("admin contact")
        verbose_name_plural = _("admin contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "email"], name="admin_contact_once_per_tenant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Subscription(models.Model):
    """A customer's subscription to a product, bought through one purchase channel."""

    subscription_id = models.UUIDField(_("subscription ID"), unique=True)
    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="subscriptions")
    product = models.ForeignKey(Product, models.PROTECT, related_name="subscriptions")
    purchase_channel = models.CharField(
        _("purchase channel"), max_length=30, choices=PurchaseChannel.choices
    )
    seats = models.PositiveIntegerField(_("seats"), default=0)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    predecessor = models.OneToOneField(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="renewal",
        verbose_name=_("renews subscription"),
    )

    class Meta:
        ordering = ("tenant__name", "product__name")
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="subscription_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product} · {self.subscription_id}"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.starts_on <= day <= self.ends_on


class PartnerInvitation(models.Model):
    """A customer admin's invitation to a partner, like Microsoft 365's partner
    relationship request: a signed code (or link) the customer hands to the partner.

    The partner's admin accepts it once; from then on the organisation has a relationship
    with the tenant (it sees the tenant's name and subscriptions in the claim wizard) until
    the customer revokes it. An invitation nobody accepted expires."""

    nonce = models.CharField(max_length=64, unique=True)
    tenant = models.ForeignKey(
        Tenant, models.CASCADE, related_name="partner_invitations", verbose_name=_("tenant")
    )
    created_by = models.ForeignKey(
        "accounts.User", models.SET_NULL, null=True, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    note = models.CharField(_("for"), max_length=200, blank=True)
    organisation = models.ForeignKey(
        "partners.PartnerOrganisation",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="customer_invitations",
        verbose_name=_("accepted by partner"),
    )
    accepted_by = models.ForeignKey(
        "accounts.User", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        "accounts.User", models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("partner invitation")
        verbose_name_plural = _("partner invitations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(organisation__isnull=False),
                name="accepted_invitation_names_partner",
            )
        ]
        indexes = [models.Index(fields=["organisation", "tenant"], name="invitation_by_partner")]

    def __str__(self) -> str:
        return f"{self.tenant.name} → {self.organisation or '…'}"

    @property
    def state(self) -> str:
        from django.utils import timezone

        if self.revoked_at:
            return "revoked"
        if self.accepted_at:
            return "accepted"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
