"""Deleting old rows in batches: one ``DELETE … WHERE id IN (SELECT id … LIMIT n)`` per
batch, each its own short transaction, so a purge of millions of rows never holds
locks for long nor loads the rows into Python. The retention periods are settings
(README, Configuration); the purges run as periodic jobs (``notifications/periodic.py``).
"""

import datetime

from django.db import models
from django.utils import timezone

PURGE_BATCH = 5000


def delete_in_batches(queryset: models.QuerySet, *, batch_size: int = PURGE_BATCH) -> int:
    """Delete every row of ``queryset`` a batch at a time; return how many went.

    Only for models nothing refers to and no delete signal listens to: Django then
    deletes with the single statement above (a test counts the statements)."""
    model = queryset.model
    total = 0
    while True:
        batch = queryset.order_by().values("pk")[:batch_size]
        deleted, _counts = model._base_manager.filter(pk__in=batch).delete()
        total += deleted
        if deleted < batch_size:
            return total


def cutoff(days: int, *, now: datetime.datetime | None = None) -> datetime.datetime:
    """The moment ``days`` before now: older rows are past their retention."""
    return (now or timezone.now()) - datetime.timedelta(days=days)
