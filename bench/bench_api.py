"""Benchmark: the REST API over real HTTP, beside the best hand-written SQL.

Run with ``DATABASE_URL=postgres://… .venv/bin/python bench/bench_api.py [N]`` (N, the
claims to seed for the listing, defaults to 1,000,000; ``--budget S`` stops seeding after
about S seconds, default 300; ``--rounds R``, default 3). It drops and recreates a
database called ``cpor_bench_api`` on that server, seeds the demo and up to N generated
claims with ``seed_demo``'s bulk generator, starts gunicorn (2 workers x 8 threads) on
127.0.0.1 as a production web process (``harness.PRODUCTION_SERVICES``: a Redis broker
where no worker runs, so whatever is handed to background work stays queued there and is
emptied at the end, and the shared cache, CACHE_URL), and measures, interleaved round
by round:

1. **create + PoE + submit**, 16 concurrent clients (threads with keep-alive
   ``http.client`` connections, an API token each), every claim on a tenant of its own:
   (a) the three-step path: POST /claims/ (JSON), POST …/proofs/ (multipart PDF),
   POST …/submit/; (b) the single request: POST /claims/file/ (multipart). The baseline
   writes the same rows (the submitted claim, its line, the PoE row, the three history
   events) in one transaction per claim, two prepared statements (data-modifying CTEs
   writing the rows, then the status), and writes the PoE file to disk, from 16 threads
   with a connection each. Claims per second over the batch; app CPU per claim is the
   gunicorn workers' /proc utime+stime delta over the claims (the baseline's: this
   process's, where its 16 threads run); PostgreSQL CPU per claim is the delta of
   every backend connected to the benchmark's database.
2. **API claim list** at N claims, as a partner admin of the largest organisation:
   the first page, and a page deep in the list (its cursor taken 90% of the way down),
   over HTTP, beside one prepared statement that has PostgreSQL build the same page's
   JSON (the same keys and values, lines nested) on a persistent connection.

Results go to bench/results/api.json (bench/report.py builds docs/performance.md).
"""

import argparse
import base64
import datetime
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

import harness
import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cpor_bench_api"
CHUNK = 100_000
CLIENTS = 16
CLAIMS_PER_CLIENT = 6
LIST_RUNS = 9
# Requests per listing sample: /proc counts CPU in 10 ms ticks, too coarse for one request.
PER_SAMPLE = 10
PDF = b"%PDF-1.7\nStatement of work signed by the customer\n%%EOF\n"
SQL_MEDIA = ROOT / "var" / "bench_api" / "sql_poe"


def server_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "cpor.settings",
        "CPOR_MODE": "production",
        "SECRET_KEY": "bench-" + "x" * 50,
        "CPOR_VAR_DIR": str(ROOT / "var" / "bench_api"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "API_THROTTLE_RATE": "1000000/minute",
        # Every claim names a tenant of its own: the enumeration limits (100 tenants an
        # hour per organisation) would refuse the batch, as they should a person.
        "TENANT_LOOKUP_LIMIT_PER_USER": "1000000",
        "TENANT_LOOKUP_LIMIT_PER_ORGANISATION": "1000000",
        **harness.PRODUCTION_SERVICES,
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


def prepare_writers(tenant_count: int):
    """A partner admin per client with an API token, and a fresh tenant per claim (a
    claim per unit, so the "no open claim for the same unit" check passes)."""
    from django.db import transaction

    from cpor.accounts.models import User
    from cpor.api.services import api_token_create
    from cpor.customers.models import Tenant, TenantAdminContact, TenantDomain
    from cpor.partners.models import Membership, PartnerLocation, PartnerOrganisation

    with transaction.atomic():
        run = uuid.uuid4().hex[:6]
        organisation = PartnerOrganisation.objects.create(name=f"Bench API {run}")
        location = PartnerLocation.objects.create(
            organisation=organisation, partner_id=str(uuid.uuid4().int)[:8], name="Bench"
        )
        users, tokens = [], []
        for index in range(CLIENTS):
            email = f"bench{index}-{run}@api.example"
            user = User.objects.create_user(username=email, email=email)
            Membership.objects.create(user=user, organisation=organisation, role="partner_admin")
            harness.with_second_factor(user)
            users.append(user.pk)
            tokens.append(api_token_create(actor=user, name="bench")[1])
        tenants = Tenant.objects.bulk_create(
            [Tenant(tenant_id=uuid.uuid4(), name=f"Bench tenant {i}") for i in range(tenant_count)]
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
    return organisation, location, users, tokens, [(t.pk, str(t.tenant_id)) for t in tenants]


def claim_fields(partner_id: str, tenant: tuple[int, str]) -> dict:
    pk, guid = tenant
    return {
        "role": "use_or_consume",
        "partner_id": partner_id,
        "tenant_id": guid,
        "name": f"Adoption for bench tenant {pk}",
        "customer_contact_name": "Ana Silva",
        "customer_contact_title": "CIO",
        "customer_contact_email": f"ana@bench{pk}.example",
        "partner_contact_name": "Rui Costa",
        "partner_contact_email": "rui@partner.example",
        "products": ["teams"],
    }


def signed_on() -> str:
    return (datetime.date.today() - datetime.timedelta(days=10)).isoformat()


def multipart(fields: dict) -> tuple[bytes, str]:
    """A multipart body of ``fields`` (lists as repeated parts) and the PoE PDF."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{item}\r\n".encode()
            )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="sow.pdf"\r\n'
        f"Content-Type: application/pdf\r\n\r\n".encode()
        + PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


POE_FIELDS = {"poe_type": "statement_of_work", "signatory": "Ana Silva"}


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
# The write benchmark: three steps, one request, one SQL statement


def three_steps(conn, token: str, partner_id: str, tenant) -> str | None:
    status, body = request(
        conn,
        "POST",
        "/api/v1/claims/",
        token,
        json.dumps(claim_fields(partner_id, tenant)).encode(),
        "application/json",
    )
    if status != 201:
        return f"create {status} {body[:200]!r}"
    claim_id = json.loads(body)["id"]
    payload, content_type = multipart(POE_FIELDS | {"signed_on": signed_on()})
    status, body = request(
        conn, "POST", f"/api/v1/claims/{claim_id}/proofs/", token, payload, content_type
    )
    if status != 201:
        return f"poe {status} {body[:200]!r}"
    status, body = request(
        conn,
        "POST",
        f"/api/v1/claims/{claim_id}/submit/",
        token,
        b'{"confirmed": true}',
        "application/json",
    )
    return None if status == 200 else f"submit {status} {body[:200]!r}"


def one_request(conn, token: str, partner_id: str, tenant) -> str | None:
    fields = claim_fields(partner_id, tenant) | POE_FIELDS
    fields |= {"signed_on": signed_on(), "confirmed": "true"}
    payload, content_type = multipart(fields)
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    conn.request(
        "POST",
        "/api/v1/claims/file/",
        body=payload,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": content_type,
        }
        | headers,
    )
    response = conn.getresponse()
    body = response.read()
    return None if response.status == 201 else f"file {response.status} {body[:200]!r}"


def run_clients(work, tenants: list) -> tuple[int, list[str]]:
    """``work(index, tenant)`` for every tenant, spread over CLIENTS threads."""
    per_client = [tenants[i::CLIENTS] for i in range(CLIENTS)]
    failures: list[str] = []
    done = [0]
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS + 1)

    def client(index: int) -> None:
        state = work.open(index)
        start.wait()
        for tenant in per_client[index]:
            try:
                failure = work(state, index, tenant)
            except Exception as error:  # counted and shown, not fatal
                failure = f"{type(error).__name__}: {error}"
            with lock:
                if failure:
                    failures.append(failure)
                else:
                    done[0] += 1
        work.close(state)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    start.wait()  # the measured block starts when every client is ready
    for thread in threads:
        thread.join()
    return done[0], failures


class HttpWork:
    def __init__(self, port: int, tokens: list[str], partner_id: str, step) -> None:
        self.port, self.tokens, self.partner_id, self.step = port, tokens, partner_id, step

    def open(self, index: int):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def __call__(self, conn, index: int, tenant) -> str | None:
        return self.step(conn, self.tokens[index], self.partner_id, tenant)

    def close(self, conn) -> None:
        conn.close()


def _columns(model, values: dict) -> tuple[list[str], list]:
    """Every concrete column but the key, with ``values`` or the field's default (the
    database fills in columns with a database default)."""
    from django.db.models import NOT_PROVIDED

    columns, params = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.attname not in values and field.db_default is not NOT_PROVIDED:
            continue
        columns.append(f'"{field.column}"')
        params.append(values[field.attname] if field.attname in values else field.get_default())
    return columns, params


SUBMIT = "UPDATE claims_claim SET status = 'submitted', submitted_at = %s WHERE id = %s"


class SqlWork:
    """The same rows as the API's three steps, one transaction per claim: one statement
    (data-modifying CTEs) writes the claim, its line, its PoE row and its three history
    events, a second submits it; the PoE file is written to disk first, as the API does."""

    def __init__(self, url: str, organisation, location, users: list[int]) -> None:
        from cpor.catalog.models import PartnerRole, Product

        self.url = url
        self.organisation, self.location, self.users = organisation, location, users
        self.role = PartnerRole.objects.get(code="use_or_consume").pk
        self.teams = Product.objects.get(code="teams").pk
        self.connections: dict[int, psycopg.Connection] = {}
        SQL_MEDIA.mkdir(parents=True, exist_ok=True)

    def statement(self, values: dict[str, dict]) -> tuple[str, list]:
        from cpor.claims.models import Claim, ClaimEvent, ClaimLine, ProofOfExecution

        params: list = []

        def cols(model, given: dict, exclude: tuple[str, ...] = ()) -> tuple[str, str]:
            columns, found = _columns(model, given)
            keep = [(c, p) for c, p in zip(columns, found, strict=True) if c not in exclude]
            params.extend(p for _c, p in keep)
            return ", ".join(c for c, _p in keep), ", ".join(["%s"] * len(keep))

        claim_cols, claim_marks = cols(Claim, values["claim"])
        line_cols, line_marks = cols(ClaimLine, values["line"], exclude=('"claim_id"',))
        poe_cols, poe_marks = cols(ProofOfExecution, values["poe"], exclude=('"claim_id"',))
        event_cols, event_marks = cols(
            ClaimEvent,
            values["event"],
            exclude=('"claim_id"', '"action"', '"from_status"', '"to_status"'),
        )
        sql = (
            f"WITH c AS (INSERT INTO claims_claim ({claim_cols}) VALUES ({claim_marks}) "
            f"RETURNING id), "
            f"l AS (INSERT INTO claims_claimline (claim_id, {line_cols}) "
            f"SELECT id, {line_marks} FROM c), "
            f"p AS (INSERT INTO claims_proofofexecution (claim_id, {poe_cols}) "
            f"SELECT id, {poe_marks} FROM c), "
            f"e AS (INSERT INTO claims_claimevent "
            f"(claim_id, action, from_status, to_status, {event_cols}) "
            f"SELECT c.id, v.action, v.from_status, v.to_status, {event_marks} FROM c, "
            f"(VALUES ('create', '', 'draft', 1), ('add_poe', '', '', 2), "
            f"('submit', 'draft', 'submitted', 3)) AS v(action, from_status, to_status, n) "
            f"ORDER BY v.n) "
            f"SELECT id FROM c"
        )
        return sql, params

    def open(self, index: int):
        # Connections persist across batches, as gunicorn's do: a backend that closed
        # during a batch would take its CPU out of /proc before it is read.
        if index not in self.connections:
            self.connections[index] = psycopg.connect(self.url, autocommit=True)
        return self.connections[index]

    def __call__(self, conn, index: int, tenant) -> str | None:
        from django.utils import timezone

        now = timezone.now()
        user = self.users[index]
        fields = claim_fields("", tenant)
        name = f"poe/{uuid.uuid4().hex}.pdf"
        # The file first, as the API stores it before its row.
        (SQL_MEDIA / Path(name).name).write_bytes(PDF)
        sql, params = self.statement(
            {
                "claim": {
                    "organisation_id": self.organisation.pk,
                    "location_id": self.location.pk,
                    "role_id": self.role,
                    "tenant_id": tenant[0],
                    "name": fields["name"],
                    "customer_contact_name": fields["customer_contact_name"],
                    "customer_contact_title": fields["customer_contact_title"],
                    "customer_contact_email": fields["customer_contact_email"],
                    "partner_contact_name": fields["partner_contact_name"],
                    "partner_contact_email": fields["partner_contact_email"],
                    "status": "draft",
                    "created_by_id": user,
                    "created_at": now,
                    "updated_at": now,
                    "submitted_at": now,
                },
                "line": {"product_id": self.teams, "status": "pending"},
                "poe": {
                    "file": name,
                    "original_name": "sow.pdf",
                    "content_type": "application/pdf",
                    "size": len(PDF),
                    "sha256": hashlib.sha256(PDF).hexdigest(),
                    "poe_type": "statement_of_work",
                    "signed_on": datetime.date.today() - datetime.timedelta(days=10),
                    "signatory": "Ana Silva",
                    "uploaded_by_id": user,
                    "uploaded_at": now,
                },
                "event": {"actor_id": user, "at": now},
            }
        )
        with conn.transaction():
            claim_id = conn.execute(sql, params, prepare=True).fetchone()[0]
            # The lines are written while the claim is a draft (the database refuses
            # lines of a submitted claim), then it is submitted: the generator's order.
            conn.execute(SUBMIT, [now, claim_id], prepare=True)
        return None

    def close(self, conn) -> None:
        pass

    def close_all(self) -> None:
        for conn in self.connections.values():
            conn.close()


def measure_writes(work, tenants, *, app_pids, pg_pids, include_self) -> tuple:
    with harness.measure(app_pids=app_pids, pg_pids=pg_pids, include_self=include_self) as usage:
        done, failures = run_clients(work, tenants)
    if failures:
        print(f"  {len(failures)} failures, e.g. {failures[0]}", flush=True)
    if not done:
        sys.exit("nothing was written: see the failures above")
    return usage, done


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
    return user, organisation_id


# The first page needs no position; a later one starts after its cursor's time.
PAGE_JSON_TEMPLATE = """
SELECT coalesce(json_agg(page ORDER BY page.created_at DESC, page.id DESC), '[]')::text
FROM (
  SELECT c.id, '/api/v1/claims/' || c.id || '/' AS url, c.name, c.status,
         o.name AS organisation, l.partner_id, r.code AS role, sa.code AS solution_area,
         e.code AS engagement, t.tenant_id, t.name AS tenant_name, c.incentive_opt_out,
         c.customer_contact_name, c.customer_contact_title, c.customer_contact_email,
         c.partner_contact_name, c.partner_contact_email, c.seller_name, c.customer_name,
         c.isv_solution_name, c.comments,
         (SELECT coalesce(json_agg(json_build_object(
                    'id', cl.id, 'product', p.code, 'product_name', p.name,
                    'subscription_id', s.subscription_id, 'status', cl.status) ORDER BY cl.id),
                  '[]')
            FROM claims_claimline cl JOIN catalog_product p ON p.id = cl.product_id
            LEFT JOIN customers_subscription s ON s.id = cl.subscription_id
           WHERE cl.claim_id = c.id) AS lines,
         c.created_at, c.updated_at, c.submitted_at, c.decided_at, c.info_requested_until
    FROM claims_claim c
    JOIN partners_partnerorganisation o ON o.id = c.organisation_id
    JOIN partners_partnerlocation l ON l.id = c.location_id
    JOIN catalog_partnerrole r ON r.id = c.role_id
    JOIN catalog_solutionarea sa ON sa.id = r.solution_area_id
    JOIN catalog_engagement e ON e.id = r.engagement_id
    JOIN customers_tenant t ON t.id = c.tenant_id
   WHERE c.organisation_id = %s{after}
   ORDER BY c.created_at DESC, c.id DESC
   LIMIT 50
) AS page
"""


def page_sql(organisation_id: int, position: datetime.datetime | None) -> tuple[str, list]:
    if position is None:
        return PAGE_JSON_TEMPLATE.format(after=""), [organisation_id]
    return PAGE_JSON_TEMPLATE.format(after=" AND c.created_at < %s"), [organisation_id, position]


def drf_cursor(position: datetime.datetime) -> str:
    """The cursor DRF's CursorPagination would put in a "next" link at ``position``."""
    token = base64.b64encode(urlencode({"p": str(position)}, doseq=True).encode()).decode()
    return quote(token)


def measure_listing(port: int, token: str, url: str, organisation_id: int, server_pids):
    """(first page, deep page) of (HTTP usage, SQL usage, statements)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM claims_claim WHERE organisation_id = %s", [organisation_id]
        )
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT created_at FROM claims_claim WHERE organisation_id = %s "
            "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            [organisation_id, int(total * 0.9)],
        )
        deep = cursor.fetchone()[0]
    http_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sql_conn = psycopg.connect(url, autocommit=True)
    sql_backend = harness.backend_pid(sql_conn)
    results = {}
    for label, path, position in (
        ("first", "/api/v1/claims/", None),
        ("deep", f"/api/v1/claims/?cursor={drf_cursor(deep)}", deep),
    ):
        sizes = {}

        def over_http(path=path, sizes=sizes):
            for _ in range(PER_SAMPLE):
                status, body = request(http_conn, "GET", path, token)
                assert status == 200, (status, body[:300])
            sizes["http"] = len(json.loads(body)["results"])

        def in_sql(position=position, sizes=sizes):
            for _ in range(PER_SAMPLE):
                text = sql_conn.execute(*page_sql(organisation_id, position), prepare=True)
                page = text.fetchone()[0]
            sizes["sql"] = len(json.loads(page))

        def api_backends():
            return harness.database_backend_pids(sql_conn)

        a, b = harness.interleave(
            harness.timed(
                over_http, app_pids=server_pids, pg_pids=api_backends, include_self=False
            ),
            harness.timed(in_sql, pg_pids=[sql_backend]),
            LIST_RUNS,
            warmup=3,
        )
        assert sizes["http"] == sizes["sql"] == 50, sizes
        results[label] = (harness.median_usage(a), harness.median_usage(b))
    sql_conn.close()
    http_conn.close()
    return results, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("claims", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--budget", type=float, default=300.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database of the previous run (no seeding)"
    )
    args = parser.parse_args()

    url = harness.bench_url(DB_NAME)
    if not args.reuse:
        harness.recreate_database(url)
    harness.setup_django(url, var_dir=ROOT / "var" / "bench_api", env=server_env(url))
    if args.reuse:
        seeding, seeded = 0.0, args.claims
    else:
        print(f"Seeding up to {args.claims:,} claims (budget {args.budget:.0f} s)…", flush=True)
        seeding, seeded = seed(args.claims, args.budget)

    from django.db import connection

    from cpor.api.services import api_token_create
    from cpor.claims.models import Claim

    batch = CLIENTS * CLAIMS_PER_CLIENT
    organisation, location, users, tokens, tenants = prepare_writers(batch * (3 * args.rounds + 1))
    list_user_, organisation_id = list_user()
    list_token = api_token_create(actor=harness.with_second_factor(list_user_), name="bench")[1]
    total_claims = Claim.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0].split()[0]
    port = free_port()
    server = start_server(url, port, tokens[0])
    workers = harness.children(server.pid)
    monitor = psycopg.connect(url, autocommit=True)

    def backends():
        return harness.database_backend_pids(monitor)

    three = HttpWork(port, tokens, location.partner_id, three_steps)
    single = HttpWork(port, tokens, location.partner_id, one_request)
    sql = SqlWork(url, organisation, location, users)
    samples: dict[str, list] = {"three": [], "single": [], "sql": []}
    try:
        # One warm-up batch of each side: workers import, connect and prepare.
        chunks = iter([tenants[i : i + batch] for i in range(0, len(tenants), batch)])
        warm = next(chunks)
        third = len(warm) // 3
        run_clients(three, warm[:third])
        run_clients(single, warm[third : 2 * third])
        run_clients(sql, warm[2 * third :])
        for round_ in range(args.rounds):
            for side, work, app, include_self in (
                ("three", three, workers, False),
                ("sql", sql, (), True),
                ("single", single, workers, False),
            ):
                chunk = next(chunks, None)
                if chunk is None:
                    break
                usage, done = measure_writes(
                    work, chunk, app_pids=app, pg_pids=backends, include_self=include_self
                )
                samples[side].append((usage, done))
                print(
                    f"  round {round_ + 1} {side}: {done} claims in {usage.wall:.2f} s "
                    f"({done / usage.wall:.1f}/s), app {usage.cpu_app / done * 1000:.1f} ms, "
                    f"pg {usage.cpu_pg / done * 1000:.1f} ms per claim",
                    flush=True,
                )
        print("Listing…", flush=True)
        listing, listed = measure_listing(port, list_token, url, organisation_id, workers)
    finally:
        sql.close_all()
        monitor.close()
        server.terminate()
        server.wait(timeout=30)
        harness.clear_production_services()

    def rate_and_cpu(side: str) -> tuple[float, float, float]:
        rates = [done / usage.wall for usage, done in samples[side]]
        app = [usage.cpu_app / done * 1000 for usage, done in samples[side]]
        pg = [usage.cpu_pg / done * 1000 for usage, done in samples[side]]
        return harness.median(rates), harness.median(app), harness.median(pg)

    sql_rate, sql_app, sql_pg = rate_and_cpu("sql")
    load = os.getloadavg()[0]
    context = (
        f"gunicorn 2 workers x 8 threads, {CLIENTS} clients, batches of {batch} claims, "
        f"median of {args.rounds} interleaved rounds (three-step, SQL, one request); "
        f"PostgreSQL {pg_version}, prepared statements on; load average {load:.1f}"
    )
    baseline_note = (
        f"baseline: one transaction per claim, a prepared statement of CTEs (claim, line, "
        f"PoE row, three events) and the status update, and the PoE file written, "
        f"{CLIENTS} connections: {sql_rate:.1f} claims/s, "
        f"{sql_app:.1f} ms client CPU + {sql_pg:.1f} ms PostgreSQL CPU per claim"
    )
    rows = []
    for side, path, what in (
        ("three", "create_submit_3step", "POST /claims/, …/proofs/, …/submit/"),
        ("single", "create_submit_single", "POST /claims/file/ (Idempotency-Key)"),
    ):
        rate, app, pg = rate_and_cpu(side)
        rows.append(
            harness.row(
                path,
                rate,
                sql_rate,
                unit="claims/s",
                cpu_app_ms=round(app, 2),
                cpu_pg_ms=round(pg, 2),
                baseline_cpu_app_ms=round(sql_app, 2),
                baseline_cpu_pg_ms=round(sql_pg, 2),
                note=f"{what}; app CPU = gunicorn workers per claim; {context}; {baseline_note}",
            )
        )
    for label, path in (("first", "api_list_first"), ("deep", "api_list_deep")):
        a, b = listing[label]
        rows.append(
            harness.row(
                path,
                a,
                b,
                per=PER_SAMPLE,
                note=(
                    f"GET /api/v1/claims/ {label} page (50 claims, cursor at 90% for the deep "
                    f"one) over HTTP as a partner admin of an organisation with "
                    f"{listed:,} of the {total_claims:,} claims, beside one prepared statement "
                    f"that has PostgreSQL build the page's JSON; median of {LIST_RUNS} "
                    f"interleaved runs; app CPU = gunicorn workers, PostgreSQL CPU = its "
                    f"backends; each sample {PER_SAMPLE} requests in a row"
                ),
            )
        )
    seeded_note = (
        f"{total_claims:,} claims (the database of an earlier run)"
        if args.reuse
        else f"{total_claims:,} claims seeded in {seeding:.0f} s"
        if seeded >= args.claims
        else f"{total_claims:,} claims (seeding stopped at {seeded:,} of {args.claims:,} "
        f"after the {args.budget:.0f} s budget)"
    )
    path = harness.record_results("api", rows, note=f"bench/bench_api.py, {seeded_note}")
    for item in rows:
        print(
            f"{item['path']:22} CPOR {item['cpor']:8.2f} {item['unit']:9} baseline "
            f"{item['baseline']:8.2f}  ratio {item['ratio']:.2f}x  app CPU "
            f"{item['cpu_app_ms']} ms  pg CPU {item['cpu_pg_ms']} ms"
        )
    print(f"Written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
