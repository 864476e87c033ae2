"""Celery tasks: thin wrappers over the event consumers, delivery and the periodic jobs."""

import logging
import time

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from cpor.notifications import consumers, delivery, periodic

logger = logging.getLogger(__name__)

# While an older transaction holds the history back, look again this often, this many
# times; the periodic sweep covers anything older.
HELD_BACK_COUNTDOWN = 0.5
HELD_BACK_TRIES = 60


@shared_task(name="cpor.events_consume", ignore_result=True)
def events_consume_task(tries: int = 0) -> int:
    """Published after a commit that wrote history, unless a wake-up was already queued:
    derive the messages of every event committed since, then send them."""
    if tries == 0:
        consumers.wake_pending_clear()  # before reading: later commits wake again
    sent = delivery.outbox_deliver_messages(ids=consumers.consume_all())
    if tries < HELD_BACK_TRIES and consumers.held_back():
        events_consume_task.apply_async((tries + 1,), countdown=HELD_BACK_COUNTDOWN)
    return sent


@shared_task(name="cpor.outbox_deliver", ignore_result=True)
def outbox_deliver_task(message_id: int) -> bool:
    return delivery.outbox_deliver_message(message_id=message_id)


def beat_period(name: str) -> float | None:
    """Seconds between two runs of a periodic job under beat (CELERY_BEAT_SCHEDULE)."""
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry.get("task") == "cpor.run_periodic_job" and tuple(entry.get("args", ())) == (name,):
            return float(entry["schedule"])
    return None


def periodic_slot_take(name: str) -> bool:
    """Whether this dispatch of a job is the first of its period.

    Exactly one beat should run, but a second one started by mistake (a deploy that
    starts beat on every worker host) sends every job twice per period. The first
    dispatch takes the job's slot in the shared cache (CACHE_URL: one atomic SET NX with
    an expiry) for nine tenths of the period; the other dispatches of that period skip.
    A job sent by hand (not in the schedule) always runs."""
    period = beat_period(name)
    if period is None:
        return True
    return cache.add(f"cpor:periodic-slot:{name}", time.time(), timeout=max(1, int(period * 0.9)))


@shared_task(name="cpor.run_periodic_job", ignore_result=True)
def run_periodic_job(name: str) -> int | None:
    """What beat sends for each periodic job; guarded so that it runs once per period."""
    if not periodic_slot_take(name):
        logger.info("periodic job %s skipped: already run in this period", name)
        return None
    return periodic.run_job(name)
