"""A tamper-evident history: every event sealed into hash chains, verified on demand.

Sealing. The ``history_seal`` event consumer (``notifications.consumers``) reads the
history after commit in its final (transaction, id) order and writes one
``ClaimEventSeal`` per event, in the same transaction as its cursor moves:

- ``content_hash`` = SHA-256 of the event's canonical content (``CONTENT_COLUMNS`` as
  JSON with sorted keys, the time in ISO 8601 UTC);
- ``global_hash`` = SHA-256(previous seal's ``global_hash`` + ``content_hash``);
- ``claim_hash`` = SHA-256(the claim's previous seal's ``claim_hash`` + ``content_hash``).

Transitions never hash: a chain head updated inside every transition would serialise
every writer, and the periodic jobs write events set-based.

Checkpoints. ``history_checkpoint`` (a periodic job) signs the global head with
HMAC-SHA256 under a key kept outside the database, so rewriting events and seals
together is still caught at the next checkpoint.

Verification. ``history_verify`` streams seals and events in ``seq`` order, then seals
in claim order, with server-side cursors (constant memory), and returns the first broken
link. Events newer than the last seal are pending, not broken.
"""

import datetime
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.signing import BadSignature, Signer
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cpor.claims.models import (
    Claim,
    ClaimEvent,
    ClaimEventSeal,
    ClaimStatus,
    HistoryCheckpoint,
)

# What an event says, frozen: every column but ``txid`` (its place in the consumers'
# order, which the seal records). A column added to ClaimEvent must be added here only
# with a way to tell old seals from new ones, or every older event would stop verifying.
CONTENT_COLUMNS = (
    "id",
    "claim_id",
    "association_id",
    "action",
    "from_status",
    "to_status",
    "reason_code",
    "message",
    "internal",
    "shared",
    "actor_id",
    "actor_label",
    "at",
)
GENESIS = "0" * 64
SIGNING_SALT = "cpor.claims.integrity.checkpoint"
CHUNK_SIZE = 5000


# --- Hashing ---------------------------------------------------------------------------


def _utc_iso(value: datetime.datetime | str) -> str:
    # SQLite hands raw queries the stored text; PostgreSQL an aware datetime.
    moment = parse_datetime(value) if isinstance(value, str) else value
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat()


def canonical(values: Mapping[str, object]) -> bytes:
    """The event's content as stable JSON: sorted keys, booleans as booleans, UTC times."""
    content = dict(values)
    content["at"] = _utc_iso(content["at"])
    content["internal"] = bool(content["internal"])
    content["shared"] = bool(content["shared"])
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(values: Mapping[str, object]) -> str:
    return hashlib.sha256(canonical(values)).hexdigest()


def link(previous: str, content: str) -> str:
    """One link of a chain: the previous link's hash followed by this event's content hash."""
    return hashlib.sha256(f"{previous}{content}".encode()).hexdigest()


# --- Sealing (the ``history_seal`` consumer) -------------------------------------------


def seal_events(events: Sequence[ClaimEvent]) -> list:
    """Seal a batch of events, given in the consumers' final order. Writes no messages.

    Runs inside the consumer's transaction, under its lock: the head read here cannot
    move before the cursor does."""
    if not events:
        return []
    head = ClaimEventSeal.objects.order_by("-seq").values_list("seq", "global_hash").first()
    seq, global_hash = head or (0, GENESIS)
    claim_ids = {event.claim_id for event in events}
    latest = (
        ClaimEventSeal.objects.filter(claim_id__in=claim_ids)
        .values("claim_id")
        .annotate(last=Max("seq"))
        .values("last")
    )
    claim_heads = dict(
        ClaimEventSeal.objects.filter(seq__in=latest).values_list("claim_id", "claim_hash")
    )
    now = timezone.now()
    seals = []
    for event in events:
        content = content_hash({column: getattr(event, column) for column in CONTENT_COLUMNS})
        seq += 1
        global_hash = link(global_hash, content)
        claim_hash = link(claim_heads.get(event.claim_id, GENESIS), content)
        claim_heads[event.claim_id] = claim_hash
        seals.append(
            ClaimEventSeal(
                seq=seq,
                event_id=event.pk,
                claim_id=event.claim_id,
                txid=event.txid,
                # The claim as it is now, at or after this event: still a draft means the
                # event belongs to a draft, which may be deleted with it.
                in_draft=event.claim.status == ClaimStatus.DRAFT,
                content_hash=content,
                claim_hash=claim_hash,
                global_hash=global_hash,
                sealed_at=now,
            )
        )
    ClaimEventSeal.objects.bulk_create(seals, batch_size=500)
    return []


# --- Signed checkpoints ----------------------------------------------------------------


def _signer() -> Signer:
    if settings.CPOR_HISTORY_KEY:
        return Signer(key=settings.CPOR_HISTORY_KEY, salt=SIGNING_SALT, algorithm="sha256")
    return Signer(
        key=settings.SECRET_KEY,
        salt=SIGNING_SALT,
        algorithm="sha256",
        fallback_keys=settings.SECRET_KEY_FALLBACKS,
    )


def _statement(seq: int, count: int, head_hash: str) -> str:
    return f"{seq}:{count}:{head_hash}"


def checkpoint_signed(checkpoint: HistoryCheckpoint) -> bool:
    statement = _statement(checkpoint.seq, checkpoint.count, checkpoint.head_hash)
    try:
        _signer().unsign(f"{statement}:{checkpoint.signature}")
    except BadSignature:
        return False
    return True


def history_checkpoint() -> int:
    """Record a signed checkpoint of the global head, if it moved; how many were written."""
    with transaction.atomic():
        head = ClaimEventSeal.objects.order_by("-seq").values_list("seq", "global_hash").first()
        if head is None:
            return 0
        seq, head_hash = head
        last = HistoryCheckpoint.objects.order_by("-seq").values_list("seq", flat=True).first()
        if last == seq:
            return 0
        count = ClaimEventSeal.objects.filter(seq__lte=seq).count()
        HistoryCheckpoint.objects.create(
            seq=seq,
            count=count,
            head_hash=head_hash,
            signature=_signer().signature(_statement(seq, count, head_hash)),
        )
    return 1


# --- Verification ----------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenLink:
    """The first place where the history and its seals disagree."""

    problem: str  # content_changed, order_changed, event_missing, seal_missing, …
    detail: str
    seq: int | None = None
    event_id: int | None = None
    claim_id: int | None = None

    def __str__(self) -> str:
        where = ", ".join(
            f"{name} {value}"
            for name, value in (
                ("event", self.event_id),
                ("claim", self.claim_id),
                ("seq", self.seq),
            )
            if value is not None
        )
        return f"{self.problem} ({where}): {self.detail}"


@dataclass
class Verification:
    seals: int = 0
    events: int = 0  # sealed events read and rehashed
    deleted_drafts: int = 0  # sealed events deleted with their draft, as allowed
    checkpoints: int = 0
    pending: int = 0  # events newer than the last seal
    broken: BrokenLink | None = None


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


EVENTS = ClaimEvent._meta.db_table
SEALS = ClaimEventSeal._meta.db_table
CLAIMS = Claim._meta.db_table
_EVENT_COLUMNS = ", ".join(f"e.{_quote(c)}" for c in CONTENT_COLUMNS)


def _stream(sql: str, params: Sequence[object], chunk_size: int) -> Iterator[tuple]:
    """Rows of one query through a server-side cursor (PostgreSQL), chunk by chunk."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            yield from rows


def history_verify(*, chunk_size: int = CHUNK_SIZE) -> Verification:
    """Recompute both chains over the whole history; stops at the first broken link."""
    result = Verification()
    # Read-only transactions: PostgreSQL streams a cursor without materialising it, and
    # a transaction without a transaction id holds back no event consumer.
    with transaction.atomic():
        head = _verify_global_chain(result, chunk_size)
    if result.broken is None:
        with transaction.atomic():
            _verify_claim_chains(result, chunk_size)
    if result.broken is None:
        _verify_all_sealed(result, head)
    return result


def _verify_global_chain(result: Verification, chunk_size: int) -> tuple[int, int] | None:
    """Seals in ``seq`` order beside their events, and the checkpoints along the way.

    Returns the last seal's place in the consumers' order: (txid, event id)."""
    sql = (
        f"SELECT s.seq, s.event_id, s.claim_id, s.txid, s.in_draft, s.content_hash, "  # noqa: S608
        f"s.global_hash, {_EVENT_COLUMNS} FROM {SEALS} s "
        f"LEFT JOIN {EVENTS} e ON e.id = s.event_id ORDER BY s.seq"
    )
    checkpoints = HistoryCheckpoint.objects.order_by("seq", "id").iterator(chunk_size=500)
    checkpoint = next(checkpoints, None)
    previous, head = GENESIS, None
    gone_claims = _GoneClaims()
    for row in _stream(sql, [], chunk_size):
        seq, event_id, claim_id, txid, in_draft, sealed, global_hash = row[:7]
        values = dict(zip(CONTENT_COLUMNS, row[7:], strict=True))
        where = {"seq": seq, "event_id": event_id, "claim_id": claim_id}
        if seq != result.seals + 1:
            result.broken = BrokenLink(
                "seal_missing",
                f"the seals numbered {result.seals + 1} to {seq - 1} are gone",
                seq=result.seals + 1,
            )
            return None
        result.seals += 1
        if values["id"] is None:
            if not (in_draft and gone_claims.gone(claim_id)):
                result.broken = BrokenLink("event_missing", "a sealed event was deleted", **where)
                return None
            result.deleted_drafts += 1
        else:
            result.events += 1
            if content_hash(values) != sealed:
                result.broken = _changed(values, sealed, **where)
                return None
        if link(previous, sealed) != global_hash:
            result.broken = BrokenLink(
                "seal_changed", "the seal does not follow from the one before it", **where
            )
            return None
        previous, head = global_hash, (txid, event_id)
        while checkpoint is not None and checkpoint.seq <= seq:
            if broken := _checkpoint_broken(checkpoint, seq, global_hash):
                result.broken = broken
                return None
            result.checkpoints += 1
            checkpoint = next(checkpoints, None)
    if checkpoint is not None:
        result.broken = BrokenLink(
            "seal_missing",
            f"checkpoint {checkpoint.pk} vouches for {checkpoint.seq} sealed events, "
            f"only {result.seals} remain",
            seq=result.seals + 1,
        )
    return head


class _GoneClaims:
    """Whether a claim row is gone; remembers the last claim asked (a deleted draft's
    events are sealed one after another)."""

    def __init__(self) -> None:
        self._last: tuple[int, bool] | None = None

    def gone(self, claim_id: int) -> bool:
        if self._last is None or self._last[0] != claim_id:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM {CLAIMS} WHERE id = %s", [claim_id])  # noqa: S608
                self._last = (claim_id, cursor.fetchone() is None)
        return self._last[1]


def _changed(
    values: Mapping[str, object], sealed: str, *, seq: int, event_id: int, claim_id: int
) -> BrokenLink:
    """An event whose content no longer matches its seal: moved to another row of its
    claim (order changed), or edited."""
    sql = (
        f"SELECT {_EVENT_COLUMNS} FROM {EVENTS} e WHERE e.claim_id = %s AND e.id <> %s "  # noqa: S608
        "ORDER BY e.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [claim_id, event_id])
        for row in cursor.fetchall():
            other = dict(zip(CONTENT_COLUMNS, row, strict=True))
            other_id, other["id"] = other["id"], event_id
            if content_hash(other) == sealed:
                return BrokenLink(
                    "order_changed",
                    f"the content sealed for event {event_id} is now in event {other_id}",
                    seq=seq,
                    event_id=event_id,
                    claim_id=claim_id,
                )
    return BrokenLink(
        "content_changed",
        "the event no longer matches the content it was sealed with",
        seq=seq,
        event_id=event_id,
        claim_id=claim_id,
    )


def _checkpoint_broken(
    checkpoint: HistoryCheckpoint, seq: int, global_hash: str
) -> BrokenLink | None:
    if not checkpoint_signed(checkpoint):
        return BrokenLink(
            "checkpoint_forged",
            f"checkpoint {checkpoint.pk} of {checkpoint.created_at:%Y-%m-%d %H:%M} "
            "does not carry a valid signature",
            seq=checkpoint.seq,
        )
    if checkpoint.seq != seq or checkpoint.head_hash != global_hash:
        return BrokenLink(
            "checkpoint_off_chain",
            f"the chain no longer passes through checkpoint {checkpoint.pk} "
            f"of {checkpoint.created_at:%Y-%m-%d %H:%M}",
            seq=checkpoint.seq,
        )
    if checkpoint.count != checkpoint.seq:
        return BrokenLink(
            "seal_missing",
            f"checkpoint {checkpoint.pk} counted {checkpoint.count} seals up to its head",
            seq=checkpoint.seq,
        )
    return None


def _verify_claim_chains(result: Verification, chunk_size: int) -> None:
    """Each claim's chain, from the seals alone (their contents were checked above)."""
    sql = (
        f"SELECT claim_id, seq, event_id, content_hash, claim_hash FROM {SEALS} "  # noqa: S608
        "ORDER BY claim_id, seq"
    )
    claim, previous = None, GENESIS
    for claim_id, seq, event_id, sealed, claim_hash in _stream(sql, [], chunk_size):
        if claim_id != claim:
            claim, previous = claim_id, GENESIS
        if link(previous, sealed) != claim_hash:
            result.broken = BrokenLink(
                "seal_changed",
                "the seal does not follow from the claim's seal before it",
                seq=seq,
                event_id=event_id,
                claim_id=claim_id,
            )
            return
        previous = claim_hash


def _verify_all_sealed(result: Verification, head: tuple[int, int] | None) -> None:
    """Every event up to the last seal's place in the consumers' order has a seal; the
    ones after it are pending (the sealer has not reached them yet)."""
    txid, event_id = head or (-1, 0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.claim_id FROM {EVENTS} e WHERE (e.txid, e.id) <= (%s, %s) "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {SEALS} s WHERE s.event_id = e.id) "
            "ORDER BY e.txid, e.id LIMIT 1",
            [txid, event_id],
        )
        if unsealed := cursor.fetchone():
            result.broken = BrokenLink(
                "seal_missing",
                "an event older than the last seal has no seal (inserted behind the sealer, "
                "or its seal was deleted)",
                event_id=unsealed[0],
                claim_id=unsealed[1],
            )
            return
        cursor.execute(
            f"SELECT COUNT(*) FROM {EVENTS} WHERE (txid, id) > (%s, %s)",  # noqa: S608
            [txid, event_id],
        )
        result.pending = cursor.fetchone()[0]
