"""The restore drill: back up a seeded database with PoE files, restore it into an empty
database and an empty store, and compare every table's rows and every PoE's hash."""

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from cpor.claims import services
from cpor.claims.models import ProofOfExecution
from cpor.testing.factories import (
    add_poe,
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

ROOT = Path(__file__).resolve().parents[4]
RESTORE_DB = "cpor_ops_restore"


def seed() -> None:
    actor = partner_user()
    reviewer = operator_user()
    for _ in range(3):
        claim = submitted_claim(actor, customer_tenant())
    services.claim_start_review(actor=reviewer, claim=claim)
    draft = services.claim_create(actor=actor, data=claim_input(actor, customer_tenant()))
    add_poe(actor, draft)
    add_poe(actor, draft)  # a second proof on one claim


def row_counts(cursor, tables) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 (introspected names)
        counts[table] = cursor.fetchone()[0]
    return counts


@pytest.fixture
def empty_target(tmp_path):
    """An empty database and an empty PoE folder, as `manage.py restore` will see them."""
    media = tmp_path / "restored-private"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "CPOR_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(media),
    }
    env.pop("CELERY_BROKER_URL", None)
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        server = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {RESTORE_DB} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {RESTORE_DB}")
        env["DATABASE_URL"] = f"{server}/{RESTORE_DB}"

        def open_target():
            return psycopg.connect(env["DATABASE_URL"])

        yield env, media, open_target
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {RESTORE_DB} WITH (FORCE)")
    else:
        path = tmp_path / "restored.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{path}"
        yield env, media, lambda: sqlite3.connect(path)


def manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.usefixtures("seeded_catalog")
def test_restore_drill_gives_back_every_row_and_every_poe(tmp_path, empty_target):
    seed()
    source_proofs = dict(ProofOfExecution.objects.values_list("file", "sha256"))
    assert len(source_proofs) == 5
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        source_counts = row_counts(cursor, tables)

    backup_dir = tmp_path / "backup"
    call_command("backup", str(backup_dir))
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert {name: f["sha256"] for name, f in manifest["files"].items()} == source_proofs

    env, media, open_target = empty_target
    result = manage(env, "restore", str(backup_dir))
    assert result.returncode == 0, result.stderr
    assert "5 PoE files" in result.stdout

    target = open_target()
    try:
        cursor = target.cursor()
        assert row_counts(cursor, tables) == source_counts
        cursor.execute("SELECT file, sha256 FROM claims_proofofexecution")
        restored = dict(cursor.fetchall())
    finally:
        target.close()
    assert restored == source_proofs
    for name, sha256 in restored.items():
        assert hashlib.sha256((media / name).read_bytes()).hexdigest() == sha256

    # Restoring again finds the database full and leaves it as it is.
    again = manage(env, "restore", str(backup_dir))
    assert again.returncode != 0
    assert "already has tables" in again.stderr


@pytest.mark.usefixtures("seeded_catalog")
def test_restore_refuses_a_backup_whose_files_do_not_match_the_manifest(tmp_path, empty_target):
    seed()
    backup_dir = tmp_path / "backup"
    call_command("backup", str(backup_dir))
    victim = next((backup_dir / "files").rglob("*.pdf"))
    victim.write_bytes(victim.read_bytes() + b"tampered")
    env, media, _ = empty_target
    result = manage(env, "restore", str(backup_dir))
    assert result.returncode != 0
    assert "does not match its SHA-256" in result.stderr
    assert not media.exists() or not any(media.rglob("*.pdf"))  # nothing written


@pytest.mark.django_db
def test_backup_refuses_a_directory_that_is_not_empty(tmp_path):
    (tmp_path / "old").write_text("yesterday's backup")
    with pytest.raises(CommandError, match="is not empty"):
        call_command("backup", str(tmp_path))
