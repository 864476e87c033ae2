"""Two gunicorn workers, one view of the metrics: prometheus-client's multiprocess mode
(PROMETHEUS_MULTIPROC_DIR) merges what each worker counted, whichever one answers."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from cpor.ops.tests.test_metrics import parse, value

SRC = Path(__file__).resolve().parents[3]
PORT = 18411
TOKEN = "multiprocess-scrape-token"


def database_url_for_a_server(tmp_path: Path) -> str:
    """The test database as another process can open it: PostgreSQL's by name, SQLite's
    in-memory one copied to a file with SQLite's backup API."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        return (
            f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    import sqlite3

    connection.ensure_connection()
    copy = tmp_path / "copy.sqlite3"
    with sqlite3.connect(copy) as target:
        connection.connection.backup(target)
    return f"sqlite:///{copy}"


def get(path: str, **headers) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        return response.status, response.read()


@pytest.fixture
def two_gunicorn_workers(seeded_catalog, tmp_path):
    # Committed data only: SQLite cannot copy a database a transaction is writing.
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "DJANGO_SETTINGS_MODULE": "cpor.settings",
        "DATABASE_URL": database_url_for_a_server(tmp_path),
        "CPOR_VAR_DIR": str(tmp_path / "var"),
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "METRICS_TOKEN": TOKEN,
        "METRICS_DB_CACHE_SECONDS": "0",
    }
    env.pop("CELERY_BROKER_URL", None)
    server = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "cpor.wsgi",
            "--config",
            "python:cpor.ops.gunicorn",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            get("/health/live")
            break
        except OSError:
            assert server.poll() is None, server.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
    yield multiproc
    server.terminate()
    server.wait(timeout=30)


COUNT = "django_http_requests_latency_seconds_by_view_method_count"


def live_requests_counted() -> float:
    _status, body = get("/metrics", Authorization=f"Bearer {TOKEN}")
    samples = parse(body.decode())
    assert ("cpor_claims", frozenset({("status", "submitted")})) in samples
    return value(samples, COUNT, view="ops:live", method="GET")


def test_two_workers_report_one_count_per_view(two_gunicorn_workers):
    before = live_requests_counted()
    for _ in range(60):
        assert get("/health/live")[0] == 200
    # Each worker kept its own files: both served.
    writers = {path.stem.rsplit("_", 1)[-1] for path in two_gunicorn_workers.glob("*.db")}
    assert len(writers) >= 2, writers
    for _ in range(4):  # whichever worker answers the scrape reports all 60
        assert live_requests_counted() - before == 60
