"""Two beats started by mistake send every periodic job twice per period; the task runs
it once (the cluster test, tests/cluster/test_beat.py, proves it with real beats)."""

import time

import pytest
from django.core.cache import cache

from cpor.notifications.tasks import run_periodic_job
from cpor.ops.models import PeriodicJobRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def runs(job: str) -> int:
    row = PeriodicJobRun.objects.filter(job=job).first()
    return row.runs if row else 0


def test_a_second_dispatch_within_the_period_skips_the_job():
    assert run_periodic_job("consume_events") == 0
    assert run_periodic_job("consume_events") is None
    assert runs("consume_events") == 1
    # Each job has a slot of its own.
    assert run_periodic_job("outbox_retry") == 0
    assert runs("outbox_retry") == 1


def test_the_next_period_runs_the_job_again(settings):
    schedule = dict(settings.CELERY_BEAT_SCHEDULE)
    schedule["consume-events"] = schedule["consume-events"] | {"schedule": 1.0}
    settings.CELERY_BEAT_SCHEDULE = schedule
    assert run_periodic_job("consume_events") == 0
    assert run_periodic_job("consume_events") is None
    time.sleep(1.1)  # the slot lasts nine tenths of the period, at least one second
    assert run_periodic_job("consume_events") == 0
    assert runs("consume_events") == 2


def test_a_job_outside_the_schedule_always_runs(settings):
    settings.CELERY_BEAT_SCHEDULE = {}
    assert run_periodic_job("consume_events") == 0
    assert run_periodic_job("consume_events") == 0
    assert runs("consume_events") == 2
