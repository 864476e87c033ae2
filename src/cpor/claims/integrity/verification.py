"""``history_verify``: both chains recomputed from the database, in constant memory."""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from django.db import connection, transaction

from cpor.claims.integrity.chain import CONTENT_COLUMNS, GENESIS, content_hash, link
from cpor.claims.integrity.redaction import redacted_from_seal
from cpor.claims.integrity.sealing import checkpoint_signed
from cpor.claims.models import Claim, ClaimEvent, ClaimEventSeal, HistoryCheckpoint

CHUNK_SIZE = 5000


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
    redacted: int = 0  # sealed events whose personal data were erased, by signed redactions
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
            current = content_hash(values)
            if current != sealed:
                if not redacted_from_seal(event_id=event_id, sealed=sealed, current=current):
                    result.broken = _changed(values, sealed, **where)
                    return None
                result.redacted += 1
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
