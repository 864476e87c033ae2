"""The periodic transitions: activation, expiry and renewal, stale drafts, unanswered requests.

Each job is a batch transition: pick up to ``batch_size`` due rows (``due``: their ids
and what their history events need, read before the change), change them with one
``UPDATE … FROM due``, and write their history events with one ``INSERT … SELECT … FROM
due``, in one transaction, batch after batch. The statements are the same whatever the
batch size, and so is their number:

- on PostgreSQL, one statement: ``due`` is a CTE picked ``FOR UPDATE … SKIP LOCKED``
  (so two workers running the same job take different rows and never wait for each
  other), and the update and the insert are data-modifying CTEs over it;
- on SQLite, which has no data-modifying CTEs, the pick, the update and the insert run
  one after the other, with ``due`` handed back as a ``VALUES`` list; every write
  transaction begins IMMEDIATE there, so one writer runs at a time.

Like every transition, a job writes its state and its events and nothing else: e-mails
and webhooks follow from the events after commit. The events' messages are the
translated texts the row-by-row code wrote, assembled in SQL from the same templates.
"""

import datetime
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
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

BATCH_SIZE = 2000
# SQLite gets a batch back as parameters: a few per row, well under its limits.
MAX_BATCH_SIZE = 5000

PENDING = AssociationStatus.PENDING_CUSTOMER
ACTIVE = AssociationStatus.ACTIVE
HELD = "(%s, %s)"
# A renewal another association already holds cannot take this one (one holder per unit).
RENEWAL_FREE = f"""NOT EXISTS (
    SELECT 1 FROM claims_association h WHERE h.subscription_id = r.id AND h.status IN {HELD})"""  # noqa: S608 - every SQL text here is built from constants; values are parameters


class Sql(NamedTuple):
    """A piece of SQL and its parameters."""

    text: str
    params: Sequence[Any] = ()


class Event(NamedTuple):
    """The history event each due row gets: SQL over ``due`` or a plain value. The actor
    is always "system"."""

    claim: Sql
    association: Sql | None
    action: str
    from_status: Sql | str = ""
    to_status: Sql | str = ""
    reason_code: str = ""
    message: Sql | str = ""


class Transition(NamedTuple):
    table: str
    pick: Sql  # SELECT of the due rows: their id first, then what ``change`` and ``event`` need
    columns: tuple[str, ...]  # the names ``pick``'s columns get in ``due``
    lock: str  # the alias in ``pick`` whose rows are locked
    change: Sql  # the SET clause; may read ``due``
    event: Event
    also: tuple[Sql, ...] = ()  # further statements over ``due`` (the claims' lines)


# ---------------------------------------------------------------------------
# Associations


def associations_activate_due(
    *, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Pending customer → Active for every association whose notice period has passed
    (``notice_ends_at <= now``); returns how many it activated."""
    now = now or timezone.now()
    activation = Transition(
        table="claims_association",
        pick=Sql(
            "SELECT id, claim_id FROM claims_association"
            " WHERE status = %s AND notice_ends_at <= %s",
            [PENDING, now],
        ),
        columns=("id", "claim_id"),
        lock="claims_association",
        change=Sql("status = %s, activated_at = %s", [ACTIVE, now]),
        event=Event(Sql("due.claim_id"), Sql("due.id"), EventAction.ACTIVATE, PENDING, ACTIVE),
    )
    return _in_batches(activation, at=now, batch_size=batch_size)


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
    carry_over = Transition(
        table="claims_association",
        pick=Sql(
            f"""SELECT a.id, a.claim_id, a.status, r.id, s.subscription_id, r.subscription_id
            FROM claims_association a
            JOIN customers_subscription s ON s.id = a.subscription_id
            JOIN customers_subscription r ON r.predecessor_id = s.id
            WHERE a.status IN {HELD} AND s.ends_on < %s AND r.ends_on >= %s
              AND {RENEWAL_FREE}""",  # noqa: S608 - constants
            [PENDING, ACTIVE, today, today, PENDING, ACTIVE],
        ),
        columns=("id", "claim_id", "status", "renewal_id", "old_uuid", "new_uuid"),
        lock="a",
        change=Sql("subscription_id = due.renewal_id"),
        event=Event(
            Sql("due.claim_id"),
            Sql("due.id"),
            EventAction.CARRY_OVER,
            Sql("due.status"),
            Sql("due.status"),
            message=_message(
                _("Carried over from %(old)s to renewal %(new)s."),
                old=_uuid_text("due.old_uuid"),
                new=_uuid_text("due.new_uuid"),
            ),
        ),
    )
    ended = _message(
        _("Subscription %(id)s ended on %(day)s."),
        id=_uuid_text("due.subscription_uuid"),
        day=_day("due.ends_on"),
    )
    expiry = Transition(
        table="claims_association",
        pick=Sql(
            f"""SELECT a.id, a.claim_id, a.status, s.subscription_id, s.ends_on
            FROM claims_association a
            JOIN customers_subscription s ON s.id = a.subscription_id
            WHERE a.status IN {HELD} AND s.ends_on < %s AND NOT EXISTS (
                SELECT 1 FROM customers_subscription r
                WHERE r.predecessor_id = s.id AND r.ends_on >= %s AND {RENEWAL_FREE}
            )""",  # noqa: S608 - constants
            [PENDING, ACTIVE, today, today, PENDING, ACTIVE],
        ),
        columns=("id", "claim_id", "status", "subscription_uuid", "ends_on"),
        lock="a",
        change=Sql(
            f"status = %s, end_reason = %s, ended_at = %s, end_message = {ended.text}",
            [AssociationStatus.ENDED, EndReason.EXPIRED, now, *ended.params],
        ),
        event=Event(
            Sql("due.claim_id"),
            Sql("due.id"),
            EventAction.END,
            Sql("due.status"),
            AssociationStatus.ENDED,
            EndReason.EXPIRED,
            ended,
        ),
    )
    # A claim approved at the same moment may take a renewal a batch moves an association
    # to: the unique index makes the batch wait for it, then refuses the batch. Picked
    # again, that renewal is held, and the association is left to expire.
    return _in_batches(carry_over, at=now, batch_size=batch_size, retries=3) + _in_batches(
        expiry, at=now, batch_size=batch_size
    )


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
    warning = Transition(
        table="claims_claim",
        pick=Sql(
            "SELECT id, updated_at FROM claims_claim"
            " WHERE status = %s AND updated_at < %s"
            " AND (draft_warned_at IS NULL OR draft_warned_at < updated_at)",
            [ClaimStatus.DRAFT, cutoff],
        ),
        columns=("id", "updated_at"),
        lock="claims_claim",
        change=Sql("draft_warned_at = %s", [now]),
        event=Event(
            Sql("due.id"),
            None,
            EventAction.WARN_EXPIRY,
            message=_message(
                _("Expires on %s unless edited."), _utc_day("due.updated_at", plus=expiry)
            ),
        ),
    )
    return _in_batches(warning, at=now, batch_size=batch_size)


def claims_expire_stale_drafts(
    *, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Expire drafts untouched for the program's draft expiry period."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=ProgramSettings.load().draft_expiry_days)
    expiry = Transition(
        table="claims_claim",
        pick=Sql(
            "SELECT id, updated_at FROM claims_claim WHERE status = %s AND updated_at < %s",
            [ClaimStatus.DRAFT, cutoff],
        ),
        columns=("id", "updated_at"),
        lock="claims_claim",
        change=Sql("status = %s, updated_at = %s", [ClaimStatus.EXPIRED, now]),
        event=Event(
            Sql("due.id"),
            None,
            EventAction.EXPIRE,
            ClaimStatus.DRAFT,
            ClaimStatus.EXPIRED,
            message=_message(_("Untouched since %s."), _utc_day("due.updated_at")),
        ),
    )
    return _in_batches(expiry, at=now, batch_size=batch_size)


def claims_reject_unanswered(
    *, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Reject claims whose request for information passed its deadline unanswered
    (``info_requested_until < now``), with their pending lines."""
    now = now or timezone.now()
    rejection = Transition(
        table="claims_claim",
        pick=Sql(
            "SELECT id FROM claims_claim WHERE status = %s AND info_requested_until < %s",
            [ClaimStatus.ACTION_REQUIRED, now],
        ),
        columns=("id",),
        lock="claims_claim",
        change=Sql(
            "status = %s, updated_at = %s, decided_at = %s, info_requested_until = NULL",
            [ClaimStatus.REJECTED, now, now],
        ),
        also=(
            Sql(
                "UPDATE claims_claimline SET status = %s"
                " WHERE status = %s AND claim_id IN (SELECT id FROM due)",
                [LineStatus.REJECTED, LineStatus.PENDING],
            ),
        ),
        event=Event(
            Sql("due.id"),
            None,
            EventAction.REJECT,
            ClaimStatus.ACTION_REQUIRED,
            ClaimStatus.REJECTED,
            RejectionReason.NO_PARTNER_RESPONSE,
            _("No answer by the deadline."),
        ),
    )
    return _in_batches(rejection, at=now, batch_size=batch_size)


# ---------------------------------------------------------------------------
# Running a transition batch by batch


def _in_batches(
    transition: Transition, *, at: datetime.datetime, batch_size: int, retries: int = 0
) -> int:
    """Run batches, each in its own transaction, until one comes back short: what is left
    is held by another worker, which acts on it. A batch refused by a unique index is
    rolled back and picked again, up to ``retries`` times. Returns the rows changed."""
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, not {batch_size}")
    run = _batch_postgresql if connection.vendor == "postgresql" else _batch_sqlite
    done = refused = 0
    while True:
        try:
            with transaction.atomic():
                count = run(transition, at, batch_size)
                if count:
                    events.announce()
        except IntegrityError:
            refused += 1
            if refused > retries:
                raise
            continue
        done += count
        if count < batch_size:
            return done


_EVENT_COLUMNS = (
    "claim_id, association_id, action, from_status, to_status, reason_code, message,"
    " internal, shared, actor_id, actor_label, at"
)


def _batch_postgresql(transition: Transition, at: datetime.datetime, batch_size: int) -> int:
    table, pick, change = transition.table, transition.pick, transition.change
    also = [Sql(f", also_{i} AS ({sql.text})", sql.params) for i, sql in enumerate(transition.also)]
    insert = _insert_events(transition.event, at)
    statement = _join(
        Sql(
            f"WITH due ({', '.join(transition.columns)}) AS ({pick.text}"
            f" LIMIT %s FOR UPDATE OF {transition.lock} SKIP LOCKED)",
            [*pick.params, batch_size],
        ),
        Sql(
            f", changed AS (UPDATE {table} SET {change.text} FROM due WHERE {table}.id = due.id)",  # noqa: S608
            change.params,
        ),
        *also,
        insert,
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.text, statement.params)
        return cursor.rowcount


def _batch_sqlite(transition: Transition, at: datetime.datetime, batch_size: int) -> int:
    table, pick, change = transition.table, transition.pick, transition.change
    with connection.cursor() as cursor:
        cursor.execute(f"{pick.text} LIMIT %s", _adapt([*pick.params, batch_size]))
        rows = cursor.fetchall()
        if not rows:
            return 0
        row = "(" + ", ".join(["%s"] * len(transition.columns)) + ")"
        values = ", ".join([row] * len(rows))
        due = Sql(
            f"WITH due ({', '.join(transition.columns)}) AS (VALUES {values})",
            [value for values in rows for value in values],
        )
        statements = [
            Sql(
                f"UPDATE {table} SET {change.text} FROM due WHERE {table}.id = due.id",  # noqa: S608
                change.params,
            ),
            *transition.also,
            _insert_events(transition.event, at),
        ]
        for statement in statements:
            sql = _join(due, Sql(" "), statement)
            cursor.execute(sql.text, _adapt(sql.params))
    return len(rows)


def _insert_events(event: Event, at: datetime.datetime) -> Sql:
    """``INSERT … SELECT … FROM due`` of one history event per due row; ``txid`` is left
    to its database default (the writing transaction)."""
    values = [
        _value(event.claim),
        _value(event.association),
        _value(event.action),
        _value(event.from_status),
        _value(event.to_status),
        _value(event.reason_code),
        _value(event.message),
        Sql("false, false, NULL"),
        _value(SYSTEM),
        _value(at),
    ]
    select = Sql(", ".join(v.text for v in values), [p for v in values for p in v.params])
    return _join(
        Sql(f" INSERT INTO claims_claimevent ({_EVENT_COLUMNS}) SELECT "),
        select,
        Sql(" FROM due"),
    )


# ---------------------------------------------------------------------------
# SQL pieces


def _join(*pieces: Sql) -> Sql:
    return Sql("".join(p.text for p in pieces), [param for p in pieces for param in p.params])


def _value(value: Sql | str | datetime.datetime | None) -> Sql:
    if value is None:
        return Sql("NULL")
    if isinstance(value, Sql):
        return value
    return Sql("%s", [_adapt([value])[0]])


def _adapt(params: Sequence[Any]) -> list[Any]:
    """Dates and times as the ORM stores them (on SQLite: naive UTC text, so that text
    comparisons with stored values hold)."""
    adapted = []
    for value in params:
        if isinstance(value, datetime.datetime):
            value = connection.ops.adapt_datetimefield_value(value)
        elif isinstance(value, datetime.date):
            value = connection.ops.adapt_datefield_value(value)
        adapted.append(value)
    return adapted


def _message(template: str, *positional: Sql, **named: Sql) -> Sql:
    """A translated message whose ``%s`` / ``%(name)s`` placeholders are SQL values."""
    pieces: list[Sql] = []
    values = iter(positional)
    # Split with one group: text, placeholder name (None for %s), text, …
    for i, part in enumerate(re.split(r"%(?:\((\w+)\))?s", template)):
        if i % 2 == 1:
            pieces.append(named[part] if part else next(values))
        elif part:
            pieces.append(Sql("%s", [part.replace("%%", "%")]))
    return Sql(
        "(" + " || ".join(p.text for p in pieces) + ")", [x for p in pieces for x in p.params]
    )


def _uuid_text(column: str) -> Sql:
    """A UUID column as text, with hyphens (SQLite stores 32 hex digits)."""
    if connection.vendor == "postgresql":
        return Sql(f"{column}::text")
    parts = [(1, 8), (9, 4), (13, 4), (17, 4), (21, 12)]
    return Sql("lower(" + " || '-' || ".join(f"substr({column}, {a}, {n})" for a, n in parts) + ")")


def _day(column: str) -> Sql:
    """A date column as YYYY-MM-DD."""
    if connection.vendor == "postgresql":
        return Sql(f"to_char({column}, 'YYYY-MM-DD')")
    return Sql(f"date({column})")


def _utc_day(column: str, *, plus: datetime.timedelta = datetime.timedelta(0)) -> Sql:
    """The UTC day (YYYY-MM-DD) of a timestamp column, ``plus`` whole days later."""
    if connection.vendor == "postgresql":
        return Sql(f"to_char(({column} + %s) AT TIME ZONE 'UTC', 'YYYY-MM-DD')", [plus])
    return Sql(f"date({column}, %s)", [f"+{plus.days} days"])
