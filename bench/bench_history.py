"""History benchmark: ``verify_history`` over a million sealed events, beside the time
to read what it reads.

Run with ``DATABASE_URL=postgres://… .venv/bin/python bench/bench_history.py``. It
drops and recreates ``cpor_bench_history``, generates claims (with their history) with
bench_claim_list's generator until there are ``--events`` events (default 1,000,000),
seals them all as the ``history_seal`` consumer does (batches in the consumers' (txid,
id) order), then interleaves A B A B:

- A: ``history_verify()``, both chains recomputed (SHA-256 of every event's canonical
  content, the global link, each claim's link) and the check that every event is sealed;
- B: the floor under it: the same rows streamed through server-side cursors (seals with
  their events in ``seq`` order, then seals in claim order), no hashing.

Medians of wall time and CPU (this process and the PostgreSQL backend, from /proc), and
the verifier's peak memory growth (it must not grow with the history). Results:
bench/results/history.json, for bench/report.py.
"""

import argparse
import resource

import harness
import psycopg

DB_NAME = "cpor_bench_history"
CLAIMS_PER_STEP = 50_000
SEAL_BATCH = 5_000
ROUNDS = 3


def seed(url: str, events: int) -> None:
    import bench_claim_list

    from cpor.claims.models import ClaimEvent

    claims = 0
    while ClaimEvent.objects.count() < events:
        claims += CLAIMS_PER_STEP
        bench_claim_list.seed_to(url, claims, demo_seeded=claims > CLAIMS_PER_STEP)


def seal_all() -> int:
    from django.db import transaction
    from django.db.models import Q

    from cpor.claims.integrity import seal_events
    from cpor.claims.models import ClaimEvent, ClaimEventSeal

    # From the last seal on: the demo's own events were sealed as they were written.
    head = ClaimEventSeal.objects.order_by("-seq").values_list("txid", "event_id").first()
    sealed, after = 0, head or (-1, 0)
    while True:
        with transaction.atomic():
            batch = list(
                ClaimEvent.objects.select_related("claim")
                .filter(Q(txid__gt=after[0]) | Q(txid=after[0], id__gt=after[1]))
                .order_by("txid", "id")[:SEAL_BATCH]
            )
            if not batch:
                return sealed
            seal_events(batch)
        sealed += len(batch)
        after = (batch[-1].txid, batch[-1].pk)


def read_floor(url: str) -> int:
    """Stream what the verifier reads, doing nothing with it."""
    from cpor.claims.integrity.verification import _EVENT_COLUMNS

    rows = 0
    with psycopg.connect(url) as conn:
        with conn.cursor(name="seals_events") as cursor:
            cursor.itersize = 2000
            cursor.execute(
                "SELECT s.seq, s.event_id, s.claim_id, s.txid, s.in_draft, s.content_hash, "
                f"s.global_hash, {_EVENT_COLUMNS} FROM claims_claimeventseal s "
                "LEFT JOIN claims_claimevent e ON e.id = s.event_id ORDER BY s.seq"
            )
            for _row in cursor:
                rows += 1
        with conn.cursor(name="claim_seals") as cursor:
            cursor.itersize = 2000
            cursor.execute(
                "SELECT claim_id, seq, event_id, content_hash, claim_hash "
                "FROM claims_claimeventseal ORDER BY claim_id, seq"
            )
            for _row in cursor:
                rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reuse", help="measure this already seeded and sealed database")
    args = parser.parse_args()
    url = harness.bench_url(args.reuse or DB_NAME)
    if not args.reuse:
        harness.recreate_database(url)
    harness.setup_django(url)
    from django.db import connection

    from cpor.claims.integrity import history_verify
    from cpor.claims.models import ClaimEvent

    if not args.reuse:
        seed(url, args.events)
    print(f"sealed {seal_all():,} events", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    events = ClaimEvent.objects.count()
    django_pid = harness.backend_pid(connection)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    first = history_verify()
    assert first.broken is None, first.broken
    assert first.events == events, (first.events, events)
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024

    def verify():
        assert history_verify().broken is None

    def floor():
        read_floor(url)

    # The floor's backend is a new connection each time: count every PostgreSQL process
    # (nothing else runs on this database; other work on the server is in the note).
    a, b = harness.interleave(
        harness.timed(verify, pg_pids=harness.postgres_pids),
        harness.timed(floor, pg_pids=harness.postgres_pids),
        ROUNDS,
    )
    result = harness.row(
        "history_verify",
        harness.median_usage(a),
        harness.median_usage(b),
        label=f"`verify_history` over {events:,} sealed events",
        note=(
            f"both chains recomputed beside streaming the same rows without hashing; "
            f"growth of the process's peak memory during the first verification "
            f"{growth_mb:.0f} MB; django backend {django_pid}"
        ),
    )
    print(result, flush=True)
    harness.record_results("history", [result], note=f"{events:,} events")


if __name__ == "__main__":
    main()
