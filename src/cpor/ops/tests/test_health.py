"""The probes a load balancer and an orchestrator use: live says the process answers,
ready names each dependency and turns 503 when any is down."""

import socket

import pytest
import redis
from django.urls import reverse

from cpor.ops import health

REDIS = "redis://127.0.0.1:6379/13"


@pytest.fixture(autouse=True)
def fresh_migration_memory():
    health._migrations_seen_applied.clear()
    yield
    health._migrations_seen_applied.clear()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ready(client):
    response = client.get(reverse("ops:ready"))
    return response.status_code, response.json()


def test_live_answers_without_touching_the_database(client):
    # No django_db mark: any query would raise.
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_names_every_check_and_answers_200_when_all_pass(client, settings):
    settings.CELERY_BROKER_URL = None
    status, body = ready(client)
    assert status == 200, body
    assert body == {
        "status": "ok",
        "checks": {"database": "OK", "migrations": "OK", "cache": "OK", "storage": "OK"},
    }


@pytest.mark.django_db
def test_ready_is_503_naming_the_broker_when_it_does_not_answer(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    status, body = ready(client)
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"].startswith("Unavailable: broker unreachable")
    assert body["checks"]["database"] == "OK"
    # The answer names the check, never the broker's address or credentials.
    assert "127.0.0.1" not in str(body)


@pytest.mark.django_db
def test_ready_checks_a_reachable_broker(client, settings):
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        pytest.skip("Redis on 127.0.0.1:6379 is not running")
    settings.CELERY_BROKER_URL = REDIS
    status, body = ready(client)
    assert (status, body["checks"]["broker"]) == (200, "OK")


@pytest.mark.django_db
def test_ready_is_503_naming_storage_when_the_poe_folder_cannot_be_written(
    client, settings, tmp_path
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the PoE folder should be")
    settings.MEDIA_ROOT = blocker / "private"  # root or not, nothing can be created here
    status, body = ready(client)
    assert status == 503
    assert body["checks"]["storage"] != "OK"
    assert body["checks"]["database"] == "OK"


@pytest.mark.django_db
def test_ready_is_503_naming_the_migration_the_release_step_has_not_run(client, settings):
    settings.MIGRATION_MODULES = {"ops": "cpor.ops.tests.pending_migrations"}
    status, body = ready(client)
    assert status == 503
    assert body["checks"]["migrations"] == "Unavailable: 1 unapplied: ops.0002_not_yet_applied"
    assert body["checks"]["database"] == "OK"


@pytest.mark.django_db
def test_ready_is_503_naming_the_database_when_it_refuses_connections(client, settings):
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("an unreachable database server needs a server (PostgreSQL)")
    original = settings_dict["PORT"]
    settings_dict["PORT"] = closed_port()
    try:
        # A new connection in the check's thread goes to the closed port.
        status, body = ready(client)
    finally:
        settings_dict["PORT"] = original
    assert status == 503
    assert body["checks"]["database"].startswith("Unavailable")
