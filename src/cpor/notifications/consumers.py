"""Event consumers: what follows from the history, derived after commit, exactly once.

Each consumer (``CONSUMERS``: e-mails here, webhooks in the API app) reads the history
after its ``EventCursor`` in batches, turns the events into outbox messages and advances
the cursor in one transaction: a crash before the commit leaves the cursor where it
was and the batch is read again; after it, the messages exist and the cursor has moved.
Messages also carry a unique ``dedupe_key`` naming their event and recipient.

Order and visibility. On PostgreSQL ids are handed out before commit, so an event with
a smaller id can become visible after a larger one. The cursor therefore follows
(writing transaction id, event id) and reads only events of transactions older than the
oldest one of this database still running (the snapshot's in-progress ids, less those
of sessions in other databases): whatever it has passed is final. On
SQLite writers run one at a time, so id order is commit order. Consumers of one name
are serialised by a transaction-scoped advisory lock (SQLite: the write lock).

Wake-ups. ``wake`` runs after every commit that wrote history (``claims.events``): in
the embedded mode it consumes and delivers in-process; with Celery it publishes one
task, unless one is already queued (below). The periodic ``consume_events`` job sweeps
the same cursors, so a lost wake-up only delays.

One pending wake-up. A queued wake-up reads every event committed before it starts, so
a commit that finds one pending need not publish another: a burst of transitions (an
integrator filing in bulk) queues one task, not one per transition, each of which the
worker would run to find nothing new. With a shared cache (``CACHE_URL``), the commit
that publishes marks the wake-up pending (one atomic SET NX, with an expiry); the
worker's task clears the mark before it reads the history. A commit that found the mark
came before the clearing, so the task reads its events. Without a shared cache, each
commit publishes, as a per-process cache cannot see the worker clear it.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.module_loading import import_string

from cpor import rowwrite
from cpor.claims.models import ClaimEvent
from cpor.notifications.models import EventCursor, OutboxMessage

logger = logging.getLogger(__name__)

# name → dotted path of ``derive(events) -> list[OutboxMessage]`` (unsaved messages).
CONSUMERS: dict[str, str] = {
    "email": "cpor.notifications.notices.email_messages",
    "webhook": "cpor.api.webhooks.webhook_messages",
    "history_seal": "cpor.claims.integrity.seal_events",  # hash chains; writes no messages
    # The review queue's conflict flags when a unit changes hands; writes no messages.
    "check_flags": "cpor.claims.check_flags.conflicts_refresh_for_events",
}
BATCH_SIZE = 500

# PostgreSQL: events of transactions that have all finished, plus the reader's own (a
# test that writes and consumes in one transaction). Production readers write no events.
# The oldest transaction still running that could have written our history: the
# snapshot's in-progress ids less those positively running in another database of the
# server (a long import or backup elsewhere must not stall the e-mails), else the
# snapshot's next id. An id whose session we may not see is kept: never optimistic.
_FINISHED = RawSQL(
    """(WITH snap AS MATERIALIZED (SELECT pg_current_snapshot() AS s)
    SELECT COALESCE(
        (SELECT min(x::text::bigint) FROM snap, pg_snapshot_xip(snap.s) AS x
         WHERE x::text::bigint %% 4294967296 NOT IN (
             SELECT backend_xid::text::bigint FROM pg_stat_activity
             WHERE datname IS DISTINCT FROM current_database()
             AND backend_xid IS NOT NULL)),
        (SELECT pg_snapshot_xmax(s)::text::bigint FROM snap)))""",
    (),
)
_OWN = RawSQL("COALESCE(pg_current_xact_id_if_assigned()::text::bigint, -1)", ())


def _serialise(name: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"cpor.consumer.{name}"])


def _after(position: EventCursor, limit: int) -> list[ClaimEvent]:
    # A row comparison, so the (txid, id) index starts at the cursor instead of filtering
    # the whole history before it (an OR of the two conditions is not an index range).
    events = ClaimEvent.objects.filter(
        RawSQL(
            "(claims_claimevent.txid, claims_claimevent.id) > (%s, %s)",
            (position.txid, position.event_id),
            output_field=BooleanField(),
        )
    )
    if connection.vendor == "postgresql":
        events = events.filter(Q(txid__lt=_FINISHED) | Q(txid=_OWN))
    return list(events.select_related("claim", "association").order_by("txid", "id")[:limit])


def consume(name: str, *, batch_size: int = BATCH_SIZE) -> tuple[int, list[int]]:
    """Read one batch after ``name``'s cursor and derive its messages.

    Returns how many events were read and the ids of the messages written."""
    derive = import_string(CONSUMERS[name])
    with transaction.atomic():
        _serialise(name)
        position, _ = EventCursor.objects.get_or_create(consumer=name)
        batch = _after(position, batch_size)
        if not batch:
            return 0, []
        written = outbox_insert(derive(batch))
        last = batch[-1]
        EventCursor.objects.filter(consumer=name).update(
            txid=last.txid, event_id=last.pk, updated_at=timezone.now()
        )
    return len(batch), written


def held_back() -> bool:
    """Whether committed-looking history waits behind an older transaction still running
    (PostgreSQL only): the caller should look again shortly."""
    if connection.vendor != "postgresql":
        return False
    positions = dict(EventCursor.objects.values_list("consumer", "event_id"))
    oldest = min((positions.get(name, 0) for name in CONSUMERS), default=0)
    return (
        ClaimEvent.objects.filter(id__gt=oldest)
        .exclude(Q(txid__lt=_FINISHED) | Q(txid=_OWN))
        .exists()
    )


def consume_all(*, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> list[int]:
    """Every consumer, batch after batch, until each has read all it can (or
    ``max_batches`` each); the new messages."""
    written: list[int] = []
    for name in CONSUMERS:
        batches = 0
        while max_batches is None or batches < max_batches:
            read, ids = consume(name, batch_size=batch_size)
            written += ids
            batches += 1
            if read < batch_size:
                break
    return written


# What a request does after its commit in the embedded mode: enough for its own events
# and a little backlog; a large backlog (history written in bulk, an upgrade) is left to
# the periodic sweep rather than to whoever happens to click next.
INLINE_MAX_BATCHES = 4


def outbox_insert(messages: list[OutboxMessage]) -> list[int]:
    """Insert messages whose ``dedupe_key`` is not taken yet; the ids of those inserted."""
    return [message.pk for message in rowwrite.insert_new(messages, unique="dedupe_key")]


def skip_to_head() -> None:
    """Move every cursor past the whole history written so far, telling nobody of it.

    For history written in bulk that must not notify anyone (generated demo and
    benchmark data). Events of transactions still running when this runs are skipped too."""
    head = ClaimEvent.objects.order_by("-txid", "-id").values_list("txid", "id").first()
    txid, event_id = head or (0, 0)
    for name in CONSUMERS.keys() - {"history_seal"}:
        EventCursor.objects.update_or_create(
            consumer=name,
            defaults={"txid": txid, "event_id": event_id, "updated_at": timezone.now()},
        )
    # History is sealed, never skipped: the sealer reads it once committed (read inside
    # its own transaction, events of older ones still running would be passed by).
    transaction.on_commit(wake)


# The mark of a queued wake-up. Its expiry bounds how long a wake-up lost after the
# mark was set (a broker that dropped the queue) holds the next ones back.
WAKE_PENDING_KEY = "cpor:events:wake-pending"
WAKE_PENDING_SECONDS = 30


def _wake_pending_mark() -> bool:
    """Mark a wake-up pending: False if one already was (nothing to publish)."""
    if not settings.CPOR_WAKE_COALESCE:
        return True
    try:
        return cache.add(WAKE_PENDING_KEY, 1, timeout=WAKE_PENDING_SECONDS)
    except Exception:  # an unreachable cache costs a publish, never a wake-up
        logger.warning("the wake-up mark could not be set; publishing", exc_info=True)
        return True


def wake_pending_clear() -> None:
    """The worker takes the pending wake-up: later commits publish their own."""
    if settings.CPOR_WAKE_COALESCE:
        try:
            cache.delete(WAKE_PENDING_KEY)
        except Exception:  # the mark expires; the sweep covers the meantime
            logger.warning("the wake-up mark could not be cleared", exc_info=True)


def wake() -> None:
    """After a commit that wrote history: consume now (embedded) or ask a worker to,
    unless a wake-up is already queued."""
    mode = settings.CPOR_BACKGROUND
    if mode == "celery":
        from cpor.notifications.tasks import events_consume_task

        if not _wake_pending_mark():
            return
        try:
            events_consume_task.delay()
        except Exception:
            wake_pending_clear()  # nothing is queued: the next commit publishes
            raise
    elif mode == "inline":
        from cpor.notifications.delivery import outbox_deliver_messages

        outbox_deliver_messages(ids=consume_all(max_batches=INLINE_MAX_BATCHES))
