"""CPOR benchmark: seeding, and approvals through the service beside the best SQL.

Run with ``make bench`` (or ``DATABASE_URL=postgres://… .venv/bin/python bench/run.py``).
Whatever database DATABASE_URL names, the benchmark drops and recreates one called
``cpor_bench_e_run`` on that server and works only there. It prints its figures and
writes them to bench/results/approvals.json; bench/report.py builds docs/performance.md.

- Seeding (one run each, not a target): ``seed_demo --claims 100000`` beside
  ``INSERT … SELECT generate_series`` writing as many rows per table.
- Approval (target: the service at most 3x the best SQL): ``claim_approve`` on submitted
  one-line claims, one transaction each, beside the best hand-written SQL for the same
  rows, also one transaction per claim: one statement locks the claim and checks its
  state, its pending lines and the held associations of their units; one statement
  (data-modifying CTEs) approves the lines, the claim, inserts the associations and
  the history event. Batches of each side alternate (A B A B); the figures are medians
  of the batches' per-approval time and CPU (this process, and the PostgreSQL backend
  serving the side's connection, from /proc).

The service runs as a production web process would (``harness.PRODUCTION_SERVICES``: a
Redis broker where no worker runs, and the shared cache, CACHE_URL), so whatever the
transition hands to background work after commit is queued there (emptied at the end),
never delivered in-process.
"""

import argparse
import datetime
from io import StringIO
from pathlib import Path

import harness
import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cpor_bench_e_run"
SEED_CLAIMS = 100_000
AWAITING_DECISION = ("submitted", "in_review", "disputed")


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


def measure_seed(url: str) -> tuple[harness.Usage, dict[str, int]]:
    from django.core.management import call_command
    from django.db import connection

    call_command("seed_demo", stdout=StringIO())  # the small story, not timed
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        before = table_counts(cur)
    with harness.measure(pg_pids=[harness.backend_pid(connection)]) as usage:
        call_command(
            "seed_demo", "--claims", str(SEED_CLAIMS), "--random-seed", "2026", stdout=StringIO()
        )
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        after = table_counts(cur)
    return usage, {table: after[table] - before[table] for table in GENERATED_TABLES}


def baseline_seed(url: str, rows: dict[str, int]) -> harness.Usage:
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
                   activated_at, legacy_source)
               SELECT l.claim_id, l.id, %(org)s, c.tenant_id, l.product_id, 'active', '', '',
                   now(), now(), now(), ''
               FROM claims_claimline l JOIN claims_claim c ON c.id = l.claim_id
               WHERE l.id > %(l0)s ORDER BY l.id LIMIT %(claims_association)s""",
            """INSERT INTO claims_claimevent (claim_id, action, from_status, to_status,
                   reason_code, message, internal, actor_id, actor_label, at)
               SELECT %(c0)s + 1 + g %% %(claims_claim)s, 'submit', 'draft', 'submitted', '',
                   '', false, %(user)s, '', now()
               FROM generate_series(0, %(claims_claimevent)s - 1) g""",
        ]
        conn.commit()
        with harness.measure(pg_pids=[harness.backend_pid(conn)]) as usage:
            for statement in statements:
                cur.execute(statement, params)
            conn.commit()
    return usage


# ---------------------------------------------------------------------------
# (b) approvals


def prepare_submitted(count: int) -> list[int]:
    """``count`` new submitted one-line claims, each on units of its own."""
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


# The claim locked, with what the decision needs: its state, the notice period of its
# engagement, whether it has pending lines and whether another association holds one of
# their units (a subscription, or a tenant's workload).
LOCK_AND_CHECK = """
SELECT c.status, e.notice_period_days,
    EXISTS (SELECT 1 FROM claims_claimline l
            WHERE l.claim_id = c.id AND l.status = 'pending') AS pending,
    EXISTS (SELECT 1 FROM claims_claimline l JOIN claims_association a
                ON a.status IN ('pending_customer', 'active')
               AND (a.subscription_id = l.subscription_id
                    OR (l.subscription_id IS NULL AND a.subscription_id IS NULL
                        AND a.tenant_id = c.tenant_id AND a.product_id = l.product_id))
            WHERE l.claim_id = c.id AND l.status = 'pending') AS held
FROM claims_claim c
JOIN catalog_partnerrole r ON r.id = c.role_id
JOIN catalog_engagement e ON e.id = r.engagement_id
WHERE c.id = %(claim)s
FOR UPDATE OF c
"""

# Every pending line approved and associated, the claim approved, its history event.
APPROVE = """
WITH lines AS (
    UPDATE claims_claimline SET status = 'approved'
    WHERE claim_id = %(claim)s AND status = 'pending'
    RETURNING id, product_id, subscription_id
), claim AS (
    UPDATE claims_claim SET status = 'approved', updated_at = %(now)s, decided_at = %(now)s
    WHERE id = %(claim)s
    RETURNING organisation_id, tenant_id
), associations AS (
    INSERT INTO claims_association (claim_id, line_id, organisation_id, tenant_id,
        product_id, subscription_id, status, end_reason, end_message, approved_at,
        notice_ends_at, activated_at, legacy_source)
    SELECT %(claim)s, lines.id, claim.organisation_id, claim.tenant_id, lines.product_id,
        lines.subscription_id,
        CASE WHEN %(notice_days)s = 0 THEN 'active' ELSE 'pending_customer' END, '', '',
        %(now)s, %(now)s + make_interval(days => %(notice_days)s),
        CASE WHEN %(notice_days)s = 0 THEN %(now)s END, ''
    FROM lines, claim
)
INSERT INTO claims_claimevent (claim_id, action, from_status, to_status, reason_code,
    message, internal, actor_id, actor_label, at)
VALUES (%(claim)s, 'approve', %(from_status)s, 'approved', '', '', false, %(actor)s, '',
    %(now)s)
"""


def sql_approve(conn: psycopg.Connection, claim: int, actor: int) -> None:
    """One approval in one transaction, as the best hand-written SQL does it."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(LOCK_AND_CHECK, {"claim": claim})
        status, notice_days, pending, held = cur.fetchone()
        if status not in AWAITING_DECISION or not pending or held:
            raise RuntimeError(f"claim {claim} cannot be approved: {status}, held={held}")
        cur.execute(
            APPROVE,
            {
                "claim": claim,
                "now": datetime.datetime.now(datetime.UTC),
                "notice_days": notice_days,
                "from_status": status,
                "actor": actor,
            },
        )


def batches(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def measure_approvals(url: str, *, rounds: int, batch: int) -> tuple[harness.Usage, ...]:
    """Median per-approval Usage of the service and of the SQL, interleaved by batch."""
    from django.db import connection

    from cpor.accounts.models import User
    from cpor.claims import services

    claims = prepare_submitted(2 * (rounds + 1) * batch)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # fresh statistics, as autovacuum keeps them
    cpor_batches = iter(batches(claims[0::2], batch))
    sql_batches = iter(batches(claims[1::2], batch))
    reviewer = User.objects.get(username="reviewer@cpor.example")
    django_backend = harness.backend_pid(connection)
    conn = psycopg.connect(url)
    sql_backend = harness.backend_pid(conn)
    conn.commit()

    def cpor() -> harness.Usage:
        chunk = next(cpor_batches)
        with harness.measure(pg_pids=[django_backend]) as usage:
            for pk in chunk:
                services.claim_approve(actor=reviewer, claim=pk)
        return usage.per(len(chunk))

    def sql() -> harness.Usage:
        chunk = next(sql_batches)
        with harness.measure(pg_pids=[sql_backend]) as usage:
            for pk in chunk:
                sql_approve(conn, pk, reviewer.pk)
        return usage.per(len(chunk))

    try:
        a, b = harness.interleave(cpor, sql, rounds, warmup=1)
    finally:
        conn.close()
    check_same_rows(claims[0::2], claims[1::2])
    return harness.median_usage(a), harness.median_usage(b)


def check_same_rows(cpor_claims: list[int], sql_claims: list[int]) -> None:
    """Both sides approved every claim they took and wrote the same kinds of rows."""
    from django.db.models import Count

    from cpor.claims.models import Association, Claim, ClaimEvent

    def summary(pks: list[int]) -> tuple:
        return (
            dict(Claim.objects.filter(pk__in=pks).values_list("status").annotate(n=Count("pk"))),
            dict(
                Association.objects.filter(claim__in=pks)
                .values_list("status")
                .annotate(n=Count("pk"))
            ),
            ClaimEvent.objects.filter(claim__in=pks, action="approve").count(),
        )

    cpor, sql = summary(cpor_claims), summary(sql_claims)
    if cpor != sql:
        raise RuntimeError(f"the two sides wrote different rows: {cpor} != {sql}")


# ---------------------------------------------------------------------------


def postgres_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def show(label: str, cpor: harness.Usage, sql: harness.Usage) -> None:
    ratio = cpor.wall / sql.wall if sql.wall else float("nan")
    print(
        f"{label}: CPOR {cpor.wall * 1000:.2f} ms (app CPU {cpor.cpu_app * 1000:.2f}, "
        f"PG CPU {cpor.cpu_pg * 1000:.2f}) | SQL {sql.wall * 1000:.2f} ms (app CPU "
        f"{sql.cpu_app * 1000:.2f}, PG CPU {sql.cpu_pg * 1000:.2f}) | {ratio:.1f}x",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="batches per side (default 10)")
    parser.add_argument("--batch", type=int, default=200, help="approvals per batch")
    parser.add_argument("--no-seed", action="store_true", help="skip the 100,000-claim seed")
    args = parser.parse_args()

    url = harness.bench_url(DB_NAME)
    print(f"Recreating {DB_NAME} and migrating…", flush=True)
    harness.recreate_database(url)
    harness.setup_django(url, env=harness.PRODUCTION_SERVICES)
    from django.conf import settings

    background = settings.CPOR_BACKGROUND
    rows = []
    pg = postgres_version(url)
    if not args.no_seed:
        print(f"(a) seed_demo --claims {SEED_CLAIMS:,}…", flush=True)
        seed, counts = measure_seed(url)
        seed_sql = baseline_seed(url, counts)
        show("seeding (whole run)", seed, seed_sql)
        rows.append(
            harness.row(
                "seed_demo",
                seed,
                seed_sql,
                label=f"seeding {SEED_CLAIMS:,} claims (whole run)",
                note=f"`seed_demo --claims {SEED_CLAIMS:,}` ({sum(counts.values()):,} rows "
                "written with COPY) beside `INSERT … SELECT generate_series` of as many rows "
                "per table; one run each, whole run in ms.",
            )
        )
    print(f"(b) approvals: {args.rounds} batches of {args.batch} per side…", flush=True)
    try:
        cpor, sql = measure_approvals(url, rounds=args.rounds, batch=args.batch)
    finally:
        harness.clear_production_services()
    show("approval (per claim)", cpor, sql)
    seeded = "" if args.no_seed else f" at {SEED_CLAIMS:,} seeded claims"
    rows.append(
        harness.row(
            "approval_service",
            cpor,
            sql,
            note=f"`claim_approve` on submitted one-line claims{seeded}, one transaction "
            "each, beside the best SQL (one statement locks the claim "
            "and checks state, pending lines and held units; one statement of CTEs writes "
            "lines, claim, association and event); interleaved batches of "
            f"{args.batch}, median of {args.rounds}, per approval. Production web process: "
            "Celery broker and shared cache (CACHE_URL) set, no worker "
            f"(CPOR_BACKGROUND={background}).",
        )
    )
    path = harness.record_results(
        "approvals", rows, note=f"bench/run.py, PostgreSQL {pg}, database {DB_NAME}"
    )
    print(f"Wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
