from django.apps import AppConfig
from django.core.signals import request_finished
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def install_immutability_triggers(app_config, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    from cpor.claims import immutability

    immutability.install(connections[using])


class ClaimsConfig(AppConfig):
    name = "cpor.claims"
    verbose_name = _("Claims and associations")

    def ready(self) -> None:
        # Schema infrastructure, not a business effect: re-create the triggers after
        # every migrate (see claims/immutability.py).
        post_migrate.connect(install_immutability_triggers, sender=self)
        # Storage, not a business effect: PoE files whose transaction rolled back go at
        # the end of the request (see claims/poe_storage.py).
        from cpor.claims.poe_storage import poe_discard_uncommitted

        request_finished.connect(poe_discard_uncommitted, dispatch_uid="poe_discard_uncommitted")
