from django.contrib import admin

from cpor.accounts.admin_site import OperatorReadOnly
from cpor.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(OperatorReadOnly, admin.ModelAdmin):
    """Read-only for program staff: the trail is append-only."""

    list_display = ("at", "actor_email", "organisation", "action", "target_label")
    list_filter = ("action",)
    search_fields = ("actor_email", "target_label", "target_id")
    date_hierarchy = "at"
