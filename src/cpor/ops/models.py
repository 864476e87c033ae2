from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodicJobRun(models.Model):
    """The latest run of one periodic job, whichever host ran it.

    Kept in the database rather than in a worker's memory so that ``/metrics`` on any web
    node reports when each job last succeeded, however many beat or worker hosts there are.
    """

    job = models.CharField(_("job"), max_length=60, primary_key=True)
    runs = models.PositiveBigIntegerField(_("runs"), default=0)
    failures = models.PositiveBigIntegerField(_("failures"), default=0)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    last_duration_seconds = models.FloatField(_("last duration (s)"), null=True, blank=True)

    class Meta:
        verbose_name = _("periodic job run")
        verbose_name_plural = _("periodic job runs")

    def __str__(self) -> str:
        return self.job
