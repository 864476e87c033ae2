from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from cpor.accounts.admin_site import ProgramAdminPermissions, is_program_admin
from cpor.accounts.models import OrganisationSignOn, SignOnDomain, SignOnTenant, User


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


class SignOnTenantInline(ProgramAdminPermissions, admin.TabularInline):
    model = SignOnTenant
    extra = 0


class SignOnDomainInline(ProgramAdminPermissions, admin.TabularInline):
    model = SignOnDomain
    extra = 0


@admin.register(OrganisationSignOn)
class OrganisationSignOnAdmin(ProgramAdminPermissions, admin.ModelAdmin):
    """Partner admins keep this on their Single sign-on page; the program sees every
    link and can remove one that should not be there."""

    list_display = ("organisation", "invite_only", "sso_required", "updated_at")
    list_filter = ("invite_only", "sso_required")
    readonly_fields = ("updated_at", "updated_by")
    inlines = (SignOnTenantInline, SignOnDomainInline)


def install_sso_admin() -> None:
    """Program admins configure identity providers (allauth's SocialApp, provider
    "OpenID Connect", settings ``{"server_url": …}``) and see who is connected; allauth's
    own admin classes would ask for Django permissions CPOR does not grant."""
    from allauth.socialaccount.admin import SocialAccountAdmin, SocialAppAdmin, SocialTokenAdmin
    from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken

    for model, base in (
        (SocialApp, SocialAppAdmin),
        (SocialAccount, SocialAccountAdmin),
        (SocialToken, SocialTokenAdmin),
    ):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, type(base.__name__, (ProgramAdminPermissions, base), {}))
