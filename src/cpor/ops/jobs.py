"""Timing of the periodic jobs, in one place: every job in ``notifications.periodic.JOBS``
(what Celery beat's task, ``manage.py run_periodic`` and ``run_all`` call) is wrapped so
that each run observes its duration and records its outcome in ``PeriodicJobRun``."""

import functools
import logging
import time
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from prometheus_client import Counter, Histogram

from cpor.ops.models import PeriodicJobRun

logger = logging.getLogger(__name__)

JOB_DURATION = Histogram(
    "cpor_periodic_job_duration_seconds",
    "Wall time of one periodic job run",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900),
)
JOB_FAILURES = Counter("cpor_periodic_job_failures", "Periodic job runs that raised", ["job"])


def _record(job: str, *, started, seconds: float, ok: bool) -> None:
    changes = {
        "runs": F("runs") + 1,
        "last_started_at": started,
        "last_duration_seconds": seconds,
    }
    if ok:
        changes["last_success_at"] = timezone.now()
    else:
        changes["failures"] = F("failures") + 1
        changes["last_failure_at"] = timezone.now()
    if PeriodicJobRun.objects.filter(job=job).update(**changes):
        return
    try:
        with transaction.atomic():
            PeriodicJobRun.objects.create(job=job)
    except IntegrityError:
        pass  # another worker created it first
    PeriodicJobRun.objects.filter(job=job).update(**changes)


def timed(job: str, run: Callable[[], int]) -> Callable[[], int]:
    @functools.wraps(run)
    def wrapper() -> int:
        started = timezone.now()
        clock = time.perf_counter()
        ok = False
        try:
            result = run()
            ok = True
            return result
        finally:
            seconds = time.perf_counter() - clock
            JOB_DURATION.labels(job).observe(seconds)
            if not ok:
                JOB_FAILURES.labels(job).inc()
            try:
                _record(job, started=started, seconds=seconds, ok=ok)
            except Exception:  # bookkeeping must never turn a job's success into a failure
                logger.exception("periodic job %s: its run could not be recorded", job)

    wrapper.cpor_timed = True
    return wrapper


def instrument_periodic_jobs() -> None:
    from cpor.notifications import periodic

    for name, run in list(periodic.JOBS.items()):
        if not getattr(run, "cpor_timed", False):
            periodic.JOBS[name] = timed(name, run)
