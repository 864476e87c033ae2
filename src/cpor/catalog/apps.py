from django.apps import AppConfig
from django.core.signals import request_finished, request_started
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "cpor.catalog"
    verbose_name = _("Catalog")

    def ready(self) -> None:
        from cpor.catalog.models import program_settings_memo_close, program_settings_memo_open

        request_started.connect(program_settings_memo_open, dispatch_uid="program_settings_memo")
        request_finished.connect(program_settings_memo_close, dispatch_uid="program_settings_memo")
