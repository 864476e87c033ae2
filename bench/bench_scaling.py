"""Benchmark: how the cost of the operations docs/scaling.md reasons about grows from 1x
to 10x of the data.

Run with ``DATABASE_URL=postgres://… .venv/bin/python bench/bench_scaling.py``. It drops
and recreates a database called ``cpor_ops_bench`` on that server, builds two copies of
the tables that matter, ``s1`` (1x) and ``s10`` (10x), with the columns and indexes of
the real ones (claims_claim's status, organisation and keyset indexes; the outbox's
(status, next_attempt_at) index; usage_workloadusage's (tenant, product, month) key),
then runs each query against both, alternately (1x, 10x, 1x, 10x …), and keeps medians
of the wall time and of the CPU of the PostgreSQL backend serving it (/proc). Results go
to bench/results/scaling.json; docs/scaling.md quotes them.

1x: 100,000 claims over 200 organisations; 100,000 sent outbox messages and 50 pending;
480,000 usage rows (2,000 tenants x 10 workloads x 24 months), plain and partitioned by
month. 10x: ten times each (the same 24 months, ten times the tenants).
"""

import argparse
import time

import harness
import psycopg

DB_NAME = "cpor_ops_bench"

SCHEMA = """
CREATE SCHEMA {s};
CREATE TABLE {s}.claim (
    id bigserial PRIMARY KEY, organisation_id bigint NOT NULL, status varchar(30) NOT NULL,
    name varchar(200) NOT NULL, created_at timestamptz NOT NULL, submitted_at timestamptz
);
CREATE TABLE {s}.outbox (
    id bigserial PRIMARY KEY, kind varchar(20) NOT NULL, status varchar(20) NOT NULL,
    attempts int NOT NULL DEFAULT 0, next_attempt_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL, body text NOT NULL
);
CREATE TABLE {s}.usage (
    tenant_id bigint NOT NULL, product_id bigint NOT NULL, month date NOT NULL,
    active_users int NOT NULL, paid_units int NOT NULL,
    PRIMARY KEY (tenant_id, product_id, month)
);
CREATE INDEX ON {s}.usage (month);
CREATE TABLE {s}.usage_part (
    tenant_id bigint NOT NULL, product_id bigint NOT NULL, month date NOT NULL,
    active_users int NOT NULL, paid_units int NOT NULL,
    PRIMARY KEY (tenant_id, product_id, month)
) PARTITION BY RANGE (month);
"""

STATUSES = "'{draft,submitted,in_review,action_required,approved,rejected,declined,expired}'"

FILL = """
INSERT INTO {s}.claim (organisation_id, status, name, created_at, submitted_at)
SELECT 1 + i % {orgs}, ({statuses}::text[])[1 + i % 8], 'Claim ' || i,
       now() - make_interval(secs => i), now() - make_interval(secs => i)
FROM generate_series(1, {claims}) i;
CREATE INDEX ON {s}.claim (organisation_id, status, created_at DESC);
CREATE INDEX ON {s}.claim (status, submitted_at);
CREATE INDEX claim_org_newest_{s} ON {s}.claim (organisation_id, created_at DESC, id DESC);
INSERT INTO {s}.outbox (kind, status, attempts, next_attempt_at, created_at, body)
SELECT CASE WHEN i % 4 = 0 THEN 'webhook' ELSE 'email' END,
       CASE WHEN i <= 50 THEN 'pending' ELSE 'sent' END, CASE WHEN i <= 50 THEN i % 3 ELSE 1 END,
       now(), now() - make_interval(secs => i), repeat('x', 200)
FROM generate_series(1, {sent} + 50) i;
CREATE INDEX ON {s}.outbox (status, next_attempt_at);
INSERT INTO {s}.usage
SELECT t, p, make_date(2025, 1, 1) + make_interval(months => m), (t * p + m) % 500, 500
FROM generate_series(1, {tenants}) t, generate_series(1, 10) p, generate_series(0, 23) m;
"""

QUERIES = {
    "claims_by_status": (
        "SELECT status, count(*) FROM {s}.claim GROUP BY status",
        "`cpor_claims` at scrape time: claims counted by status (GROUP BY, index-only scan "
        "of (status, submitted_at))",
    ),
    "claim_list_page": (
        "SELECT id, name, status, created_at FROM {s}.claim WHERE organisation_id = 7 "
        "ORDER BY created_at DESC, id DESC LIMIT 50",
        "an organisation's claim list, first keyset page of 50 (the organisation holds 10x "
        "the claims at 10x)",
    ),
    "outbox_backlog": (
        "SELECT kind, status, count(*), min(created_at) FROM {s}.outbox "
        "WHERE status IN ('pending', 'failed') GROUP BY kind, status",
        "`cpor_outbox_*` at scrape time: backlog and oldest age with 50 pending among 10x "
        "sent messages",
    ),
    "usage_tenant_dashboard": (
        "SELECT month, sum(active_users), sum(paid_units) FROM {s}.usage "
        "WHERE tenant_id = 77 GROUP BY month ORDER BY month",
        "one tenant's usage dashboard, 24 months x 10 workloads (key (tenant, product, month))",
    ),
    "usage_month_program_wide": (
        "SELECT product_id, sum(active_users) FROM {s}.usage_part "
        "WHERE month = DATE '2026-06-01' GROUP BY product_id",
        "program-wide totals of one month, partitioned table (one partition scanned)",
    ),
}

RETENTION = {
    "usage_drop_month_delete": (
        "DELETE FROM {s}.usage WHERE month = DATE '2025-01-01'",
        "retention: the oldest month removed by DELETE from the plain table (rolled back)",
    ),
    "usage_drop_month_partition": (
        "ALTER TABLE {s}.usage_part DETACH PARTITION {s}.usage_2025_01; "
        "DROP TABLE {s}.usage_2025_01",
        "retention: the oldest month's partition detached and dropped (rolled back)",
    ),
}


def build(url: str, scale: int) -> None:
    s = f"s{scale}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA.format(s=s))
        for m in range(24):
            year, month = 2025 + m // 12, 1 + m % 12
            nxt_year, nxt_month = (year, month + 1) if month < 12 else (year + 1, 1)
            conn.execute(
                f"CREATE TABLE {s}.usage_{year}_{month:02d} PARTITION OF {s}.usage_part "
                f"FOR VALUES FROM ('{year}-{month:02d}-01') TO ('{nxt_year}-{nxt_month:02d}-01')"
            )
        conn.execute(
            FILL.format(
                s=s,
                orgs=200,
                statuses=STATUSES,
                claims=100_000 * scale,
                sent=100_000 * scale,
                tenants=2_000 * scale,
            )
        )
        conn.execute(f"INSERT INTO {s}.usage_part SELECT * FROM {s}.usage")
        conn.execute(f"VACUUM ANALYZE {s}.claim, {s}.outbox, {s}.usage, {s}.usage_part")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    url = harness.bench_url(DB_NAME)
    harness.recreate_database(url)
    started = time.perf_counter()
    for scale in (1, 10):
        build(url, scale)
        print(f"built {scale}x in {time.perf_counter() - started:.0f} s", flush=True)

    conn = psycopg.connect(url, autocommit=True)
    pg = harness.backend_pid(conn)
    rows = []

    def query(sql: str):
        return harness.timed(lambda: conn.execute(sql).fetchall(), pg_pids=[pg])

    def in_rollback(sql: str):
        def run() -> None:
            with conn.transaction(force_rollback=True):
                conn.execute(sql)

        return harness.timed(run, pg_pids=[pg])

    for name, (sql, note) in {**QUERIES, **RETENTION}.items():
        wrap = in_rollback if name in RETENTION else query
        one, ten = harness.interleave(
            wrap(sql.format(s="s1")), wrap(sql.format(s="s10")), args.rounds, warmup=1
        )
        a, b = harness.median_usage(ten), harness.median_usage(one)
        row = harness.row(
            f"scaling_{name}", a, b, label=name, note=f"{note}; 10x (cpor) beside 1x (baseline)"
        )
        rows.append(row)
        print(
            f"{name:28} 1x {row['baseline']:9.2f} ms  10x {row['cpor']:9.2f} ms  "
            f"growth {row['ratio']:.1f}x  (PostgreSQL CPU {row['baseline_cpu_pg_ms']:.1f} -> "
            f"{row['cpu_pg_ms']:.1f} ms)",
            flush=True,
        )

    # A new connection per request (what 100 web nodes do without a pooler) beside a query
    # on an open one.
    def fresh() -> None:
        with psycopg.connect(url) as c:
            c.execute("SELECT 1").fetchall()

    opened, reused = harness.interleave(
        harness.timed(fresh),
        harness.timed(lambda: conn.execute("SELECT 1").fetchall()),
        args.rounds * 5,
        warmup=2,
    )
    row = harness.row(
        "scaling_connect",
        harness.median_usage(opened),
        harness.median_usage(reused),
        label="new connection + SELECT 1 (cpor) beside SELECT 1 on an open one (baseline)",
        note="what a pooler saves per request",
    )
    rows.append(row)
    print(f"connect+SELECT 1 {row['cpor']:.2f} ms, SELECT 1 {row['baseline']:.2f} ms")
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT s, pg_total_relation_size(format('%s.claim', s)::regclass), "
            "pg_total_relation_size(format('%s.usage', s)::regclass) FROM unnest("
            "ARRAY['s1', 's10']) s"
        )
        sizes = {s: {"claims_bytes": c, "usage_bytes": u} for s, c, u in cursor.fetchall()}
    print(sizes)
    harness.record_results(
        "scaling",
        rows,
        note=f"bench/bench_scaling.py, {DB_NAME}, medians of {args.rounds} interleaved rounds; "
        f"sizes {sizes}",
    )


if __name__ == "__main__":
    main()
