from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default = True
    name = "cpor.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from cpor.accounts.admin import install_sso_admin

        # Every admin module is imported by now (the admin app comes first and
        # autodiscovers in its own ready()).
        install_sso_admin()

        from allauth.mfa.models import Authenticator
        from django.db.models.signals import post_delete, post_save

        # The cached "has a second factor" (selectors.mfa_enrolled) follows every change,
        # whichever way it is made (allauth's pages, the admin, a queryset delete).
        post_save.connect(_forget_enrolment, sender=Authenticator)
        post_delete.connect(_forget_enrolment, sender=Authenticator)


def _forget_enrolment(sender, instance, **kwargs) -> None:
    from django.core.cache import cache

    from cpor.accounts.selectors import mfa_enrolled_cache_key

    cache.delete(mfa_enrolled_cache_key(instance.user_id))


class AdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the project's site as ``admin.site``."""

    default = False
    default_site = "cpor.accounts.admin_site.AdminSite"
