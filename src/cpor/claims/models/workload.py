"""Reviewer workload: who is on duty for the automatic assignment of new submissions."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReviewerDuty(models.Model):
    """A reviewer's availability. New submissions are assigned only to reviewers on duty
    (``claims.services.assignment``); a reviewer without a row is not on duty. The rows
    of the reviewers on duty are also the lock that serialises concurrent assignments,
    and ``last_assigned_at`` is the round-robin's memory."""

    reviewer = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        primary_key=True,
        related_name="duty",
        verbose_name=_("reviewer"),
    )
    on_duty = models.BooleanField(_("on duty"), default=False)
    last_assigned_at = models.DateTimeField(_("last assigned"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("reviewer duty")
        verbose_name_plural = _("reviewer duties")

    def __str__(self) -> str:
        return f"{self.reviewer} · {'on duty' if self.on_duty else 'away'}"
