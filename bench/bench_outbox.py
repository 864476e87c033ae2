"""Benchmark: the activation job beside the set-based SQL writing the same events, and
the outbox delivery into a local SMTP server beside raw smtplib.

Run with ``DATABASE_URL=postgres://… .venv/bin/python bench/bench_outbox.py``
(``--help`` for the sizes). It drops and recreates a database called
``cpor_bench_e_outbox`` on that server, prints its figures and writes them to
bench/results/outbox.json; bench/report.py builds docs/performance.md from them.

- Activation (target: at most 2x the set-based SQL): ``associations_activate_due(now=…)``
  over a group of N associations whose notice period has passed, beside one statement
  doing the same (``UPDATE … RETURNING`` the due associations, ``INSERT … SELECT`` their
  history events). The associations are seeded in groups due one minute apart; each
  side takes the next group by passing that group's ``now``, alternately (A B A B), so
  both act on identical rows. The job runs as a Celery worker would
  (``harness.PRODUCTION_SERVICES``: a Redis broker with no worker, and the shared cache),
  so whatever it hands on after commit (the event consumers' wake-up) is queued there,
  not run in-process.
- Outbox delivery: M rendered e-mails queued with ``queue_email``, delivered by
  ``outbox_deliver_due`` into an aiosmtpd server in a child process; beside them the
  same MIME messages sent with smtplib on one connection, with no database. Rounds
  alternate too.

Figures are medians over the rounds, per association or per message, with the CPU of
this process and of the PostgreSQL backend serving each side's connection (/proc).
"""

import argparse
import datetime
import smtplib
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import harness
import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cpor_bench_e_outbox"
SINK = "aiosmtpd.handlers.Sink"

ACTIVATE = """
WITH activated AS (
    UPDATE claims_association SET status = 'active', activated_at = %(now)s
    WHERE status = 'pending_customer' AND notice_ends_at <= %(now)s
    RETURNING id, claim_id
)
INSERT INTO claims_claimevent (claim_id, association_id, action, from_status, to_status,
    reason_code, message, internal, actor_id, actor_label, at)
SELECT claim_id, id, 'activate', 'pending_customer', 'active', '', '', false, NULL,
    'system', %(now)s
FROM activated
"""


# ---------------------------------------------------------------------------
# Activation


def seed_pending(url: str, groups: int, size: int, base: datetime.datetime) -> None:
    """``groups`` x ``size`` pending associations; group k's notice ends at base + k min."""
    from django.db import connection

    from cpor.accounts.models import User
    from cpor.catalog.models import PartnerRole, Product
    from cpor.claims.models import Association, Claim, ClaimLine
    from cpor.customers.models import Tenant
    from cpor.partners.models import PartnerLocation, PartnerOrganisation

    total = groups * size
    role = PartnerRole.objects.select_related("solution_area").get(code="use_or_consume")
    products = list(Product.objects.filter(solution_area=role.solution_area, active=True))
    org = PartnerOrganisation.objects.create(name="Bench Partner")
    location = PartnerLocation.objects.create(organisation=org, partner_id="9900001", name="HQ")
    user = User.objects.create(username="bench@p.example", email="bench@p.example")
    tenants = Tenant.objects.bulk_create(
        [
            Tenant(tenant_id=uuid.uuid4(), name=f"Bench tenant {i}")
            for i in range(-(-total // len(products)))
        ],
        batch_size=5000,
    )
    claims = Claim.objects.bulk_create(
        [
            Claim(
                organisation=org,
                location=location,
                role=role,
                tenant=tenant,
                name=f"Bench claim {tenant.pk}",
                customer_contact_name="Ana",
                customer_contact_title="CIO",
                customer_contact_email="ana@customer.example",
                partner_contact_name="Rui",
                partner_contact_email="rui@partner.example",
                created_by=user,
            )
            for tenant in tenants
        ],
        batch_size=5000,
    )
    lines = [
        ClaimLine(claim=claim, product=product, status="approved")
        for claim in claims
        for product in products
    ][:total]
    lines = ClaimLine.objects.bulk_create(lines, batch_size=5000)
    Association.objects.bulk_create(
        [
            Association(
                claim_id=line.claim_id,
                line=line,
                organisation=org,
                tenant_id=line.claim.tenant_id,
                product_id=line.product_id,
                status="pending_customer",
                approved_at=base - datetime.timedelta(days=7),
                notice_ends_at=base + datetime.timedelta(minutes=i // size),
            )
            for i, line in enumerate(lines)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE claims_claim SET status = 'approved'")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def outbox_count() -> int:
    from cpor.notifications.models import OutboxMessage

    return OutboxMessage.objects.count()


def measure_activation(url: str, *, rounds: int, size: int) -> tuple[harness.Usage, ...]:
    from django.db import connection

    from cpor.claims import services
    from cpor.claims.models import Association, ClaimEvent

    base = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(days=1)
    print(f"  seeding {2 * rounds} groups of {size:,} due associations…", flush=True)
    seed_pending(url, 2 * rounds, size, base)
    due_times = iter(base + datetime.timedelta(minutes=k, seconds=30) for k in range(2 * rounds))
    groups: dict[str, list[datetime.datetime]] = {"cpor": [], "sql": []}
    extra_outbox: list[int] = []
    django_backend = harness.backend_pid(connection)
    conn = psycopg.connect(url, autocommit=True)
    sql_backend = harness.backend_pid(conn)

    def cpor() -> harness.Usage:
        now = next(due_times)
        groups["cpor"].append(now)
        queued = outbox_count()
        with harness.measure(pg_pids=[django_backend]) as usage:
            services.associations_activate_due(now=now)
        extra_outbox.append(outbox_count() - queued)
        return usage.per(size)

    def sql() -> harness.Usage:
        now = next(due_times)
        groups["sql"].append(now)
        with harness.measure(pg_pids=[sql_backend]) as usage, conn.transaction():
            conn.execute(ACTIVATE, {"now": now})
        return usage.per(size)

    try:
        a, b = harness.interleave(cpor, sql, rounds)
    finally:
        conn.close()

    # Each side activated exactly its groups and wrote one event per association.
    minute = datetime.timedelta(minutes=1)
    for side, times in groups.items():
        for now in times:
            group = Association.objects.filter(
                notice_ends_at__gt=now - minute, notice_ends_at__lte=now
            )
            active = group.filter(status="active", activated_at=now).count()
            events = ClaimEvent.objects.filter(association__in=group, action="activate").count()
            if active != size or events != size:
                raise RuntimeError(f"{side}: {active} activated, {events} events of {size}")
    if Association.objects.filter(status="pending_customer").exists():
        raise RuntimeError("some due associations were left pending")
    return harness.median_usage(a), harness.median_usage(b), harness.median(extra_outbox)


# ---------------------------------------------------------------------------
# Outbox delivery


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_smtp(port: int) -> subprocess.Popen:
    """aiosmtpd discarding every message, in a child process: its CPU is not the app's."""
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", SINK],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the SMTP server did not start")


def queue_messages(count: int, offset: int) -> list[tuple[str, list[str], bytes]]:
    """``count`` rendered e-mails in the outbox, and the same messages as MIME bytes."""
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.db import transaction

    from cpor.notifications import delivery
    from cpor.notifications.models import OutboxMessage
    from cpor.notifications.services import queue_email

    background, settings.CPOR_BACKGROUND = settings.CPOR_BACKGROUND, "none"
    try:
        with transaction.atomic():
            for i in range(offset, offset + count):
                queue_email(
                    to=f"partner{i}@bench.example",
                    template="partner_event",
                    context={
                        "claim_id": i,
                        "claim_name": f"Claim {i}",
                        "headline": "Claim approved",
                    },
                    dedupe_key=f"bench-{i}",
                )
    finally:
        settings.CPOR_BACKGROUND = background
    payloads = []
    for message in OutboxMessage.objects.filter(dedupe_key__startswith="bench-").filter(
        status="pending"
    ):
        mail = EmailMultiAlternatives(
            message.subject, message.body_text, delivery.sender(), [message.recipient]
        )
        if message.body_html:
            mail.attach_alternative(message.body_html, "text/html")
        payloads.append((mail.from_email, mail.to, mail.message().as_bytes(linesep="\r\n")))
    if len(payloads) != count:
        raise RuntimeError(f"{len(payloads)} messages pending, {count} queued")
    return payloads


def measure_outbox(*, rounds: int, count: int) -> tuple[harness.Usage, ...]:
    from django.conf import settings
    from django.db import connection

    from cpor.notifications import delivery

    port = free_port()
    server = start_smtp(port)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    django_backend = harness.backend_pid(connection)
    offsets = iter(range(0, rounds * count, count))
    payloads: list[tuple[str, list[str], bytes]] = []

    def cpor() -> harness.Usage:
        payloads[:] = queue_messages(count, next(offsets))
        with harness.measure(pg_pids=[django_backend]) as usage:
            sent = delivery.outbox_deliver_due()
        if sent != count:
            raise RuntimeError(f"outbox_deliver_due sent {sent} of {count}")
        return usage.per(count)

    def raw() -> harness.Usage:
        with harness.measure() as usage, smtplib.SMTP("127.0.0.1", port) as smtp:
            for from_addr, to, data in payloads:
                smtp.sendmail(from_addr, to, data)
        return usage.per(count)

    try:
        a, b = harness.interleave(cpor, raw, rounds)
    finally:
        server.terminate()
        server.wait(10)
    return harness.median_usage(a), harness.median_usage(b)


# ---------------------------------------------------------------------------


def show(label: str, cpor: harness.Usage, base: harness.Usage) -> None:
    ratio = cpor.wall / base.wall if base.wall else float("nan")
    print(
        f"{label}: CPOR {cpor.wall * 1000:.3f} ms (app CPU {cpor.cpu_app * 1000:.3f}, "
        f"PG CPU {cpor.cpu_pg * 1000:.3f}) | baseline {base.wall * 1000:.3f} ms (app CPU "
        f"{base.cpu_app * 1000:.3f}, PG CPU {base.cpu_pg * 1000:.3f}) | {ratio:.1f}x",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--associations", type=int, default=10_000, help="per activation round")
    parser.add_argument("--rounds", type=int, default=3, help="activation rounds per side")
    parser.add_argument("--messages", type=int, default=2_000, help="per delivery round")
    parser.add_argument("--outbox-rounds", type=int, default=3, help="delivery rounds per side")
    args = parser.parse_args()

    url = harness.bench_url(DB_NAME)
    print(f"Recreating {DB_NAME} and migrating…", flush=True)
    harness.recreate_database(url)
    harness.setup_django(url, env=harness.PRODUCTION_SERVICES)
    from django.conf import settings

    background = settings.CPOR_BACKGROUND
    rows = []
    try:
        print(f"Activation: {args.rounds} rounds of {args.associations:,} per side…", flush=True)
        job, job_sql, outbox_rows = measure_activation(
            url, rounds=args.rounds, size=args.associations
        )
        show("activation (per association)", job, job_sql)
        in_transaction = (
            f" The job also wrote {outbox_rows / args.associations:.2f} outbox rows per "
            "association in its transactions; the SQL writes none."
            if outbox_rows
            else " Neither side writes outbox rows: e-mails are derived after commit."
        )
        rows.append(
            harness.row(
                "jobs_activation",
                job,
                job_sql,
                note=f"`associations_activate_due(now=…)` over {args.associations:,} due "
                "associations beside one statement (`UPDATE … RETURNING`, `INSERT … SELECT` "
                f"of the activation events); interleaved, median of {args.rounds} rounds, per "
                f"association. Run as a worker runs it (CPOR_BACKGROUND={background}, broker "
                "set, no worker)." + in_transaction,
            )
        )
        print(
            f"Outbox: {args.outbox_rounds} rounds of {args.messages:,} e-mails per side…",
            flush=True,
        )
        outbox, outbox_raw = measure_outbox(rounds=args.outbox_rounds, count=args.messages)
        show("outbox delivery (per message)", outbox, outbox_raw)
        rows.append(
            harness.row(
                "outbox_delivery",
                outbox,
                outbox_raw,
                label="outbox delivery of rendered e-mails into local SMTP",
                note=f"`outbox_deliver_due` of {args.messages:,} rendered e-mails into aiosmtpd "
                "(child process, discards) beside raw smtplib sending the same MIME bytes on "
                f"one connection with no database; interleaved, median of {args.outbox_rounds} "
                "rounds, per message.",
            )
        )
    finally:
        harness.clear_production_services()
    path = harness.record_results("outbox", rows, note=f"bench/bench_outbox.py, {DB_NAME}")
    print(f"Wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
