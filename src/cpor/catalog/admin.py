from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cpor.accounts.admin_site import ProgramAdminPermissions
from cpor.catalog.models import (
    Engagement,
    OutOfScopeProgram,
    PartnerRole,
    Product,
    ProgramSettings,
    PurchaseChannel,
    SolutionArea,
)


class CatalogAdmin(ProgramAdminPermissions, admin.ModelAdmin):
    """Codes are how services, the API and its clients name catalog entries, so they
    are fixed once an entry exists."""

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple[str, ...]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "code") if obj is not None else readonly


@admin.register(SolutionArea)
class SolutionAreaAdmin(CatalogAdmin):
    list_display = ("name", "name_pt", "code", "position")
    list_editable = ("position",)
    search_fields = ("name", "name_pt", "code")
    fields = ("code", "name", "name_pt", "position")


class EngagementForm(forms.ModelForm):
    allowed_channels = forms.MultipleChoiceField(
        label=_("allowed purchase channels"),
        choices=PurchaseChannel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Purchase channels a claimed subscription must come from; none allows any."),
    )

    class Meta:
        model = Engagement
        fields = (
            "code",
            "name",
            "name_pt",
            "solution_area",
            "active",
            "claim_unit",
            "incentivized",
            "opt_out_allowed",
            "requires_revenue_details",
            "allowed_channels",
            "notice_period_days",
            "poe_max_age_days",
        )

    def clean_allowed_channels(self) -> list[str]:
        chosen = set(self.cleaned_data["allowed_channels"])
        # Stored in the catalog's own order, so the same choice always reads the same.
        return [channel for channel in PurchaseChannel.values if channel in chosen]


@admin.register(Engagement)
class EngagementAdmin(CatalogAdmin):
    form = EngagementForm
    list_display = (
        "name",
        "solution_area",
        "claim_unit",
        "incentivized",
        "notice_period_days",
        "poe_max_age_days",
        "active",
    )
    list_filter = ("solution_area", "claim_unit", "incentivized", "active")
    list_select_related = ("solution_area",)
    search_fields = ("name", "name_pt", "code")
    fieldsets = (
        (None, {"fields": EngagementForm.Meta.fields[:5]}),
        (_("Claim rules"), {"fields": EngagementForm.Meta.fields[5:]}),
    )


@admin.register(PartnerRole)
class PartnerRoleAdmin(CatalogAdmin):
    list_display = ("name", "solution_area", "engagement", "position", "active")
    list_filter = ("solution_area", "active")
    list_select_related = ("solution_area", "engagement")
    search_fields = ("name", "name_pt", "code")
    fields = (
        "code",
        "name",
        "name_pt",
        "solution_area",
        "engagement",
        "help_text",
        "help_text_pt",
        "position",
        "active",
    )


@admin.register(Product)
class ProductAdmin(CatalogAdmin):
    list_display = ("name", "code", "solution_area", "active")
    list_filter = ("solution_area", "active")
    list_select_related = ("solution_area",)
    search_fields = ("name", "name_pt", "code")
    fields = ("code", "name", "name_pt", "solution_area", "active")


@admin.register(OutOfScopeProgram)
class OutOfScopeProgramAdmin(CatalogAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "name_pt", "code", "message")
    fields = ("code", "name", "name_pt", "message", "message_pt")


@admin.register(ProgramSettings)
class ProgramSettingsAdmin(ProgramAdminPermissions, admin.ModelAdmin):
    """The one settings row (pk=1): edited in place, never added twice nor deleted."""

    list_display = (
        "__str__",
        "poe_max_bytes",
        "draft_expiry_days",
        "info_request_business_days",
        "dispute_window_days",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not ProgramSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ProgramSettings, form, change: bool) -> None:
        obj.pk = 1  # the single-row constraint allows no other key
        super().save_model(request, obj, form, change)
