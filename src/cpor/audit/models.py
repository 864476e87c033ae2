"""The audit trail: one append-only row per change to an organisation's people, locations,
tokens, webhooks and customer relationships, per program decision, per suspicious
tenant look-up (an enumeration attempt), per sign-in, failed sign-in and sign-out, and
per change made in the Django admin (``cpor.audit.recording``)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cpor.errors import DomainError
from cpor.partners.models import PartnerOrganisation


class AuditAction(models.TextChoices):
    MEMBER_INVITED = "member_invited", _("User invited")
    MEMBER_ROLE_CHANGED = "member_role_changed", _("Role changed")
    MEMBER_DEACTIVATED = "member_deactivated", _("User deactivated")
    MEMBER_REACTIVATED = "member_reactivated", _("User reactivated")
    LOCATION_REQUESTED = "location_requested", _("PartnerID added, awaiting verification")
    LOCATION_VERIFIED = "location_verified", _("PartnerID verified")
    LOCATION_REFUSED = "location_refused", _("PartnerID refused")
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    WEBHOOK_CREATED = "webhook_created", _("Webhook endpoint added")
    WEBHOOK_DELETED = "webhook_deleted", _("Webhook endpoint removed")
    INVITATION_CREATED = "invitation_created", _("Customer invitation created")
    RELATIONSHIP_ACCEPTED = "relationship_accepted", _("Customer invitation accepted")
    RELATIONSHIP_REVOKED = "relationship_revoked", _("Customer relationship revoked")
    INVITATION_REFUSED = "invitation_refused", _("Customer invitation refused")
    TENANT_LOOKUP_UNKNOWN = "tenant_lookup_unknown", _("Look-up of an unknown tenant")
    TENANT_LOOKUP_LIMITED = "tenant_lookup_limited", _("Tenant look-up over the limit")
    AUDIT_EXPORTED = "audit_exported", _("Audit trail exported")
    HISTORY_EXPORTED = "history_exported", _("Claim histories exported")
    SIGNED_IN = "signed_in", _("Signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
    SIGN_IN_THROTTLED = "sign_in_throttled", _("Sign-in refused by the rate limit")
    SECOND_FACTOR_FAILED = "second_factor_failed", _("Wrong second-factor code")
    SIGNED_OUT = "signed_out", _("Signed out")
    ADMIN_ADDED = "admin_added", _("Added in the admin")
    ADMIN_CHANGED = "admin_changed", _("Changed in the admin")
    ADMIN_DELETED = "admin_deleted", _("Deleted in the admin")
    SSO_LINKS_CHANGED = "sso_links_changed", _("Single sign-on links changed")
    SSO_USER_PROVISIONED = "sso_user_provisioned", _("User added by single sign-on")
    SSO_SIGN_IN_REFUSED = "sso_sign_in_refused", _("Single sign-on refused")
    CONTACT_ERASED = "contact_erased", _("Contact data erased")


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise DomainError("audit_append_only", _("The audit trail cannot be changed."))

    def delete(self):
        raise DomainError("audit_append_only", _("The audit trail cannot be changed."))


class AuditEntry(models.Model):
    """Who did what, when, to what, in which organisation: before and after.

    Rows are only ever inserted: ``save`` of an existing row, ``delete`` and bulk updates
    are refused here, and database triggers refuse them behind the application's back
    (migration 0002)."""

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # The row outlives the user; the e-mail below keeps who it was. Not SET_NULL: that
        # is an UPDATE, which the append-only trigger refuses, so no user who ever signed
        # in could be deleted.
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
        db_constraint=False,
    )
    actor_email = models.CharField(_("who (e-mail)"), max_length=254, blank=True)
    organisation = models.ForeignKey(
        PartnerOrganisation,
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
        db_constraint=False,
    )
    action = models.CharField(_("what"), max_length=40, choices=AuditAction.choices)
    target_type = models.CharField(_("object type"), max_length=40, blank=True)
    target_id = models.CharField(_("object"), max_length=64, blank=True)
    target_label = models.CharField(_("object name"), max_length=300, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    # Where the request came from (sign-ins, admin actions), as the sign-in rate limits
    # see it (allauth's client IP, behind the trusted proxies).
    ip = models.GenericIPAddressField(_("source IP"), null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ("-at", "-id")
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["organisation", "-id"], name="audit_by_organisation"),
            models.Index(fields=["action", "-id"], name="audit_by_action"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email} {self.action} {self.target_label}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise DomainError("audit_append_only", _("The audit trail cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DomainError("audit_append_only", _("The audit trail cannot be changed."))
