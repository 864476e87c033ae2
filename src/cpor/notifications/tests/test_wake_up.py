"""One pending wake-up: with a cache the worker shares, a commit that wrote history
publishes no task while one is queued; the task clears the mark before it reads, so the
next commit publishes again. Against Redis on 127.0.0.1:6379 (the broker and the
cache), with no worker: the tasks queued are counted in the broker, and run here.

Skipped when Redis is unreachable, except in CI (CI=true), where it must run."""

import pytest
import redis
from django.core.cache import cache

from cpor.claims.models import ClaimEvent
from cpor.notifications import consumers, tasks
from cpor.notifications.models import EventCursor
from cpor.testing.broker import publishing_to, require_redis
from cpor.testing.factories import customer_tenant, partner_user, submitted_claim

BROKER = "redis://127.0.0.1:6379/15"

pytestmark = pytest.mark.usefixtures("seeded_catalog")


@pytest.fixture
def broker(settings, shared_cache):
    """A broker no worker listens to, beside the cache it shares with the (absent)
    worker: yields a function that says how many tasks are queued. (After
    ``smtp_server``, which sets the embedded mode.)"""
    require_redis(BROKER)
    settings.CPOR_BACKGROUND = "celery"
    queue = redis.Redis.from_url(BROKER)
    queue.flushdb()
    with publishing_to(BROKER, result_backend=None):
        yield lambda: queue.llen("celery")
    queue.flushdb()


def _transitions(count: int) -> list:
    """``count`` claims filed and submitted: three committed transactions each."""
    partner = partner_user()
    return [submitted_claim(partner, customer_tenant()) for _ in range(count)]


def test_a_burst_of_transitions_queues_one_wake_up(smtp_server, broker):
    claims = _transitions(3)
    assert broker() == 1  # nine commits that wrote history, one task
    tasks.events_consume_task()  # what the worker runs: it takes the wake-up
    # It read every event committed before it: each consumer is at the end of history.
    last = ClaimEvent.objects.order_by("-id").values_list("id", flat=True).first()
    assert set(EventCursor.objects.values_list("consumer", "event_id")) >= {("email", last)}
    assert {str(m["Subject"]) for m in smtp_server.wait_for(3)} >= {
        f"Claim submitted: {claim.name}" for claim in claims
    }
    # Taken: the next commit publishes again.
    _transitions(1)
    assert broker() == 2


def test_without_a_shared_cache_each_commit_publishes(broker, settings):
    settings.CPOR_WAKE_COALESCE = False
    _transitions(1)
    assert broker() == 3
    assert cache.get(consumers.WAKE_PENDING_KEY) is None


def test_an_unreachable_cache_costs_a_publish_not_a_wake_up(broker, monkeypatch):
    class Down:  # the cache as the wake-up sees it (sign-in limits use it too)
        def add(self, *args, **kwargs):
            raise redis.exceptions.ConnectionError("cache down")

        delete = add

    monkeypatch.setattr(consumers, "cache", Down())
    _transitions(1)
    assert broker() == 3


def test_a_failed_publish_leaves_no_mark(broker, monkeypatch):
    """Nothing was queued, so nothing may hold the next commits back."""
    failed = []

    def refuse():
        failed.append(1)
        raise ConnectionError("broker down")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.events_consume_task, "delay", refuse)
        _transitions(1)
    # Each commit tried (the mark was cleared after each failure) and none queued.
    assert len(failed) == 3 and broker() == 0
    assert cache.get(consumers.WAKE_PENDING_KEY) is None
    _transitions(1)
    assert broker() == 1


def test_the_task_clears_the_mark_before_it_reads(broker, monkeypatch):
    """A commit that found the mark came before the clearing, so the run reads it."""
    seen = []
    consume_all = consumers.consume_all

    def reading(**kwargs):
        seen.append(cache.get(consumers.WAKE_PENDING_KEY))
        return consume_all(**kwargs)

    _transitions(1)
    assert cache.get(consumers.WAKE_PENDING_KEY) == 1
    monkeypatch.setattr(consumers, "consume_all", reading)
    tasks.events_consume_task()
    assert seen == [None]
