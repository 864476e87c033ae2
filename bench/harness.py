"""What every benchmark script shares: its own PostgreSQL database on the server that
DATABASE_URL names, Django set up against it, and its own section of
docs/performance.md (between its markers, leaving the other benchmarks' sections)."""

import os
import platform
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PERFORMANCE = ROOT / "docs" / "performance.md"


def bench_url(db_name: str) -> str:
    """DATABASE_URL with the benchmark's own database name: it never touches another."""
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cpor")
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    return urlunsplit(parts._replace(path=f"/{db_name}"))


def recreate_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str, *, var_dir: Path | None = None, env: dict | None = None) -> None:
    """Point Django at ``url``, set it up and migrate."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpor.settings")
    os.environ["CPOR_VAR_DIR"] = str(var_dir or ROOT / "var" / "bench")
    os.environ.update(env or {})
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def write_section(start: str, end: str, markdown: str) -> None:
    """Replace the section between ``start`` and ``end`` markers, or append it."""
    text = PERFORMANCE.read_text() if PERFORMANCE.exists() else "# Performance\n"
    block = f"{start}\n{markdown.strip()}\n{end}\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    PERFORMANCE.write_text(text)
