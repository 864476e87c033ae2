"""Claims, their lines and proofs.

A submitted claim's recorded fields never change: ``ClaimQuerySet.update`` and
``Claim.save`` refuse it with a clear error, and triggers (migration 0002) refuse it for
any other path.
"""

from collections.abc import Sequence

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cpor import rowwrite
from cpor.catalog.models import PartnerRole, Product
from cpor.customers.models import Subscription, Tenant
from cpor.errors import DomainError
from cpor.partners.models import PartnerLocation, PartnerOrganisation


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    ACTION_REQUIRED = "action_required", _("Action required")
    APPROVED = "approved", _("Approved")
    PARTIALLY_APPROVED = "partially_approved", _("Partially approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DECLINED = "declined", _("Declined by customer")
    EXPIRED = "expired", _("Expired")
    DISPUTED = "disputed", _("Disputed")


# A reviewer may decide a claim in these states.
AWAITING_DECISION = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.IN_REVIEW, ClaimStatus.DISPUTED})
# Submitted and not yet decided: the partner may withdraw, the customer may decline lines.
OPEN_STATUSES = AWAITING_DECISION | {ClaimStatus.ACTION_REQUIRED}

# Recorded fields frozen once a claim leaves draft. The last group may still change in
# action_required, where the reviewer asked the partner to correct them.
FROZEN_FIELDS = (
    "organisation",
    "role",
    "tenant",
    "name",
    "incentive_opt_out",
    "seller_name",
    "customer_name",
    "isv_solution_name",
    "created_by",
    "created_at",
)
ACTION_REQUIRED_EDITABLE = (
    "location",
    "customer_contact_name",
    "customer_contact_title",
    "customer_contact_email",
    "partner_contact_name",
    "partner_contact_email",
)


class ClaimQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """Refuse bulk updates that would rewrite a submitted claim's recorded fields."""
        changed = {name.removesuffix("_id") for name in kwargs}
        if changed & set(FROZEN_FIELDS) and self.exclude(status=ClaimStatus.DRAFT).exists():
            raise claim_frozen_error()
        correctable = [ClaimStatus.DRAFT, ClaimStatus.ACTION_REQUIRED]
        if (
            changed & set(ACTION_REQUIRED_EDITABLE)
            and self.exclude(status__in=correctable).exists()
        ):
            raise claim_frozen_error()
        return super().update(**kwargs)


def claim_frozen_error() -> DomainError:
    return DomainError(
        "claim_frozen",
        _("A submitted claim cannot be edited."),
        field="status",
    )


class Claim(models.Model):
    """A partner's request to be partner of record for one or more units of one tenant."""

    organisation = models.ForeignKey(
        PartnerOrganisation, models.PROTECT, related_name="claims", verbose_name=_("partner")
    )
    location = models.ForeignKey(
        PartnerLocation, models.PROTECT, related_name="claims", verbose_name=_("PartnerID")
    )
    role = models.ForeignKey(
        PartnerRole, models.PROTECT, related_name="claims", verbose_name=_("partner role")
    )
    tenant = models.ForeignKey(
        Tenant, models.PROTECT, related_name="claims", verbose_name=_("customer tenant")
    )
    name = models.CharField(_("claim name"), max_length=200)
    incentive_opt_out = models.BooleanField(_("opt out of incentive payments"), default=False)
    customer_contact_name = models.CharField(_("customer contact name"), max_length=200)
    customer_contact_title = models.CharField(_("customer contact title"), max_length=200)
    customer_contact_email = models.EmailField(_("customer contact e-mail"))
    partner_contact_name = models.CharField(_("partner contact name"), max_length=200)
    partner_contact_email = models.EmailField(_("partner contact e-mail"))
    # Revenue-only claims (Influenced revenue recognition) also name these.
    seller_name = models.CharField(_("Dynamics solution seller name"), max_length=200, blank=True)
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True)
    isv_solution_name = models.CharField(
        _("ISV product or solution name"), max_length=200, blank=True
    )
    comments = models.TextField(_("comments"), blank=True)

    status = models.CharField(
        _("status"), max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    assigned_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_claims",
        verbose_name=_("reviewer"),
        db_index=False,  # claim_reviewer_status leads with it
    )
    info_requested_until = models.DateTimeField(_("answer due by"), null=True, blank=True)
    draft_warned_at = models.DateTimeField(_("expiry warning sent"), null=True, blank=True)
    # What the review queue filters on, so that no filter re-runs the checks for every
    # pending claim: stored when the checks run (submission, reply, dispute) and kept
    # fresh when a unit's holder changes (``claims.check_flags``). The two days are the
    # inputs of the time-bound checks, compared with today and the engagement's PoE age
    # limit when the queue is read, so they stay true as time passes.
    has_conflict = models.BooleanField(
        _("another partner holds a unit"), default=False, db_default=False
    )
    poe_signed_on = models.DateField(_("newest PoE signed on"), null=True, blank=True)
    units_end_on = models.DateField(_("first subscription end"), null=True, blank=True)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        indexes = [
            models.Index(fields=["organisation", "status", "-created_at"]),
            models.Index(fields=["status", "submitted_at"]),
            models.Index(fields=["tenant", "status"]),
            # The partner's list, newest first or by name: an index scan of one page
            # instead of a sort of every claim of the organisation (bench_claim_list.py).
            models.Index(fields=["organisation", "-created_at", "-id"], name="claim_org_newest"),
            models.Index(fields=["organisation", "name", "id"], name="claim_org_name"),
            # The review queue, oldest submission first; partial, so decided claims
            # cost it nothing (bench_review.py).
            models.Index(
                fields=["submitted_at", "id"],
                condition=Q(status__in=["submitted", "in_review", "disputed"]),
                name="claim_awaiting_oldest",
            ),
            # "Assigned to me" and each reviewer's open load: the claims awaiting a
            # decision with their reviewer, oldest first (the plain reviewer index also
            # holds every claim the reviewer ever decided).
            models.Index(
                fields=["assigned_reviewer", "submitted_at", "id"],
                condition=Q(status__in=["submitted", "in_review", "disputed", "action_required"]),
                name="claim_open_by_reviewer",
            ),
            # A reviewer's claims by status (the "assigned to me" badge): a reviewer who
            # decided most of a million claims holds few awaiting one, which an index on
            # the reviewer alone finds by reading all the others (250 ms instead of 1.5).
            models.Index(fields=["assigned_reviewer", "status"], name="claim_reviewer_status"),
            # The queue's "conflicts only" and "failed checks only" filters (stored flags).
            models.Index(
                fields=["submitted_at", "id"],
                condition=Q(status__in=["submitted", "in_review", "disputed"], has_conflict=True),
                name="claim_awaiting_conflict",
            ),
            models.Index(
                fields=["poe_signed_on"],
                condition=Q(status__in=["submitted", "in_review", "disputed"]),
                name="claim_awaiting_poe",
            ),
            models.Index(
                fields=["units_end_on"],
                condition=Q(status__in=["submitted", "in_review", "disputed"]),
                name="claim_awaiting_units_end",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored = dict(zip(field_names, values, strict=True))
        return instance

    def save(self, *args, **kwargs) -> None:
        self._refuse_frozen_changes()
        super().save(*args, **kwargs)
        self._remember_stored()

    def save_fields(self, fields: Sequence[str]) -> None:
        """``save(update_fields=fields)`` by a statement built once (``cpor.rowwrite``),
        under the same refusal of frozen changes: what every transition writes."""
        self._refuse_frozen_changes()
        rowwrite.update(self, fields)
        self._remember_stored()

    def save_new(self) -> None:
        """``save()`` of a new claim by a statement built once (``cpor.rowwrite``)."""
        rowwrite.insert(self)
        self._remember_stored()

    def _remember_stored(self) -> None:
        self._stored = {f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields}

    def _refuse_frozen_changes(self) -> None:
        stored = getattr(self, "_stored", None)
        if stored is None:
            return
        stored_status = stored.get("status")
        if stored_status == ClaimStatus.DRAFT:
            return
        guarded = list(FROZEN_FIELDS)
        if stored_status != ClaimStatus.ACTION_REQUIRED:
            guarded += ACTION_REQUIRED_EDITABLE
        for name in guarded:
            attname = self._meta.get_field(name).attname
            if attname in stored and stored[attname] != getattr(self, attname):
                raise claim_frozen_error()

    @property
    def engagement(self):
        return self.role.engagement


class LineStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not approved")
    DECLINED = "declined", _("Declined by customer")


class ClaimLine(models.Model):
    """One unit a claim asks for: a workload of the tenant, or one subscription."""

    claim = models.ForeignKey(Claim, models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, models.PROTECT, related_name="+", verbose_name=_("product")
    )
    subscription = models.ForeignKey(
        Subscription,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="claim_lines",
        verbose_name=_("subscription"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=LineStatus.choices, default=LineStatus.PENDING
    )

    class Meta:
        ordering = ("id",)
        verbose_name = _("claim line")
        verbose_name_plural = _("claim lines")
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "product"],
                condition=Q(subscription__isnull=True),
                name="claim_line_workload_once",
            ),
            models.UniqueConstraint(
                fields=["claim", "subscription"], name="claim_line_subscription_once"
            ),
        ]

    def __str__(self) -> str:
        if self.subscription_id:
            return f"{self.product} · {self.subscription.subscription_id}"
        return str(self.product)


class PoEType(models.TextChoices):
    STATEMENT_OF_WORK = "statement_of_work", _("Statement of work signed by the customer")
    CUSTOMER_ACKNOWLEDGMENT = "customer_acknowledgment", _("Customer acknowledgment letter")
    PURCHASE_ORDER = "purchase_order", _("Purchase order")
    CPOR_TEMPLATE = "cpor_template", _("Completed CPOR PoE template")
    OTHER = "other", _("Other signed document")


class ProofOfExecution(models.Model):
    """A document proving the partner's work, signed and dated by the customer.

    Immutable once stored; a newer proof is a new row. The file lives in private
    storage and is served only through a permission-checked view.
    """

    claim = models.ForeignKey(Claim, models.CASCADE, related_name="proofs")
    file = models.FileField(_("file"), upload_to="poe/%Y/%m/", max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    poe_type = models.CharField(_("PoE type"), max_length=40, choices=PoEType.choices)
    signed_on = models.DateField(_("date signed by the customer"))
    signatory = models.CharField(_("customer signatory"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ("-signed_on", "-uploaded_at")
        verbose_name = _("proof of execution")
        verbose_name_plural = _("proofs of execution")

    def __str__(self) -> str:
        return f"{self.get_poe_type_display()} · {self.signed_on}"
