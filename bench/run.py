"""CPOR benchmark: what the product's write paths cost beside plain SQL.

Run with ``make bench`` (or ``DATABASE_URL=postgres://… .venv/bin/python bench/run.py``).
Whatever database DATABASE_URL names, the benchmark drops and recreates one called
``cpor_bench`` on that server and works only there. It prints a markdown table and
puts it in its own section of docs/performance.md, leaving the other benchmarks' sections.
"""

import datetime
import os
import platform
import time
from io import StringIO
from pathlib import Path

import harness
import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cpor_bench"
SEED_CLAIMS = 100_000
APPROVALS = 10_000
# As in production, notifications go to Celery; no worker runs, so they wait in a Redis
# database of their own, emptied at the end (embedded mode would send them in-process).
BROKER = "redis://127.0.0.1:6379/13"


GENERATED_TABLES = (
    "customers_tenant",
    "customers_tenantdomain",
    "customers_tenantadmincontact",
    "customers_subscription",
    "claims_claim",
    "claims_claimline",
    "claims_proofofexecution",
    "claims_claimevent",
    "claims_association",
)


def table_counts(cur) -> dict[str, int]:
    counts = {}
    for table in GENERATED_TABLES:
        cur.execute(f"SELECT count(*) FROM {table}")
        counts[table] = cur.fetchone()[0]
    return counts


def max_id(cur, table: str) -> int:
    cur.execute(f"SELECT COALESCE(max(id), 0) FROM {table}")
    return cur.fetchone()[0]


def ids(cur, sql: str, params=()) -> list[int]:
    cur.execute(sql, params)
    return [row[0] for row in cur.fetchall()]


# ---------------------------------------------------------------------------
# (a) seeding


def measure_seed(url: str) -> tuple[float, dict[str, int]]:
    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())  # the small story, not timed
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        before = table_counts(cur)
    started = time.perf_counter()
    call_command(
        "seed_demo", "--claims", str(SEED_CLAIMS), "--random-seed", "2026", stdout=StringIO()
    )
    elapsed = time.perf_counter() - started
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        after = table_counts(cur)
    return elapsed, {table: after[table] - before[table] for table in GENERATED_TABLES}


def baseline_seed(url: str, rows: dict[str, int]) -> float:
    """The same number of rows per table with INSERT … SELECT generate_series, as drafts
    first and then a status update, like the generator (the line trigger applies)."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM partners_partnerorganisation ORDER BY id LIMIT 1")
        org = cur.fetchone()[0]
        cur.execute("SELECT id FROM partners_partnerlocation WHERE organisation_id = %s", [org])
        location = cur.fetchone()[0]
        cur.execute("SELECT id FROM catalog_partnerrole WHERE code = 'use_or_consume'")
        role = cur.fetchone()[0]
        cur.execute("SELECT id FROM accounts_user ORDER BY id LIMIT 1")
        user = cur.fetchone()[0]
        workloads = ids(
            cur,
            "SELECT p.id FROM catalog_product p JOIN catalog_solutionarea a "
            "ON a.id = p.solution_area_id WHERE a.code = 'modern_work_security' ORDER BY p.id",
        )
        bizapps = ids(cur, "SELECT id FROM catalog_product WHERE code = 'd365_sales'")[0]
        t0 = max_id(cur, "customers_tenant")
        c0 = max_id(cur, "claims_claim")
        l0 = max_id(cur, "claims_claimline")
        n_tenants, n_claims = rows["customers_tenant"], rows["claims_claim"]
        per_tenant = -(-n_claims // n_tenants)
        params = {
            "t0": t0,
            "c0": c0,
            "l0": l0,
            "org": org,
            "location": location,
            "role": role,
            "user": user,
            "workloads": workloads,
            "bizapps": bizapps,
            "per_tenant": per_tenant,
            **{table: count for table, count in rows.items()},
        }
        statements = [
            """INSERT INTO customers_tenant (tenant_id, name, country, language, created_at)
               SELECT gen_random_uuid(), 'Baseline customer ' || g, 'PT', 'en', now()
               FROM generate_series(1, %(customers_tenant)s) g""",
            """INSERT INTO customers_tenantdomain (tenant_id, domain, verified)
               SELECT id, 'baseline-' || id || '.example', true FROM customers_tenant
               WHERE id > %(t0)s ORDER BY id LIMIT %(customers_tenantdomain)s""",
            """INSERT INTO customers_tenantadmincontact (tenant_id, name, email, language)
               SELECT id, 'IT administrator', 'it@baseline-' || id || '.example', 'en'
               FROM customers_tenant WHERE id > %(t0)s ORDER BY id
               LIMIT %(customers_tenantadmincontact)s""",
            """INSERT INTO customers_subscription (subscription_id, tenant_id, product_id,
                   purchase_channel, seats, starts_on, ends_on)
               SELECT gen_random_uuid(), %(t0)s + 1 + g %% %(customers_tenant)s, %(bizapps)s,
                   'volume_licensing', 50, current_date - 400, current_date + 300
               FROM generate_series(0, %(customers_subscription)s - 1) g""",
            """INSERT INTO claims_claim (organisation_id, location_id, role_id, tenant_id, name,
                   incentive_opt_out, customer_contact_name, customer_contact_title,
                   customer_contact_email, partner_contact_name, partner_contact_email,
                   seller_name, customer_name, isv_solution_name, comments, created_by_id,
                   created_at, updated_at, submitted_at, status)
               SELECT %(org)s, %(location)s, %(role)s, %(t0)s + 1 + g / %(per_tenant)s,
                   'Baseline claim ' || g, false, 'IT administrator', 'IT director',
                   'it@baseline.example', 'Rui Costa', 'rui@partner.example', '', '', '', '',
                   %(user)s, now(), now(), now(), 'draft'
               FROM generate_series(0, %(claims_claim)s - 1) g""",
            # Claim g's k-th line is workload 2*(g mod per_tenant)+k: every unit distinct.
            """INSERT INTO claims_claimline (claim_id, product_id, status)
               SELECT %(c0)s + 1 + g %% %(claims_claim)s,
                   (%(workloads)s::bigint[])[1 + (2 * ((g %% %(claims_claim)s) %% %(per_tenant)s)
                       + g / %(claims_claim)s) %% cardinality(%(workloads)s::bigint[])],
                   'pending'
               FROM generate_series(0, %(claims_claimline)s - 1) g""",
            """INSERT INTO claims_proofofexecution (claim_id, file, original_name, content_type,
                   size, sha256, poe_type, signed_on, signatory, description, uploaded_by_id,
                   uploaded_at)
               SELECT %(c0)s + 1 + g, 'poe/baseline.pdf', 'sow.pdf', 'application/pdf', 1000,
                   repeat('0', 64), 'statement_of_work', current_date - 10, 'IT administrator',
                   '', %(user)s, now()
               FROM generate_series(0, %(claims_proofofexecution)s - 1) g""",
            """UPDATE claims_claim SET status = (ARRAY['submitted', 'approved', 'rejected',
                   'in_review'])[1 + id %% 4]
               WHERE id > %(c0)s AND id %% 12 <> 0""",
            """INSERT INTO claims_association (claim_id, line_id, organisation_id, tenant_id,
                   product_id, status, end_reason, end_message, approved_at, notice_ends_at,
                   activated_at)
               SELECT l.claim_id, l.id, %(org)s, c.tenant_id, l.product_id, 'active', '', '',
                   now(), now(), now()
               FROM claims_claimline l JOIN claims_claim c ON c.id = l.claim_id
               WHERE l.id > %(l0)s ORDER BY l.id LIMIT %(claims_association)s""",
            """INSERT INTO claims_claimevent (claim_id, action, from_status, to_status,
                   reason_code, message, internal, actor_id, actor_label, at)
               SELECT %(c0)s + 1 + g %% %(claims_claim)s, 'submit', 'draft', 'submitted', '',
                   '', false, %(user)s, '', now()
               FROM generate_series(0, %(claims_claimevent)s - 1) g""",
        ]
        conn.commit()
        started = time.perf_counter()
        for statement in statements:
            cur.execute(statement, params)
        conn.commit()
        elapsed = time.perf_counter() - started
        after = table_counts(cur)
    return elapsed, after


# ---------------------------------------------------------------------------
# (b) approvals


def prepare_submitted(count: int) -> list[int]:
    from cpor.claims.models import Claim, ClaimStatus
    from cpor.web import demo

    first = (Claim.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    demo.generate_claims(
        count, mix={ClaimStatus.SUBMITTED: 1}, roles={"use_or_consume": 1}, seed=count
    )
    return list(
        Claim.objects.filter(pk__gte=first, status=ClaimStatus.SUBMITTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def outbox_rows() -> int:
    """E-mails queued in the transactional outbox, where that app is installed."""
    from django.apps import apps

    try:
        return apps.get_model("notifications", "OutboxMessage").objects.count()
    except LookupError:
        return 0


def measure_approvals(claim_ids: list[int]) -> tuple[float, int]:
    from cpor.accounts.models import User
    from cpor.claims import services

    reviewer = User.objects.get(username="reviewer@cpor.example")
    queued = outbox_rows()
    started = time.perf_counter()
    for pk in claim_ids:
        services.claim_approve(actor=reviewer, claim=pk)
    return time.perf_counter() - started, outbox_rows() - queued


def baseline_approvals(url: str, claim_ids: list[int]) -> float:
    """The rows one approval writes, as plain SQL, one transaction per claim."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM accounts_user WHERE username = 'reviewer@cpor.example'")
        reviewer = cur.fetchone()[0]
        conn.commit()
        started = time.perf_counter()
        for pk in claim_ids:
            with conn.transaction():
                cur.execute(
                    "UPDATE claims_claim SET status = 'approved', updated_at = now(), "
                    "decided_at = now() WHERE id = %s AND status = 'submitted' "
                    "RETURNING organisation_id, tenant_id",
                    [pk],
                )
                organisation, tenant = cur.fetchone()
                cur.execute(
                    "UPDATE claims_claimline SET status = 'approved' "
                    "WHERE claim_id = %s AND status = 'pending' "
                    "RETURNING id, product_id, subscription_id",
                    [pk],
                )
                line, product, subscription = cur.fetchone()
                cur.execute(
                    "INSERT INTO claims_association (claim_id, line_id, organisation_id, "
                    "tenant_id, product_id, subscription_id, status, end_reason, end_message, "
                    "approved_at, notice_ends_at) VALUES (%s, %s, %s, %s, %s, %s, "
                    "'pending_customer', '', '', now(), now() + interval '7 days')",
                    [pk, line, organisation, tenant, product, subscription],
                )
                cur.execute(
                    "INSERT INTO claims_claimevent (claim_id, action, from_status, to_status, "
                    "reason_code, message, internal, actor_id, actor_label, at) VALUES "
                    "(%s, 'approve', 'submitted', 'approved', '', '', false, %s, '', now())",
                    [pk, reviewer],
                )
        return time.perf_counter() - started


# ---------------------------------------------------------------------------
# Report


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def postgres_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def seconds(value: float) -> str:
    return f"{value:.1f} s"


START = "<!-- bench/run.py: start -->"
END = "<!-- bench/run.py: end -->"


def render(rows: list[tuple[str, str, str, str]], *, url: str, emails: int) -> str:
    table = ["| what | CPOR | baseline | ratio |", "|---|---:|---:|---:|"]
    table += [f"| {what} | {cpor} | {base} | {ratio} |" for what, cpor, base, ratio in rows]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return "\n".join(
        [
            "## Seeding and approvals (`make bench`)",
            "",
            "`make bench` runs `bench/run.py`: it drops and recreates a PostgreSQL database "
            f"named `{DB_NAME}` on the server DATABASE_URL points at, migrates it, and times "
            "CPOR's write paths beside plain SQL writing the same rows into the same tables "
            "of the same database in the same run. The ratio is CPOR's time over the "
            "baseline's; it is the figure to compare between runs, as both sides share "
            "whatever else the machine is doing.",
            "",
            f"- Machine: {machine()}, PostgreSQL {postgres_version(url)}, all on one host; "
            f"load average at the end of the run: {load}.",
            f"- Date: {datetime.date.today().isoformat()}.",
            "",
            *table,
            "",
            f"- **Seeding**: `manage.py seed_demo --claims {SEED_CLAIMS}` (generated tenants, "
            "domains, admin contacts, subscriptions, claims, lines, PoE, history events and "
            "associations, written with COPY; claims go in as drafts and take their status "
            "afterwards because the database refuses lines for a submitted claim). The "
            "baseline writes the same number of rows per table with `INSERT … SELECT "
            "generate_series`.",
            f"- **Approvals**: {APPROVALS:,} calls of `claim_approve` on submitted one-line "
            "claims, each in its own transaction: lock, state check, conflict check against "
            "held associations, association, line and claim updates, history event. The "
            "baseline runs the four writes (claim and line UPDATE, association and event "
            "INSERT) as plain SQL, one transaction per claim."
            + (
                f" CPOR also queued {emails:,} notification e-mails in the outbox in those "
                "same transactions and handed each to Celery after commit (Redis, no worker "
                "running, as a production web process does); the baseline writes none."
                if emails
                else ""
            ),
        ]
    )


def main() -> None:
    url = harness.bench_url(DB_NAME)
    print(f"Recreating {DB_NAME} and migrating…", flush=True)
    harness.recreate_database(url)
    harness.setup_django(url, env={"CELERY_BROKER_URL": BROKER})

    print(f"(a) seed_demo --claims {SEED_CLAIMS}…", flush=True)
    seed_time, rows = measure_seed(url)
    total_rows = sum(rows.values())
    base_seed_time, _after = baseline_seed(url, rows)

    print(f"(b) {APPROVALS} approvals…", flush=True)
    cpor_claims = prepare_submitted(APPROVALS)
    base_claims = prepare_submitted(APPROVALS)
    assert len(cpor_claims) == len(base_claims) == APPROVALS
    try:
        approve_time, emails = measure_approvals(cpor_claims)
    finally:
        import redis

        redis.Redis.from_url(BROKER).flushdb()
    base_approve_time = baseline_approvals(url, base_claims)

    per = 1000 / APPROVALS
    result = [
        (
            f"seed_demo --claims {SEED_CLAIMS:,} ({total_rows:,} rows)",
            seconds(seed_time),
            seconds(base_seed_time),
            f"{seed_time / base_seed_time:.1f}x",
        ),
        (
            f"{APPROVALS:,} approvals through claim_approve",
            f"{seconds(approve_time)} ({approve_time * per:.2f} ms each)",
            f"{seconds(base_approve_time)} ({base_approve_time * per:.2f} ms each)",
            f"{approve_time / base_approve_time:.1f}x",
        ),
    ]
    report = render(result, url=url, emails=emails)
    print(report)
    harness.write_section(START, END, report)


if __name__ == "__main__":
    main()
