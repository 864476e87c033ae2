"""Review benchmark: the queue at a million claims, and approvals posted to the review
page, each beside the best hand-written SQL for the same result.

Run with ``DATABASE_URL=postgres://… .venv/bin/python bench/bench_review.py``. It drops
and recreates a database called ``cpor_bench_review`` on that server and works only
there: migrate, ``seed_demo``, then ``--claims`` claims (default 1,000,000) in the
generator's usual status mix, a fifth of them awaiting a decision; their stored check
flags are computed as migration claims/0007 does. ``--reuse NAME`` measures a database
an earlier run (or bench/bench_claim_list.py) seeded instead.

- The queue (first page, a deep page reached by cursor, the "failed checks" filter)
  through the real view with Django's test client, as a reviewer, interleaved A B A B
  with one psycopg round trip of the best SQL for the same visible page: the bounded
  counts of the badges and the 50 rows with their flags, keyset-paged, no exact total.
  Medians of time and of CPU per page (this process and the PostgreSQL backend of each
  side, from /proc). Both sides must list the same claims.
- Approvals: ``POST /review/claims/<id>/approve/`` of submitted one-line claims,
  interleaved by batch with bench/run.py's best SQL for one approval. The message the
  POST leaves for the next page is dropped after each one, as showing that page does.

Results: the queue's rows in bench/results/lists.json (beside the web list's), the
approval's in bench/results/review.json, for bench/report.py.
"""

import argparse
import json
import re
from pathlib import Path

import harness
import psycopg
import run  # bench/run.py: the best SQL for one approval

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cpor_bench_review"
CHUNK = 100_000
PER_SAMPLE = 5  # pages per timed sample: CPU in /proc moves in 10 ms ticks
QUEUE = "('submitted', 'in_review', 'disputed')"


def setup_django(url: str) -> None:
    # As a production web process: Celery broker set, no worker, nothing in-process.
    harness.setup_django(
        url, env={"ALLOWED_HOSTS": "testserver,localhost", **harness.PRODUCTION_SERVICES}
    )
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def seed(url: str, count: int) -> None:
    import bench_claim_list

    bench_claim_list.seed_to(url, count, demo_seeded=False)


# ---------------------------------------------------------------------------
# The queue: the best SQL for the visible page

COUNTS_SQL = """
SELECT {counts},
       (SELECT count(*) FROM (SELECT 1 FROM claims_claim WHERE status = 'in_review'
                                 AND assigned_reviewer_id = %(reviewer)s LIMIT 1001) m)
""".format(
    counts=", ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM claims_claim WHERE status = '{status}' "
        f"LIMIT 1001) {status})"
        for status in ("submitted", "in_review", "disputed", "action_required")
    )
)

PAGE_SQL = """
SELECT c.id, c.name, c.status, c.submitted_at, c.updated_at, o.name, l.partner_id, t.name,
       e.name, u.email,
       (EXISTS (SELECT 1 FROM claims_claimline cl JOIN claims_association a
                  ON a.tenant_id = c.tenant_id AND a.product_id = cl.product_id
                 AND a.subscription_id IS NULL
                 WHERE cl.claim_id = c.id AND cl.status = 'pending'
                   AND cl.subscription_id IS NULL
                   AND a.status IN ('pending_customer', 'active')
                   AND a.organisation_id <> c.organisation_id)
        OR EXISTS (SELECT 1 FROM claims_claimline cl JOIN claims_association a
                  ON a.subscription_id = cl.subscription_id
                 WHERE cl.claim_id = c.id AND cl.status = 'pending'
                   AND a.status IN ('pending_customer', 'active')
                   AND a.organisation_id <> c.organisation_id)) AS conflict,
       NOT EXISTS (SELECT 1 FROM claims_proofofexecution p
                    WHERE p.claim_id = c.id AND p.signed_on <= current_date
                      AND p.signed_on >= current_date - e.poe_max_age_days) AS poe_flag,
       EXISTS (SELECT 1 FROM claims_claimline cl JOIN customers_subscription s
                 ON s.id = cl.subscription_id
                WHERE cl.claim_id = c.id AND cl.status = 'pending'
                  AND (s.ends_on < current_date OR s.starts_on > current_date
                       OR (jsonb_array_length(e.allowed_channels) > 0
                           AND NOT e.allowed_channels ? s.purchase_channel))) AS unit_flag,
       NOT l.active AS location_flag
  FROM claims_claim c
  JOIN partners_partnerorganisation o ON o.id = c.organisation_id
  JOIN partners_partnerlocation l ON l.id = c.location_id
  JOIN customers_tenant t ON t.id = c.tenant_id
  JOIN catalog_partnerrole r ON r.id = c.role_id
  JOIN catalog_engagement e ON e.id = r.engagement_id
  LEFT JOIN accounts_user u ON u.id = c.assigned_reviewer_id
 WHERE c.status IN {queue} {where}
 ORDER BY c.submitted_at, c.id
 LIMIT 51
"""
# The stored inputs of the time-bound checks against today's limits, or an inactive
# PartnerID: what the "failed checks" filter lists.
FAILING = """ AND (c.poe_signed_on IS NULL OR c.units_end_on < current_date
      OR c.poe_signed_on < current_date - e.poe_max_age_days OR NOT l.active)"""
FAILING_COUNT = f"""
SELECT count(*) FROM (SELECT 1 FROM claims_claim c
  JOIN partners_partnerlocation l ON l.id = c.location_id
  JOIN catalog_partnerrole r ON r.id = c.role_id
  JOIN catalog_engagement e ON e.id = r.engagement_id
 WHERE c.status IN {QUEUE} {FAILING} LIMIT 1001) f
"""


def queue_cases(pending: int) -> list[dict]:
    from cpor.claims.models import Claim
    from cpor.keyset import AFTER, encode_cursor
    from cpor.review.selectors import QUEUE_KEYS

    deep = pending // 2
    before = (
        Claim.objects.filter(status__in=["submitted", "in_review", "disputed"])
        .order_by("submitted_at", "id")
        .only("submitted_at")[deep - 1]
    )
    return [
        {
            "path": "review_queue_first",
            "label": "review queue, first page",
            "query": {},
            "sql": [COUNTS_SQL, PAGE_SQL.format(queue=QUEUE, where="")],
            "params": {},
        },
        {
            "path": "review_queue_deep",
            "label": f"review queue, page {deep // 50 + 1:,} (reached by cursor)",
            "query": {"cursor": encode_cursor(AFTER, QUEUE_KEYS, before)},
            "sql": [
                COUNTS_SQL,
                PAGE_SQL.format(
                    queue=QUEUE, where=" AND (c.submitted_at, c.id) > (%(at)s, %(id)s)"
                ),
            ],
            "params": {"at": before.submitted_at, "id": before.pk},
        },
        {
            "path": "review_queue_failed_checks",
            "label": "review queue, “failed checks only”",
            "query": {"failed_checks": "on"},
            "sql": [COUNTS_SQL, FAILING_COUNT, PAGE_SQL.format(queue=QUEUE, where=FAILING)],
            "params": {},
        },
    ]


def listed_ids(html: str) -> list[int]:
    return [
        int(pk) for pk in re.findall(r'<th scope="row"[^>]*><a href="/review/claims/(\d+)/"', html)
    ]


def measure_queue(case: dict, client, conn, reviewer_id: int, rounds: int):
    from django.db import connection

    django_backend = harness.backend_pid(connection)
    sql_backend = harness.backend_pid(conn)
    params = {**case["params"], "reviewer": reviewer_id}

    def page():
        response = client.get("/review/", case["query"])
        assert response.status_code == 200, response.status_code
        return response

    def sql():
        with conn.cursor() as cursor:
            for statement in case["sql"]:
                cursor.execute(statement, params)
                rows = cursor.fetchall()
        return rows

    wanted = [row[0] for row in sql()][:50]
    if listed_ids(page().text) != wanted:
        raise RuntimeError(f"{case['label']}: the page and the SQL list different claims")

    def repeated(fn):
        def run_samples():
            for _ in range(PER_SAMPLE):
                fn()

        return run_samples

    a, b = harness.interleave(
        harness.timed(repeated(page), pg_pids=[django_backend]),
        harness.timed(repeated(sql), pg_pids=[sql_backend]),
        rounds,
        warmup=1,
    )
    return harness.median_usage(a).per(PER_SAMPLE), harness.median_usage(b).per(PER_SAMPLE)


# ---------------------------------------------------------------------------
# Approvals posted to the review page


def measure_approvals(url: str, client, *, rounds: int, batch: int):
    from django.db import connection

    from cpor.accounts.models import User
    from cpor.claims.models import ClaimLine

    claims = run.prepare_submitted(2 * (rounds + 1) * batch)
    lines = dict(ClaimLine.objects.filter(claim_id__in=claims).values_list("claim_id", "pk"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    cpor_batches = iter(run.batches(claims[0::2], batch))
    sql_batches = iter(run.batches(claims[1::2], batch))
    reviewer = User.objects.get(username="reviewer@cpor.example")
    django_backend = harness.backend_pid(connection)
    conn = psycopg.connect(url)
    sql_backend = harness.backend_pid(conn)
    conn.commit()

    def cpor() -> harness.Usage:
        chunk = next(cpor_batches)
        with harness.measure(pg_pids=[django_backend]) as usage:
            for pk in chunk:
                response = client.post(f"/review/claims/{pk}/approve/", {"line_ids": [lines[pk]]})
                assert response.status_code == 302, (pk, response.status_code)
                # The page the browser is sent to shows the "approved" message and drops
                # it; unread, hundreds would pile up in the cookie, then in the session
                # that every later request reads and writes.
                client.cookies.pop("messages", None)
        return usage.per(len(chunk))

    def sql() -> harness.Usage:
        chunk = next(sql_batches)
        with harness.measure(pg_pids=[sql_backend]) as usage:
            for pk in chunk:
                run.sql_approve(conn, pk, reviewer.pk)
        return usage.per(len(chunk))

    try:
        a, b = harness.interleave(cpor, sql, rounds, warmup=1)
    finally:
        conn.close()
    run.check_same_rows(claims[0::2], claims[1::2])
    return harness.median_usage(a), harness.median_usage(b)


# ---------------------------------------------------------------------------


def show(label: str, cpor: harness.Usage, sql: harness.Usage) -> None:
    print(
        f"  {label}: {cpor.wall * 1000:.1f} ms (CPU {cpor.cpu_app * 1000:.1f} app + "
        f"{cpor.cpu_pg * 1000:.1f} PostgreSQL) vs SQL {sql.wall * 1000:.1f} ms "
        f"(CPU {sql.cpu_app * 1000:.1f} + {sql.cpu_pg * 1000:.1f}): "
        f"{cpor.wall / sql.wall:.1f}x",
        flush=True,
    )


def record_queue_rows(rows: list[dict], note: str) -> Path:
    """Put the queue's rows in bench/results/lists.json, keeping the web list's."""
    target = harness.RESULTS / "lists.json"
    kept = []
    if target.exists():
        previous = json.loads(target.read_text())
        kept = [item for item in previous["rows"] if not item["path"].startswith("review_queue")]
        note = f"{previous.get('note', '')}; {note}".strip("; ")
    return harness.record_results("lists", kept + rows, note=note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--reuse", metavar="DATABASE", help="measure a seeded database")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--approval-rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=20, help="approvals per batch")
    parser.add_argument("--no-approvals", action="store_true", help="measure the queue only")
    parser.add_argument("--no-queue", action="store_true", help="measure the approvals only")
    args = parser.parse_args()

    url = harness.bench_url(args.reuse or DB_NAME)
    if not args.reuse:
        print(f"Recreating {DB_NAME} and seeding {args.claims:,} claims…", flush=True)
        harness.recreate_database(url)
    setup_django(url)
    if not args.reuse:
        seed(url, args.claims)

    from django.test import Client

    from cpor.accounts.models import User
    from cpor.claims.models import Claim

    total = Claim.objects.count()
    pending = Claim.objects.filter(status__in=["submitted", "in_review", "disputed"]).count()
    reviewer = harness.with_second_factor(User.objects.get(username="reviewer@cpor.example"))
    client = Client()
    client.force_login(reviewer)
    size = f"{total:,} claims, {pending:,} awaiting a decision"
    how = (
        "GET /review/ through Django's test client as a reviewer beside one psycopg round "
        "of the best SQL for the same page (bounded counts of the badges, the 50 rows "
        f"with their flags, keyset, no exact total); interleaved samples of {PER_SAMPLE} "
        f"pages, median of {args.rounds}"
    )
    rows = []
    with psycopg.connect(url, autocommit=True) as conn:
        for case in [] if args.no_queue else queue_cases(pending):
            cpor, sql = measure_queue(case, client, conn, reviewer.pk, args.rounds)
            show(case["label"], cpor, sql)
            named = {} if case["path"] in harness.TARGETS else {"label": case["label"]}
            rows.append(
                harness.row(
                    case["path"], cpor, sql, note=f"{case['label']}; {size}; {how}.", **named
                )
            )
    for item in rows:
        item["cpor_ms"], item["baseline_ms"] = item["cpor"], item["baseline"]
    if rows:
        path = record_queue_rows(rows, f"bench/bench_review.py, database {url.rsplit('/', 1)[1]}")
        print(f"Wrote {path.relative_to(ROOT)}")

    if args.no_approvals:
        return

    print(f"Approvals: {args.approval_rounds} batches of {args.batch} per side…", flush=True)
    try:
        cpor, sql = measure_approvals(url, client, rounds=args.approval_rounds, batch=args.batch)
    finally:
        harness.clear_production_services()
    show("approval posted to the review page", cpor, sql)
    approval = harness.row(
        "approval_review_post",
        cpor,
        sql,
        note=f"POST /review/claims/<id>/approve/ (session, claim, form, claim_approve, "
        f"redirect; its message dropped after, as the next page does) of submitted "
        f"one-line claims, {size}, beside bench/run.py's best SQL "
        f"for one approval; interleaved batches of {args.batch}, median of "
        f"{args.approval_rounds}, per approval. Celery broker and shared cache (CACHE_URL) "
        "set, no worker.",
    )
    approval["cpor_ms"], approval["baseline_ms"] = approval["cpor"], approval["baseline"]
    path = harness.record_results("review", [approval], note="bench/bench_review.py")
    print(f"Wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
