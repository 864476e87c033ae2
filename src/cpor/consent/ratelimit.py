"""A small fixed-window rate limit on the cache, for the fresh-link form (the shared
helper in ``cpor.ratelimit``)."""

from cpor.ratelimit import allow

__all__ = ["allow"]
