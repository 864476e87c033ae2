"""The periodic transitions: activation, expiry and renewal, stale drafts, unanswered requests.

Each job works batch by batch, one transaction per batch, in a constant number of
statements whatever the batch size: one ``UPDATE … RETURNING`` picks and changes the
batch, and one multi-row ``INSERT`` built from the returned rows writes its history
events. Where an event needs a value the update overwrites (a draft's last change, the
status an association had before it ended), the batch is first read under the same lock
and then changed by id. Like every transition, a job writes its state and its events
and nothing else: e-mails and webhooks follow from the events after commit.

Two workers may run the same job at once. On PostgreSQL the batch is picked with
``FOR UPDATE … SKIP LOCKED``: each worker takes rows the other does not hold, neither
waits for the other, and a row changed by someone else meanwhile is re-checked as it is
locked. On SQLite every write transaction begins IMMEDIATE: one writer at a time.
"""

import datetime
import uuid
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from cpor.catalog.models import ProgramSettings
from cpor.claims import events
from cpor.claims.models import (
    AssociationStatus,
    ClaimStatus,
    EndReason,
    EventAction,
    LineStatus,
)
from cpor.claims.reasons import RejectionReason
from cpor.claims.services.history import SYSTEM

BATCH_SIZE = 500
# An event row takes nine parameters; PostgreSQL accepts at most 65,535 per statement.
MAX_BATCH_SIZE = 5000

PENDING = AssociationStatus.PENDING_CUSTOMER
ACTIVE = AssociationStatus.ACTIVE
ENDED = AssociationStatus.ENDED
# A renewal another association already holds cannot take this one (one holder per unit).
_RENEWAL_FREE = """NOT EXISTS (
    SELECT 1 FROM claims_association h
    WHERE h.subscription_id = r.id AND h.status IN (%s, %s))"""


class _Event(NamedTuple):
    """One history event as the jobs write it: no actor, acting as "system"."""

    claim_id: int
    association_id: int | None
    action: str
    from_status: str = ""
    to_status: str = ""
    reason_code: str = ""
    message: str = ""


# ---------------------------------------------------------------------------
# Associations


def associations_activate_due(
    *, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Pending customer → Active for every association whose notice period has passed
    (``notice_ends_at <= now``); returns how many it activated."""
    now = now or timezone.now()
    sql = f"""
        UPDATE claims_association SET status = %s, activated_at = %s
        WHERE id IN (
            SELECT id FROM claims_association
            WHERE status = %s AND notice_ends_at <= %s
            LIMIT %s {_skip_locked("claims_association")}
        )
        RETURNING claim_id, id"""  # noqa: S608 - only the lock clause is interpolated
    params = [ACTIVE, now, PENDING, now, batch_size]

    def batch() -> int:
        rows = _fetch(sql, params)
        _record_events(
            [_Event(claim, pk, EventAction.ACTIVATE, PENDING, ACTIVE) for claim, pk in rows],
            at=now,
        )
        return len(rows)

    return _in_batches(batch, batch_size)


def associations_expire_ended_subscriptions(
    *, today: datetime.date | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """The Dynamics 365 rule: an association lasts as long as its subscription.

    A held association whose subscription ended (``ends_on < today``) moves to the
    renewal, the subscription naming it as predecessor, unless another association
    already holds that renewal; otherwise it ends as expired. Returns how many it carried
    over or ended."""
    today = today or timezone.localdate()
    now = timezone.now()
    return _carry_over_to_renewals(today, now, batch_size) + _expire_ended(today, now, batch_size)


def _carry_over_to_renewals(today: datetime.date, now: datetime.datetime, batch_size: int) -> int:
    sql = f"""
        UPDATE claims_association SET subscription_id = (
            SELECT r.id FROM customers_subscription r
            WHERE r.predecessor_id = claims_association.subscription_id
        )
        WHERE id IN (
            SELECT a.id FROM claims_association a
            JOIN customers_subscription s ON s.id = a.subscription_id
            JOIN customers_subscription r ON r.predecessor_id = s.id
            WHERE a.status IN (%s, %s) AND s.ends_on < %s AND r.ends_on >= %s
              AND {_RENEWAL_FREE}
            LIMIT %s {_skip_locked("a")}
        )
        RETURNING claim_id, id, status,
            (SELECT p.subscription_id FROM customers_subscription p
             JOIN customers_subscription r ON r.predecessor_id = p.id
             WHERE r.id = claims_association.subscription_id),
            (SELECT r.subscription_id FROM customers_subscription r
             WHERE r.id = claims_association.subscription_id)"""  # noqa: S608 - constants
    params = [PENDING, ACTIVE, today, today, PENDING, ACTIVE, batch_size]

    def batch() -> int:
        rows = _fetch(sql, params)
        _record_events(
            [
                _Event(
                    claim,
                    pk,
                    EventAction.CARRY_OVER,
                    status,
                    status,
                    message=_("Carried over from %(old)s to renewal %(new)s.")
                    % {"old": _uuid(old), "new": _uuid(new)},
                )
                for claim, pk, status, old, new in rows
            ],
            at=now,
        )
        return len(rows)

    # A claim approved at the same moment may take a renewal this batch moves an
    # association to: the unique index makes the batch wait for it, then refuses the
    # batch. The next pick sees that renewal held and leaves the association to expire.
    return _in_batches(batch, batch_size, retries=3)


def _expire_ended(today: datetime.date, now: datetime.datetime, batch_size: int) -> int:
    pick = f"""
        SELECT a.id, a.claim_id, a.status, s.subscription_id, s.ends_on
        FROM claims_association a
        JOIN customers_subscription s ON s.id = a.subscription_id
        WHERE a.status IN (%s, %s) AND s.ends_on < %s
          AND NOT EXISTS (
              SELECT 1 FROM customers_subscription r
              WHERE r.predecessor_id = s.id AND r.ends_on >= %s AND {_RENEWAL_FREE}
          )
        LIMIT %s {_skip_locked("a")}"""  # noqa: S608 - constants
    params = [PENDING, ACTIVE, today, today, PENDING, ACTIVE, batch_size]

    def batch() -> int:
        rows = _fetch(pick, params)
        if not rows:
            return 0
        messages = {
            pk: _("Subscription %(id)s ended on %(day)s.")
            % {"id": _uuid(subscription), "day": _date(ends_on).isoformat()}
            for pk, _claim, _status, subscription, ends_on in rows
        }
        # The message differs per association: joined in from a VALUES list.
        values = ", ".join(["(%s, %s)"] * len(rows))
        _execute(
            f"""UPDATE claims_association
            SET status = %s, end_reason = %s, ended_at = %s, end_message = v.column2
            FROM (VALUES {values}) AS v
            WHERE claims_association.id = v.column1""",  # noqa: S608 - placeholders only
            [ENDED, EndReason.EXPIRED, now, *(x for item in messages.items() for x in item)],
        )
        _record_events(
            [
                _Event(claim, pk, EventAction.END, status, ENDED, EndReason.EXPIRED, messages[pk])
                for pk, claim, status, _subscription, _ends_on in rows
            ],
            at=now,
        )
        return len(rows)

    return _in_batches(batch, batch_size)


# ---------------------------------------------------------------------------
# Claims


def claims_warn_stale_drafts(
    *, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Warn about each draft that will expire within ``CPOR_DRAFT_WARNING_DAYS``: a
    ``warn_expiry`` event naming the day, from which the author's e-mail follows.

    Once per period of inactivity: ``draft_warned_at`` is set, and a draft is warned
    again only after an edit moved its ``updated_at`` past that."""
    now = now or timezone.now()
    expiry = datetime.timedelta(days=ProgramSettings.load().draft_expiry_days)
    warn_before = datetime.timedelta(days=settings.CPOR_DRAFT_WARNING_DAYS)
    cutoff = now - max(expiry - warn_before, datetime.timedelta(0))
    sql = f"""
        UPDATE claims_claim SET draft_warned_at = %s
        WHERE id IN (
            SELECT id FROM claims_claim
            WHERE status = %s AND updated_at < %s
              AND (draft_warned_at IS NULL OR draft_warned_at < updated_at)
            LIMIT %s {_skip_locked("claims_claim")}
        )
        RETURNING id, updated_at"""  # noqa: S608 - only the lock clause is interpolated
    params = [now, ClaimStatus.DRAFT, cutoff, batch_size]

    def batch() -> int:
        rows = _fetch(sql, params)
        _record_events(
            [
                _Event(
                    pk,
                    None,
                    EventAction.WARN_EXPIRY,
                    message=_("Expires on %s unless edited.")
                    % (_datetime(updated_at) + expiry).date().isoformat(),
                )
                for pk, updated_at in rows
            ],
            at=now,
        )
        return len(rows)

    return _in_batches(batch, batch_size)


def claims_expire_stale_drafts(
    *, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Expire drafts untouched for the program's draft expiry period."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=ProgramSettings.load().draft_expiry_days)
    pick = f"""
        SELECT id, updated_at FROM claims_claim
        WHERE status = %s AND updated_at < %s
        LIMIT %s {_skip_locked("claims_claim")}"""  # noqa: S608 - only the lock clause
    params = [ClaimStatus.DRAFT, cutoff, batch_size]

    def batch() -> int:
        # Read first: the event names the last change, which the update overwrites.
        rows = _fetch(pick, params)
        if not rows:
            return 0
        ids = [pk for pk, _updated_at in rows]
        _execute(
            f"""UPDATE claims_claim SET status = %s, updated_at = %s
            WHERE id IN {_placeholders(ids)}""",  # noqa: S608 - placeholders only
            [ClaimStatus.EXPIRED, now, *ids],
        )
        _record_events(
            [
                _Event(
                    pk,
                    None,
                    EventAction.EXPIRE,
                    ClaimStatus.DRAFT,
                    ClaimStatus.EXPIRED,
                    message=_("Untouched since %s.") % _datetime(updated_at).date().isoformat(),
                )
                for pk, updated_at in rows
            ],
            at=now,
        )
        return len(rows)

    return _in_batches(batch, batch_size)


def claims_reject_unanswered(
    *, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Reject claims whose request for information passed its deadline unanswered
    (``info_requested_until < now``), with their pending lines."""
    now = now or timezone.now()
    sql = f"""
        UPDATE claims_claim
        SET status = %s, updated_at = %s, decided_at = %s, info_requested_until = NULL
        WHERE id IN (
            SELECT id FROM claims_claim
            WHERE status = %s AND info_requested_until < %s
            LIMIT %s {_skip_locked("claims_claim")}
        )
        RETURNING id"""  # noqa: S608 - only the lock clause is interpolated
    params = [ClaimStatus.REJECTED, now, now, ClaimStatus.ACTION_REQUIRED, now, batch_size]
    message = _("No answer by the deadline.")

    def batch() -> int:
        rows = _fetch(sql, params)
        if not rows:
            return 0
        ids = [pk for (pk,) in rows]
        _execute(
            f"""UPDATE claims_claimline SET status = %s
            WHERE status = %s AND claim_id IN {_placeholders(ids)}""",  # noqa: S608
            [LineStatus.REJECTED, LineStatus.PENDING, *ids],
        )
        _record_events(
            [
                _Event(
                    pk,
                    None,
                    EventAction.REJECT,
                    ClaimStatus.ACTION_REQUIRED,
                    ClaimStatus.REJECTED,
                    RejectionReason.NO_PARTNER_RESPONSE,
                    message,
                )
                for (pk,) in rows
            ],
            at=now,
        )
        return len(rows)

    return _in_batches(batch, batch_size)


# ---------------------------------------------------------------------------
# The statements


def _in_batches(batch: Callable[[], int], batch_size: int, *, retries: int = 0) -> int:
    """Run ``batch`` in its own transaction until one comes back short: what is left is
    held by another worker, which acts on it. A batch refused by a unique index is
    rolled back and picked again, up to ``retries`` times."""
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, not {batch_size}")
    done = 0
    refused = 0
    while True:
        try:
            with transaction.atomic():
                count = batch()
        except IntegrityError:
            refused += 1
            if refused > retries:
                raise
            continue
        done += count
        if count < batch_size:
            return done


def _skip_locked(alias: str) -> str:
    if connection.vendor == "postgresql":
        return f"FOR UPDATE OF {alias} SKIP LOCKED"
    return ""  # SQLite: the IMMEDIATE transaction already excludes every other writer


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [_adapt(value) for value in params])
        return cursor.fetchall()


def _execute(sql: str, params: Sequence[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, [_adapt(value) for value in params])


def _adapt(value: Any) -> Any:
    """Dates and times as the ORM stores them (on SQLite: naive UTC text, so that text
    comparisons with stored values hold)."""
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _placeholders(values: Sequence[Any]) -> str:
    return "(" + ", ".join(["%s"] * len(values)) + ")"


_EVENT_ROW = "(%s, %s, %s, %s, %s, %s, %s, false, false, NULL, %s, %s)"


def _record_events(batch: Sequence[_Event], *, at: datetime.datetime) -> None:
    """One INSERT for the batch's history events; the consumers are woken after commit.
    ``txid`` is left to its database default (the writing transaction)."""
    if not batch:
        return
    rows = ", ".join([_EVENT_ROW] * len(batch))
    at = _adapt(at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO claims_claimevent (claim_id, association_id, action, from_status,
            to_status, reason_code, message, internal, shared, actor_id, actor_label, at)
            VALUES {rows}""",  # noqa: S608 - placeholders only
            [value for event in batch for value in (*event, SYSTEM, at)],
        )
    events.announce()


# Raw rows come back as the driver gives them: PostgreSQL's types, or SQLite's text.


def _uuid(value: uuid.UUID | str) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


def _date(value: datetime.date | str) -> datetime.date:
    return value if isinstance(value, datetime.date) else parse_date(value)


def _datetime(value: datetime.datetime | str) -> datetime.datetime:
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value.astimezone(datetime.UTC)
