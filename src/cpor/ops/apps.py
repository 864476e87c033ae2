from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations: health probes, Prometheus metrics, JSON logs, backups."""

    name = "cpor.ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from cpor.ops import jobs

        # Every periodic job runs through ``notifications.periodic.JOBS`` (Celery beat's
        # task, ``run_periodic`` and ``run_all``): timing it there covers every path.
        jobs.instrument_periodic_jobs()
