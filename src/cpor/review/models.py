"""What the review app keeps of its own: each operator's saved queue filters."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SavedQueueFilter(models.Model):
    """A named set of review-queue filters, private to the operator who saved it. The
    query is the queue's own query string, rebuilt from the filter form's clean values
    (``review.services.saved_filter_save``), so opening it is following a link."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="saved_queue_filters"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ("owner", Lower("name"))
        verbose_name = _("saved queue filter")
        verbose_name_plural = _("saved queue filters")
        constraints = [
            models.UniqueConstraint("owner", Lower("name"), name="saved_filter_name_once"),
        ]

    def __str__(self) -> str:
        return self.name
