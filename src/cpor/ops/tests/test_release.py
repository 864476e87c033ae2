"""The migration policy, followed: the previous release's code still runs against the
schema the new release's ``migrate`` leaves (docs/operations.md, Releases).

The previous release is the newest tag before HEAD, or else the previous commit of main.
Its tree is checked out with ``git worktree``; the NEW code migrates a fresh PostgreSQL
database; then the OLD code's ``manage.py check`` and its own smoke tests (the claim list
in the UI and the API: create, list, upload, submit) run against that database, as old
web nodes do between the release step and their replacement."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[4]
DB_NAME = "test_cpor_ops_release"  # pytest-django's name for cpor_ops_release, reused
OLD_SMOKE = [
    "src/cpor/claims/tests/test_views.py",
    "src/cpor/api/tests/test_claims_api.py",
    "-k",
    "list or create_makes_a_draft or checks_then_poe_upload_then_submit",
]


def git(*args: str) -> str:
    return subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), *args],  # noqa: S607 (git from PATH)
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def previous_release() -> str:
    try:
        head = git("rev-parse", "HEAD")
        for tag in git("tag", "--merged", "HEAD", "--sort=-creatordate").split():
            if git("rev-list", "-n", "1", tag) != head:
                return tag
        return git("rev-parse", "--verify", "HEAD~1")
    except (subprocess.CalledProcessError, FileNotFoundError):
        pytest.skip("no git history here: no previous release to run against the new schema")


@pytest.fixture
def old_tree(tmp_path):
    release = previous_release()
    tree = tmp_path / "previous-release"
    git("worktree", "add", "--detach", str(tree), release)
    try:
        yield tree, release
    finally:
        git("worktree", "remove", "--force", str(tree))


def run(cwd: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own manage.py and pytest)
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the release check runs on PostgreSQL, as production does (make test-postgres)",
)
def test_the_previous_release_runs_on_the_schema_the_new_release_migrated(old_tree, tmp_path):
    tree, release = old_tree
    db = connection.settings_dict
    server = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    env = {
        **os.environ,
        "DATABASE_URL": f"{server}/{DB_NAME}",
        "CPOR_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "cpor.settings",
    }
    for key in ("CELERY_BROKER_URL", "PYTHONPATH"):
        env.pop(key, None)
    try:
        # The release step of the NEW code.
        migrated = run(ROOT, env, "manage.py", "migrate", "--no-input")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        # The OLD code, still serving until its nodes are replaced.
        checked = run(tree, env, "manage.py", "check")
        assert checked.returncode == 0, f"{release}: {checked.stderr[-3000:]}"
        old_env = {**env, "DATABASE_URL": f"{server}/{DB_NAME.removeprefix('test_')}"}
        smoke = run(
            tree,
            old_env,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--reuse-db",
            "-m",
            "not browser",
            *OLD_SMOKE,
        )
        assert smoke.returncode == 0, f"{release}: {smoke.stdout[-4000:]}{smoke.stderr[-2000:]}"
        assert " passed" in smoke.stdout and " failed" not in smoke.stdout
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
