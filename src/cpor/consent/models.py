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


class ContactErasure(models.Model):
    """The record of one erasure of a person's contact data (``manage.py erase_contact``).

    Keeps no trace of the address itself: ``reference`` is an HMAC-SHA256 of it under
    the history key, so the program can answer "was this address erased?" by computing
    it again, while someone reading the database cannot recover or guess it without the
    key. ``pseudonym`` is what now stands in its place."""

    reference = models.CharField(_("reference"), max_length=64, db_index=True)
    pseudonym = models.CharField(_("pseudonym"), max_length=254)
    requested_by = models.CharField(_("requested by"), max_length=200)
    erased_at = models.DateTimeField(_("erased"), default=timezone.now)
    counts = models.JSONField(_("rows changed"), default=dict)

    class Meta:
        ordering = ("-erased_at", "-id")
        verbose_name = _("contact erasure")
        verbose_name_plural = _("contact erasures")

    def __str__(self) -> str:
        return f"{self.reference[:12]}… · {self.erased_at:%Y-%m-%d %H:%M}"


class EventRedaction(models.Model):
    """A history event changed by an erasure: its content hash before and after, signed
    under the history key, so that ``verify_history`` accepts the change and nothing else
    (``claims/integrity/redaction.py``). No foreign key to the event: a draft's events
    may be deleted with it, and the chain outlives them."""

    erasure = models.ForeignKey(ContactErasure, models.PROTECT, related_name="redactions")
    event_id = models.BigIntegerField(_("history event"), db_index=True)
    from_hash = models.CharField(max_length=64)
    to_hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=100)

    class Meta:
        ordering = ("id",)
        verbose_name = _("event redaction")
        verbose_name_plural = _("event redactions")

    def __str__(self) -> str:
        return f"event {self.event_id}"
