import pytest
import redis

from cpor.notifications.tests.smtp import smtp_server  # noqa: F401 (fixture)
from cpor.testing.broker import require_redis

SHARED_CACHE = "redis://127.0.0.1:6379/14"


@pytest.fixture
def shared_cache(settings):
    """The cache in Redis, as web processes and workers share it with CACHE_URL (the
    pending event wake-up is marked there), emptied before and after."""
    require_redis(SHARED_CACHE)
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": SHARED_CACHE,
        }
    }
    settings.CPOR_WAKE_COALESCE = True
    store = redis.Redis.from_url(SHARED_CACHE)
    store.flushdb()
    yield
    store.flushdb()
