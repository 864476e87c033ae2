"""Review benchmark: the queue with 100,000 pending claims, and decisions, beside raw SQL.

Run with ``DATABASE_URL=postgres://… .venv/bin/python bench/bench_review.py``. It drops
and recreates a database called ``cpor_bench_review`` on that server and works only
there: migrate, ``seed_demo``, then 100,000 claims awaiting a decision (submitted, in
review, disputed) from the bulk generator. It then times

- the queue page (first page, a deep page, and the "failed checks" filter) through the
  real view with Django's test client, counting queries, beside the same page fetched
  with hand-written SQL over psycopg (count, counts per state, the page with its flags);
- approvals posted to the review page, beside the rows one approval writes as raw SQL.

It prints a markdown section and puts it in docs/performance.md between the markers
``<!-- bench/bench_review.py: start -->`` and ``end`` (replacing an earlier run's
section, keeping the rest of the file).
"""

import os
import statistics
import time
from io import StringIO
from pathlib import Path

import harness
import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cpor_bench_review"
PENDING = int(os.environ.get("BENCH_REVIEW_CLAIMS", "100000"))
REPEAT = 15
DECISIONS = 200
START, END = "<!-- bench/bench_review.py: start -->", "<!-- bench/bench_review.py: end -->"


def setup_django(url: str) -> None:
    harness.setup_django(url)
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, e-mails kept in memory


def seed() -> float:
    from django.core.management import call_command

    from cpor.claims.models import ClaimStatus
    from cpor.web import demo

    call_command("seed_demo", stdout=StringIO())
    started = time.perf_counter()
    demo.generate_claims(
        PENDING,
        mix={ClaimStatus.SUBMITTED: 6, ClaimStatus.IN_REVIEW: 3, ClaimStatus.DISPUTED: 1},
        seed=4,
    )
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def timed(call, repeat: int = REPEAT) -> float:
    call()  # warm up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


# ---------------------------------------------------------------------------
# The queue


def queue_view(client, query: str) -> tuple[float, int]:
    from django.db import connection

    def get():
        response = client.get(f"/review/{query}")
        assert response.status_code == 200, response.status_code

    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        get()
    return timed(get), count


QUEUE_PAGE_SQL = """
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
  FROM (SELECT id FROM claims_claim
         WHERE status IN ('submitted', 'in_review', 'disputed')
         ORDER BY submitted_at, id LIMIT 50 OFFSET %s) page
  JOIN claims_claim c ON c.id = page.id
  JOIN partners_partnerorganisation o ON o.id = c.organisation_id
  JOIN partners_partnerlocation l ON l.id = c.location_id
  JOIN customers_tenant t ON t.id = c.tenant_id
  JOIN catalog_partnerrole r ON r.id = c.role_id
  JOIN catalog_engagement e ON e.id = r.engagement_id
  LEFT JOIN accounts_user u ON u.id = c.assigned_reviewer_id
 ORDER BY c.submitted_at, c.id
"""


def queue_sql(cur, offset: int) -> None:
    cur.execute(
        "SELECT count(*) FROM claims_claim WHERE status IN ('submitted', 'in_review', 'disputed')"
    )
    cur.fetchone()
    cur.execute(
        "SELECT status, count(*) FROM claims_claim WHERE status IN "
        "('submitted', 'in_review', 'disputed', 'action_required') GROUP BY status"
    )
    cur.fetchall()
    cur.execute(QUEUE_PAGE_SQL, [offset])
    assert len(cur.fetchall()) == 50


# ---------------------------------------------------------------------------
# Decisions


def submitted_ids(count: int, offset: int) -> list[int]:
    from cpor.claims.models import Claim, ClaimStatus

    return list(
        Claim.objects.filter(status=ClaimStatus.SUBMITTED, lines__subscription__isnull=True)
        .order_by("submitted_at", "pk")
        .values_list("pk", flat=True)[offset : offset + count]
    )


def approvals_view(client, claim_ids: list[int]) -> float:
    from cpor.claims.models import ClaimLine

    lines = dict(ClaimLine.objects.filter(claim_id__in=claim_ids).values_list("claim_id", "pk"))
    started = time.perf_counter()
    for pk in claim_ids:
        response = client.post(f"/review/claims/{pk}/approve/", {"line_ids": [lines[pk]]})
        assert response.status_code == 302, (pk, response.status_code)
    return time.perf_counter() - started


def approvals_sql(url: str, claim_ids: list[int]) -> float:
    """The rows one approval writes (lock, claim, line, association, event), raw SQL."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM accounts_user WHERE username = 'reviewer@cpor.example'")
        reviewer = cur.fetchone()[0]
        conn.commit()
        started = time.perf_counter()
        for pk in claim_ids:
            with conn.transaction():
                cur.execute(
                    "SELECT organisation_id, tenant_id FROM claims_claim WHERE id = %s "
                    "AND status = 'submitted' FOR UPDATE",
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
                    "UPDATE claims_claim SET status = 'approved', updated_at = now(), "
                    "decided_at = now() WHERE id = %s",
                    [pk],
                )
                cur.execute(
                    "INSERT INTO claims_claimevent (claim_id, action, from_status, to_status, "
                    "reason_code, message, internal, actor_id, actor_label, at) VALUES "
                    "(%s, 'approve', 'submitted', 'approved', '', '', false, %s, '', now())",
                    [pk, reviewer],
                )
        return time.perf_counter() - started


# ---------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def machine() -> str:
    import platform

    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def main() -> None:
    url = harness.bench_url(DB_NAME)
    print(f"Recreating {DB_NAME} and migrating…", flush=True)
    harness.recreate_database(url)
    setup_django(url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    print(f"Generating {PENDING:,} claims awaiting a decision…", flush=True)
    seed_time = seed()

    from cpor.accounts.models import User
    from cpor.claims.models import Claim

    pending = Claim.objects.filter(status__in=["submitted", "in_review", "disputed"]).count()
    reviewer = User.objects.get(username="reviewer@cpor.example")
    client = Client()
    client.force_login(reviewer)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0].split(",")[0]

    rows = []
    deep = (pending // 50 // 2) * 50
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        for label, query, offset in (
            ("queue, first page", "", 0),
            (f"queue, page {deep // 50 + 1:,} (offset {deep:,})", f"?page={deep // 50 + 1}", deep),
        ):
            print(f"Timing {label}…", flush=True)
            view_time, queries = queue_view(client, query)
            sql_time = timed(lambda o=offset: queue_sql(cur, o))
            rows.append((f"{label}: {queries} queries", view_time, sql_time))
        print("Timing the failed-checks filter…", flush=True)
        view_time, queries = queue_view(client, "?failed_checks=on")
        rows.append((f"queue, failed-checks filter: {queries} queries", view_time, None))

    print(f"Timing {DECISIONS} approvals…", flush=True)
    through_view = submitted_ids(DECISIONS, 0)
    through_sql = submitted_ids(DECISIONS, DECISIONS)
    view_time = approvals_view(client, through_view) / DECISIONS
    sql_time = approvals_sql(url, through_sql) / DECISIONS
    rows.append(
        (f"one approval posted to the review page (mean of {DECISIONS})", view_time, sql_time)
    )

    table = [
        "| what | CPOR | raw SQL | ratio |",
        "|---|---:|---:|---:|",
    ]
    for label, cpor, raw in rows:
        ratio = f"{cpor / raw:.1f}x" if raw else "—"
        table.append(f"| {label} | {ms(cpor)} | {ms(raw) if raw else '—'} | {ratio} |")
    section = "\n".join(
        [
            "## Review queue and decisions (`bench/bench_review.py`)",
            "",
            f"`DATABASE_URL=postgres://… .venv/bin/python bench/bench_review.py` recreates a "
            f"database `{DB_NAME}`, runs `seed_demo` and generates {PENDING:,} claims awaiting "
            f"a decision ({pending:,} in the queue: submitted, in review, disputed; generated "
            f"in {seed_time:.0f} s). Machine: {machine()}, {pg_version}.",
            "",
            *table,
            "",
            "- **Queue page**: `GET /review/` through the real view (session, permission, "
            "counts per state, filter form, the page's claim IDs from the partial index "
            "`claim_awaiting_oldest`, then those 50 claims with their SQL-computed "
            "conflict / PoE / subscription / PartnerID flags, SLA clocks, template) with "
            f"Django's test client, median of {REPEAT}. The query count is the same "
            "whatever the queue size (tests assert it at two sizes). The raw SQL fetches the "
            "same over psycopg: the count, the counts per state, and the page (IDs in a "
            "sub-select, then the 50 rows with the same flags as `EXISTS` subqueries). "
            "Pagination is OFFSET-based, so deep pages walk the index further. The "
            "failed-checks filter evaluates the flags for every pending claim (no raw SQL "
            "twin: it is the one query that grows with the queue).",
            "- **Approval**: `POST /review/claims/<id>/approve/` (session, claim look-up, "
            "form, `claim_approve`: row lock, state check, conflict check against held "
            "associations, association, line and claim updates, history event, redirect), "
            "one transaction each. The raw SQL does the lock and the four writes.",
        ]
    )
    print(section)
    harness.write_section(START, END, section)


if __name__ == "__main__":
    main()
