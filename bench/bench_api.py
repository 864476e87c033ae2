"""Benchmark: the REST API over real HTTP, beside the same work done in raw SQL.

Run with ``DATABASE_URL=postgres://… .venv/bin/python bench/bench_api.py [N]`` (N, the
claims to seed for the listing, defaults to 1,000,000; ``--dry-run`` prints without
writing the docs; ``--budget S`` stops seeding after about S seconds, default 180). It
drops and recreates a database called ``cpor_bench_api`` on that server, seeds the demo
and up to N generated claims with ``seed_demo``'s bulk generator, starts gunicorn
(2 workers x 8 threads) on 127.0.0.1, and measures:

1. **create + PoE + submit**: 16 concurrent clients (threads with keep-alive
   ``http.client`` connections and their own API tokens) each create draft claims
   (POST /api/v1/claims/), upload a PDF PoE (multipart POST …/proofs/) and submit
   them (POST …/submit/): a claim cannot be submitted without PoE. The baseline writes
   the same rows (claim, line, PoE, the three history events, the status change) with
   plain SQL from 16 threads, one transaction per step, with no file and no checks.
2. **listing**: the first page of GET /api/v1/claims/ for a partner admin of the
   largest demo organisation, over HTTP, beside the exact SQL statements the endpoint
   ran, replayed raw (median of 7 runs after a warm-up).

It appends a section to docs/performance.md.
"""

import datetime
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import harness
import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cpor_bench_api"
CHUNK = 100_000
CLIENTS = 16
CLAIMS_PER_CLIENT = 20
RUNS = 7
BROKER = "redis://127.0.0.1:6379/14"
PDF = b"%PDF-1.7\nStatement of work signed by the customer\n%%EOF\n"


def server_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "cpor.settings",
        "CPOR_VAR_DIR": str(ROOT / "var" / "bench_api"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "API_THROTTLE_RATE": "1000000/minute",
        # As in production, notifications go to Celery (no worker runs: they stay queued
        # in a Redis database of their own, emptied at the end).
        "CELERY_BROKER_URL": BROKER,
        "DEBUG": "0",
    }


def seed(count: int, budget: float) -> tuple[float, int]:
    """Seed the demo and up to ``count`` generated claims, stopping after ``budget`` s."""
    from django.db import connection

    from cpor.web import demo

    started = time.perf_counter()
    demo.seed_demo()
    done = 0
    while done < count and time.perf_counter() - started < budget:
        batch = min(CHUNK, count - done)
        demo.generate_claims(batch, seed=done)
        done += batch
        print(f"  generated {done:,} claims ({time.perf_counter() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started, done


# ---------------------------------------------------------------------------
# Fixtures for the write benchmark


def prepare_writers(total: int):
    """A partner admin per client with an API token, and a fresh tenant per claim (a
    claim per unit, so the "no open claim for the same unit" check passes)."""
    from django.db import transaction

    from cpor.accounts.models import User
    from cpor.api.services import api_token_create
    from cpor.customers.models import Tenant, TenantAdminContact, TenantDomain
    from cpor.partners.models import Membership, PartnerLocation, PartnerOrganisation

    with transaction.atomic():
        organisation = PartnerOrganisation.objects.create(name=f"Bench API {uuid.uuid4().hex[:6]}")
        location = PartnerLocation.objects.create(
            organisation=organisation, partner_id="98765432", name="Bench"
        )
        tokens = []
        for index in range(CLIENTS):
            user = User.objects.create_user(
                username=f"bench{index}@api.example", email=f"bench{index}@api.example"
            )
            Membership.objects.create(user=user, organisation=organisation, role="partner_admin")
            tokens.append(api_token_create(actor=user, name="bench")[1])
        tenants = Tenant.objects.bulk_create(
            [Tenant(tenant_id=uuid.uuid4(), name=f"Bench tenant {i}") for i in range(total * 2)]
        )
        TenantDomain.objects.bulk_create(
            [TenantDomain(tenant=t, domain=f"bench{t.pk}.example", verified=True) for t in tenants]
        )
        TenantAdminContact.objects.bulk_create(
            [
                TenantAdminContact(tenant=t, name="Admin", email=f"admin@bench{t.pk}.example")
                for t in tenants
            ]
        )
    return organisation, location, tokens, tenants[:total], tenants[total:]


def claim_payload(partner_id: str, tenant) -> bytes:
    return json.dumps(
        {
            "role": "use_or_consume",
            "partner_id": partner_id,
            "tenant_id": str(tenant.tenant_id),
            "name": f"Adoption for {tenant.name}",
            "customer_contact_name": "Ana Silva",
            "customer_contact_title": "CIO",
            "customer_contact_email": f"ana@bench{tenant.pk}.example",
            "partner_contact_name": "Rui Costa",
            "partner_contact_email": "rui@partner.example",
            "products": ["teams"],
        }
    ).encode()


def poe_multipart() -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    signed = (datetime.date.today() - datetime.timedelta(days=10)).isoformat()
    fields = {"poe_type": "statement_of_work", "signed_on": signed, "signatory": "Ana Silva"}
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="sow.pdf"\r\n'
        f"Content-Type: application/pdf\r\n\r\n".encode()
        + PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# ---------------------------------------------------------------------------
# gunicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, port: int, token: str) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "cpor.wsgi",
            "--pythonpath",
            str(ROOT / "src"),
            "-w",
            "2",
            "--threads",
            "8",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=server_env(url),
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _body = request(
                http.client.HTTPConnection("127.0.0.1", port, timeout=5),
                "GET",
                "/api/v1/reasons/",
                token,
            )
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.terminate()
    sys.exit("gunicorn did not answer within 60 s")


def request(conn, method, path, token, body=None, content_type=None):
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


# ---------------------------------------------------------------------------
# The write benchmark: HTTP, then raw SQL


def http_writes(port: int, tokens: list[str], partner_id: str, tenants) -> tuple[float, list]:
    per_client = [tenants[i::CLIENTS] for i in range(CLIENTS)]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS + 1)

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        token = tokens[index]
        start.wait()
        for tenant in per_client[index]:
            began = time.perf_counter()
            status, body = request(
                conn,
                "POST",
                "/api/v1/claims/",
                token,
                claim_payload(partner_id, tenant),
                "application/json",
            )
            if status != 201:
                with lock:
                    failures.append(f"create {status} {body[:200]!r}")
                continue
            claim_id = json.loads(body)["id"]
            payload, content_type = poe_multipart()
            status, body = request(
                conn, "POST", f"/api/v1/claims/{claim_id}/proofs/", token, payload, content_type
            )
            if status != 201:
                with lock:
                    failures.append(f"poe {status} {body[:200]!r}")
                continue
            status, body = request(
                conn,
                "POST",
                f"/api/v1/claims/{claim_id}/submit/",
                token,
                b'{"confirmed": true}',
                "application/json",
            )
            if status != 200:
                with lock:
                    failures.append(f"submit {status} {body[:200]!r}")
                continue
            with lock:
                latencies.append(time.perf_counter() - began)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        print(f"  {len(failures)} failures, e.g. {failures[0]}", flush=True)
    return elapsed, latencies


def _insert(model, values: dict) -> tuple[str, list]:
    """An INSERT … RETURNING id of every concrete column, defaults for those not given."""
    from django.db.models import NOT_PROVIDED

    columns, params = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.attname not in values and field.db_default is not NOT_PROVIDED:
            continue  # the database fills it in
        columns.append(f'"{field.column}"')
        params.append(values[field.attname] if field.attname in values else field.get_default())
    placeholders = ", ".join(["%s"] * len(columns))
    sql = (
        f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) '
        f"VALUES ({placeholders}) RETURNING id"
    )
    return sql, params


def sql_writes(
    url: str, organisation, location, user_ids: list[int], tenants
) -> tuple[float, list]:
    from django.utils import timezone

    from cpor.catalog.models import PartnerRole, Product
    from cpor.claims.models import Claim, ClaimEvent, ClaimLine, ProofOfExecution

    role = PartnerRole.objects.get(code="use_or_consume")
    teams = Product.objects.get(code="teams")
    per_client = [tenants[i::CLIENTS] for i in range(CLIENTS)]
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS + 1)

    def client(index: int) -> None:
        user_id = user_ids[index]
        with psycopg.connect(url) as conn:
            start.wait()
            for tenant in per_client[index]:
                began = time.perf_counter()
                now = timezone.now()
                with conn.transaction():
                    sql, params = _insert(
                        Claim,
                        {
                            "organisation_id": organisation.pk,
                            "location_id": location.pk,
                            "role_id": role.pk,
                            "tenant_id": tenant.pk,
                            "name": f"Adoption for {tenant.name}",
                            "customer_contact_name": "Ana Silva",
                            "customer_contact_title": "CIO",
                            "customer_contact_email": f"ana@bench{tenant.pk}.example",
                            "partner_contact_name": "Rui Costa",
                            "partner_contact_email": "rui@partner.example",
                            "status": "draft",
                            "created_by_id": user_id,
                            "created_at": now,
                            "updated_at": now,
                        },
                    )
                    claim_id = conn.execute(sql, params).fetchone()[0]
                    sql, params = _insert(
                        ClaimLine,
                        {"claim_id": claim_id, "product_id": teams.pk, "status": "pending"},
                    )
                    conn.execute(sql, params)
                    sql, params = _insert(
                        ClaimEvent,
                        {
                            "claim_id": claim_id,
                            "action": "create",
                            "to_status": "draft",
                            "actor_id": user_id,
                            "at": now,
                        },
                    )
                    conn.execute(sql, params)
                with conn.transaction():
                    sql, params = _insert(
                        ProofOfExecution,
                        {
                            "claim_id": claim_id,
                            "file": f"poe/{uuid.uuid4().hex}.pdf",
                            "original_name": "sow.pdf",
                            "content_type": "application/pdf",
                            "size": len(PDF),
                            "sha256": "0" * 64,
                            "poe_type": "statement_of_work",
                            "signed_on": datetime.date.today() - datetime.timedelta(days=10),
                            "signatory": "Ana Silva",
                            "uploaded_by_id": user_id,
                            "uploaded_at": now,
                        },
                    )
                    conn.execute(sql, params)
                    sql, params = _insert(
                        ClaimEvent,
                        {"claim_id": claim_id, "action": "add_poe", "actor_id": user_id, "at": now},
                    )
                    conn.execute(sql, params)
                with conn.transaction():
                    conn.execute(
                        "UPDATE claims_claim SET status = 'submitted', submitted_at = %s, "
                        "updated_at = %s WHERE id = %s AND status = 'draft'",
                        [now, now, claim_id],
                    )
                    sql, params = _insert(
                        ClaimEvent,
                        {
                            "claim_id": claim_id,
                            "action": "submit",
                            "from_status": "draft",
                            "to_status": "submitted",
                            "actor_id": user_id,
                            "at": now,
                        },
                    )
                    conn.execute(sql, params)
                with lock:
                    latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies


# ---------------------------------------------------------------------------
# The listing benchmark


def list_user():
    from django.db.models import Count

    from cpor.accounts.models import User
    from cpor.claims.models import Claim

    organisation_id = (
        Claim.objects.values("organisation_id")
        .order_by()
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()["organisation_id"]
    )
    user = User.objects.filter(
        partner_membership__organisation_id=organisation_id,
        partner_membership__role="partner_admin",
    ).first()
    return user, Claim.objects.filter(organisation_id=organisation_id).count()


def timed(call) -> float:
    call()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure_listing(port: int, token: str) -> tuple[float, float, int]:
    """(HTTP time, raw SQL time, statements) for the first page of the claim list."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get("/api/v1/claims/")  # refresh the token's last use outside the capture
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/claims/")
        assert response.status_code == 200, response.status_code
    statements = [query["sql"] for query in captured.captured_queries]

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def over_http():
        status, _body = request(conn, "GET", "/api/v1/claims/", token)
        assert status == 200, status

    def raw():
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()

    return timed(over_http), timed(raw), len(statements)


def main() -> None:
    args = sys.argv[1:]
    dry_run = "--dry-run" in args
    budget = 180.0
    if "--budget" in args:
        budget = float(args[args.index("--budget") + 1])
        del args[args.index("--budget") : args.index("--budget") + 2]
    numbers = [arg for arg in args if not arg.startswith("--")]
    count = int(numbers[0]) if numbers else 1_000_000
    url = harness.bench_url(DB_NAME)
    harness.recreate_database(url)
    harness.setup_django(url, env=server_env(url))
    print(f"Seeding up to {count:,} claims (budget {budget:.0f} s)…", flush=True)
    seeding, seeded = seed(count, budget)

    from cpor.accounts.models import User
    from cpor.api.services import api_token_create
    from cpor.claims.models import Claim

    total = CLIENTS * CLAIMS_PER_CLIENT
    organisation, location, tokens, http_tenants, sql_tenants = prepare_writers(total)
    user, organisation_claims = list_user()
    list_token = api_token_create(actor=user, name="bench")[1]
    total_claims = Claim.objects.count()
    port = free_port()
    server = start_server(url, port, tokens[0])
    try:
        print(f"HTTP: {total} claims created, given PoE and submitted by {CLIENTS} clients…")
        http_time, http_latencies = http_writes(port, tokens, location.partner_id, http_tenants)
        user_ids = list(
            User.objects.filter(partner_membership__organisation=organisation)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        print("SQL: the same writes…", flush=True)
        sql_time, sql_latencies = sql_writes(url, organisation, location, user_ids, sql_tenants)
        print("Listing…", flush=True)
        list_http, list_raw, statements = measure_listing(port, list_token)
    finally:
        server.terminate()
        server.wait(timeout=30)
        import redis

        redis.Redis.from_url(BROKER).flushdb()

    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0].split()[0]
    done = len(http_latencies)
    seeded_note = (
        f"{total_claims:,} claims in the database"
        if seeded >= count
        else f"{total_claims:,} claims in the database (seeding stopped at {seeded:,} of the "
        f"{count:,} asked, after the {budget:.0f} s budget on this machine)"
    )
    lines = [
        "",
        "## REST API over HTTP (`bench/bench_api.py`)",
        "",
        f"gunicorn (2 workers x 8 threads) on 127.0.0.1 in front of PostgreSQL, {seeded_note}, "
        f"seeded with `seed_demo`'s bulk generator in {seeding:.0f} s. The write test runs "
        f"{CLIENTS} concurrent clients (threads, keep-alive `http.client`, one API token "
        f"each); each claim is three requests: create (JSON), PoE upload (multipart PDF) "
        f"and submit (every automated check runs). The baseline writes the same rows "
        f"(claim, line, PoE row, three history events, the status change) with plain SQL "
        f"from {CLIENTS} threads, one transaction per step, without the file, the checks "
        f"or HTTP. The listing compares GET /api/v1/claims/ (first page, 50 claims, as a "
        f"partner admin of the largest demo organisation, {organisation_claims:,} claims) "
        f"with its own {statements} SQL statements replayed raw (median of {RUNS} runs "
        f"after a warm-up).",
        "",
        f"- Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Django {django.get_version()}, PostgreSQL {pg_version}, all on one host, shared "
        f"with other test suites and benchmarks running at the same time (load average "
        f"{os.getloadavg()[0]:.1f}).",
        f"- Date: {datetime.date.today().isoformat()}.",
        "",
        "| what | API | raw SQL | ratio |",
        "|---|---:|---:|---:|",
        f"| create + PoE + submit, {done} claims, {CLIENTS} clients (wall time) | "
        f"{http_time:.2f} s ({done / http_time:.1f} claims/s) | "
        f"{sql_time:.2f} s ({len(sql_latencies) / sql_time:.1f} claims/s) | "
        f"{http_time / sql_time:.1f}x |",
        f"| … median per claim (3 requests) | {statistics.median(http_latencies) * 1000:.0f} ms "
        f"| {statistics.median(sql_latencies) * 1000:.1f} ms | "
        f"{statistics.median(http_latencies) / statistics.median(sql_latencies):.1f}x |",
        f"| GET /api/v1/claims/ first page at {total_claims:,} claims | "
        f"{list_http * 1000:.1f} ms | {list_raw * 1000:.1f} ms | {list_http / list_raw:.1f}x |",
    ]
    lines += [
        "",
        "- The API side includes what every request does in production: token lookup, "
        "throttling, parsing, the services (with their row locks, history events and the "
        "notification e-mails rendered into the outbox in the same transaction, then "
        "handed to Celery), the PoE content sniffing, hashing and file write, and the "
        "JSON answer. The ratio is what all of that costs over the bare rows.",
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if not dry_run:
        harness.write_section(START, END, section)


START, END = "<!-- bench/bench_api.py: start -->", "<!-- bench/bench_api.py: end -->"


if __name__ == "__main__":
    main()
