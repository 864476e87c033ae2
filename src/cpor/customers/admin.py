from django.contrib import admin

from cpor.accounts.admin_site import ProgramAdminPermissions
from cpor.customers.models import Subscription, Tenant, TenantAdminContact, TenantDomain


class TenantDomainInline(ProgramAdminPermissions, admin.TabularInline):
    model = TenantDomain
    fields = ("domain", "verified")
    extra = 0


class TenantAdminContactInline(ProgramAdminPermissions, admin.TabularInline):
    model = TenantAdminContact
    fields = ("name", "email", "language")
    extra = 0


@admin.register(Tenant)
class TenantAdmin(ProgramAdminPermissions, admin.ModelAdmin):
    list_display = ("name", "tenant_id", "country", "language", "created_at")
    list_filter = ("country", "language")
    search_fields = ("name", "tenant_id", "domains__domain")
    readonly_fields = ("created_at",)
    inlines = (TenantDomainInline, TenantAdminContactInline)


@admin.register(Subscription)
class SubscriptionAdmin(ProgramAdminPermissions, admin.ModelAdmin):
    list_display = (
        "subscription_id",
        "tenant",
        "product",
        "purchase_channel",
        "seats",
        "starts_on",
        "ends_on",
    )
    list_filter = ("purchase_channel", "product__solution_area", "product", "ends_on")
    list_select_related = ("tenant", "product")
    search_fields = ("subscription_id", "tenant__name", "tenant__tenant_id", "product__name")
    autocomplete_fields = ("tenant", "predecessor")
    date_hierarchy = "ends_on"
