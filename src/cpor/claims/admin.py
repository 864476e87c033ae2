"""Claims, their history and associations, read-only.

Every change to these goes through a service that checks the transition and writes
the history event with it (SPEC §4); an admin form would do neither. So the admin
only shows them, to program admins and reviewers.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cpor.accounts.admin_site import OperatorReadOnly
from cpor.claims.models import Association, Claim, ClaimEvent, ClaimLine, ProofOfExecution

EVENT_FIELDS = (
    "at",
    "action",
    "from_status",
    "to_status",
    "reason_code",
    "message",
    "internal",
    "actor",
    "actor_label",
)


class ClaimLineInline(OperatorReadOnly, admin.TabularInline):
    model = ClaimLine
    fields = ("product", "subscription", "status")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClaimLine]:
        return super().get_queryset(request).select_related("product", "subscription")


class ProofOfExecutionInline(OperatorReadOnly, admin.StackedInline):
    # The file itself is served only through the permission-checked PoE view.
    model = ProofOfExecution
    fields = (
        ("original_name", "content_type", "size"),
        ("poe_type", "signed_on", "signatory"),
        "description",
        "sha256",
        ("uploaded_by", "uploaded_at"),
    )
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProofOfExecution]:
        return super().get_queryset(request).select_related("uploaded_by")


class ClaimEventInline(OperatorReadOnly, admin.TabularInline):
    model = ClaimEvent
    fk_name = "claim"
    fields = EVENT_FIELDS
    extra = 0
    ordering = ("at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClaimEvent]:
        return super().get_queryset(request).select_related("actor")


class AssociationEventInline(ClaimEventInline):
    fk_name = "association"


@admin.register(Claim)
class ClaimAdmin(OperatorReadOnly, admin.ModelAdmin):
    list_display = (
        "name",
        "status",
        "organisation",
        "partner_id",
        "role",
        "tenant",
        "created_at",
        "submitted_at",
    )
    list_filter = ("status", "role")
    list_select_related = ("organisation", "location", "role", "tenant")
    search_fields = ("name", "tenant__name", "tenant__tenant_id", "location__partner_id")
    show_full_result_count = False
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "status",
                    ("organisation", "location"),
                    "role",
                    "tenant",
                    "incentive_opt_out",
                )
            },
        ),
        (
            _("Contacts"),
            {
                "fields": (
                    ("customer_contact_name", "customer_contact_title", "customer_contact_email"),
                    ("partner_contact_name", "partner_contact_email"),
                )
            },
        ),
        (_("Revenue details"), {"fields": ("seller_name", "customer_name", "isv_solution_name")}),
        (
            _("Progress"),
            {
                "fields": (
                    ("created_by", "created_at", "updated_at"),
                    ("submitted_at", "decided_at"),
                    ("assigned_reviewer", "info_requested_until"),
                    "draft_warned_at",
                    "comments",
                )
            },
        ),
    )
    inlines = (ClaimLineInline, ProofOfExecutionInline, ClaimEventInline)

    @admin.display(description=_("PartnerID"), ordering="location__partner_id")
    def partner_id(self, claim: Claim) -> str:
        return claim.location.partner_id


@admin.register(Association)
class AssociationAdmin(OperatorReadOnly, admin.ModelAdmin):
    list_display = (
        "__str__",
        "status",
        "end_reason",
        "organisation",
        "tenant",
        "product",
        "subscription_ref",
        "approved_at",
        "notice_ends_at",
        "ended_at",
    )
    list_filter = ("status", "end_reason", "legacy", "claim__role")
    list_select_related = ("organisation", "tenant", "product", "subscription")
    search_fields = (
        "organisation__name",
        "tenant__name",
        "tenant__tenant_id",
        "subscription__subscription_id",
        "claim__location__partner_id",
    )
    show_full_result_count = False
    fields = (
        "status",
        "end_reason",
        "end_message",
        ("organisation", "claim", "line"),
        ("tenant", "product", "subscription"),
        "superseded_by",
        ("approved_at", "notice_ends_at"),
        ("activated_at", "ended_at"),
        ("legacy", "legacy_source", "legacy_since"),
        ("legacy_import", "reassociation_warned_at"),
    )
    inlines = (AssociationEventInline,)

    @admin.display(description=_("subscription"), ordering="subscription__subscription_id")
    def subscription_ref(self, association: Association) -> str:
        return str(association.subscription.subscription_id) if association.subscription_id else ""
