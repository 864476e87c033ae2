"""Backups of the database and the PoE store, and their restore.

A backup directory holds the database (PostgreSQL: ``pg_dump`` custom format; SQLite: a
copy made with SQLite's online backup API), every PoE file the database refers to, and
``manifest.json`` with the SHA-256 and size of each file. On PostgreSQL the dump and the
list of PoE files come from one exported snapshot, so the files copied are exactly those
the dump refers to, however many uploads and draft deletions run meanwhile (PoE files
are never overwritten: a new upload is a new name).

``restore`` checks every hash first, then refuses a database that already has tables and
a store that holds a different file under a restored name: it fills a new, empty database
and store, nothing else.
"""

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction

from cpor.errors import DomainError

MANIFEST = "manifest.json"
FORMAT = 1
CHUNK = 1024 * 1024


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _tool(name: str) -> str:
    """pg_dump and pg_restore from PATH (PG_BIN_DIR picks a version matching the server)."""
    folder = os.environ.get("PG_BIN_DIR")
    found = str(Path(folder) / name) if folder else shutil.which(name)
    if not found:
        raise DomainError("backup_tool_missing", f"{name} is not installed", field="database")
    return found


def _pg_env_and_args() -> tuple[dict, list[str]]:
    settings = connection.settings_dict
    env = {**os.environ}
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    args = [
        f"--host={settings.get('HOST') or 'localhost'}",
        f"--port={settings.get('PORT') or 5432}",
        f"--username={settings.get('USER') or 'postgres'}",
        f"--dbname={settings['NAME']}",
    ]
    return env, args


def _dump_postgresql(target: Path) -> list[str]:
    env, args = _pg_env_and_args()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        subprocess.run(  # noqa: S603 (pg_dump with our own settings)
            [
                _tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target}",
                *args,
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        cursor.execute("SELECT file FROM claims_proofofexecution ORDER BY file")
        return [row[0] for row in cursor.fetchall()]


def _dump_sqlite(target: Path) -> list[str]:
    connection.ensure_connection()
    with sqlite3.connect(target) as copy:
        connection.connection.backup(copy)
        names = [row[0] for row in copy.execute("SELECT file FROM claims_proofofexecution")]
    copy.close()
    return sorted(names)


def backup(directory: Path) -> dict:
    """Write a backup into ``directory`` (new or empty) and return its manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise DomainError("backup_dir_not_empty", f"{directory} is not empty", field="dir")
    if connection.vendor == "postgresql":
        database = directory / "database.pgdump"
        names = _dump_postgresql(database)
    elif connection.vendor == "sqlite":
        database = directory / "database.sqlite3"
        names = _dump_sqlite(database)
    else:
        raise DomainError("backup_vendor", f"no backup for {connection.vendor}", field="database")
    files = {}
    for name in names:
        path = directory / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with default_storage.open(name, "rb") as source, path.open("wb") as copy:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                copy.write(chunk)
        files[name] = {"sha256": digest.hexdigest(), "size": path.stat().st_size}
    manifest = {
        "format": FORMAT,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "database": {
            "vendor": connection.vendor,
            "file": database.name,
            "sha256": _sha256(database),
            "size": database.stat().st_size,
        },
        "files": files,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def verify(directory: Path) -> dict:
    """The manifest, once every file in it has its recorded hash; else a DomainError."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise DomainError(
            "backup_manifest", f"no readable {MANIFEST}: {error}", field="dir"
        ) from error
    if manifest.get("format") != FORMAT:
        raise DomainError("backup_format", "unknown backup format", field="dir")
    expected = {manifest["database"]["file"]: manifest["database"]["sha256"]}
    expected |= {f"files/{name}": meta["sha256"] for name, meta in manifest["files"].items()}
    for relative, sha256 in expected.items():
        path = directory / relative
        if not path.is_file() or _sha256(path) != sha256:
            raise DomainError(
                "backup_corrupt",
                f"{relative} is missing or does not match its SHA-256",
                field="dir",
            )
    return manifest


def restore(directory: Path) -> dict:
    """Restore a verified backup into the configured, empty database and store."""
    manifest = verify(directory)
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise DomainError(
            "restore_vendor",
            f"a {vendor} backup cannot go into {connection.vendor}",
            field="database",
        )
    if connection.introspection.table_names():
        raise DomainError(
            "restore_not_empty",
            "the database already has tables: restore into a new, empty database",
            field="database",
        )
    for name, meta in manifest["files"].items():
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as existing:
                if hashlib.sha256(existing.read()).hexdigest() != meta["sha256"]:
                    raise DomainError(
                        "restore_store_conflict",
                        f"the store already holds a different {name}",
                        field="store",
                    )
    database = directory / manifest["database"]["file"]
    if vendor == "postgresql":
        env, args = _pg_env_and_args()
        subprocess.run(  # noqa: S603 (pg_restore with our own settings)
            [
                _tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                *args,
                str(database),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
    else:
        connection.close()
        with (
            sqlite3.connect(database) as source,
            sqlite3.connect(connection.settings_dict["NAME"]) as target,
        ):
            source.backup(target)
        source.close()
        target.close()
    for name in manifest["files"]:
        if default_storage.exists(name):
            continue  # the same bytes, checked above
        with (directory / "files" / name).open("rb") as stream:
            stored = default_storage.save(name, File(stream))
        if stored != name:
            raise DomainError(
                "restore_store_renamed", f"the store renamed {name} to {stored}", field="store"
            )
    return manifest
