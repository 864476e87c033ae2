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

from cpor.claims.integrity.chain import CONTENT_COLUMNS, GENESIS, canonical, content_hash, link
from cpor.claims.integrity.sealing import (
    SIGNING_SALT,
    checkpoint_signed,
    history_checkpoint,
    seal_events,
)
from cpor.claims.integrity.verification import (
    CHUNK_SIZE,
    BrokenLink,
    Verification,
    history_verify,
)

__all__ = [
    "CHUNK_SIZE",
    "CONTENT_COLUMNS",
    "GENESIS",
    "SIGNING_SALT",
    "BrokenLink",
    "Verification",
    "canonical",
    "checkpoint_signed",
    "content_hash",
    "history_checkpoint",
    "history_verify",
    "link",
    "seal_events",
]
