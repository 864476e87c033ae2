"""Rolling restart: the web nodes restarted one at a time (SIGTERM, start, ready) under
load lose no request that the balancer could retry: every read gets its answer, and
every write ends with a definite answer that the database agrees with."""

import time

import pytest

from cpor.tests.cluster.checks import check_outcomes
from cpor.tests.cluster.conftest import cluster_state
from cpor.tests.cluster.load import Workload
from cpor.tests.cluster.supervisor import wait_for

pytestmark = pytest.mark.cluster


def test_restarting_web_nodes_one_at_a_time_loses_no_request(
    cluster, people, webhook_receiver, capsys
):
    definition = cluster.cluster
    work = Workload(definition.url, str(definition.cert), people, offset=100)
    threads = work.run_in_threads(partners=2, minimum=4, readers=2)
    restarts = []
    try:
        for name in cluster.web_ports():
            served = work.figures.ok
            wait_for(
                lambda served=served: work.healthy() and work.figures.ok >= served + 10,
                timeout=240,
                what="load before the restart",
            )
            began = time.monotonic()
            cluster.restart_web(name, graceful=True)
            restarts.append(f"{name} {time.monotonic() - began:.1f} s")
        served = work.figures.ok
        wait_for(
            lambda: work.healthy() and work.figures.ok >= served + 10,
            timeout=240,
            what="load after the restarts",
        )
    finally:
        work.stop.set()
        for thread in threads:
            thread.join(timeout=300)
    assert not work.errors, work.errors

    gets = work.figures.by_method.get("GET", {})
    posts = work.figures.by_method.get("POST", {})
    with capsys.disabled():
        print("\nrolling restart:", work.figures.line(), "| GET", gets, "| POST", posts)
        print("restarts:", "; ".join(restarts))
    # Reads are idempotent: nginx retries them on the other node; none may fail.
    assert gets.get("server_errors", 0) == 0, gets
    assert gets.get("connection_errors", 0) == 0, (gets, work.figures.errors[:3])
    assert gets.get("ok", 0) > 0
    # Writes: every one got a definite answer, and the database agrees with it.
    check_outcomes(work.log, cluster_state(cluster, "inspect"), exercised=("create", "submit"))
