"""Who may use the Django admin, and for what.

The admin is the program admins' tool (SPEC §3: catalog, settings, partner onboarding,
all read access). Their rights come from ``User.operator_role``, not from Django's
per-model permissions, so no permission rows need to be granted or kept in step. The
site itself still lets in only active ``is_staff`` users, and it signs nobody in: its
login page sends people to allauth's, the one flow with the second factor and the rate
limits (``AdminSite``).
"""

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


class AdminSite(admin.AdminSite):
    """The project's admin site (installed as the default by ``accounts.apps``)."""

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Accept no credentials here: a password posted to the admin's own form would
        skip the second factor and the lock-out of allauth's login."""
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:index", current_app=self.name)
        if not request.user.is_authenticated:
            return redirect_to_login(next_url, login_url=reverse("account_login"))
        if self.has_permission(request):
            return HttpResponseRedirect(next_url)
        # Signed in without admin rights: allauth would send them straight back here.
        raise PermissionDenied


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
