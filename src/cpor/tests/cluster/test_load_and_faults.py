"""Load and faults: partners file claims through nginx (create, PoE to S3, submit) while
a reviewer approves and customers decline; meanwhile one web node is killed with
SIGKILL and restarted, one worker is killed with SIGKILL in the middle of a delivery,
and the SMTP sink is down for 20 s. Afterwards the database holds every 2xx and nothing
the clients were told failed, one holder per unit, every e-mail and webhook arrived
once, and every PoE in S3 matches its SHA-256."""

import collections
import json
import os
import time

import pytest

from cpor.tests.cluster.checks import (
    check_emails,
    check_invariant,
    check_metrics,
    check_outcomes,
    check_poe_files,
    check_webhooks,
    settled_state,
    socket_owner,
)
from cpor.tests.cluster.load import Workload
from cpor.tests.cluster.supervisor import wait_for

pytestmark = pytest.mark.cluster

SMTP_OUTAGE_SECONDS = 20


def test_load_with_a_web_node_a_worker_and_the_mail_relay_failing(
    cluster, people, webhook_receiver, capsys
):
    definition = cluster.cluster
    work = Workload(definition.url, str(definition.cert), people)
    started = time.monotonic()
    threads = work.run_in_threads(partners=3, minimum=10)
    faults = []
    try:
        # 1. A web node dies (SIGKILL: requests in flight on it are lost), the load goes
        #    on through the other node, then the node comes back.
        wait_for(
            lambda: work.healthy() and work.submitted >= 6, timeout=240, what="six submitted claims"
        )
        served = work.figures.ok
        cluster["web1"].kill()
        faults.append(f"web1 SIGKILL at {time.monotonic() - started:.1f} s")
        wait_for(
            lambda: work.healthy() and work.figures.ok >= served + 12,
            timeout=240,
            what="web2 serving alone",
        )
        cluster["web1"].start()
        cluster.wait_web_ready("web1")
        faults.append(f"web1 back at {time.monotonic() - started:.1f} s")

        # 2. A worker dies in the middle of a delivery: the receiver holds the next
        #    webhook call unanswered and the worker that sent it is killed.
        webhook_receiver.hold.set()
        wait_for(webhook_receiver.held.is_set, timeout=240, what="a webhook delivery in flight")
        sender = socket_owner(webhook_receiver.held_peer[1], webhook_receiver.port)
        assert sender is not None, "no process holds the held webhook connection"
        (worker,) = [
            process
            for name, process in cluster.processes.items()
            if name.startswith("worker") and process.alive and os.getpgid(sender) == process.pgid
        ]
        worker.kill()
        webhook_receiver.released.set()
        faults.append(f"{worker.name} SIGKILL mid-delivery at {time.monotonic() - started:.1f} s")
        worker.start()

        # 3. The mail relay is down for 20 s (a fixed outage, not a wait for something).
        cluster["smtp"].stop()
        faults.append(f"SMTP sink down at {time.monotonic() - started:.1f} s")
        time.sleep(SMTP_OUTAGE_SECONDS)
        cluster["smtp"].start()
        wait_for(lambda: cluster.module.port_open(definition.ports.smtp), timeout=30, what="smtp")
        faults.append(f"SMTP sink back at {time.monotonic() - started:.1f} s")
    finally:
        work.stop.set()
        for thread in threads:
            thread.join(timeout=300)
    assert not work.errors, work.errors
    load_seconds = time.monotonic() - started

    state = settled_state(cluster)
    check_outcomes(work.log, state)
    check_invariant(state)
    # The sink's stop and the worker's kill may each cut one SMTP transaction.
    emails = check_emails(state, definition.maildir, cut_transactions=2)
    # The worker's kill may cut one webhook delivery after the endpoint's 2xx.
    webhooks = check_webhooks(state, webhook_receiver, cut_deliveries=1)
    files = check_poe_files(state, definition.env())

    figures = {
        "load_seconds": round(load_seconds, 1),
        "settled_seconds": round(time.monotonic() - started, 1),
        "requests": {
            key: getattr(work.figures, key)
            for key in ("sent", "ok", "retried", "server_errors", "connection_errors", "refused")
        },
        "operations": {
            op: {
                result: sum(1 for o in work.log if o.op == op and o.result == result)
                for result in ("ok", "failed")
            }
            for op in ("create", "poe", "submit", "approve", "decline")
        },
        "refusals": dict(
            collections.Counter(
                f"{o.op}: {(o.body or {}).get('code', o.status)}"
                for o in work.log
                if o.result == "failed"
            )
        ),
        "emails": emails,
        "webhooks": webhooks,
        "poe_files_checked": files,
        "faults": faults,
    }
    figures["metrics_workers_merged"] = check_metrics(cluster)
    (definition.dir / "load-and-faults.json").write_text(json.dumps(figures, indent=2))
    with capsys.disabled():
        print("\nload and faults:", work.figures.line())
        print(
            f"e-mails expected {emails['expected']}, delivered {emails['delivered']}, "
            f"duplicated {emails['duplicated']}; webhooks expected {webhooks['expected']}, "
            f"delivered {webhooks['delivered']}, duplicated {webhooks['duplicated']}; "
            f"PoE files checked {files}"
        )
        print("refused (the client was told, nothing written):", figures["refusals"])
        print("faults:", "; ".join(faults))
        print("metrics: worker processes merged per node", figures["metrics_workers_merged"])
