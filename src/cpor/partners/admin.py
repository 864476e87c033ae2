from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cpor.accounts.admin_site import ProgramAdminPermissions
from cpor.partners.models import Membership, PartnerLocation, PartnerOrganisation


class PartnerLocationInline(ProgramAdminPermissions, admin.TabularInline):
    model = PartnerLocation
    fields = ("partner_id", "name", "country", "active")
    extra = 0


class MembershipInline(ProgramAdminPermissions, admin.TabularInline):
    model = Membership
    fields = ("user", "role")
    autocomplete_fields = ("user",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user")


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(ProgramAdminPermissions, admin.ModelAdmin):
    list_display = ("name", "location_count", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "locations__partner_id")
    readonly_fields = ("created_at",)
    inlines = (PartnerLocationInline, MembershipInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerOrganisation]:
        return super().get_queryset(request).annotate(location_count=Count("locations"))

    @admin.display(description=_("locations"), ordering="location_count")
    def location_count(self, organisation: PartnerOrganisation) -> int:
        return organisation.location_count


@admin.register(PartnerLocation)
class PartnerLocationAdmin(ProgramAdminPermissions, admin.ModelAdmin):
    list_display = ("partner_id", "name", "organisation", "country", "active")
    list_filter = ("active", "country")
    list_select_related = ("organisation",)
    search_fields = ("partner_id", "name", "organisation__name")
    autocomplete_fields = ("organisation",)
