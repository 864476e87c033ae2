"""Analytics benchmark: each table of the program analytics dashboard at a million
claims, and the whole dashboard page, beside the best hand-written SQL for the same rows.

Run with ``DATABASE_URL=postgres://… .venv/bin/python bench/bench_analytics.py``. It
drops and recreates ``cpor_bench_analytics`` (``--reuse NAME`` measures a database that
bench/bench_claim_list.py or bench/bench_review.py seeded instead), seeds ``--claims``
claims (default 1,000,000) with bench_claim_list's generator (lines, PoE, history,
associations in the demo's status mix), then, for the default filters (the last 90 days,
every engagement):

- each table: ``cpor.analytics.selectors.report(key, filters)`` interleaved A B A B with
  one psycopg round trip of the best SQL for the same rows; both must give the same
  counts;
- the page: ``GET /review/analytics/`` as a reviewer through Django's test client (the 8
  tables, the charts, the template) beside the 8 statements run back to back;
- the page again within ``ANALYTICS_CACHE_SECONDS`` of a first view, from the tables the
  app keeps, beside the same 8 statements.

Everything else runs with ``ANALYTICS_CACHE_SECONDS=0``: each call computes.

Medians of wall time and of CPU (this process and the PostgreSQL backend of each side,
from /proc). Results: bench/results/analytics.json, for bench/report.py.
"""

import argparse
import datetime
import os

import harness
import psycopg

DB_NAME = "cpor_bench_analytics"
ROUNDS = 9

AWAITING = "('submitted', 'in_review', 'disputed')"
DECIDED = "('approved', 'partially_approved', 'rejected')"
SECONDS = "extract(epoch FROM c.decided_at - c.submitted_at)"
DECLINED = "a.end_reason = 'declined_by_customer'"

# The best SQL for each table's rows, for the same cohort. %(since)s / %(until)s bound
# the period; the SLA's due offsets are given per ISO weekday.
BEST_SQL = {
    "funnel": """
        SELECT count(*), count(c.submitted_at),
               count(*) FILTER (WHERE a.claim_id IS NOT NULL),
               count(*) FILTER (WHERE a.active)
          FROM claims_claim c
          LEFT JOIN (SELECT claim_id, bool_or(activated_at IS NOT NULL) AS active
                       FROM claims_association GROUP BY claim_id) a ON a.claim_id = c.id
         WHERE c.created_at >= %(since)s AND c.created_at < %(until)s""",
    "funnel-exits": """
        SELECT c.status, c.submitted_at IS NOT NULL, count(*)
          FROM claims_claim c
         WHERE c.created_at >= %(since)s AND c.created_at < %(until)s
           AND c.status <> 'rejected'
           AND NOT EXISTS (SELECT 1 FROM claims_association a WHERE a.claim_id = c.id)
         GROUP BY 1, 2
        UNION ALL
        SELECT 'approved, not active', true, count(*)
          FROM claims_claim c
         WHERE c.created_at >= %(since)s AND c.created_at < %(until)s
           AND EXISTS (SELECT 1 FROM claims_association a WHERE a.claim_id = c.id)
           AND NOT EXISTS (SELECT 1 FROM claims_association a
                            WHERE a.claim_id = c.id AND a.activated_at IS NOT NULL)
        UNION ALL
        SELECT e.reason_code, true, count(*)
          FROM claims_claim c
          JOIN LATERAL (SELECT reason_code FROM claims_claimevent e
                         WHERE e.claim_id = c.id AND e.action = 'reject'
                         ORDER BY e.at DESC, e.id DESC LIMIT 1) e ON true
         WHERE c.created_at >= %(since)s AND c.created_at < %(until)s
           AND c.status = 'rejected'
         GROUP BY 1""",
    "decision-time-engagement": f"""
        SELECT r.engagement_id, count(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY {SECONDS}),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY {SECONDS})
          FROM claims_claim c JOIN catalog_partnerrole r ON r.id = c.role_id
         WHERE c.status IN {DECIDED} AND c.submitted_at IS NOT NULL
           AND c.decided_at >= %(since)s AND c.decided_at < %(until)s
         GROUP BY 1 ORDER BY 1""",
    "decision-time-week": f"""
        SELECT date_trunc('week', c.decided_at), count(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY {SECONDS}),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY {SECONDS})
          FROM claims_claim c
         WHERE c.status IN {DECIDED} AND c.submitted_at IS NOT NULL
           AND c.decided_at >= %(since)s AND c.decided_at < %(until)s
         GROUP BY 1 ORDER BY 1""",
    "sla": f"""
        SELECT u.email, count(*),
               count(*) FILTER (WHERE c.decided_at <= c.submitted_at
                   + (%(offsets)s::int[])[extract(isodow FROM c.submitted_at)::int]
                     * interval '1 day')
          FROM claims_claim c LEFT JOIN accounts_user u ON u.id = c.assigned_reviewer_id
         WHERE c.status IN {DECIDED} AND c.submitted_at IS NOT NULL
           AND c.decided_at >= %(since)s AND c.decided_at < %(until)s
         GROUP BY 1 ORDER BY 1""",
    "conflicts": f"""
        SELECT count(*),
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM claims_association o
                   JOIN claims_association n ON n.id = o.superseded_by_id WHERE n.claim_id = c.id)),
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM claims_claimevent e
                   WHERE e.claim_id = c.id AND e.action = 'reject'
                     AND e.reason_code = 'unit_held_newer_poe')),
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM claims_claimevent e
                   WHERE e.claim_id = c.id AND e.action = 'reject'
                     AND e.reason_code = 'duplicate_association')),
               count(*) FILTER (WHERE c.status IN {AWAITING} AND c.has_conflict)
          FROM claims_claim c
         WHERE c.submitted_at >= %(since)s AND c.submitted_at < %(until)s""",
    "declines": f"""
        SELECT g.name, count(*),
               count(*) FILTER (WHERE {DECLINED} AND a.ended_at <= a.notice_ends_at),
               count(*) FILTER (WHERE {DECLINED} AND a.ended_at > a.notice_ends_at)
          FROM claims_association a
          JOIN claims_claim c ON c.id = a.claim_id
          JOIN catalog_partnerrole r ON r.id = c.role_id
          LEFT JOIN catalog_engagement g ON g.id = r.engagement_id
         WHERE a.approved_at >= %(since)s AND a.approved_at < %(until)s
         GROUP BY 1 ORDER BY 1""",
    "backlog": f"""
        SELECT CASE WHEN submitted_at <= %(now)s - interval '31 days' THEN 4
                    WHEN submitted_at <= %(now)s - interval '15 days' THEN 3
                    WHEN submitted_at <= %(now)s - interval '8 days' THEN 2
                    WHEN submitted_at <= %(now)s - interval '3 days' THEN 1 ELSE 0 END,
               count(*) FILTER (WHERE status = 'submitted'),
               count(*) FILTER (WHERE status = 'in_review'),
               count(*) FILTER (WHERE status = 'disputed')
          FROM claims_claim WHERE status IN {AWAITING} GROUP BY 1 ORDER BY 1""",
}


def _params(filters, now) -> dict:
    from cpor.analytics.selectors import due_offset
    from cpor.catalog.models import ProgramSettings

    program = ProgramSettings.load()
    target = program.pickup_target_business_days + program.decision_target_business_days
    offsets = [when.result.value.days for when in due_offset(target).cases]
    return {"since": filters.since, "until": filters.until, "now": now, "offsets": offsets}


def _total(key: str, rows: list) -> int:
    """The claims (or associations) a table counts, to check both sides agree."""
    if key in ("funnel", "conflicts"):
        return rows[0][0]
    if key == "funnel-exits":
        return sum(row[-1] for row in rows)
    if key == "backlog":
        return sum(sum(row[1:]) for row in rows)
    return sum(row[1] for row in rows)


def _cpor_total(key: str, table) -> int:
    if key == "funnel":
        return table.rows[0][1]
    if key == "conflicts":
        return int(table.description.split(" of ")[1].split(" ")[0].replace(",", ""))
    if key == "funnel-exits":
        return sum(row[-1] for row in table.rows)
    if key == "backlog":
        return sum(row[-1] for row in table.rows)
    return sum(row[1] for row in table.rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--reuse", help="measure this already seeded database")
    args = parser.parse_args()
    url = harness.bench_url(args.reuse or DB_NAME)
    if not args.reuse:
        harness.recreate_database(url)
    # Every table computed on each call: the copy the app keeps for a few minutes
    # (ANALYTICS_CACHE_SECONDS) is measured on its own, last.
    harness.setup_django(
        url, env={"ALLOWED_HOSTS": "testserver,localhost", "ANALYTICS_CACHE_SECONDS": "0"}
    )
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from cpor.accounts.models import User
    from cpor.analytics import selectors
    from cpor.analytics.selectors import Filters
    from cpor.claims.models import Claim

    if not args.reuse:
        import bench_claim_list

        seconds = bench_claim_list.seed_to(url, args.claims, demo_seeded=False)
        print(f"seeded {args.claims:,} claims in {seconds:.0f} s", flush=True)
    claims = Claim.objects.count()
    today = timezone.localdate()
    filters = Filters(start=today - datetime.timedelta(days=89), end=today)
    now = timezone.now()
    params = _params(filters, now)
    raw = psycopg.connect(url, autocommit=True)
    raw_pid = harness.backend_pid(raw)
    django_pid = harness.backend_pid(connection)

    def best(key: str) -> list:
        return raw.execute(BEST_SQL[key], params).fetchall()

    rows = []
    for key in selectors.REPORTS:
        table = selectors.report(key, filters) if key != "backlog" else None
        if key == "backlog":
            table = selectors.backlog(filters, now=now)
        ours, theirs = _cpor_total(key, table), _total(key, best(key))
        assert ours == theirs, f"{key}: CPOR counts {ours}, the best SQL {theirs}"

        def cpor(key=key):
            return (
                selectors.backlog(filters, now=now)
                if key == "backlog"
                else selectors.report(key, filters)
            )

        a, b = harness.interleave(
            harness.timed(cpor, pg_pids=[django_pid]),
            harness.timed(lambda key=key: best(key), pg_pids=[raw_pid]),
            ROUNDS,
            warmup=1,
        )
        result = harness.row(
            f"analytics_{key}",
            harness.median_usage(a),
            harness.median_usage(b),
            label=f"analytics: {table.title.lower()} ({claims:,} claims, 90 days)",
            note=f"{ours:,} counted",
        )
        print(result, flush=True)
        rows.append(result)

    reviewer = harness.with_second_factor(
        User.objects.filter(operator_role__in=["reviewer", "program_admin"]).first()
    )
    client = Client()
    client.force_login(reviewer)

    def page():
        response = client.get("/review/analytics/")
        assert response.status_code == 200, response.status_code

    def all_sql():
        for key in BEST_SQL:
            best(key)

    def measure_page(name: str, label: str, note: str) -> None:
        a, b = harness.interleave(
            harness.timed(page, pg_pids=[django_pid]),
            harness.timed(all_sql, pg_pids=[raw_pid]),
            ROUNDS,
            warmup=1,
        )
        result = harness.row(
            name, harness.median_usage(a), harness.median_usage(b), label=label, note=note
        )
        print(result, flush=True)
        rows.append(result)

    measure_page(
        "analytics_page",
        f"analytics dashboard page, 8 tables ({claims:,} claims, 90 days)",
        "GET /review/analytics/ as a reviewer beside the 8 statements back to back",
    )
    # The same page within ANALYTICS_CACHE_SECONDS of a first view: the kept tables (in
    # this process's cache here; a shared Redis cache in production adds a round trip).
    settings.ANALYTICS_CACHE_SECONDS = 300
    page()
    measure_page(
        "analytics_page_kept",
        f"analytics dashboard page from the kept tables ({claims:,} claims, 90 days)",
        "GET /review/analytics/ within ANALYTICS_CACHE_SECONDS (5 min) of a first view, "
        "figures as computed then (the page says when), beside the 8 statements that compute "
        "them; local-memory cache",
    )
    harness.record_results(
        "analytics",
        rows,
        note=f"{claims:,} claims; default filters (the last 90 days); load "
        f"{os.getloadavg()[0]:.2f} at the end",
    )


if __name__ == "__main__":
    main()
