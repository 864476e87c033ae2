from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from cpor.accounts.admin_site import is_program_admin
from cpor.accounts.models import User


@admin.register(User)
class CporUserAdmin(UserAdmin):
    """Program admins onboard users (partner users, reviewers); only a superuser may
    grant Django permissions or touch another superuser."""

    list_display = ("username", "email", "first_name", "last_name", "operator_role", "is_staff")
    list_filter = ("operator_role", "is_staff", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("CPOR", {"fields": ("operator_role", "language")}))

    def _is_superuser(self, request: HttpRequest) -> bool:
        return is_program_admin(request.user) and request.user.is_superuser

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_program_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_program_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_program_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if self._is_superuser(request):
            return True
        return is_program_admin(request.user) and not (obj is not None and obj.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Users sign claims and history; deactivate them instead.
        return self._is_superuser(request)

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple[str, ...]:
        if self._is_superuser(request):
            return ()
        return ("is_superuser", "groups", "user_permissions", "last_login", "date_joined")
