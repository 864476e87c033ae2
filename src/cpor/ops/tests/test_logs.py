"""JSON log lines in production, one request id from nginx's X-Request-ID through the
request into the Celery task it published."""

import json
import logging
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.urls import reverse

from cpor.ops.logs import logging_config
from cpor.testing.broker import publishing_to, require_redis
from cpor.testing.factories import add_poe, claim_input, customer_tenant, partner_user

SRC = Path(__file__).resolve().parents[3]
BROKER = "redis://127.0.0.1:6379/13"


@contextmanager
def request_log(path: Path):
    """django-structlog's request lines, as the production formatter writes them, into
    ``path``; at INFO whatever level an earlier test left the root logger at."""
    config = logging_config(json=True, level="INFO")["formatters"]["structlog"]
    factory = config.pop("()")
    logger = logging.getLogger("django_structlog")
    level = logger.level
    with path.open("w") as stream:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(factory(**config))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)


@pytest.mark.django_db
def test_a_request_is_logged_as_json_lines_with_the_proxy_request_id(client, tmp_path):
    log = tmp_path / "web.log"
    with request_log(log):
        client.get("/health/live", HTTP_X_REQUEST_ID="nginx-7f3a")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    events = {line["event"]: line for line in lines}
    assert {"request_started", "request_finished"} <= set(events)
    assert all(line["request_id"] == "nginx-7f3a" for line in lines)
    assert events["request_finished"]["code"] == 200
    assert events["request_finished"]["level"] == "info"
    assert events["request_finished"]["timestamp"].endswith("Z")


def test_a_request_without_an_id_gets_a_fresh_one_each(client, tmp_path):
    log = tmp_path / "web.log"
    with request_log(log):
        client.get("/health/live")
        client.get("/health/live")
    ids = {json.loads(line)["request_id"] for line in log.read_text().splitlines()}
    assert len(ids) == 2


@pytest.fixture
def production_worker(seeded_catalog, settings, tmp_path):
    """A real Celery worker process in production mode on Redis, logging JSON to a file."""
    if connection.vendor != "postgresql":
        pytest.skip("a worker process beside the test needs a database server (PostgreSQL)")
    require_redis(BROKER)

    redis.Redis.from_url(BROKER).flushdb()
    db = connection.settings_dict
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "CPOR_MODE": "production",
        "SECRET_KEY": "worker-test-key-" + "x" * 40,
        "ALLOWED_HOSTS": "cpor.example",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "CPOR_VAR_DIR": str(tmp_path / "var"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(  # noqa: S603 (our own worker, fixed arguments)
            [
                str(Path(sys.executable).with_name("celery")),
                "--quiet",  # no start-up banner on stdout: log lines only
                "-A",
                "cpor",
                "worker",
                "--pool",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    # The task's clock starts once the worker is ready: a loaded machine can take most
    # of a minute to start a production worker.
    deadline = time.monotonic() + 180
    while "celery@" not in log.read_text() or " ready." not in log.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"the worker did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    settings.CPOR_BACKGROUND = "celery"
    try:
        with publishing_to(BROKER):
            yield log
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_the_request_id_reaches_the_log_lines_of_the_task_it_published(client, production_worker):
    from cpor.claims import services

    actor = partner_user()
    claim = services.claim_create(actor=actor, data=claim_input(actor, customer_tenant()))
    add_poe(actor, claim)
    client.force_login(actor)
    response = client.post(
        reverse("api:claim-submit", args=[claim.pk]),
        {"confirmed": True},
        content_type="application/json",
        HTTP_X_REQUEST_ID="nginx-req-42",
    )
    assert response.status_code == 200, response.content
    deadline = time.monotonic() + 60
    while True:
        lines = []
        for raw in production_worker.read_text().splitlines():
            if not raw.strip():
                continue
            try:
                lines.append(json.loads(raw))
            except ValueError:
                pytest.fail(f"the production worker wrote a line that is not JSON: {raw!r}")
        task_lines = [line for line in lines if line.get("request_id") == "nginx-req-42"]
        if any(line["event"] == "task_succeeded" for line in task_lines):
            break
        assert time.monotonic() < deadline, lines[-20:]
        time.sleep(0.2)
    started = next(line for line in task_lines if line["event"] == "task_started")
    assert started["task"] == "cpor.events_consume"
    assert started["task_id"]
