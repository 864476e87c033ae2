from django.contrib import admin

from cpor.accounts.admin_site import ProgramAdminPermissions
from cpor.notifications.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ProgramAdminPermissions, admin.ModelAdmin):
    """Read-only: the outbox is written by services and delivery only."""

    list_display = ("created_at", "kind", "recipient", "subject", "status", "attempts")
    list_filter = ("kind", "status")
    search_fields = ("recipient", "subject", "dedupe_key")
    exclude = ("secret", "lease_token")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
