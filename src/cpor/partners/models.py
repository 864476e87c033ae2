from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

partner_id_validator = RegexValidator(r"^[0-9]{4,12}$", _("A PartnerID is 4 to 12 digits."))


class PartnerRoleName(models.TextChoices):
    """A partner user's one role (SPEC §2)."""

    PARTNER_ADMIN = "partner_admin", _("Partner admin")
    INCENTIVES_ADMIN = "incentives_admin", _("Incentives administrator")
    INCENTIVES_USER = "incentives_user", _("Incentives user (read only)")


class LocationVerification(models.TextChoices):
    """A PartnerID a partner admin adds is claimed with only once the program verified it."""

    PENDING = "pending", _("Awaiting verification")
    VERIFIED = "verified", _("Verified")
    REFUSED = "refused", _("Refused")


class PartnerOrganisation(models.Model):
    """A consulting or reseller company taking part in the program."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")

    def __str__(self) -> str:
        return self.name


class PartnerLocation(models.Model):
    """A location of a partner organisation, identified by its PartnerID."""

    organisation = models.ForeignKey(
        PartnerOrganisation,
        models.CASCADE,
        related_name="locations",
        verbose_name=_("organisation"),
    )
    partner_id = models.CharField(
        _("PartnerID"), max_length=12, unique=True, validators=[partner_id_validator]
    )
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Locations the program adds (onboarding) are verified; a partner admin's are pending.
    verification = models.CharField(
        _("verification"),
        max_length=10,
        choices=LocationVerification.choices,
        default=LocationVerification.VERIFIED,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    requested_at = models.DateTimeField(_("added"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified or refused by"),
    )
    decided_at = models.DateTimeField(_("verified or refused"), null=True, blank=True)
    decision_note = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        ordering = ("organisation__name", "name")
        verbose_name = _("partner location")
        verbose_name_plural = _("partner locations")

    def __str__(self) -> str:
        return f"{self.partner_id} · {self.name}"

    @property
    def is_verified(self) -> bool:
        return self.verification == LocationVerification.VERIFIED


class Membership(models.Model):
    """A user's place in a partner organisation: one organisation, one role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="partner_membership"
    )
    organisation = models.ForeignKey(
        PartnerOrganisation,
        models.CASCADE,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=30, choices=PartnerRoleName.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} · {self.get_role_display()}"

    @property
    def can_manage_claims(self) -> bool:
        return self.role in (PartnerRoleName.PARTNER_ADMIN, PartnerRoleName.INCENTIVES_ADMIN)
