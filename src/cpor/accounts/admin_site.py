"""Who may use the Django admin, and for what.

The admin is the program admins' tool (SPEC §3: catalog, settings, partner onboarding,
all read access). Their rights come from ``User.operator_role``, not from Django's
per-model permissions, so no permission rows need to be granted or kept in step. The
site itself still lets in only active ``is_staff`` users.
"""

from django.http import HttpRequest


def is_program_admin(user) -> bool:
    """An active program admin or superuser: may edit what the admin offers them."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.is_program_admin


def is_operator(user) -> bool:
    """Program staff (program admins and reviewers) and superusers: may read."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.is_operator


class ProgramAdminPermissions:
    """ModelAdmin and inline mixin: program admins and superusers view, add, change
    and delete; nobody else sees the model at all."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_program_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_program_admin(request.user)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_program_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_program_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_program_admin(request.user)


class OperatorReadOnly:
    """ModelAdmin and inline mixin for records that only services may write (claims,
    their history, associations): program staff read them, nobody changes them here."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_operator(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_operator(request.user)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
