"""Sealing (the ``history_seal`` event consumer) and the signed checkpoints."""

from collections.abc import Sequence

from django.conf import settings
from django.core.signing import BadSignature, Signer
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from cpor.claims.integrity.chain import CONTENT_COLUMNS, GENESIS, content_hash, link
from cpor.claims.models import (
    Claim,
    ClaimEvent,
    ClaimEventSeal,
    ClaimStatus,
    HistoryCheckpoint,
)

SIGNING_SALT = "cpor.claims.integrity.checkpoint"


def seal_events(events: Sequence[ClaimEvent]) -> list:
    """Seal a batch of events, given in the consumers' final order. Writes no messages.

    Runs inside the consumer's transaction, under its lock: the head read here cannot
    move before the cursor does."""
    if not events:
        return []
    head = ClaimEventSeal.objects.order_by("-seq").values_list("seq", "global_hash").first()
    seq, global_hash = head or (0, GENESIS)
    # Each claim's last seal, one backward step on (claim, seq) per claim: a plan that
    # holds even before the table's statistics catch up with a bulk of new seals.
    last_seal = ClaimEventSeal.objects.filter(claim_id=OuterRef("pk")).order_by("-seq")
    claim_heads = {
        claim_id: head
        for claim_id, head in Claim.objects.filter(pk__in={event.claim_id for event in events})
        .annotate(head=Subquery(last_seal.values("claim_hash")[:1]))
        .values_list("pk", "head")
        if head is not None
    }
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
