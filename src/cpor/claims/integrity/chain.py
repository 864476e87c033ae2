"""The chain's arithmetic: an event's canonical content, its hash, and one link."""

import datetime
import hashlib
import json
from collections.abc import Mapping

from django.utils import timezone
from django.utils.dateparse import parse_datetime

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
