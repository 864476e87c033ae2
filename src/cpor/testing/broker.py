"""Point the project's Celery app at a test broker for one test, and back; require the
Redis the tests use as broker and cache."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

from cpor.celery import app


def require_redis(url: str) -> None:
    """Skip the test when Redis on 127.0.0.1:6379 is unreachable, except in CI (CI=true),
    where it must run."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Redis on 127.0.0.1:6379 is required in CI")
        pytest.skip("Redis on 127.0.0.1:6379 is not running")


def _drop_connections() -> None:
    # The app keeps its broker connections (and kombu a producer pool per connection)
    # after its broker_url changes: without this, tasks would still be published to the
    # broker of the previous test, where no worker listens. Dropped, not closed: a
    # producer pool still shared through kombu's registry would fail on a closed one.
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def publishing_to(url: str, **conf) -> Iterator[None]:
    """Publish to ``url`` (tasks not eager) inside the block; restore the app after."""
    keys = ("broker_url", "task_always_eager", *conf)
    saved = {key: app.conf[key] for key in keys}
    _drop_connections()
    app.conf.update(broker_url=url, task_always_eager=False, **conf)
    try:
        yield
    finally:
        _drop_connections()
        app.conf.update(saved)
