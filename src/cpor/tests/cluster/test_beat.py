"""Two beats started by mistake: every periodic job still runs once per period (the
guard in notifications.tasks.run_periodic_job, a slot per job and period in Redis)."""

import time

import pytest

from cpor.tests.cluster.conftest import cluster_state
from cpor.tests.cluster.supervisor import wait_for

pytestmark = pytest.mark.cluster

WINDOW_SECONDS = 25


def test_two_beats_run_each_periodic_job_once_per_period(cluster, capsys):
    definition = cluster.cluster
    env = definition.env() | {
        "CELERY_BEAT_SCHEDULE_FILE": str(definition.dir / "var" / "celerybeat-schedule-2")
    }
    second = cluster.add("beat2", f"{cluster.module.ENTRYPOINT} beat", env=env)
    second.start()
    try:
        wait_for(
            lambda: "Sending due task" in second.log_text(),
            timeout=120,
            what="the second beat to send its first task",
        )
        before = cluster_state(cluster, "inspect")["job_runs"]
        started = time.monotonic()
        time.sleep(WINDOW_SECONDS)  # the observation window, not a wait for a condition
        after = cluster_state(cluster, "inspect")["job_runs"]
        window = time.monotonic() - started
    finally:
        second.stop()
    periods = {
        "consume_events": int(env["OUTBOX_RETRY_SECONDS"]),
        "outbox_retry": int(env["OUTBOX_RETRY_SECONDS"]),
        "activate_associations": int(env["PERIODIC_JOB_SECONDS"]),
        "history_checkpoint": int(env["HISTORY_CHECKPOINT_SECONDS"]),
    }
    lines = []
    for job, period in periods.items():
        runs = after.get(job, 0) - before.get(job, 0)
        expected = window / period
        lines.append(f"{job}: {runs} runs in {window:.0f} s, period {period} s")
        # Unguarded, two beats run each job twice per period (about 2 x expected).
        assert runs <= expected + 1.5, lines[-1]
        assert runs >= expected - 2, lines[-1]
    with capsys.disabled():
        print("\ntwo beats:", "; ".join(lines))
