from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class OperatorRole(models.TextChoices):
    """Roles held by the program operator's own staff (SPEC §2)."""

    NONE = "", _("None")
    REVIEWER = "reviewer", _("Reviewer")
    PROGRAM_ADMIN = "program_admin", _("Program admin")


class CporUserManager(UserManager):
    def get_by_natural_key(self, username: str) -> "User":
        # Sign-in is by e-mail, whatever its case.
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser):
    """A person who signs in. Partner users get their role from a partner membership,
    operator staff from ``operator_role``, customer admins from a tenant link."""

    email = models.EmailField(_("e-mail address"), unique=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        help_text=_("Empty: follow the browser."),
        choices=[("en", "English"), ("pt-pt", "Português (Portugal)")],
    )
    operator_role = models.CharField(
        _("operator role"), max_length=20, blank=True, choices=OperatorRole.choices
    )

    objects = CporUserManager()

    @property
    def is_reviewer(self) -> bool:
        return self.operator_role == OperatorRole.REVIEWER

    @property
    def is_program_admin(self) -> bool:
        return self.operator_role == OperatorRole.PROGRAM_ADMIN

    @property
    def is_operator(self) -> bool:
        return bool(self.operator_role)


class OrganisationSignOn(models.Model):
    """How a partner organisation's people sign in through their own identity provider.

    Its tenants and e-mail domains say which single sign-on identities belong to the
    organisation; ``invite_only`` refuses people it has not invited, and ``sso_required``
    refuses its members every other way of signing in."""

    organisation = models.OneToOneField(
        "partners.PartnerOrganisation",
        models.CASCADE,
        related_name="sign_on",
        verbose_name=_("organisation"),
    )
    invite_only = models.BooleanField(
        _("invite only"),
        default=True,
        help_text=_("Refuse people the organisation has not invited, instead of adding them."),
    )
    sso_required = models.BooleanField(
        _("single sign-on required"),
        default=False,
        help_text=_("Refuse password and passkey sign-in to the organisation's users."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        "accounts.User", models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("organisation single sign-on")
        verbose_name_plural = _("organisation single sign-on")

    def __str__(self) -> str:
        return str(self.organisation)


class SignOnTenant(models.Model):
    """An identity provider tenant (Entra ID directory ID, the ``tid`` claim) whose
    people belong to one organisation."""

    sign_on = models.ForeignKey(OrganisationSignOn, models.CASCADE, related_name="tenants")
    tenant_id = models.UUIDField(_("tenant ID"), unique=True)

    class Meta:
        ordering = ("tenant_id",)
        verbose_name = _("single sign-on tenant")
        verbose_name_plural = _("single sign-on tenants")

    def __str__(self) -> str:
        return str(self.tenant_id)


class SignOnDomain(models.Model):
    """An e-mail domain whose people, signing in through single sign-on, belong to one
    organisation (for identity providers that send no tenant)."""

    sign_on = models.ForeignKey(OrganisationSignOn, models.CASCADE, related_name="domains")
    domain = models.CharField(_("e-mail domain"), max_length=253, unique=True)

    class Meta:
        ordering = ("domain",)
        verbose_name = _("single sign-on e-mail domain")
        verbose_name_plural = _("single sign-on e-mail domains")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(domain=Lower("domain")),
                name="sign_on_domain_lowercase",
            )
        ]

    def __str__(self) -> str:
        return self.domain
