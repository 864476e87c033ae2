"""Exports of the history: the program's full audit trail, and a partner's claim histories.

The full trail (program admins) merges two streams in time order: the claims' history
events, each with its seal from the hash chains (``claims.integrity``), and the audit
entries (the organisations' changes, program decisions, sign-ins, admin changes). A
partner's export (partner admins and incentives admins) holds its own claims' events
only, under the claim page's rule: no internal notes, the program's staff named as the
program (``claims.selectors.claim_history``, ``claims/detail.html``).

Each event carries the columns its seal hashed (``CONTENT_COLUMNS``, the time in ISO 8601
UTC) and its ``content_hash`` and ``claim_hash``, so a reader can recompute both and
compare them with ``manage.py verify_history``'s chains. Events not yet sealed carry
empty hashes.

Both streams are read in keyset chunks on (at, id), never all at once, and written as
they are read: CSV through ``cpor.csv_export`` or JSON lines. The export itself is
recorded in the audit trail before the first line is sent.
"""

import datetime
import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.audit.models import AuditAction, AuditEntry
from cpor.audit.services import audit_record
from cpor.claims.integrity import CONTENT_COLUMNS
from cpor.claims.models import ClaimEvent, ClaimStatus
from cpor.claims.permissions import partner_membership
from cpor.csv_export import csv_lines
from cpor.errors import DomainError, PermissionDenied

CHUNK_SIZE = 2000
CSV, JSON_LINES = "csv", "jsonl"
OUTPUTS = (CSV, JSON_LINES)
CONTENT_TYPES = {CSV: "text/csv; charset=utf-8", JSON_LINES: "application/x-ndjson"}

EVENT, AUDIT = "claim_history", "audit"
FULL_COLUMNS = (
    "source",
    "id",
    "at",
    "actor_id",
    "actor",
    "actor_label",
    "organisation_id",
    "ip",
    "action",
    "claim_id",
    "association_id",
    "from_status",
    "to_status",
    "reason_code",
    "message",
    "internal",
    "shared",
    "target_type",
    "target_id",
    "target_label",
    "before",
    "after",
    "seal_seq",
    "content_hash",
    "claim_hash",
    "global_hash",
)
PARTNER_COLUMNS = (
    "id",
    "at",
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
    "actor",
    "actor_label",
    "content_hash",
    "claim_hash",
)


@dataclass(frozen=True)
class Period:
    """Whole days in the program's time zone, both ends included; either may be open."""

    since: datetime.date | None = None
    until: datetime.date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise DomainError(
                "invalid_period", _("“Until” must not be before “From”."), field="until"
            )

    def bounds(self) -> tuple[datetime.datetime | None, datetime.datetime]:
        """[start, end): ``end`` is never later than now, so rows written while the file
        streams do not slip into it halfway."""

        def midnight(day: datetime.date) -> datetime.datetime:
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

        end = timezone.now()
        if self.until and self.until < datetime.date.max:
            end = min(end, midnight(self.until + datetime.timedelta(days=1)))
        return (midnight(self.since) if self.since else None), end

    def as_dict(self) -> dict[str, str | None]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


@dataclass(frozen=True)
class Export:
    filename: str
    content_type: str
    lines: Iterator[str]


def may_export_full_trail(actor: User | None) -> bool:
    """Program admins only: reviewers decide claims, they do not audit sign-ins and the
    admin (nor read each other's private notes, which the full trail holds)."""
    return actor is not None and actor.is_authenticated and actor.is_program_admin


def may_export_claim_histories(actor: User | None) -> bool:
    membership = partner_membership(actor)
    return membership is not None and membership.can_manage_claims


def _in_keyset_chunks(rows: QuerySet, fields: Iterable[str], chunk_size: int) -> Iterator[dict]:
    """``rows`` in (at, id) order, ``chunk_size`` at a time: constant memory, and every
    chunk starts where the index left off (no OFFSET, no long-open cursor)."""
    fields = tuple(fields)
    after = None
    while True:
        chunk = rows
        if after is not None:
            at, pk = after
            chunk = chunk.filter(Q(at__gt=at) | Q(at=at, id__gt=pk), at__gte=at)
        page = list(chunk.order_by("at", "id").values(*fields)[:chunk_size])
        yield from page
        if len(page) < chunk_size:
            return
        after = page[-1]["at"], page[-1]["id"]


def _in_period(rows: QuerySet, period: Period) -> QuerySet:
    start, end = period.bounds()
    rows = rows.filter(at__lt=end)
    return rows.filter(at__gte=start) if start else rows


EVENT_FIELDS = (
    *CONTENT_COLUMNS,
    "claim__organisation_id",
    "actor__email",
    "actor__operator_role",
    "seal__seq",
    "seal__content_hash",
    "seal__claim_hash",
    "seal__global_hash",
)
AUDIT_FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_email",
    "organisation_id",
    "ip",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "before",
    "after",
)


def _event_record(row: dict, *, for_partner: bool) -> dict:
    record = {column: row[column] for column in CONTENT_COLUMNS}
    record["internal"], record["shared"] = bool(row["internal"]), bool(row["shared"])
    if for_partner and row["actor__operator_role"]:
        record["actor"] = settings.CPOR_OPERATOR_NAME  # as the claim page names the program
    else:
        record["actor"] = row["actor__email"] or ""
    record.update(
        source=EVENT,
        organisation_id=row["claim__organisation_id"],
        seal_seq=row["seal__seq"],
        content_hash=row["seal__content_hash"] or "",
        claim_hash=row["seal__claim_hash"] or "",
        global_hash=row["seal__global_hash"] or "",
    )
    return record


def _audit_record(row: dict) -> dict:
    record = dict(row)
    record["source"] = AUDIT
    record["actor"] = record.pop("actor_email")
    return record


def full_trail_records(*, period: Period, chunk_size: int = CHUNK_SIZE) -> Iterator[dict]:
    """Every submitted claim's events and every audit entry in the period, in time order
    (drafts stay their partner's, as everywhere program staff read claims)."""
    events = _in_period(ClaimEvent.objects.exclude(claim__status=ClaimStatus.DRAFT), period)
    audits = _in_period(AuditEntry.objects.all(), period)
    return heapq.merge(
        (
            _event_record(row, for_partner=False)
            for row in _in_keyset_chunks(events, EVENT_FIELDS, chunk_size)
        ),
        (_audit_record(row) for row in _in_keyset_chunks(audits, AUDIT_FIELDS, chunk_size)),
        key=lambda record: (record["at"], record["source"], record["id"]),
    )


def claim_history_records(
    *, organisation_id: int, period: Period, chunk_size: int = CHUNK_SIZE
) -> Iterator[dict]:
    """The organisation's claims' events in the period, as its users see them on the
    claim page: never an internal note."""
    events = _in_period(
        ClaimEvent.objects.filter(claim__organisation_id=organisation_id, internal=False), period
    )
    for row in _in_keyset_chunks(events, EVENT_FIELDS, chunk_size):
        yield _event_record(row, for_partner=True)


def _cell(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _json_value(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    return value


def render(records: Iterable[dict], *, columns: tuple[str, ...], output: str) -> Iterator[str]:
    if output == CSV:
        return csv_lines(columns, ([_cell(r.get(c)) for c in columns] for r in records))
    return (
        json.dumps({c: _json_value(r.get(c)) for c in columns}, ensure_ascii=False) + "\n"
        for r in records
    )


def _check_output(output: str) -> None:
    if output not in OUTPUTS:
        raise DomainError("invalid_output", _("Choose CSV or JSON lines."), field="output")


def full_trail_export(*, actor: User | None, period: Period, output: str = CSV) -> Export:
    """The program admin's export of the full audit trail, recorded before it streams."""
    if not may_export_full_trail(actor):
        raise PermissionDenied(_("Only a program admin can export the full audit trail."))
    _check_output(output)
    audit_record(
        actor=actor,
        action=AuditAction.AUDIT_EXPORTED,
        target_type="full_audit_trail",
        target_label=_("Full audit trail"),
        after={**period.as_dict(), "output": output},
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return Export(
        filename=f"audit-trail-{stamp}.{output}",
        content_type=CONTENT_TYPES[output],
        lines=render(full_trail_records(period=period), columns=FULL_COLUMNS, output=output),
    )


def claim_history_export(*, actor: User | None, period: Period, output: str = CSV) -> Export:
    """A partner's export of its own claims' histories, recorded before it streams."""
    if not may_export_claim_histories(actor):
        raise PermissionDenied(
            _("Only a partner admin or incentives administrator can export claim histories.")
        )
    _check_output(output)
    organisation_id = actor.partner_membership.organisation_id
    audit_record(
        actor=actor,
        action=AuditAction.HISTORY_EXPORTED,
        organisation=organisation_id,
        target_type="claim_histories",
        target_label=_("Claim histories"),
        after={**period.as_dict(), "output": output},
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    records = claim_history_records(organisation_id=organisation_id, period=period)
    return Export(
        filename=f"claim-histories-{stamp}.{output}",
        content_type=CONTENT_TYPES[output],
        lines=render(records, columns=PARTNER_COLUMNS, output=output),
    )
