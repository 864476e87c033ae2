"""What the cluster tests assert once the load is over: the database, the mailbox, the
webhook receiver and the bucket against what each client was told."""

from __future__ import annotations

import collections
import hashlib
import os
import re
import urllib.request
from pathlib import Path

import boto3

from cpor.tests.cluster.conftest import cluster_state, maildir_messages
from cpor.tests.cluster.supervisor import wait_for

MESSAGE_ID = re.compile(r"<outbox\.(\d+)\.")


def socket_owner(local_port: int, remote_port: int) -> int | None:
    """The process holding the loopback TCP connection from ``local_port`` to
    ``remote_port`` (the sender of a request the test's receiver is holding).

    Both ends are matched: Linux reuses an ephemeral port for connections to other
    destinations, so the local port alone may name another process's socket."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local = int(fields[1].rsplit(":", 1)[1], 16)
            remote = int(fields[2].rsplit(":", 1)[1], 16)
            if (local, remote) == (local_port, remote_port):
                inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(proc.name)
        except OSError:
            continue
    return None


def settled_state(cluster, *, timeout: float = 240) -> dict:
    """The database once every event is consumed and every message is sent (or has
    failed for good, which the checks then report)."""

    def settled():
        state = cluster_state(cluster, "inspect")
        pending = [m for m in state["outbox"] if m["status"] == "pending"]
        if any(state["unconsumed"].values()) or pending:
            return None
        return state

    return wait_for(settled, timeout=timeout, what="every event consumed and message sent", every=2)


def check_outcomes(log, state, *, exercised=("create", "poe", "submit", "approve", "decline")):
    """Every 2xx is in the database; nothing the client was told failed was written."""
    unknown = [o for o in log if o.result == "unknown"]
    assert not unknown, f"operations that never got an answer: {unknown[:5]}"
    claims = {c["id"]: c for c in state["claims"]}
    names = {c["name"] for c in state["claims"]}
    actions = collections.defaultdict(set)
    for event in state["events"]:
        actions[event["claim_id"]].add(event["action"])
    proofs = {p["id"]: p for p in state["proofs"]}
    proof_hashes = {p["sha256"] for p in state["proofs"]}
    associations = {a["id"]: a for a in state["associations"]}
    ok_ops = collections.Counter()
    for o in log:
        ok = o.result == "ok"
        ok_ops[o.op, ok] += 1
        if o.op == "create":
            if ok:
                assert claims[o.body["id"]]["name"] == o.context["name"], o
            else:
                assert o.context["name"] not in names, o
        elif o.op == "poe":
            if ok:
                assert proofs[o.body["id"]]["sha256"] == o.context["sha256"], o
            else:
                assert o.context["sha256"] not in proof_hashes, o
        elif o.op in ("submit", "approve"):
            assert (o.op in actions[o.context["claim_id"]]) == ok, o
        elif o.op == "decline":
            declined = associations[o.context["association_id"]]["end_reason"] == (
                "declined_by_customer"
            )
            assert declined == ok, o
    for op in exercised:
        assert ok_ops[op, True] > 0, f"no {op} succeeded: the load did not exercise it"


def check_invariant(state) -> None:
    assert state["double_holders"] == [], "units with two holders"


def check_emails(state, maildir: Path, *, cut_transactions: int) -> dict:
    """Each outbox e-mail reached the sink, told apart by its Message-ID. SMTP cannot
    promise more than once when a transaction is cut between the relay storing the
    message and the sender reading its "250" (the relay or the sending worker dies
    then): the sender retries and the copy carries the same Message-ID, by which a
    receiver drops it. So at most ``cut_transactions`` second copies, none otherwise."""
    expected = {m["id"] for m in state["outbox"] if m["kind"] == "email"}
    failed = [m for m in state["outbox"] if m["status"] != "sent"]
    assert not failed, f"messages not sent: {failed[:5]}"
    received = collections.Counter()
    for message in maildir_messages(maildir):
        match = MESSAGE_ID.search(str(message["Message-ID"]))
        assert match, f"an e-mail without an outbox Message-ID: {message['Message-ID']}"
        received[int(match.group(1))] += 1
    figures = {
        "expected": len(expected),
        "delivered": len(set(received) & expected),
        "duplicated": sum(count - 1 for count in received.values()),
    }
    assert set(received) == expected, (
        f"missing {sorted(expected - set(received))[:10]}, "
        f"unexpected {sorted(set(received) - expected)[:10]}"
    )
    assert figures["duplicated"] <= cut_transactions, f"e-mails received twice: {figures}"
    return figures


def check_webhooks(state, receiver, *, cut_deliveries: int) -> dict:
    """Each webhook event reached its endpoint. As with SMTP, HTTP cannot promise more
    than once when the sending worker dies between the endpoint's 2xx and marking the
    delivery sent (a worker's kill takes its other pool process with it, which may be
    there): the delivery is retried under the same ``X-CPOR-Delivery``, by which the
    endpoint drops it. So at most ``cut_deliveries`` second copies, each with the
    delivery id of the first, and none otherwise."""
    expected = {f"evt_{event_id}" for event_id in state["webhook_events"]}
    with receiver.lock:
        calls = list(receiver.received)
    received = collections.Counter(event for event, _ in calls)
    figures = {
        "expected": len(expected),
        "delivered": len(set(received) & expected),
        "duplicated": sum(count - 1 for count in received.values()),
    }
    assert set(received) == expected, (
        f"missing {sorted(expected - set(received))[:10]}, "
        f"unexpected {sorted(set(received) - expected)[:10]}"
    )
    assert figures["duplicated"] <= cut_deliveries, f"webhooks received twice: {figures}"
    deliveries = collections.defaultdict(set)
    for event, delivery in calls:
        deliveries[event].add(delivery)
    assert all(len(ids) == 1 for ids in deliveries.values()), (
        f"a webhook repeated under another delivery id: {figures}"
    )
    return figures


def check_poe_files(state, env: dict) -> int:
    s3 = boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        region_name=env["S3_REGION"],
        aws_access_key_id=env["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
    )
    for proof in state["proofs"]:
        body = s3.get_object(Bucket=env["S3_BUCKET"], Key=proof["file"])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == proof["sha256"], proof
    return len(state["proofs"])


def check_metrics(cluster) -> dict[str, int]:
    """Each web node runs Prometheus multiprocess mode (deploy/entrypoint web): its
    workers write their metrics into the node's own directory, and a scrape of the node
    merges them. Returns the number of worker processes each node's scrape merged."""
    env = cluster.cluster.env()
    merged = {}
    for name, port in cluster.web_ports().items():
        folder = Path(env["CPOR_VAR_DIR"]) / f"prometheus-{port}"
        pids = {path.stem.rsplit("_", 1)[-1] for path in folder.glob("*.db")}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Authorization": f"Bearer {env['METRICS_TOKEN']}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            text = response.read().decode()
        assert "django_http_requests_latency_seconds_by_view_method" in text, text[:500]
        # Both gunicorn workers of the node served the load and wrote their files.
        assert len(pids) >= 2, f"{name}: metrics files of {sorted(pids)} in {folder}"
        merged[name] = len(pids)
    return merged
