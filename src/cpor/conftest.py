import pytest


@pytest.fixture(autouse=True)
def language_reset():
    """A request by a user who chose Portuguese leaves it active in the test's thread, as
    Django's locale middleware does; the next test starts from the default again."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def test_settings(settings, tmp_path):
    """Each test stores PoE files in its own folder; passwords hash fast."""
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests do not run collectstatic, so no hashed manifest exists.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def admin_user(admin_user):
    """pytest-django's superuser, enrolled in a second factor as program admins must be."""
    from cpor.testing.factories import enrol_second_factor

    return enrol_second_factor(admin_user)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters (tenant look-ups, sign-in, fresh links) live in the cache, keyed
    by ids a rolled-back test hands out again: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def partner():
    from cpor.testing.factories import partner_user

    return partner_user()


@pytest.fixture
def reviewer():
    from cpor.testing.factories import operator_user

    return operator_user()


@pytest.fixture
def tenant():
    from cpor.testing.factories import customer_tenant

    return customer_tenant()


@pytest.fixture
def seeded_catalog(transactional_db):
    """Transactional tests flush the database afterwards, catalog included: put it back.

    SQLite flushes with DELETE, which the immutability triggers refuse for the lines,
    PoE and history of submitted claims; a status-only update back to draft (which the
    triggers allow) lets the flush run. PostgreSQL truncates, which fires no row trigger.
    """
    import importlib

    from django.apps import apps
    from django.db import connection

    importlib.import_module("cpor.catalog.migrations.0002_seed_catalog").seed(apps, None)
    importlib.import_module("cpor.catalog.migrations.0004_seed_portuguese_names").fill(apps, None)
    yield
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE claims_claim SET status = 'draft'")
