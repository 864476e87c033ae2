"""Benchmark: the partner's claim list page at a million claims, beside its own SQL run raw.

Run with ``DATABASE_URL=postgres://… .venv/bin/python bench/bench_claim_list.py [N]``
(N defaults to 1,000,000; ``--dry-run`` prints without writing the docs, ``--reuse``
measures the database seeded by an earlier run again). It drops and
recreates a database called ``cpor_bench_claim_list`` on that server, seeds the demo and
N generated claims with ``seed_demo``'s bulk generator, then renders /claims/ through
Django's test client as a partner admin of the largest demo organisation. The baseline
replays exactly the SQL statements the page ran, raw on the same connection, so the
ratio is what Django, the ORM and the templates add on top of the database's own work.
It writes its section of docs/performance.md (between its markers).
"""

import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cpor_bench_claim_list"
CHUNK = 100_000
RUNS = 7


def setup_django(url: str) -> None:
    harness.setup_django(url, env={"ALLOWED_HOSTS": "testserver,localhost"})
    from django.conf import settings

    # No collectstatic here: serve static URLs without the hashed manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def seed(count: int) -> float:
    from cpor.web import demo

    started = time.perf_counter()
    demo.seed_demo()
    done = 0
    while done < count:
        batch = min(CHUNK, count - done)
        demo.generate_claims(batch, seed=done)
        done += batch
        print(f"  generated {done:,} claims ({time.perf_counter() - started:.0f} s)", flush=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def timed(call) -> float:
    """The median of RUNS timings, after one warm-up run."""
    call()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def listed_count(path: str, user) -> int:
    from django.test import RequestFactory

    from cpor.claims.selectors import claim_list
    from cpor.claims.views import _list_filters

    request = RequestFactory().get(path)
    return claim_list(actor=user, filters=_list_filters(request).filters()).count()


def measure(path: str, user) -> tuple[float, float, int, int]:
    """(page time, raw SQL time, queries, rows listed) for one page of the list."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)

    def page():
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        return response

    with CaptureQueriesContext(connection) as captured:
        page()
    statements = [query["sql"] for query in captured.captured_queries]
    total = listed_count(path, user)

    def raw():
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()

    return timed(page), timed(raw), len(statements), total


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    dry_run = "--dry-run" in sys.argv
    reuse = "--reuse" in sys.argv  # measure an already seeded benchmark database again
    count = int(args[0]) if args else 1_000_000
    url = harness.bench_url(DB_NAME)
    if not reuse:
        harness.recreate_database(url)
    setup_django(url)
    if reuse:
        seeding = float(os.environ.get("BENCH_SEED_SECONDS", "0"))
    else:
        print(f"Seeding {count:,} claims…", flush=True)
        seeding = seed(count)

    from django.db.models import Count

    from cpor.accounts.models import User
    from cpor.claims.models import Claim
    from cpor.partners.models import PartnerRoleName

    organisation_id = (
        Claim.objects.values("organisation_id")
        .order_by()
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()["organisation_id"]
    )
    user = User.objects.filter(
        partner_membership__organisation_id=organisation_id,
        partner_membership__role=PartnerRoleName.PARTNER_ADMIN,
    ).first()
    total_claims = Claim.objects.count()
    cases = [
        ("first page, newest first", "/claims/"),
        ("page 100", "/claims/?page=100"),
        ("filtered by status (approved)", "/claims/?status=approved"),
        ("sorted by name", "/claims/?sort=name"),
        ("free-text search (“Harbor”)", "/claims/?q=Harbor"),
    ]
    rows = []
    for label, path in cases:
        page_time, raw_time, queries, listed = measure(path, user)
        rows.append((label, listed, queries, page_time, raw_time))
        print(f"  {label}: {page_time * 1000:.1f} ms vs {raw_time * 1000:.1f} ms raw", flush=True)

    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0].split()[0]
    lines = [
        "",
        "## Claim list page (`bench/bench_claim_list.py`)",
        "",
        f"The partner's claim list (/claims/, 50 rows a page) rendered through Django's test "
        f"client for a partner admin of the largest demo organisation, with {total_claims:,} "
        f"claims in the database (seeded with `seed_demo --claims {count:,}` in "
        f"{seeding:.0f} s). The baseline replays the exact SQL statements the page ran, raw "
        f"on the same connection; the ratio is page time over raw SQL time (median of "
        f"{RUNS} runs after a warm-up).",
        "",
        f"- Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Django {django.get_version()}, PostgreSQL {pg_version}, all on one host.",
        f"- Date: {datetime.date.today().isoformat()}.",
        "",
        "| list page | claims listed | SQL queries | page | raw SQL | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, listed, queries, page_time, raw_time in rows:
        lines.append(
            f"| {label} | {listed:,} | {queries} | {page_time * 1000:.1f} ms | "
            f"{raw_time * 1000:.1f} ms | {page_time / raw_time:.1f}x |"
        )
    lines += [
        "",
        "Every case runs the same fixed number of queries whatever the page and the data size "
        "(session, user, membership, the filter choices, the count, the action-required "
        "badge, the page of claims with their role, area, tenant and PartnerID, and one query "
        "for all the page's lines). The default order and the sort by name walk indexes of "
        "the organisation's claims (migrations claims 0003 and 0005); the free-text search "
        "(case-insensitive substring of the claim or customer name) scans them.",
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if dry_run:
        return
    harness.write_section(START, END, section)


START = "<!-- bench/bench_claim_list.py: start -->"
END = "<!-- bench/bench_claim_list.py: end -->"


if __name__ == "__main__":
    main()
