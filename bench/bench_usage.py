"""Usage benchmark: the bulk import beside COPY of the resolved rows, and the dashboard.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpor \
        .venv/bin/python bench/bench_usage.py [--rows 1000000] [--big 3000000] \
        [--rounds 3] [--dashboard]

Drops and recreates a PostgreSQL database named ``cpor_bench_usage`` on the server
DATABASE_URL points at, and works only there. It measures:

1. ``manage.py import_usage`` of a CSV file of ROWS workload usage rows (24 months, in a
   child process started for each run; a clean file takes the fast path of
   ``usage/fast.py``, checked here; its time, its CPU and its PostgreSQL backend's
   CPU from /proc are taken around the command itself, so Python's start-up is not
   counted) beside the best hand-written load of the same rows: ``COPY`` of the
   already-resolved rows (tenant and workload ids, first-of-month dates) into the same
   table with the same indexes. Each run starts from an empty table (``TRUNCATE``,
   ``CHECKPOINT``); the sides alternate (A B A B …) and the figures are medians. Both
   sides end with the same rows (checked);
2. the import's peak memory (the child's ``ru_maxrss``) at ROWS and at BIG rows: it must
   not grow with the file;
3. with ``--dashboard``: the dashboard's monthly totals (``usage_totals``) for a partner
   holding thousands of active associations, beside the same aggregate computed by
   DuckDB over the same two tables exported once to Parquet.

The figures go to bench/results/usage.json (``bench/report.py`` builds the table in
docs/performance.md from it).
"""

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness
import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cpor_bench_usage"
MONTHS = 24
TARGET_ASSOCIATIONS = 5_000
COLUMNS = "tenant_id, product_id, month, active_users, paid_units"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def seconds(value: float) -> str:
    return f"{value:.1f} s" if value >= 1 else f"{value * 1000:.1f} ms"


def make_holder() -> tuple[object, int]:
    """Two partners with active workload associations in bulk (ORM bulk writes, so
    columns other apps add get their defaults): the measured one holds
    TARGET_ASSOCIATIONS units, one per tenant, the other a further 2,000 units. Tenants
    come first in primary key order, so the usage file covers all of them."""
    import random
    import uuid

    from django.utils import timezone

    from cpor.accounts.models import User
    from cpor.catalog.models import PartnerRole, Product
    from cpor.claims.models import Association, AssociationStatus, Claim, ClaimLine
    from cpor.customers.models import Tenant
    from cpor.partners.models import (
        Membership,
        PartnerLocation,
        PartnerOrganisation,
        PartnerRoleName,
    )

    rng = random.Random(5)
    role = PartnerRole.objects.get(code="use_or_consume")
    products = list(
        Product.objects.filter(solution_area__code="modern_work_security").values_list(
            "pk", flat=True
        )
    )
    now = timezone.now()
    users = []
    for index, units in enumerate((TARGET_ASSOCIATIONS, 2_000)):
        organisation = PartnerOrganisation.objects.create(name=f"Bench partner {index}")
        location = PartnerLocation.objects.create(
            organisation=organisation, partner_id=f"{9100000 + index}", name="HQ"
        )
        user = User.objects.create(
            username=f"bench{index}@partner.example", email=f"bench{index}@partner.example"
        )
        Membership.objects.create(
            user=user, organisation=organisation, role=PartnerRoleName.INCENTIVES_ADMIN
        )
        users.append(user)
        tenants = Tenant.objects.bulk_create(
            Tenant(tenant_id=uuid.uuid4(), name=f"Bench customer {index}-{n}") for n in range(units)
        )
        claims = Claim.objects.bulk_create(
            Claim(
                organisation=organisation,
                location=location,
                role=role,
                tenant=tenant,
                name=f"Adoption at {tenant.name}",
                customer_contact_name="IT",
                customer_contact_title="CIO",
                customer_contact_email="it@customer.example",
                partner_contact_name="Partner",
                partner_contact_email="p@partner.example",
                created_by=user,
            )
            for tenant in tenants
        )
        lines = ClaimLine.objects.bulk_create(
            ClaimLine(claim=claim, product_id=rng.choice(products)) for claim in claims
        )
        Claim.objects.filter(organisation=organisation).update(status="approved")
        ClaimLine.objects.filter(claim__organisation=organisation).update(status="approved")
        Association.objects.bulk_create(
            Association(
                claim=line.claim,
                line=line,
                organisation=organisation,
                tenant_id=line.claim.tenant_id,
                product_id=line.product_id,
                status=AssociationStatus.ACTIVE,
                approved_at=now - timezone.timedelta(days=rng.randint(30, 400)),
                notice_ends_at=now,
                activated_at=now - timezone.timedelta(days=rng.randint(1, 300)),
            )
            for line in lines
        )
    return users[0], TARGET_ASSOCIATIONS


def write_csv(path: Path, rows: int) -> None:
    from cpor.usage.demo import _bulk_rows
    from cpor.usage.selectors import month_window
    from cpor.usage.sources import WORKLOAD_COLUMNS

    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(WORKLOAD_COLUMNS)
        writer.writerows(_bulk_rows(rows, month_window(MONTHS), seed=7))


def timed(function, repeat: int = 5) -> tuple[float, float, object]:
    """(first run, median of the next ``repeat`` runs, result)."""
    started = time.perf_counter()
    result = function()
    first = time.perf_counter() - started
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return first, statistics.median(runs), result


def export_parquet(url: str, folder: Path) -> tuple[Path, Path]:
    import duckdb

    files = {}
    queries = {
        "usage": "SELECT tenant_id, product_id, month, active_users, paid_units "
        "FROM usage_workloadusage",
        "associations": "SELECT id, organisation_id, tenant_id, product_id, subscription_id, "
        "status FROM claims_association",
    }
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        for name, query in queries.items():
            csv_path = folder / f"{name}.csv"
            with (
                csv_path.open("wb") as out,
                cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv, HEADER true)") as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
            files[name] = folder / f"{name}.parquet"
            duckdb.execute(
                f"COPY (SELECT * FROM read_csv('{csv_path}', header=true)) "
                f"TO '{files[name]}' (FORMAT parquet)"
            )
            csv_path.unlink()
    return files["usage"], files["associations"]


def duckdb_totals(usage: Path, associations: Path, organisation_id: int, since, until):
    import duckdb

    def run():
        connection = duckdb.connect()
        rows = connection.execute(
            f"""
            SELECT u.month, SUM(u.active_users), SUM(u.paid_units)
            FROM read_parquet('{usage}') u
            JOIN read_parquet('{associations}') a
              ON a.tenant_id = u.tenant_id AND a.product_id = u.product_id
            WHERE a.organisation_id = ? AND a.status = 'active' AND a.subscription_id IS NULL
              AND u.month BETWEEN ? AND ?
            GROUP BY u.month ORDER BY u.month
            """,
            [organisation_id, since, until],
        ).fetchall()
        connection.close()
        return rows

    return run


def reset(conn) -> None:
    """The table as both sides find it: empty, with its indexes, nothing dirty."""
    conn.execute("TRUNCATE usage_workloadusage")
    conn.execute("CHECKPOINT")


def fingerprint(conn) -> tuple:
    return conn.execute(
        "SELECT COUNT(*), SUM(tenant_id), SUM(product_id), SUM(month - DATE '2000-01-01'), "
        "SUM(active_users), SUM(paid_units) FROM usage_workloadusage"
    ).fetchone()


def export_resolved(conn, path: Path) -> None:
    """The imported rows as the baseline loads them: ids and dates, in the file's order
    (tenants, then workloads, then months)."""
    with (
        path.open("wb") as out,
        conn.cursor() as cursor,
        cursor.copy(
            f"COPY (SELECT {COLUMNS} FROM usage_workloadusage "
            "ORDER BY tenant_id, product_id, month) TO STDOUT (FORMAT csv)"
        ) as copy,
    ):
        for data in copy:
            out.write(data)


def copy_resolved(conn, path: Path) -> harness.Usage:
    """The baseline: one COPY of the resolved rows, streamed from the file."""
    pg = harness.backend_pid(conn)
    with (
        harness.measure(pg_pids=[pg]) as usage,
        conn.cursor() as cursor,
        cursor.copy(f"COPY usage_workloadusage ({COLUMNS}) FROM STDIN (FORMAT csv)") as copy,
        path.open("rb") as file,
    ):
        while chunk := file.read(1 << 20):
            copy.write(chunk)
    return usage


def cpor_import(url: str, path: Path, var_dir: Path) -> tuple[harness.Usage, int, str]:
    """``manage.py import_usage`` in a child process; (its Usage, its peak memory in
    KiB, the command's summary line)."""
    env = {**os.environ, "DATABASE_URL": url, "CPOR_VAR_DIR": str(var_dir)}
    result = subprocess.run(  # noqa: S603 (this script, fixed arguments)
        [sys.executable, str(Path(__file__).resolve()), "--child", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["route"] == "fast", "a clean workload file must take the fast path"
    usage = harness.Usage(figures["wall"], figures["cpu_app"], figures["cpu_pg"])
    return usage, figures["maxrss_kib"], figures["summary"]


def child(path: str) -> None:
    """Run in the child: set Django up (not measured), then measure the command."""
    import io

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpor.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cpor.usage.management.commands import import_usage

    routes = []
    real_import = import_usage.usage_import

    def recording(**kwargs):  # which route the import took: "fast" or "checked"
        report = real_import(**kwargs)
        routes.append(report.route)
        return report

    import_usage.usage_import = recording
    pg = harness.backend_pid(connection)
    out = io.StringIO()
    with harness.measure(pg_pids=[pg]) as usage:
        call_command("import_usage", path, stdout=out)
    summary = next(line for line in out.getvalue().splitlines() if "written in" in line)
    summary = f"{summary.strip()} [{routes[0]} route]"
    print(
        json.dumps(
            {
                "wall": usage.wall,
                "cpu_app": usage.cpu_app,
                "cpu_pg": usage.cpu_pg,
                "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "summary": summary,
                "route": routes[0],
            }
        )
    )


def dashboard(url: str, folder: Path, user, held: int) -> list[dict]:
    """The dashboard aggregate beside DuckDB (``--dashboard``), after an import."""
    from django.db import connection

    from cpor.usage import selectors

    organisation_id = user.partner_membership.organisation_id
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE usage_workloadusage")
        conn.execute("VACUUM ANALYZE claims_association")
    window = selectors.month_window(MONTHS)
    cpor_first, cpor_median, totals = timed(
        lambda: selectors.usage_totals(actor=user, months=MONTHS)
    )
    connection.close()
    usage_parquet, associations_parquet = export_parquet(url, folder)
    duck = duckdb_totals(
        usage_parquet, associations_parquet, organisation_id, window[0], window[-1]
    )
    duck_first, duck_median, duck_rows = timed(duck)
    ours = [(t.month, t.active_users, t.paid_units) for t in totals if t.paid_units]
    theirs = [(m, int(a), int(p)) for m, a, p in duck_rows]
    assert ours == theirs, "PostgreSQL and DuckDB disagree on the totals"
    log(f"usage_totals {seconds(cpor_median)} · DuckDB {seconds(duck_median)}")
    return [
        harness.row(
            "usage_dashboard_totals",
            cpor_median * 1000,
            duck_median * 1000,
            unit="ms",
            note=f"usage_totals over {MONTHS} months for a partner holding {held:,} units, "
            f"median of 5 warm runs (first {seconds(cpor_first)}); baseline: the same join "
            f"and aggregate in DuckDB over the tables exported to Parquet "
            f"(first {seconds(duck_first)})",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=3_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dashboard", action="store_true")
    parser.add_argument("--child", metavar="FILE")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    url = harness.bench_url(DB_NAME)
    harness.recreate_database(url)
    with tempfile.TemporaryDirectory(prefix="cpor-usage-bench-") as tmp:
        folder = Path(tmp)
        var_dir = folder / "var"
        harness.setup_django(url, var_dir=var_dir)
        from django.db import connection

        user = held = None
        if args.dashboard:
            log("approving claims in bulk for the partner's active associations…")
            user, held = make_holder()
        files = {}
        for rows in sorted({args.rows, args.big}, reverse=True):  # the larger adds tenants
            files[rows] = folder / f"usage-{rows}.csv"
            log(f"writing {rows:,} usage rows to a CSV file…")
            write_csv(files[rows], rows)
        connection.close()
        path, resolved = files[args.rows], folder / "resolved.csv"
        size_mb = path.stat().st_size / 1e6

        with psycopg.connect(url, autocommit=True) as conn:
            log("warm-up import, and the resolved rows for the baseline…")
            reset(conn)
            cpor_import(url, path, var_dir)
            expected = fingerprint(conn)
            export_resolved(conn, resolved)
            log(f"{expected[0]:,} rows; resolved file {resolved.stat().st_size / 1e6:.0f} MB")

            peaks = []

            def side_cpor() -> harness.Usage:
                reset(conn)
                usage, peak, summary = cpor_import(url, path, var_dir)
                assert fingerprint(conn) == expected, "the import wrote other rows"
                peaks.append(peak)
                log(f"  import_usage {seconds(usage.wall)}, peak {peak / 1024:.0f} MiB: {summary}")
                return usage

            def side_copy() -> harness.Usage:
                reset(conn)
                usage = copy_resolved(conn, resolved)
                assert fingerprint(conn) == expected, "the baseline wrote other rows"
                log(f"  COPY of resolved rows {seconds(usage.wall)}")
                return usage

            ours, theirs = harness.interleave(side_cpor, side_copy, rounds=args.rounds)
            a, b = harness.median_usage(ours), harness.median_usage(theirs)
            peak_small = statistics.median(peaks)
            log(f"peak memory at {args.big:,} rows…")
            reset(conn)
            big_usage, peak_big, big_summary = cpor_import(url, files[args.big], var_dir)
            log(f"  {seconds(big_usage.wall)}, peak {peak_big / 1024:.0f} MiB: {big_summary}")
            version = conn.execute("SHOW server_version").fetchone()[0].split()[0]

        extra = []
        if args.dashboard:
            reset_conn = psycopg.connect(url, autocommit=True)
            reset(reset_conn)
            reset_conn.close()
            cpor_import(url, path, var_dir)
            extra = dashboard(url, folder, user, held)

    rows_cpor, rows_copy = args.rows / a.wall, args.rows / b.wall
    load = os.getloadavg()
    note = (
        f"manage.py import_usage of a {size_mb:.0f} MB CSV file, {args.rows:,} rows over "
        f"{MONTHS} months (fast path: checked in Arrow, one COPY of the resolved rows), "
        f"into an empty usage table (covering primary key and BRIN index), "
        f"median of {args.rounds} interleaved rounds; baseline: COPY of the same rows already "
        f"resolved (ids, dates) into the same table; CPU per import: CPOR "
        f"{a.cpu_app:.2f} s app + {a.cpu_pg:.2f} s PostgreSQL, COPY {b.cpu_app:.2f} s + "
        f"{b.cpu_pg:.2f} s; peak memory {peak_small / 1024:.0f} MiB at {args.rows:,} rows, "
        f"{peak_big / 1024:.0f} MiB at {args.big:,} ({args.big / big_usage.wall:,.0f} rows/s); "
        f"PostgreSQL {version}; load average {load[0]:.1f}"
    )
    result = harness.row(
        "usage_import",
        rows_cpor,
        rows_copy,
        unit="rows/s",
        note=note,
        cpu_app_s=a.cpu_app,
        cpu_pg_s=a.cpu_pg,
        baseline_cpu_app_s=b.cpu_app,
        baseline_cpu_pg_s=b.cpu_pg,
        cpu_app_ms=a.cpu_app * 1000,
        cpu_pg_ms=a.cpu_pg * 1000,
        baseline_cpu_app_ms=b.cpu_app * 1000,
        baseline_cpu_pg_ms=b.cpu_pg * 1000,
        cpu_ratio=(a.cpu_app + a.cpu_pg) / (b.cpu_app + b.cpu_pg),
        wall_s=a.wall,
        baseline_wall_s=b.wall,
        samples_wall_s=[round(u.wall, 3) for u in ours],
        baseline_samples_wall_s=[round(u.wall, 3) for u in theirs],
        peak_rss_mib={str(args.rows): peak_small / 1024, str(args.big): peak_big / 1024},
    )
    target = harness.record_results("usage", [result, *extra], note="bench/bench_usage.py")
    print(json.dumps(result, indent=2))
    log(f"wrote {target}")


if __name__ == "__main__":
    main()
