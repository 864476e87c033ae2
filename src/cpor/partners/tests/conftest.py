from cpor.testing.organisation import _fresh_cache, as_user, org  # noqa: F401
