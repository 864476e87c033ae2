from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
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
