"""A small fixed-window rate limit on the cache, for the fresh-link form."""

import hashlib

from django.core.cache import cache


def allow(scope: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt for ``key``; False once it exceeds ``limit`` in the window."""
    digest = hashlib.sha256(key.lower().encode()).hexdigest()[:32]
    cache_key = f"cpor:ratelimit:{scope}:{digest}"
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds)
        count = 1
    return count <= limit
