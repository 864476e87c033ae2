import copy

from asgiref.local import Local
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cpor.rowload import RowLoader

code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]*$", _("Use lower-case letters, digits, “-” and “_”.")
)


class ClaimUnit(models.TextChoices):
    """What one claim line, and so one association, is about."""

    WORKLOAD = "workload", _("Workload (tenant and workload)")
    SUBSCRIPTION = "subscription", _("Subscription")


class PurchaseChannel(models.TextChoices):
    VOLUME_LICENSING = "volume_licensing", _("Volume Licensing")
    WEB_DIRECT = "web_direct", _("Web Direct")
    CSP = "csp", _("Cloud Solution Provider (CSP)")


def in_reader_language(english: str, portuguese: str) -> str:
    """The Portuguese wording when the active language is Portuguese and one was entered.

    Catalog text lives in the database (program admins edit it), so gettext cannot
    translate it; each entry carries its own pt-PT wording instead. Codes stay the
    stable names of the API and the exports."""
    if portuguese and (get_language() or "").lower().startswith("pt"):
        return portuguese
    return english


class DisplayNamed(models.Model):
    """A catalog entry's name in English (``name``) and in Portuguese (``name_pt``);
    ``display_name`` (and ``str()``) is the one for the active language."""

    name_pt = models.CharField(
        _("name (Portuguese)"),
        max_length=160,
        blank=True,
        help_text=_("Shown to Portuguese readers; left empty, they read the name above."),
    )

    class Meta:
        abstract = True

    @property
    def display_name(self) -> str:
        return in_reader_language(self.name, self.name_pt)

    def __str__(self) -> str:
        return self.display_name


class SolutionArea(DisplayNamed):
    """Modern Work and Security, or Business Applications."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ("position", "name")
        verbose_name = _("solution area")
        verbose_name_plural = _("solution areas")


class Engagement(DisplayNamed):
    """An incentive engagement that accepts CPOR claims, with the rules claims under it follow."""

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=160)
    solution_area = models.ForeignKey(
        SolutionArea, models.PROTECT, related_name="engagements", verbose_name=_("solution area")
    )
    incentivized = models.BooleanField(_("pays incentives"), default=True)
    claim_unit = models.CharField(_("claim unit"), max_length=20, choices=ClaimUnit.choices)
    allowed_channels = models.JSONField(
        _("allowed purchase channels"),
        default=list,
        blank=True,
        help_text=_("Purchase channels a claimed subscription must come from; empty allows any."),
    )
    opt_out_allowed = models.BooleanField(_("incentive opt-out allowed"), default=False)
    requires_revenue_details = models.BooleanField(
        _("requires seller, customer and ISV names"), default=False
    )
    notice_period_days = models.PositiveSmallIntegerField(
        _("customer notice period (days)"),
        default=7,
        validators=[MaxValueValidator(365)],
        help_text=_("0 makes an approved association official at once."),
    )
    poe_max_age_days = models.PositiveSmallIntegerField(
        _("oldest accepted PoE (days)"),
        default=365,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("The customer's acknowledgment must be dated within this many days."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ("solution_area__position", "name")
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        unknown = set(self.allowed_channels or []) - set(PurchaseChannel.values)
        if unknown:
            raise ValidationError(
                {"allowed_channels": _("Unknown purchase channel: %s") % ", ".join(sorted(unknown))}
            )

    def allows_channel(self, channel: str) -> bool:
        return not self.allowed_channels or channel in self.allowed_channels


class PartnerRole(DisplayNamed):
    """The activity a partner performed; choosing one picks the engagement of the claim."""

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=160)
    solution_area = models.ForeignKey(
        SolutionArea, models.PROTECT, related_name="roles", verbose_name=_("solution area")
    )
    engagement = models.OneToOneField(
        Engagement, models.PROTECT, related_name="role", verbose_name=_("engagement")
    )
    help_text = models.TextField(_("when to choose it"))
    help_text_pt = models.TextField(_("when to choose it (Portuguese)"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ("solution_area__position", "position", "name")
        verbose_name = _("partner role")
        verbose_name_plural = _("partner roles")

    @property
    def display_help_text(self) -> str:
        return in_reader_language(self.help_text, self.help_text_pt)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.engagement_id and self.engagement.solution_area_id != self.solution_area_id:
            raise ValidationError(
                {"engagement": _("The engagement belongs to another solution area.")}
            )


class Product(DisplayNamed):
    """A workload (Modern Work and Security) or product (Business Applications)."""

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=160)
    solution_area = models.ForeignKey(
        SolutionArea, models.PROTECT, related_name="products", verbose_name=_("solution area")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ("solution_area__position", "name")
        verbose_name = _("workload or product")
        verbose_name_plural = _("workloads and products")


class OutOfScopeProgram(DisplayNamed):
    """A program whose claims do not belong here, with where to send them instead."""

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=160)
    message = models.TextField(_("redirect message"))
    message_pt = models.TextField(_("redirect message (Portuguese)"), blank=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("out-of-scope program")
        verbose_name_plural = _("out-of-scope programs")

    @property
    def display_message(self) -> str:
        return in_reader_language(self.message, self.message_pt)


class ProgramSettings(models.Model):
    """Program-wide settings: a single row (pk=1), edited by program admins."""

    poe_max_bytes = models.PositiveIntegerField(
        _("largest PoE file (bytes)"),
        default=10 * 1024 * 1024,
        validators=[MinValueValidator(1024), MaxValueValidator(100 * 1024 * 1024)],
    )
    draft_expiry_days = models.PositiveSmallIntegerField(
        _("days before an untouched draft expires"), default=90, validators=[MinValueValidator(1)]
    )
    info_request_business_days = models.PositiveSmallIntegerField(
        _("business days to answer a request for information"),
        default=5,
        validators=[MinValueValidator(1)],
    )
    pickup_target_business_days = models.PositiveSmallIntegerField(
        _("target to pick up a submitted claim (business days)"), default=5
    )
    decision_target_business_days = models.PositiveSmallIntegerField(
        _("target to decide a claim (business days)"), default=5
    )
    dispute_window_days = models.PositiveSmallIntegerField(
        _("days a rejection can be disputed"), default=30
    )

    class Meta:
        verbose_name = _("program settings")
        verbose_name_plural = _("program settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="program_settings_single_row")
        ]

    def __str__(self) -> str:
        return str(_("Program settings"))

    @classmethod
    def load(cls) -> "ProgramSettings":
        """The settings; read once per request (a filing over the API asks three times),
        and every time outside one (jobs, commands)."""
        memo = getattr(_per_request, "memo", None)
        if memo is None:
            return cls._read()
        if "settings" not in memo:
            memo["settings"] = cls._read()
        return copy.copy(memo["settings"])  # a form may change its copy without saving

    @classmethod
    def _read(cls) -> "ProgramSettings":
        # By a statement built once (cpor.rowload); the row is created on first use.
        return _SETTINGS.first("{row}.id = %s", [1]) or cls.objects.get_or_create(pk=1)[0]

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        memo = getattr(_per_request, "memo", None)
        if memo is not None:
            memo.pop("settings", None)


_SETTINGS = RowLoader(ProgramSettings)


# The per-request memo of ProgramSettings.load, per thread (and per task under ASGI):
# a dict from request_started to request_finished (CatalogConfig.ready), None otherwise.
_per_request = Local()


def program_settings_memo_open(**_signal_kwargs) -> None:
    _per_request.memo = {}


def program_settings_memo_close(**_signal_kwargs) -> None:
    _per_request.memo = None
