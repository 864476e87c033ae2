from django.contrib import admin

from cpor.accounts.admin_site import ProgramAdminPermissions
from cpor.consent.models import CustomerAdmin


@admin.register(CustomerAdmin)
class CustomerAdminAdmin(ProgramAdminPermissions, admin.ModelAdmin):
    list_display = ("user", "tenant")
    search_fields = ("user__email", "tenant__name")
    raw_id_fields = ("user", "tenant")
