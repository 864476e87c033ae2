"""gunicorn settings for Prometheus multiprocess mode: ``gunicorn -c python:cpor.ops.gunicorn``
(or import ``child_exit`` into another config).

With ``PROMETHEUS_MULTIPROC_DIR`` set, each worker writes its metrics to files there and a
scrape of any worker merges them; a dead worker's live gauges must be dropped.
"""

import os


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
