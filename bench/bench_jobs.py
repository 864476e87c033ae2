"""Benchmark: each periodic job beside the hand-written set-based SQL writing the same rows.

Run with ``DATABASE_URL=postgres://… .venv/bin/python bench/bench_jobs.py`` (``--help``
for the sizes). It drops and recreates a database called ``cpor_bench_jobs`` on that
server, prints its figures and writes them to bench/results/jobs.json.

For each job (activation, carry-over to renewals, subscription expiry, stale-draft
warning, stale-draft expiry, unanswered-request rejection) it seeds 2 x (rounds + 1)
groups of N due rows (the first round warms up and is not kept), the groups due one
minute (or one day, for subscriptions) apart. Each side takes the next group by passing
that group's ``now`` (or ``today``), alternately (A B A B), so both act on identical
rows:

- CPOR: the job as ``manage.py run_periodic`` runs it, batches of its default size, one
  transaction each; run as a Celery worker would (``harness.PRODUCTION_SERVICES``: a
  Redis broker with no worker, and the shared cache), so the consumers' wake-up after
  each commit is queued, not run in-process.
- Baseline: one statement on its own connection, a data-modifying CTE (``UPDATE …
  RETURNING`` then ``INSERT … SELECT`` of the same history events, messages built in
  SQL), in one transaction, no batches.

Both sides are checked afterwards: every row of the group changed, one event each, with
the same content. Figures are medians over the rounds, per row, with the CPU of this
process and of the PostgreSQL backend serving each side's connection (/proc).
"""

import argparse
import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import harness
import psycopg

DB_NAME = "cpor_bench_jobs"
DAYS_90 = datetime.timedelta(days=90)
EVENT_COLUMNS = (
    "claim_id, association_id, action, from_status, to_status, reason_code, message, "
    "internal, actor_id, actor_label, at"
)

ACTIVATE = f"""
WITH activated AS (
    UPDATE claims_association SET status = 'active', activated_at = %(now)s
    WHERE status = 'pending_customer' AND notice_ends_at <= %(now)s
    RETURNING id, claim_id
)
INSERT INTO claims_claimevent ({EVENT_COLUMNS})
SELECT claim_id, id, 'activate', 'pending_customer', 'active', '', '', false, NULL,
    'system', %(now)s
FROM activated
"""

CARRY_OVER = f"""
WITH carried AS (
    UPDATE claims_association a SET subscription_id = r.id
    FROM customers_subscription s
    JOIN customers_subscription r ON r.predecessor_id = s.id
    WHERE a.subscription_id = s.id AND a.status IN ('pending_customer', 'active')
      AND s.ends_on < %(today)s AND r.ends_on >= %(today)s
      AND NOT EXISTS (SELECT 1 FROM claims_association h
                      WHERE h.subscription_id = r.id
                        AND h.status IN ('pending_customer', 'active'))
    RETURNING a.id, a.claim_id, a.status, s.subscription_id AS old, r.subscription_id AS new
)
INSERT INTO claims_claimevent ({EVENT_COLUMNS})
SELECT claim_id, id, 'carry_over', status, status, '',
    'Carried over from ' || old || ' to renewal ' || new || '.', false, NULL,
    'system', %(now)s
FROM carried
"""

EXPIRE = f"""
WITH due AS (
    SELECT a.id, a.status FROM claims_association a
    JOIN customers_subscription s ON s.id = a.subscription_id
    WHERE a.status IN ('pending_customer', 'active') AND s.ends_on < %(today)s
      AND NOT EXISTS (
          SELECT 1 FROM customers_subscription r
          WHERE r.predecessor_id = s.id AND r.ends_on >= %(today)s
            AND NOT EXISTS (SELECT 1 FROM claims_association h
                            WHERE h.subscription_id = r.id
                              AND h.status IN ('pending_customer', 'active')))
    FOR UPDATE OF a
), ended AS (
    UPDATE claims_association a
    SET status = 'ended', end_reason = 'expired', ended_at = %(now)s,
        end_message = 'Subscription ' || s.subscription_id || ' ended on '
            || to_char(s.ends_on, 'YYYY-MM-DD') || '.'
    FROM due, customers_subscription s
    WHERE a.id = due.id AND s.id = a.subscription_id
    RETURNING a.id, a.claim_id, due.status, a.end_message
)
INSERT INTO claims_claimevent ({EVENT_COLUMNS})
SELECT claim_id, id, 'end', status, 'ended', 'expired', end_message, false, NULL,
    'system', %(now)s
FROM ended
"""

WARN = f"""
WITH warned AS (
    UPDATE claims_claim SET draft_warned_at = %(now)s
    WHERE status = 'draft' AND updated_at < %(cutoff)s
      AND (draft_warned_at IS NULL OR draft_warned_at < updated_at)
    RETURNING id, updated_at
)
INSERT INTO claims_claimevent ({EVENT_COLUMNS})
SELECT id, NULL, 'warn_expiry', '', '', '',
    'Expires on ' || to_char((updated_at + interval '90 days') AT TIME ZONE 'UTC',
                             'YYYY-MM-DD') || ' unless edited.',
    false, NULL, 'system', %(now)s
FROM warned
"""

EXPIRE_DRAFTS = f"""
WITH due AS (
    SELECT id, updated_at FROM claims_claim
    WHERE status = 'draft' AND updated_at < %(cutoff)s
    FOR UPDATE
), expired AS (
    UPDATE claims_claim c SET status = 'expired', updated_at = %(now)s
    FROM due WHERE c.id = due.id
    RETURNING c.id, due.updated_at AS untouched_since
)
INSERT INTO claims_claimevent ({EVENT_COLUMNS})
SELECT id, NULL, 'expire', 'draft', 'expired', '',
    'Untouched since ' || to_char(untouched_since AT TIME ZONE 'UTC', 'YYYY-MM-DD') || '.',
    false, NULL, 'system', %(now)s
FROM expired
"""

REJECT = f"""
WITH rejected AS (
    UPDATE claims_claim
    SET status = 'rejected', updated_at = %(now)s, decided_at = %(now)s,
        info_requested_until = NULL
    WHERE status = 'action_required' AND info_requested_until < %(now)s
    RETURNING id
), lines AS (
    UPDATE claims_claimline SET status = 'rejected'
    WHERE status = 'pending' AND claim_id IN (SELECT id FROM rejected)
)
INSERT INTO claims_claimevent ({EVENT_COLUMNS})
SELECT id, NULL, 'reject', 'action_required', 'rejected', 'no_partner_response',
    'No answer by the deadline.', false, NULL, 'system', %(now)s
FROM rejected
"""


@dataclass
class Job:
    path: str
    label: str
    action: str
    baseline: str
    # Seeds ``groups`` x ``size`` due rows and returns, per group, the job's keyword
    # arguments and the baseline's parameters that make exactly that group due.
    seed: Callable[[int, int], list[tuple[dict, dict]]]
    run: Callable[..., int]


# ---------------------------------------------------------------------------
# Seeding: one template claim made by the ORM, copied by SQL.


class Seeder:
    def __init__(self) -> None:
        from cpor.accounts.models import User
        from cpor.catalog.models import PartnerRole, Product
        from cpor.partners.models import PartnerLocation, PartnerOrganisation

        self.base = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        self.user = User.objects.create(username="bench@p.example", email="bench@p.example")
        self.org = PartnerOrganisation.objects.create(name="Bench Partner")
        self.location = PartnerLocation.objects.create(
            organisation=self.org, partner_id="9900001", name="HQ"
        )
        self.teams = Product.objects.get(code="teams")
        self.sales = Product.objects.get(code="d365_sales")
        self.modern_work = PartnerRole.objects.get(code="use_or_consume")
        self.business_apps = PartnerRole.objects.get(code="build_intent_advisor")
        self.batch = 0

    def tenants(self, count: int) -> list[int]:
        from cpor.customers.models import Tenant

        made = Tenant.objects.bulk_create(
            [Tenant(tenant_id=uuid.uuid4(), name=f"Bench tenant {i}") for i in range(count)],
            batch_size=5000,
        )
        return [t.pk for t in made]

    def claims(
        self, tenants: list[int], *, role, status: str, updated_at: list, info_until=None
    ) -> list[int]:
        """Claims for ``tenants`` (draft while their line goes in, then ``status``)."""
        from django.db import connection

        from cpor.claims.models import Claim

        self.batch += 1
        name = f"Bench {self.batch}"
        template = Claim(
            organisation=self.org,
            location=self.location,
            role=role,
            tenant_id=tenants[0],
            name=name,
            customer_contact_name="Ana",
            customer_contact_title="CIO",
            customer_contact_email="ana@customer.example",
            partner_contact_name="Rui",
            partner_contact_email="rui@partner.example",
            created_by=self.user,
        )
        template.save()
        fields = [f for f in Claim._meta.concrete_fields if not f.primary_key]
        copied = [
            "t.tenant_id"
            if f.column == "tenant_id"
            else "t.updated_at"
            if f.column == "updated_at"
            else f"c.{f.column}"
            for f in fields
        ]
        columns = ", ".join(f.column for f in fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO claims_claim ({columns})
                SELECT {", ".join(copied)} FROM claims_claim c,
                    unnest(%s::bigint[], %s::timestamptz[]) AS t(tenant_id, updated_at)
                WHERE c.id = %s""",
                [tenants[1:], updated_at[1:], template.pk],
            )
            cursor.execute(
                "UPDATE claims_claim SET updated_at = %s WHERE id = %s",
                [updated_at[0], template.pk],
            )
            cursor.execute("SELECT id FROM claims_claim WHERE name = %s ORDER BY id", [name])
            ids = [row[0] for row in cursor.fetchall()]
        self.lines_status(ids, status, info_until)
        return ids

    def lines_status(self, ids: list[int], status: str, info_until) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE claims_claim SET status = %s, info_requested_until = t.until "
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS t(id, until) "
                "WHERE claims_claim.id = t.id",
                [status, ids, info_until or [None] * len(ids)],
            )

    def associations(
        self, claims: list[int], *, product, subscriptions=None, notice_ends: list
    ) -> None:
        from django.db import connection

        subscriptions = subscriptions or [None] * len(claims)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE claims_claim SET status = 'draft' WHERE id = ANY(%s)", [claims])
            cursor.execute(
                """INSERT INTO claims_claimline (claim_id, product_id, subscription_id, status)
                SELECT t.claim_id, %s, t.subscription_id, 'approved'
                FROM unnest(%s::bigint[], %s::bigint[]) AS t(claim_id, subscription_id)""",
                [product.pk, claims, subscriptions],
            )
            cursor.execute(
                """INSERT INTO claims_association (claim_id, line_id, organisation_id,
                    tenant_id, product_id, subscription_id, status, end_reason, end_message,
                    approved_at, notice_ends_at, legacy_source)
                SELECT l.claim_id, l.id, c.organisation_id, c.tenant_id, l.product_id,
                    l.subscription_id, 'pending_customer', '', '', %s, t.notice_ends_at, ''
                FROM unnest(%s::bigint[], %s::timestamptz[]) AS t(claim_id, notice_ends_at)
                JOIN claims_claimline l ON l.claim_id = t.claim_id
                JOIN claims_claim c ON c.id = t.claim_id""",
                [self.base - datetime.timedelta(days=8), claims, notice_ends],
            )
            cursor.execute(
                "UPDATE claims_claim SET status = 'approved' WHERE id = ANY(%s)", [claims]
            )

    def subscriptions(self, tenants: list[int], ends_on: list, *, predecessors=None) -> list[int]:
        from cpor.customers.models import Subscription

        made = Subscription.objects.bulk_create(
            [
                Subscription(
                    subscription_id=uuid.uuid4(),
                    tenant_id=tenant,
                    product=self.sales,
                    purchase_channel="volume_licensing",
                    starts_on=end - datetime.timedelta(days=365),
                    ends_on=end,
                    predecessor_id=predecessor,
                )
                for tenant, end, predecessor in zip(
                    tenants, ends_on, predecessors or [None] * len(tenants), strict=True
                )
            ],
            batch_size=5000,
        )
        return [s.pk for s in made]

    # -- per job ------------------------------------------------------------------

    def activation(self, groups: int, size: int) -> list[tuple[dict, dict]]:
        tenants = self.tenants(groups * size)
        minute = datetime.timedelta(minutes=1)
        ends = [self.base + (i // size) * minute for i in range(groups * size)]
        claims = self.claims(tenants, role=self.modern_work, status="approved", updated_at=ends)
        self.associations(claims, product=self.teams, notice_ends=ends)
        times = [self.base + k * minute + datetime.timedelta(seconds=30) for k in range(groups)]
        return [({"now": t}, {"now": t}) for t in times]

    def _subscription_rows(self, groups: int, size: int, *, renewed: bool):
        tenants = self.tenants(groups * size)
        today = self.base.date()
        ends_on = [
            today - datetime.timedelta(days=groups + 1 - i // size) for i in range(len(tenants))
        ]
        subscriptions = self.subscriptions(tenants, ends_on)
        if renewed:
            self.subscriptions(
                tenants,
                [today + datetime.timedelta(days=365)] * len(tenants),
                predecessors=subscriptions,
            )
        claims = self.claims(
            tenants,
            role=self.business_apps,
            status="approved",
            updated_at=[self.base] * len(tenants),
        )
        self.associations(
            claims,
            product=self.sales,
            subscriptions=subscriptions,
            notice_ends=[self.base + datetime.timedelta(days=7)] * len(claims),
        )
        days = [
            today - datetime.timedelta(days=groups + 1 - k) + datetime.timedelta(days=1)
            for k in range(groups)
        ]
        return [({"today": d}, {"today": d, "now": self.base}) for d in days]

    def carry_over(self, groups: int, size: int) -> list[tuple[dict, dict]]:
        return self._subscription_rows(groups, size, renewed=True)

    def expiry(self, groups: int, size: int) -> list[tuple[dict, dict]]:
        return self._subscription_rows(groups, size, renewed=False)

    def _drafts(self, groups: int, size: int, *, untouched: datetime.timedelta):
        tenants = self.tenants(groups * size)
        minute = datetime.timedelta(minutes=1)
        updated = [self.base - untouched + (i // size) * minute for i in range(len(tenants))]
        self.claims(tenants, role=self.modern_work, status="draft", updated_at=updated)
        times = [self.base + k * minute + datetime.timedelta(seconds=30) for k in range(groups)]
        return times

    def warning(self, groups: int, size: int) -> list[tuple[dict, dict]]:
        times = self._drafts(groups, size, untouched=datetime.timedelta(days=83))
        cutoff = datetime.timedelta(days=83)
        return [({"now": t}, {"now": t, "cutoff": t - cutoff}) for t in times]

    def draft_expiry(self, groups: int, size: int) -> list[tuple[dict, dict]]:
        times = self._drafts(groups, size, untouched=DAYS_90)
        return [({"now": t}, {"now": t, "cutoff": t - DAYS_90}) for t in times]

    def rejection(self, groups: int, size: int) -> list[tuple[dict, dict]]:
        from django.db import connection

        tenants = self.tenants(groups * size)
        minute = datetime.timedelta(minutes=1)
        until = [self.base + (i // size) * minute for i in range(len(tenants))]
        claims = self.claims(
            tenants, role=self.modern_work, status="draft", updated_at=[self.base] * len(tenants)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO claims_claimline (claim_id, product_id, status) "
                "SELECT id, %s, 'pending' FROM unnest(%s::bigint[]) AS t(id)",
                [self.teams.pk, claims],
            )
        self.lines_status(claims, "action_required", until)
        times = [self.base + k * minute + datetime.timedelta(seconds=30) for k in range(groups)]
        return [({"now": t}, {"now": t}) for t in times]


# ---------------------------------------------------------------------------


def jobs(seeder: Seeder) -> list[Job]:
    from cpor.claims import services

    return [
        Job(
            "jobs_activation",
            "activation",
            "activate",
            ACTIVATE,
            seeder.activation,
            services.associations_activate_due,
        ),
        Job(
            "jobs_carry_over",
            "subscription renewal: carry-over",
            "carry_over",
            CARRY_OVER,
            seeder.carry_over,
            services.associations_expire_ended_subscriptions,
        ),
        Job(
            "jobs_other",
            "subscription expiry (the job also runs its carry-over pass, empty here)",
            "end",
            EXPIRE,
            seeder.expiry,
            services.associations_expire_ended_subscriptions,
        ),
        Job(
            "jobs_warn_drafts",
            "stale-draft warning",
            "warn_expiry",
            WARN,
            seeder.warning,
            services.claims_warn_stale_drafts,
        ),
        Job(
            "jobs_expire_drafts",
            "stale-draft expiry",
            "expire",
            EXPIRE_DRAFTS,
            seeder.draft_expiry,
            services.claims_expire_stale_drafts,
        ),
        Job(
            "jobs_reject_unanswered",
            "unanswered-request rejection",
            "reject",
            REJECT,
            seeder.rejection,
            services.claims_reject_unanswered,
        ),
    ]


def measure(job: Job, url: str, *, rounds: int, size: int) -> tuple[harness.Usage, harness.Usage]:
    from django.db import connection

    from cpor.claims.models import ClaimEvent

    groups = iter(job.seed(2 * (rounds + 1), size))  # one warm-up round first
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("VACUUM ANALYZE")
    django_backend = harness.backend_pid(connection)
    conn = psycopg.connect(url, autocommit=True)
    sql_backend = harness.backend_pid(conn)
    counts: dict[str, list[int]] = {"cpor": [], "sql": []}

    def cpor() -> harness.Usage:
        kwargs, _params = next(groups)
        with harness.measure(pg_pids=[django_backend]) as usage:
            counts["cpor"].append(job.run(**kwargs))
        return usage.per(size)

    def sql() -> harness.Usage:
        _kwargs, params = next(groups)
        with harness.measure(pg_pids=[sql_backend]) as usage, conn.transaction():
            counts["sql"].append(conn.execute(job.baseline, params).rowcount)
        return usage.per(size)

    try:
        a, b = harness.interleave(cpor, sql, rounds, warmup=1)
    finally:
        conn.close()
    for side, done in counts.items():
        if done != [size] * (rounds + 1):
            raise RuntimeError(f"{job.label}, {side}: acted on {done}, expected {size} each")
    # The same events, whichever side wrote them: compare their content, ids aside.
    events = ClaimEvent.objects.filter(action=job.action, actor_label="system")
    shapes = set(events.values_list("from_status", "to_status", "reason_code", "actor_id"))
    if len(shapes) != 1 or events.count() != 2 * (rounds + 1) * size:
        raise RuntimeError(f"{job.label}: events differ between the sides: {shapes}")
    lengths = set(events.values_list("message", flat=True).order_by().distinct()[:1000])
    sample = {len(m) for m in lengths}
    if len(sample) > 1:
        raise RuntimeError(f"{job.label}: messages differ in shape: {sorted(lengths)[:4]}")
    return harness.median_usage(a), harness.median_usage(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="due rows per group")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--only", help="run only the job whose path contains this")
    args = parser.parse_args()

    url = harness.bench_url(DB_NAME)
    harness.recreate_database(url)
    harness.setup_django(url, env=harness.PRODUCTION_SERVICES)
    from django.conf import settings
    from django.db import connection

    from cpor.claims.services import jobs as jobs_module

    harness.clear_production_services()
    seeder = Seeder()
    prepared = settings.DATABASES["default"].get("OPTIONS", {}).get("server_side_binding")
    rows = []
    for job in jobs(seeder):
        if args.only and args.only not in job.path:
            continue
        print(f"{job.label}: {2 * (args.rounds + 1)} groups of {args.rows:,} due rows…", flush=True)
        a, b = measure(job, url, rounds=args.rounds, size=args.rows)
        result = harness.row(
            job.path,
            a,
            b,
            note=(
                f"`{job.run.__name__}` over {args.rows:,} due rows ({job.label}), batches of "
                f"{jobs_module.BATCH_SIZE:,} (one statement each), beside one data-modifying "
                f"CTE (UPDATE … RETURNING, INSERT … SELECT of the same events); "
                f"interleaved, median of {args.rounds} rounds after one warm-up, per row; "
                f"run as a worker runs it (wake-ups queued to Redis, no worker); "
                f"PostgreSQL {connection.pg_version // 10000}, prepared statements "
                f"{'on' if prepared else 'off'}"
            ),
        )
        result["cpor_ms"], result["baseline_ms"] = result["cpor"], result["baseline"]
        if job.path not in harness.TARGETS:
            result["label"] = f"periodic job: {job.label}"
        rows.append(result)
        print(
            f"  CPOR {result['cpor']:.4f} ms/row (CPU {result['cpu_app_ms']:.4f} app + "
            f"{result['cpu_pg_ms']:.4f} PG), SQL {result['baseline']:.4f} ms/row (CPU "
            f"{result['baseline_cpu_app_ms']:.4f} + {result['baseline_cpu_pg_ms']:.4f}), "
            f"ratio {result['ratio']:.2f}",
            flush=True,
        )
    target = harness.record_results(
        "jobs", rows, note=f"bench/bench_jobs.py, {DB_NAME}, {args.rows:,} due rows per group"
    )
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
