"""Who speaks for a customer: signed-in customer admins, and the decline links e-mailed
to a tenant's contacts."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cpor.claims.models import Claim
from cpor.customers.models import Tenant


class CustomerAdmin(models.Model):
    """A user who administers a customer tenant: sees and declines its associations."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="customer_admin"
    )
    tenant = models.ForeignKey(
        Tenant, models.CASCADE, related_name="customer_admins", verbose_name=_("tenant")
    )

    class Meta:
        verbose_name = _("customer admin")
        verbose_name_plural = _("customer admins")

    def __str__(self) -> str:
        return f"{self.user} · {self.tenant.name}"


class DeclineLink(models.Model):
    """A single-purpose link to decline one claim's units, sent to one customer address.

    The URL carries only a signed random nonce (no identifiers); the row says what it
    opens and until when."""

    nonce = models.CharField(max_length=64, unique=True)
    claim = models.ForeignKey(Claim, models.CASCADE, related_name="decline_links")
    email = models.EmailField(_("sent to"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("decline link")
        verbose_name_plural = _("decline links")

    def __str__(self) -> str:
        return f"{self.claim} → {self.email}"
