"""Settings read from the environment: bad values stop the start-up with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]


def settings_of(
    shown: str = "settings.STORAGES['default']['BACKEND']", **env
) -> subprocess.CompletedProcess:
    code = f"import django; from django.conf import settings; django.setup(); print({shown})"
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    environment.update(DJANGO_SETTINGS_MODULE="cpor.settings", **env)
    return subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", code],
        cwd=ROOT / "src",
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_poe_files_stay_local_by_default():
    result = settings_of()
    assert result.stdout.strip() == "django.core.files.storage.FileSystemStorage"


def test_an_s3_bucket_takes_the_poe_files():
    result = settings_of(S3_BUCKET="cpor-poe", S3_ENDPOINT_URL="http://127.0.0.1:9000")
    assert result.stdout.strip() == "storages.backends.s3.S3Storage"


SESSIONS = "settings.CACHES['default']['BACKEND'], settings.SESSION_ENGINE"


def test_sessions_stay_in_the_database_without_a_shared_cache():
    # A cache per process would keep a session signed out in one process alive in others.
    cache, sessions = settings_of(SESSIONS).stdout.split()
    assert (cache, sessions) == (
        "django.core.cache.backends.locmem.LocMemCache",
        "django.contrib.sessions.backends.db",
    )


def test_a_shared_cache_serves_the_sessions():
    result = settings_of(SESSIONS, CACHE_URL="redis://127.0.0.1:6379/1")
    cache, sessions = result.stdout.split()
    assert (cache, sessions) == (
        "django_redis.cache.RedisCache",
        "django.contrib.sessions.backends.cached_db",
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CPOR_MODE": "production"}, "SECRET_KEY"),
        ({"CPOR_MODE": "production", "SECRET_KEY": "x" * 50}, "ALLOWED_HOSTS"),
        (
            {"CPOR_MODE": "production", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "cpor.example"},
            "DATABASE_URL",
        ),
        ({"DEBUG": "maybe"}, "DEBUG must be a boolean"),
        ({"EMAIL_PORT": "twenty-five"}, "EMAIL_PORT must be a whole number"),
        ({"CPOR_MODE": "staging"}, "CPOR_MODE must be one of"),
    ],
)
def test_bad_or_missing_values_stop_the_start_up(env, message):
    result = settings_of(**env)
    assert result.returncode != 0
    assert message in result.stderr


def base_url_of(**env) -> str:
    code = "import django; from django.conf import settings; print(settings.CPOR_BASE_URL)"
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "PORT", "CPOR_BASE_URL")
    }
    environment.update(DJANGO_SETTINGS_MODULE="cpor.settings", **env)
    result = subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", code],
        cwd=ROOT / "src",
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        # `PORT=18801 make run`: the links in e-mails point at the port served.
        ({"PORT": "18801"}, "http://127.0.0.1:18801"),
        ({"PORT": "18801", "CPOR_BASE_URL": "https://cpor.example"}, "https://cpor.example"),
    ],
)
def test_links_in_e_mails_follow_the_port_unless_the_base_url_is_set(env, expected):
    assert base_url_of(**env) == expected


def test_a_bad_port_stops_the_start_up():
    result = settings_of(PORT="eighty")
    assert result.returncode != 0
    assert "PORT must be a whole number" in result.stderr
