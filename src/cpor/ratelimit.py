"""Fixed-window counters on the cache: the one rate-limit helper (fresh decline links,
tenant look-ups)."""

import hashlib

from django.core.cache import cache


def hit(scope: str, key: str, *, window_seconds: int, count: bool = True) -> int:
    """Count one attempt for ``key`` in ``scope`` (unless ``count`` is false) and return
    how many the current window holds."""
    digest = hashlib.sha256(key.lower().encode()).hexdigest()[:32]
    cache_key = f"cpor:ratelimit:{scope}:{digest}"
    if not count:
        return cache.get(cache_key, 0)
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds)
        return 1


def allow(scope: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt for ``key``; False once it exceeds ``limit`` in the window."""
    return hit(scope, key, window_seconds=window_seconds) <= limit
