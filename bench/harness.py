"""What every benchmark script shares: its own PostgreSQL database on the server that
DATABASE_URL names, Django set up against it, interleaved A B samples with their wall
time and CPU (the app process and the PostgreSQL backends, from /proc), and a results
file bench/results/<name>.json that bench/report.py turns into docs/performance.md."""

import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PERFORMANCE = ROOT / "docs" / "performance.md"
A = TypeVar("A")
B = TypeVar("B")


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


# A benchmark runs CPOR as production runs it: a Celery broker (what a transition hands
# to background work is queued there; no worker runs unless the script starts one) and
# the cache every process shares (CACHE_URL: rate limits, the pending event wake-up).
# Redis databases of their own, emptied by ``clear_production_services``.
BROKER = "redis://127.0.0.1:6379/13"
CACHE = "redis://127.0.0.1:6379/12"
PRODUCTION_SERVICES = {"CELERY_BROKER_URL": BROKER, "CACHE_URL": CACHE}


def clear_production_services() -> None:
    import redis

    for url in (BROKER, CACHE):
        redis.Redis.from_url(url).flushdb()


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


def with_second_factor(user):
    """The benchmark's reviewer or partner admin, enrolled in an authenticator app: a role
    that must use a second factor (CPOR_MFA_REQUIRED_ROLES) reaches no page and no API
    until it is, as in production."""
    from cpor.testing.factories import enrol_second_factor

    return enrol_second_factor(user)


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
    """Replace the section between ``start`` and ``end`` markers, or append it.

    Deprecated: docs/performance.md is built by bench/report.py from record_results'
    files; this stays until every script writes those."""
    text = PERFORMANCE.read_text() if PERFORMANCE.exists() else "# Performance\n"
    block = f"{start}\n{markdown.strip()}\n{end}\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    PERFORMANCE.write_text(text)


# ---------------------------------------------------------------------------
# Measuring: interleaved samples, medians, CPU from /proc, results files.
#
# A typical script:
#
#     pg = harness.backend_pid(connection)           # the PostgreSQL backend serving it
#     cpor, sql = harness.interleave(
#         harness.timed(run_cpor, pg_pids=[pg]),       # each call returns a Usage
#         harness.timed(run_sql, pg_pids=[sql_pg]),
#         rounds=5,
#     )
#     a, b = harness.median_usage(cpor), harness.median_usage(sql)
#     harness.record_results("jobs", [harness.row("jobs_activation", a, b, per=n, ...)])
#
# For a web server under many clients, count its workers and every backend of the
# benchmark's database instead of this process (client threads) and one backend:
#
#     with harness.measure(
#         app_pids=lambda: harness.children(gunicorn.pid),
#         pg_pids=lambda: harness.database_backend_pids(admin_conn),
#         include_self=False,
#     ) as usage:
#         ...
#
# Times depend on what else the shared machine is doing; CPU per operation depends far
# less on it, so every row carries both.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RESULTS = ROOT / "bench" / "results"
LOAD_AT_START = os.getloadavg()

# The target rows, in the order docs/performance.md lists them: the ``path`` of a
# result row is one of these keys (bench/report.py matches on them).
TARGETS: dict[str, str] = {
    "create_submit_3step": "create + PoE + submit over HTTP, 16 clients, three requests",
    "create_submit_single": "create + PoE + submit over HTTP, 16 clients, one request",
    "approval_service": "approval, `claim_approve` service",
    "approval_review_post": "approval, review page POST",
    "web_list_first": "web claim list, first page, 1M claims",
    "web_list_deep": "web claim list, deep page, 1M claims",
    "web_list_10x": "web claim list, 10x the data",
    "review_queue_first": "review queue, first page",
    "review_queue_deep": "review queue, deep page",
    "api_list_first": "API claim list, first page",
    "api_list_deep": "API claim list, deep page",
    "search": "free-text search (claim and customer name)",
    "jobs_activation": "activation job",
    "jobs_other": "other periodic jobs",
    "usage_import": "usage import",
}


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def interleave(
    a: Callable[[], A], b: Callable[[], B], rounds: int, *, warmup: int = 0
) -> tuple[list[A], list[B]]:
    """Run ``a`` then ``b``, ``rounds`` times (A B A B …) and return what each call
    returned, side by side; both sides see the same drift of the machine's load.
    ``warmup`` rounds run first and are not kept."""
    for _ in range(warmup):
        a()
        b()
    samples_a: list[A] = []
    samples_b: list[B] = []
    for _ in range(rounds):
        samples_a.append(a())
        samples_b.append(b())
    return samples_a, samples_b


def self_cpu() -> float:
    """CPU seconds (user + system) of this process, all threads."""
    times = os.times()
    return times.user + times.system


def pid_cpu(pid: int) -> float | None:
    """CPU seconds (utime + stime, fields 14 and 15 of /proc/<pid>/stat) of one process,
    or None once it has gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # Field 2 (the command) is in parentheses and may hold spaces: split after it.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def pids_cpu(pids: Iterable[int]) -> dict[int, float]:
    """CPU seconds of each process that still exists."""
    found = {}
    for pid in pids:
        cpu = pid_cpu(pid)
        if cpu is not None:
            found[pid] = cpu
    return found


def children(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (gunicorn's workers, say)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return found


def postgres_pids() -> list[int]:
    """Every PostgreSQL process on this host: other work's backends included, so use it
    for runs with many connections and say so."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def backend_pid(connection) -> int:
    """The PostgreSQL backend serving a psycopg or Django connection (opening it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def database_backend_pids(connection) -> list[int]:
    """The backends connected to the connection's database right now (for a server's
    persistent connections: a backend that connects later is not counted)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend'"
        )
        return [row[0] for row in cursor.fetchall()]


Pids = Iterable[int] | Callable[[], Iterable[int]]


@dataclass
class Usage:
    """What a block cost: wall time and CPU seconds of the app (this process and/or the
    given app processes) and of the PostgreSQL processes given."""

    wall: float = 0.0
    cpu_app: float = 0.0
    cpu_pg: float = 0.0

    def per(self, count: int) -> "Usage":
        return Usage(self.wall / count, self.cpu_app / count, self.cpu_pg / count)

    @property
    def ms(self) -> dict[str, float]:
        return {
            "wall_ms": self.wall * 1000,
            "cpu_app_ms": self.cpu_app * 1000,
            "cpu_pg_ms": self.cpu_pg * 1000,
        }


def median_usage(samples: Iterable[Usage]) -> Usage:
    """Median of each field on its own."""
    samples = list(samples)
    return Usage(
        median(s.wall for s in samples),
        median(s.cpu_app for s in samples),
        median(s.cpu_pg for s in samples),
    )


def _resolve(pids: Pids) -> list[int]:
    return list(pids() if callable(pids) else pids)


def _delta(before: dict[int, float], after: dict[int, float]) -> float:
    # A process that appeared during the block counts from zero; one that ended during
    # it is lost (its CPU is gone from /proc).
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


@contextmanager
def measure(
    *, pg_pids: Pids = (), app_pids: Pids = (), include_self: bool = True
) -> Iterator[Usage]:
    """Measure the block's wall time, app CPU (this process unless ``include_self`` is
    False, plus ``app_pids``) and PostgreSQL CPU (``pg_pids``: a backend's pid from
    ``backend_pid``, or a callable such as ``postgres_pids``, read again at the end so
    that processes started during the block count). The Usage is filled on exit."""
    usage = Usage()
    app_before = pids_cpu(_resolve(app_pids))
    pg_before = pids_cpu(_resolve(pg_pids))
    self_before = self_cpu()
    started = time.perf_counter()
    try:
        yield usage
    finally:
        usage.wall = time.perf_counter() - started
        self_after = self_cpu()
        usage.cpu_pg = _delta(
            pg_before, pids_cpu(_resolve(pg_pids) if callable(pg_pids) else pg_before)
        )
        app_after = pids_cpu(_resolve(app_pids) if callable(app_pids) else app_before)
        usage.cpu_app = _delta(app_before, app_after)
        if include_self:
            usage.cpu_app += self_after - self_before


def timed(fn: Callable[[], object], **kwargs) -> Callable[[], Usage]:
    """``fn`` wrapped to return its Usage (``measure``'s keyword arguments)."""

    def run() -> Usage:
        with measure(**kwargs) as usage:
            fn()
        return usage

    return run


# ---------------------------------------------------------------------------
# Results: bench/results/<name>.json, read by bench/report.py.


def row(
    path: str,
    cpor: Usage | float,
    baseline: Usage | float,
    *,
    unit: str = "ms",
    per: int = 1,
    note: str = "",
    **extra,
) -> dict:
    """One result row. With Usage arguments, ``per`` divides them into per-operation
    figures in ms (``unit`` "ms"); with plain numbers (a throughput, say: unit
    "claims/s") they are taken as they are. ``ratio`` is always how many times CPOR is
    slower than the baseline: time over time, or baseline rate over CPOR rate."""
    result: dict = {"path": path, "unit": unit}
    if isinstance(cpor, Usage):
        a, b = cpor.per(per), baseline.per(per)
        result["cpor"], result["baseline"] = a.wall * 1000, b.wall * 1000
        result["cpu_app_ms"], result["cpu_pg_ms"] = a.cpu_app * 1000, a.cpu_pg * 1000
        result["baseline_cpu_app_ms"] = b.cpu_app * 1000
        result["baseline_cpu_pg_ms"] = b.cpu_pg * 1000
        # CPU depends less on the machine's load than wall time: its ratio too.
        spent = b.cpu_app + b.cpu_pg
        result["cpu_ratio"] = (a.cpu_app + a.cpu_pg) / spent if spent else None
    else:
        result["cpor"], result["baseline"] = cpor, baseline
    rate = unit.endswith("/s")
    high, low = (
        (result["baseline"], result["cpor"]) if rate else (result["cpor"], result["baseline"])
    )
    result["ratio"] = high / low if low else None
    result["note"] = note
    result.update(extra)
    return result


def record_results(name: str, rows: list[dict], *, note: str = "") -> Path:
    """Write bench/results/<name>.json: the rows (``path`` one of TARGETS' keys, cpor,
    baseline, unit, ratio, cpu_app_ms, cpu_pg_ms, note; a row that is no target gives
    a ``label`` for the table) with the date, the machine and
    its load average when the script started and now. Replaces the previous file."""
    today = datetime.date.today().isoformat()
    for item in rows:
        item.setdefault("date", today)
        for key in ("cpor", "baseline", "unit", "ratio", "cpu_app_ms", "cpu_pg_ms", "note"):
            item.setdefault(key, None)
        if item.get("path") not in TARGETS and not item.get("label"):
            print(f"harness: {item.get('path')!r} is not a target: give it a label (extra row)")
    rows = [
        {k: round(v, 3) if isinstance(v, float) else v for k, v in item.items()} for item in rows
    ]
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"{name}.json"
    document = {
        "name": name,
        "script": Path(sys.argv[0]).name,
        "date": today,
        "machine": machine(),
        "load_start": [round(v, 2) for v in LOAD_AT_START],
        "load_end": [round(v, 2) for v in os.getloadavg()],
        "note": note,
        "rows": rows,
    }
    target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return target
