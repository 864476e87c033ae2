"""Benchmark: the partner's claim list at 100,000 and at 1,000,000 claims, each page beside
the best hand-written SQL for the same visible rows.

Run with ``DATABASE_URL=postgres://… .venv/bin/python bench/bench_claim_list.py``
(``--claims N`` for the large size, default 1,000,000; ``--small N`` for the size the
growth is measured from, default 100,000, 0 to skip it; ``--reuse`` measures the
database an earlier run seeded, at its current size only; ``--rounds R``). It drops and
recreates a database called ``cpor_bench_claim_list`` on that server, seeds the demo and
generated claims with ``seed_demo``'s bulk generator (COPY), then renders /claims/
through Django's test client as a partner admin of the largest demo organisation.

Growth (10x the data): a copy of the database at the small size is kept
(``cpor_bench_claim_list_small``); the first and the deep page at the large size then
alternate with the same pages at the small size, A B A B, each sample after a reconnect
to its database and a few warm pages, so that both sizes see the same load. ``--reuse``
measures it again when the copy exists.

Each case (first page, a deep page reached by cursor, a status filter, the sort by name,
a common and a rare search term) alternates with its baseline, A B A B, and keeps the
medians of time and of CPU per page (this process, and the PostgreSQL backend serving
each side, from /proc). The baseline is one statement over psycopg that returns the
same 50 rows in the same order with everything a row shows (its lines aggregated),
keyset-paged and without any total; the page also runs the session, the filter
choices, a count that stops at 1,000 and the action-required badge. The script checks
that both sides list the same claims.

Results go to bench/results/lists.json (rows of the web list; bench/bench_review.py
adds the queue's) for bench/report.py.
"""

import argparse
import datetime
import json
import re
import time
from pathlib import Path

import harness
import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cpor_bench_claim_list"
SMALL_DB_NAME = "cpor_bench_claim_list_small"  # a copy at the small size, for 10x
CHUNK = 100_000
PAGE = 50
DEEP_PAGE = 5_000  # the deep page the issue measured, reached by cursor
PER_SAMPLE = 5  # pages per timed sample
RESULTS_NAME = "lists"


def setup_django(url: str) -> None:
    harness.setup_django(url, env={"ALLOWED_HOSTS": "testserver,localhost"})
    from django.conf import settings

    # No collectstatic here: serve static URLs without the hashed manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def seed_to(url: str, total: int, *, demo_seeded: bool) -> float:
    """Generate claims until the database holds ``total``; the seconds it took."""
    from cpor.claims.models import Claim
    from cpor.web import demo

    started = time.perf_counter()
    if not demo_seeded:
        demo.seed_demo()
    done = Claim.objects.count()
    while done < total:
        batch = min(CHUNK, total - done)
        demo.generate_claims(batch, seed=done)
        done += batch
        print(f"  {done:,} claims ({time.perf_counter() - started:.0f} s)", flush=True)
    backfill_check_flags()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def backfill_check_flags() -> None:
    """The bulk generator writes claims without the services, so their stored check
    flags are computed here as migration claims/0007 does for existing claims."""
    import importlib

    from django.db import connection

    migration = importlib.import_module("cpor.claims.migrations.0007_check_flags_and_search")
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL, {"today": datetime.date.today()})


# ---------------------------------------------------------------------------
# The best SQL for each visible page: the 50 rows with every column the table shows.

ROWS_SQL = """
SELECT c.id, c.name, c.status, c.created_at, c.submitted_at, t.name, t.tenant_id,
       l.partner_id, r.name, a.name,
       (SELECT string_agg(p.name || coalesce(' ' || s.subscription_id::text, ''), ', '
                          ORDER BY cl.id)
          FROM claims_claimline cl
          JOIN catalog_product p ON p.id = cl.product_id
          LEFT JOIN customers_subscription s ON s.id = cl.subscription_id
         WHERE cl.claim_id = c.id) AS units
  FROM claims_claim c
  JOIN customers_tenant t ON t.id = c.tenant_id
  JOIN partners_partnerlocation l ON l.id = c.location_id
  JOIN catalog_partnerrole r ON r.id = c.role_id
  JOIN catalog_solutionarea a ON a.id = r.solution_area_id
 WHERE c.organisation_id = %(org)s {where}
 ORDER BY {order}
 LIMIT 51
"""
NEWEST = "c.created_at DESC, c.id DESC"
BY_NAME = "c.name, c.id"
COMMON_MATCH = (
    " AND (upper(c.name) LIKE %(like)s OR upper(t.name) LIKE %(like)s OR l.partner_id = %(q)s)"
)
# A rare term: the trigram indexes find the few claims and customers, then a sort of
# those few (faster here than the scan of the organisation's index the common term uses).
RARE_MATCH = """ AND c.id IN (
    SELECT id FROM claims_claim WHERE organisation_id = %(org)s AND upper(name) LIKE %(like)s
    UNION ALL
    SELECT c2.id FROM claims_claim c2 JOIN customers_tenant t2 ON t2.id = c2.tenant_id
     WHERE c2.organisation_id = %(org)s AND upper(t2.name) LIKE %(like)s
    UNION ALL
    SELECT c3.id FROM claims_claim c3 JOIN partners_partnerlocation l3 ON l3.id = c3.location_id
     WHERE c3.organisation_id = %(org)s AND l3.partner_id = %(q)s)"""


def cases(organisation_id: int, claims_in_organisation: int, rare_term: str) -> list[dict]:
    """What to measure: the page's query string and the baseline's SQL and parameters."""
    from cpor.claims.models import Claim
    from cpor.claims.selectors import claim_sort_keys
    from cpor.keyset import AFTER, encode_cursor

    deep_rows = min(DEEP_PAGE, claims_in_organisation // PAGE // 2) * PAGE
    deep_page = deep_rows // PAGE
    # The last row of page deep_page - 1: the next page starts after it.
    before = (
        Claim.objects.filter(organisation_id=organisation_id)
        .order_by("-created_at", "-id")
        .only("created_at")[deep_rows - PAGE - 1]
    )
    cursor = encode_cursor(AFTER, claim_sort_keys("-created"), before)
    org = {"org": organisation_id}
    return [
        {
            "key": "first",
            "label": "first page, newest first",
            "query": {},
            "sql": ROWS_SQL.format(where="", order=NEWEST),
            "params": org,
        },
        {
            "key": "deep",
            "label": f"page {deep_page:,} (reached by cursor)",
            "query": {"cursor": cursor},
            "sql": ROWS_SQL.format(
                where=" AND (c.created_at, c.id) < (%(at)s, %(id)s)", order=NEWEST
            ),
            "params": {**org, "at": before.created_at, "id": before.pk},
        },
        {
            "key": "status",
            "label": "filtered by status (approved)",
            "query": {"status": "approved"},
            "sql": ROWS_SQL.format(where=" AND c.status = 'approved'", order=NEWEST),
            "params": org,
        },
        {
            "key": "name",
            "label": "sorted by name",
            "query": {"sort": "name"},
            "sql": ROWS_SQL.format(where="", order=BY_NAME),
            "params": org,
        },
        {
            "key": "search",
            "label": "search, common term (“Harbor”)",
            "query": {"q": "Harbor"},
            "sql": ROWS_SQL.format(where=COMMON_MATCH, order=NEWEST),
            "params": {**org, "q": "Harbor", "like": "%HARBOR%"},
        },
        {
            "key": "search_rare",
            "label": f"search, one customer's name (“{rare_term}”)",
            "query": {"q": rare_term},
            "sql": ROWS_SQL.format(where=RARE_MATCH, order=NEWEST),
            "params": {**org, "q": rare_term, "like": f"%{rare_term.upper()}%"},
        },
    ]


def measure_case(case: dict, client, sql_conn, rounds: int) -> tuple[harness.Usage, ...]:
    from django.db import connection

    django_backend = harness.backend_pid(connection)
    sql_backend = harness.backend_pid(sql_conn)

    def page():
        response = client.get("/claims/", case["query"])
        assert response.status_code == 200, response.status_code
        return response

    def sql():
        with sql_conn.cursor() as cursor:
            cursor.execute(case["sql"], case["params"])
            return cursor.fetchall()

    # The claims the page links to, in order (no test instrumentation of templates).
    listed = [
        int(pk) for pk in re.findall(r'<th scope="row"[^>]*><a href="/claims/(\d+)/"', page().text)
    ]
    wanted = [row[0] for row in sql()][:PAGE]
    if listed != wanted:
        raise RuntimeError(f"{case['label']}: the page and the SQL list different claims")

    def repeated(fn):
        # CPU time in /proc moves in 10 ms ticks: a sample is several pages.
        def run():
            for _ in range(PER_SAMPLE):
                fn()

        return run

    a, b = harness.interleave(
        harness.timed(repeated(page), pg_pids=[django_backend]),
        harness.timed(repeated(sql), pg_pids=[sql_backend]),
        rounds,
        warmup=1,
    )
    return harness.median_usage(a).per(PER_SAMPLE), harness.median_usage(b).per(PER_SAMPLE)


def partner_client():
    """A test client signed in as a partner admin of the organisation with the most
    claims, on the database Django is connected to; that organisation's id, its number
    of claims, and a rare search term (its newest claim's customer)."""
    from django.db.models import Count
    from django.test import Client

    from cpor.accounts.models import User
    from cpor.claims.models import Claim
    from cpor.partners.models import PartnerRoleName

    by_organisation = (
        Claim.objects.values("organisation_id").order_by().annotate(n=Count("id")).order_by("-n")
    ).first()
    organisation_id = by_organisation["organisation_id"]
    user = User.objects.filter(
        partner_membership__organisation_id=organisation_id,
        partner_membership__role=PartnerRoleName.PARTNER_ADMIN,
    ).first()
    rare_term = (
        Claim.objects.filter(organisation_id=organisation_id)
        .order_by("-id")
        .values_list("tenant__name", flat=True)
        .first()
    )
    client = Client()
    client.force_login(harness.with_second_factor(user))
    return client, organisation_id, by_organisation["n"], rare_term


def measure_size(url: str, rounds: int) -> dict:
    """Every case at the database's current size: {key: (label, cpor, sql)}."""
    from cpor.claims.models import Claim

    client, organisation_id, listed, rare_term = partner_client()
    found = {"claims": Claim.objects.count(), "listed": listed}
    with psycopg.connect(url, autocommit=True) as sql_conn:
        for case in cases(organisation_id, listed, rare_term):
            cpor, sql = measure_case(case, client, sql_conn, rounds)
            found[case["key"]] = (case["label"], cpor, sql)
            show(case["label"], cpor, sql)
    return found


# Pages rendered after each switch of database, before a sample: the statements psycopg
# prepares after five runs are prepared again on the new connection.
WARM_PAGES = 6


def use_database(url: str) -> None:
    """Point Django's connection at ``url``'s database (reconnecting)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = _name(url)


def measure_tenfold(url: str, small_url: str, rounds: int) -> dict:
    """The first and the deep page at the large size beside the same pages at the small
    size, interleaved (A B A B) so that both see the same load: one database, then the
    other, each sample after a reconnect and ``WARM_PAGES`` pages. {key: (label, large,
    small)}, and each size's number of claims."""
    from django.db import connection

    from cpor.claims.models import Claim

    sides = {}
    for name, db_url in (("large", url), ("small", small_url)):
        use_database(db_url)
        client, organisation_id, listed, rare_term = partner_client()
        by_key = {case["key"]: case for case in cases(organisation_id, listed, rare_term)}
        sides[name] = (db_url, client, by_key, Claim.objects.count())

    def side(name: str, key: str):
        db_url, client, by_key, _count = sides[name]

        def page():
            response = client.get("/claims/", by_key[key]["query"])
            assert response.status_code == 200, response.status_code

        def pages():
            for _ in range(PER_SAMPLE):
                page()

        def sample() -> harness.Usage:
            use_database(db_url)
            for _ in range(WARM_PAGES):
                page()
            return harness.timed(pages, pg_pids=[harness.backend_pid(connection)])()

        return sample

    found = {"claims": sides["large"][3], "small_claims": sides["small"][3]}
    for key in ("first", "deep"):
        large, small = harness.interleave(side("large", key), side("small", key), rounds)
        labels = sides["large"][2][key]["label"], sides["small"][2][key]["label"]
        label = labels[0] if labels[0] == labels[1] else " beside ".join(labels)
        found[key] = (
            label,
            harness.median_usage(large).per(PER_SAMPLE),
            harness.median_usage(small).per(PER_SAMPLE),
        )
        show(f"10x: {label}", *found[key][1:])
    use_database(url)
    return found


def _name(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.lstrip("/")


def copy_database(url: str, copy_url: str) -> None:
    """``copy_url``'s database, made anew as a copy of ``url``'s."""
    from django.db import connections

    connections.close_all()  # a template database must have no session
    with psycopg.connect(harness.bench_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{_name(copy_url)}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{_name(copy_url)}" TEMPLATE "{_name(url)}"')


def database_exists(url: str) -> bool:
    with psycopg.connect(harness.bench_url("postgres"), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [_name(url)])
        return found.fetchone() is not None


def show(label: str, cpor: harness.Usage, sql: harness.Usage) -> None:
    print(
        f"  {label}: {cpor.wall * 1000:.1f} ms (CPU {cpor.cpu_app * 1000:.1f} app + "
        f"{cpor.cpu_pg * 1000:.1f} PostgreSQL) vs SQL {sql.wall * 1000:.1f} ms "
        f"(CPU {sql.cpu_app * 1000:.1f} + {sql.cpu_pg * 1000:.1f}): "
        f"{cpor.wall / sql.wall:.1f}x",
        flush=True,
    )


PATHS = {"first": "web_list_first", "deep": "web_list_deep", "search": "search"}


def _measured(size: dict) -> list[tuple[str, tuple]]:
    return [(key, value) for key, value in size.items() if isinstance(value, tuple)]


def result_rows(large: dict, small: dict | None, tenfold: dict | None, rounds: int) -> list[dict]:
    size = f"{large['claims']:,} claims, {large['listed']:,} in the organisation"
    how = (
        f"/claims/ through Django's test client beside one psycopg statement returning the "
        f"same 50 rows with their lines (keyset, no total); interleaved samples of "
        f"{PER_SAMPLE} pages, median of {rounds}"
    )
    rows = []
    for key, (label, cpor, sql) in _measured(large):
        named = {} if key in PATHS else {"label": f"web claim list, {label}"}
        path = PATHS.get(key, f"web_list_{key}")
        rows.append(harness.row(path, cpor, sql, note=f"{label}; {size}; {how}.", **named))
    if tenfold:
        for key in ("first", "deep"):
            label, cpor, before = tenfold[key]
            rows.append(
                harness.row(
                    "web_list_10x" if key == "first" else "web_list_10x_deep",
                    cpor,
                    before,
                    note=f"{label}: the page at {tenfold['claims']:,} claims beside the same "
                    f"page at {tenfold['small_claims']:,} (both CPOR, two databases, "
                    f"interleaved samples of {PER_SAMPLE} pages after a reconnect and "
                    f"{WARM_PAGES} warm pages, median of {rounds}).",
                    **({} if key == "first" else {"label": "web claim list, 10x, deep page"}),
                )
            )
    if small:
        for key, (label, cpor, sql) in _measured(small):
            rows.append(
                harness.row(
                    f"web_list_{key}_small",
                    cpor,
                    sql,
                    label=f"web claim list at {small['claims']:,} claims, {label}",
                    note=f"{label}; {small['claims']:,} claims, {small['listed']:,} in the "
                    f"organisation; {how}.",
                )
            )
    for item in rows:
        item["cpor_ms"], item["baseline_ms"] = item["cpor"], item["baseline"]
    return rows


def record(rows: list[dict], note: str) -> Path:
    """Replace this script's rows in bench/results/lists.json, keeping the queue's."""
    target = harness.RESULTS / f"{RESULTS_NAME}.json"
    kept = []
    if target.exists():
        # Rows this run did not measure stay (bench/bench_review.py's queue, and the
        # 100,000-claim figures when --reuse measured only the large size).
        measured = {item["path"] for item in rows}
        previous = json.loads(target.read_text())["rows"]
        kept = [item for item in previous if item["path"] not in measured]
    return harness.record_results(RESULTS_NAME, rows + kept, note=note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="measure the seeded database")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    url = harness.bench_url(DB_NAME)
    small_url = harness.bench_url(SMALL_DB_NAME)
    if not args.reuse:
        harness.recreate_database(url)
    setup_django(url)
    small = None
    seeded = []
    if not args.reuse:
        demo_seeded = False
        if args.small:
            print(f"Seeding {args.small:,} claims…", flush=True)
            seeded.append(seed_to(url, args.small, demo_seeded=False))
            demo_seeded = True
            print(f"Measuring at {args.small:,} claims…", flush=True)
            small = measure_size(url, args.rounds)
            copy_database(url, small_url)  # kept for the interleaved 10x measurement
        print(f"Seeding up to {args.claims:,} claims…", flush=True)
        seeded.append(seed_to(url, args.claims, demo_seeded=demo_seeded))
    print("Measuring the large size…", flush=True)
    large = measure_size(url, args.rounds)
    tenfold = None
    if small or (args.reuse and database_exists(small_url)):
        print("Measuring 10x the data, interleaved with the small size…", flush=True)
        tenfold = measure_tenfold(url, small_url, args.rounds)
    rows = result_rows(large, small, tenfold, args.rounds)
    seeding = " + ".join(f"{s:.0f} s" for s in seeded) or "an earlier run"
    path = record(
        rows,
        f"bench/bench_claim_list.py, database {DB_NAME}, seeded by seed_demo's bulk "
        f"generator in {seeding}",
    )
    print(f"Wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
