"""Redactions: the one sanctioned change to a sealed event, for erasing personal data.

A person's e-mail address may appear in an event's ``message`` or ``actor_label``; when
it is erased (``manage.py erase_contact``) the event's content no longer matches the
hash it was sealed with. The chain itself is never rewritten. Instead the eraser records,
for each event it changes, a redaction: the content hash before, the content hash
after, the erasure's reference, and an HMAC-SHA256 signature of the four under the
history key (the checkpoints' key, kept outside the database). ``history_verify``
accepts an event whose content differs from its seal only if a chain of signed
redactions leads from the sealed hash to the hash of what is stored now; anyone who can
write to the database but does not hold the key cannot forge one.

The claims app stores no redactions (the erasure is recorded by the app that performs
it, ``consent``): that app registers a source here, as the notifications app subscribes
to ``claims.events``. With no source registered a redacted event reads as changed.
"""

from collections.abc import Callable, Iterable
from typing import NamedTuple

from django.conf import settings
from django.core.signing import BadSignature, Signer

SIGNING_SALT = "cpor.claims.integrity.redaction"


class Redaction(NamedTuple):
    event_id: int
    from_hash: str
    to_hash: str
    reference: str
    signature: str


RedactionSource = Callable[[int], Iterable[Redaction]]
_sources: list[RedactionSource] = []


def register_redaction_source(source: RedactionSource) -> None:
    """``source(event_id)`` gives the redactions recorded for an event, oldest first."""
    if source not in _sources:
        _sources.append(source)


def _signer() -> Signer:
    key = settings.CPOR_HISTORY_KEY or settings.SECRET_KEY
    fallbacks = [] if settings.CPOR_HISTORY_KEY else settings.SECRET_KEY_FALLBACKS
    return Signer(key=key, salt=SIGNING_SALT, algorithm="sha256", fallback_keys=fallbacks)


def _statement(event_id: int, from_hash: str, to_hash: str, reference: str) -> str:
    return f"{event_id}:{from_hash}:{to_hash}:{reference}"


def redaction_signature(*, event_id: int, from_hash: str, to_hash: str, reference: str) -> str:
    return _signer().signature(_statement(event_id, from_hash, to_hash, reference))


def _signed(redaction: Redaction) -> bool:
    statement = _statement(
        redaction.event_id, redaction.from_hash, redaction.to_hash, redaction.reference
    )
    try:
        _signer().unsign(f"{statement}:{redaction.signature}")
    except BadSignature:
        return False
    return True


def redacted_from_seal(*, event_id: int, sealed: str, current: str) -> bool:
    """Whether signed redactions lead from the sealed content hash to the current one."""
    reached = sealed
    for source in _sources:
        for redaction in source(event_id):
            if redaction.from_hash == reached and _signed(redaction):
                reached = redaction.to_hash
    return reached == current
