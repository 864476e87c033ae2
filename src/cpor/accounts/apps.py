from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default = True
    name = "cpor.accounts"
    verbose_name = _("Accounts")


class AdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the project's site as ``admin.site``."""

    default = False
    default_site = "cpor.accounts.admin_site.AdminSite"
