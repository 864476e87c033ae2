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

    class Meta:
        ordering = ("organisation__name", "name")
        verbose_name = _("partner location")
        verbose_name_plural = _("partner locations")

    def __str__(self) -> str:
        return f"{self.partner_id} · {self.name}"


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
