"""``manage.py check --deploy`` is clean in production mode with only the required
settings, and each HSTS opt-out is explicit: it silences the one warning it causes."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def deploy_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        name: value
        for name, value in os.environ.items()
        # The browser tests of the same run allow Django's async-unsafe calls for
        # Playwright: a production process never has that.
        if not name.startswith(("SECURE_", "DEBUG", "CPOR_", "DATABASE_URL", "DJANGO_ALLOW_ASYNC"))
    }
    environment.update(
        CPOR_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="cpor.example",
        DATABASE_URL="postgres://cpor@127.0.0.1:5432/cpor",
        CPOR_VAR_DIR=str(tmp_path),
        **env,
    )
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    result = deploy_check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.parametrize(
    ("opt_out", "silenced"),
    [
        ({"SECURE_HSTS_SECONDS": "0"}, 1),
        ({"SECURE_HSTS_PRELOAD": "0"}, 1),
        ({"SECURE_HSTS_INCLUDE_SUBDOMAINS": "0", "SECURE_HSTS_PRELOAD": "0"}, 2),
    ],
)
def test_an_explicit_hsts_opt_out_is_not_a_warning(tmp_path, opt_out, silenced):
    result = deploy_check(tmp_path, **opt_out)
    assert result.returncode == 0, result.stderr
    assert f"no issues ({silenced} silenced)" in result.stdout


def test_turning_the_https_redirect_off_is_flagged(tmp_path):
    result = deploy_check(tmp_path, SECURE_SSL_REDIRECT="0")
    assert result.returncode != 0
    assert "security.W008" in result.stderr
