"""Benchmark: outbox delivery into a local SMTP server, and the activation job over
100,000 pending associations, each beside a raw baseline.

Run with ``DATABASE_URL=postgres://… .venv/bin/python bench/bench_outbox.py [N]`` (N
pending associations, default 100,000; ``--dry-run`` prints without writing the docs).
It drops and recreates a database called ``cpor_bench_outbox`` on that server.

- Outbox delivery: 2,000 rendered e-mails in the outbox, delivered by
  ``outbox_deliver_due`` (claim with a lease, send on one SMTP connection, mark sent)
  into aiosmtpd on 127.0.0.1. Baseline: the same MIME messages sent with raw smtplib
  on one connection, no database.
- Activation: ``associations_activate_due`` over N associations whose notice period
  passed (batches of 500 locked rows, one conditional UPDATE each, then per association
  its history event and the partner's e-mail in the outbox). Baseline: one raw SQL
  UPDATE doing the same state change, rolled back afterwards.
"""

import datetime
import os
import platform
import smtplib
import sys
import time
import uuid
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cpor_bench_outbox"
MESSAGES = 2_000


def start_smtp():
    sys.path.insert(0, str(ROOT / "src"))
    from cpor.notifications.tests.smtp import SmtpServer

    server = SmtpServer()
    server.start()
    return server


def measure_outbox(server) -> tuple[float, float]:
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.db import transaction

    from cpor.notifications import delivery
    from cpor.notifications.models import OutboxMessage
    from cpor.notifications.services import queue_email

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.CPOR_BACKGROUND = "none"  # nothing delivered on commit: the job does it all
    with transaction.atomic():
        for i in range(MESSAGES):
            queue_email(
                to=f"partner{i}@bench.example",
                template="partner_event",
                context={"claim_id": i, "claim_name": f"Claim {i}", "headline": "Claim approved"},
                dedupe_key=f"bench-{i}",
            )
    raw = [
        EmailMultiAlternatives(m.subject, m.body_text, delivery.sender(), [m.recipient])
        for m in OutboxMessage.objects.order_by("id")
    ]
    for mail, message in zip(raw, OutboxMessage.objects.order_by("id"), strict=True):
        mail.attach_alternative(message.body_html, "text/html")
    payloads = [(m.from_email, m.to, m.message().as_bytes(linesep="\r\n")) for m in raw]

    start = time.perf_counter()
    sent = delivery.outbox_deliver_due()
    cpor = time.perf_counter() - start
    assert sent == MESSAGES, (sent, OutboxMessage.objects.values_list("last_error", flat=True)[:3])

    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", server.port) as smtp:
        for from_addr, to, data in payloads:
            smtp.sendmail(from_addr, to, data)
    baseline = time.perf_counter() - start
    assert len(server.messages) == 2 * MESSAGES
    return cpor, baseline


def seed_pending(n: int) -> None:
    """n pending associations whose notice period has passed, with their claims and lines."""
    from django.db import connection
    from django.utils import timezone

    from cpor.accounts.models import User
    from cpor.catalog.models import PartnerRole, Product
    from cpor.claims.models import Association, Claim, ClaimLine
    from cpor.customers.models import Tenant
    from cpor.partners.models import PartnerLocation, PartnerOrganisation

    role = PartnerRole.objects.select_related("solution_area").get(code="use_or_consume")
    products = list(Product.objects.filter(solution_area=role.solution_area, active=True))
    org = PartnerOrganisation.objects.create(name="Bench Partner")
    location = PartnerLocation.objects.create(organisation=org, partner_id="9900001", name="HQ")
    user = User.objects.create(username="bench@p.example", email="bench@p.example")
    tenants_needed = -(-n // len(products))
    tenants = Tenant.objects.bulk_create(
        [Tenant(tenant_id=uuid.uuid4(), name=f"Bench tenant {i}") for i in range(tenants_needed)],
        batch_size=5000,
    )
    now = timezone.now()
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
    lines, count = [], 0
    for claim in claims:
        for product in products:
            if count == n:
                break
            lines.append(ClaimLine(claim=claim, product=product, status="approved"))
            count += 1
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
                approved_at=now - datetime.timedelta(days=8),
                notice_ends_at=now - datetime.timedelta(days=1),
            )
            for line in lines
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE claims_claim SET status = 'approved'")
        cursor.execute("ANALYZE")


def measure_activation(n: int) -> tuple[float, float]:
    from django.db import connection, transaction

    from cpor.claims import services
    from cpor.claims.models import Association

    seed_pending(n)
    # Baseline first, rolled back, so both act on the same 100,000 rows.
    with transaction.atomic():
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE claims_association SET status = 'active', activated_at = now() "
                "WHERE status = 'pending_customer' AND notice_ends_at <= now()"
            )
            assert cursor.rowcount == n, cursor.rowcount
        baseline = time.perf_counter() - start
        transaction.set_rollback(True)

    start = time.perf_counter()
    activated = services.associations_activate_due()
    cpor = time.perf_counter() - start
    assert activated == n, activated
    assert Association.objects.filter(status="active").count() == n
    return cpor, baseline


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 100_000
    url = harness.bench_url(DB_NAME)
    harness.recreate_database(url)
    harness.setup_django(url)
    server = start_smtp()
    try:
        outbox, outbox_base = measure_outbox(server)
    finally:
        server.stop()
    # The activation job queues one partner e-mail per association: keep them in the outbox.
    from django.conf import settings

    settings.CPOR_BACKGROUND = "none"
    activation, activation_base = measure_activation(n)

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    rows = [
        (
            f"outbox delivery of {MESSAGES:,} e-mails into local SMTP (aiosmtpd)",
            f"{outbox:.2f} s ({MESSAGES / outbox:,.0f} msg/s)",
            f"{outbox_base:.2f} s ({MESSAGES / outbox_base:,.0f} msg/s, raw smtplib)",
            outbox / outbox_base,
        ),
        (
            f"activation job over {n:,} pending associations",
            f"{activation:.1f} s ({activation / n * 1000:.2f} ms each)",
            f"{activation_base:.2f} s (one SQL UPDATE)",
            activation / activation_base,
        ),
    ]
    table = ["| what | CPOR | baseline | ratio |", "|---|---:|---:|---:|"]
    table += [f"| {w} | {c} | {b} | {r:.1f}x |" for w, c, b, r in rows]
    section = "\n".join(
        [
            "",
            "## Outbox delivery and the activation job (`bench/bench_outbox.py`)",
            "",
            f"- Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"PostgreSQL {pg}, SMTP server in the same process; "
            f"date {datetime.date.today().isoformat()}.",
            "",
            *table,
            "",
            "- **Outbox delivery**: `outbox_deliver_due` leases each batch of 200 due "
            "messages (`SELECT … FOR UPDATE SKIP LOCKED`, one conditional UPDATE), sends them "
            "on one SMTP connection and marks each sent with its own UPDATE. The baseline "
            "sends the same MIME bytes with smtplib on one connection, with no database.",
            "- **Activation**: `associations_activate_due` works in batches of 500, one "
            "transaction each: it locks the due rows (`FOR UPDATE SKIP LOCKED`, so a second "
            "worker takes other rows), switches them with one conditional UPDATE, and per "
            "association writes its history event and renders and queues the partner's "
            "e-mail (text and HTML) in the outbox (`INSERT … ON CONFLICT DO NOTHING`). The "
            "baseline is one SQL UPDATE of the same rows, with no history and no notification.",
            "",
        ]
    )
    print(section)
    if "--dry-run" not in sys.argv:
        harness.write_section(START, END, section)


START = "<!-- outbox-bench:start -->"
END = "<!-- outbox-bench:end -->"


if __name__ == "__main__":
    main()
