"""The cluster tests boot the local production cluster (deploy/cluster.py) once per
session: nginx, two gunicorn web nodes, two Celery workers and beat on Redis, moto's S3
server, an SMTP sink into a Maildir, on a PostgreSQL database of their own
(cpor_cluster_test), everything in CPOR_MODE=production.

They run in the PostgreSQL run (`make test-postgres`); on SQLite they are skipped, and
outside CI a missing nginx or Redis skips them (in CI, CI=true, it fails them)."""

import email
import email.policy
import http.server
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from django.conf import settings

from cpor.tests.cluster.supervisor import ROOT, Supervisor, load_cluster_module

WEBHOOK_PORT = 18530


def _unavailable() -> str | None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "the cluster tests run on PostgreSQL only (make test-postgres)"
    if shutil.which("nginx") is None:
        return "nginx is not installed (make nginx)"
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/9", socket_connect_timeout=1).ping()
    except Exception:
        return "Redis on 127.0.0.1:6379 is not running"
    return None


def _pg_server() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"


@pytest.fixture(scope="session")
def cluster_definition():
    reason = _unavailable()
    if reason is not None:
        if (
            reason.startswith("the cluster tests run on PostgreSQL")
            or os.environ.get("CI", "").lower() != "true"
        ):
            pytest.skip(reason)
        pytest.fail(reason)
    module = load_cluster_module()
    definition = module.Cluster(
        name="cluster-test",
        database="cpor_cluster_test",
        pg_server=_pg_server(),
        # Every periodic job runs within the tests' windows (the beat test counts them).
        extra_env={"PERIODIC_JOB_SECONDS": "10", "HISTORY_CHECKPOINT_SECONDS": "10"},
    )
    busy = [
        port
        for port in (definition.ports.https, *definition.ports.web, definition.ports.s3)
        if module.port_open(port)
    ]
    if busy:
        pytest.fail(f"ports {busy} are in use: stop `make cluster` (or another run) first")
    definition.prepare(fresh=True)
    return definition


@pytest.fixture(scope="session")
def cluster(cluster_definition):
    """The running cluster (a Supervisor); every process group is stopped at the end."""
    supervisor = Supervisor(cluster_definition)
    try:
        supervisor.start_all()
        yield supervisor
    finally:
        supervisor.stop_all()


def cluster_state(cluster, *args: str) -> dict:
    """``state.py`` run with the cluster's environment: seed people, or read the database."""
    result = subprocess.run(  # noqa: S603 - our own module
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "cpor.tests.cluster.state", *args],
        env=cluster.cluster.env() | {"PYTHONPATH": str(ROOT / "src")},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"state {args[0]} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    line = next(line for line in result.stdout.splitlines() if line.startswith("CPOR-STATE "))
    return json.loads(line.removeprefix("CPOR-STATE "))


@pytest.fixture(scope="session")
def people(cluster):
    """Three partners (API tokens, a webhook endpoint each), 24 customer tenants with an
    admin each, a reviewer: seeded once into the cluster's database."""
    return cluster_state(cluster, "seed", f"http://127.0.0.1:{WEBHOOK_PORT}/hooks", "3", "24")


# --- the webhook receiver ---------------------------------------------------------------


class WebhookReceiver:
    """Partners' webhook endpoints on loopback: records each event it accepted (2xx).
    ``hold_next`` makes the next call wait, unanswered, until ``release`` (a delivery in
    flight, to kill its worker in the middle of it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[tuple[str, str]] = []  # (event id, delivery id)
        self.lock = threading.Lock()
        self.hold = threading.Event()
        self.held = threading.Event()
        self.released = threading.Event()
        self.held_peer: tuple[str, int] | None = None
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.hold.is_set():
                    receiver.hold.clear()
                    receiver.held_peer = self.client_address
                    receiver.held.set()
                    receiver.released.wait(60)
                    self.close_connection = True
                    return  # never answered: the sender is gone by now
                payload = json.loads(body)
                with receiver.lock:
                    receiver.received.append((payload["id"], self.headers["X-CPOR-Delivery"]))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[str]:
        with self.lock:
            return [event for event, _ in self.received]


@pytest.fixture(scope="session")
def webhook_receiver():
    with WebhookReceiver(WEBHOOK_PORT) as receiver:
        yield receiver


def maildir_messages(maildir: Path) -> list[email.message.EmailMessage]:
    messages = []
    for folder in ("new", "cur"):
        for path in sorted((maildir / folder).glob("*")) if (maildir / folder).exists() else ():
            messages.append(
                email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            )
    return messages
