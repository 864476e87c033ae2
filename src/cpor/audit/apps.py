from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "cpor.audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from allauth.mfa import signals as mfa_signals
        from django.contrib import admin
        from django.contrib.admin.models import LogEntry
        from django.contrib.auth import signals
        from django.db.models.signals import post_save

        from cpor.audit import recording

        # Sign-ins and admin changes happen outside CPOR's services (recording's docstring).
        signals.user_logged_in.connect(recording.on_signed_in, dispatch_uid="audit_signed_in")
        signals.user_login_failed.connect(
            recording.on_sign_in_failed, dispatch_uid="audit_sign_in_failed"
        )
        mfa_signals.authentication_failed.connect(
            recording.on_second_factor_failed, dispatch_uid="audit_second_factor_failed"
        )
        signals.user_logged_out.connect(recording.on_signed_out, dispatch_uid="audit_signed_out")
        post_save.connect(recording.on_admin_logged, sender=LogEntry, dispatch_uid="audit_admin")
        admin.site.add_action(recording.delete_selected, "delete_selected")
