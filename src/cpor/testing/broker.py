"""Point the project's Celery app at a test broker for one test, and back."""

from collections.abc import Iterator
from contextlib import contextmanager

from cpor.celery import app


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
