"""Batch transitions in a constant number of statements, for the periodic jobs.

A ``Transition`` names the due rows (``pick``: their id, then what the change and the
history events need, read before the change), how they change (``change``, a SET clause
that may read ``due``) and the history event each gets. ``run_in_batches`` applies it
batch by batch, one transaction per batch, with the same statements whatever the batch
size:

- on PostgreSQL, one statement: ``due`` is a CTE picked ``FOR UPDATE … SKIP LOCKED``
  (two workers running the same job take different rows and never wait for each other),
  and the ``UPDATE … FROM due`` and the events' ``INSERT … SELECT … FROM due`` are
  data-modifying CTEs over it;
- on SQLite, which has no data-modifying CTEs, the pick, the update and the insert run
  one after the other, ``due`` handed back as a ``VALUES`` list; every write transaction
  begins IMMEDIATE there, so one writer runs at a time.

SQL texts here are built from constants and placeholders only; every value is a
parameter.
"""

import datetime
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction

from cpor.claims import events
from cpor.claims.services.history import SYSTEM

# SQLite gets a batch back as parameters: a few per row, well under its limits.
MAX_BATCH_SIZE = 5000


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
    """A change of many rows of ``table`` at once, each with its history event."""

    table: str
    pick: Sql  # SELECT of the due rows: their id first, then what ``change`` and ``event`` need
    columns: tuple[str, ...]  # the names ``pick``'s columns get in ``due``
    lock: str  # the alias in ``pick`` whose rows are locked
    change: Sql  # the SET clause; may read ``due``
    event: Event
    also: tuple[Sql, ...] = ()  # further statements over ``due`` (the claims' lines)


def run_in_batches(
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
        listed = ", ".join([row] * len(rows))
        due = Sql(
            f"WITH due ({', '.join(transition.columns)}) AS (VALUES {listed})",
            [value for picked in rows for value in picked],
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


def message(template: str, *positional: Sql, **named: Sql) -> Sql:
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


def uuid_text(column: str) -> Sql:
    """A UUID column as text, with hyphens (SQLite stores 32 hex digits)."""
    if connection.vendor == "postgresql":
        return Sql(f"{column}::text")
    parts = [(1, 8), (9, 4), (13, 4), (17, 4), (21, 12)]
    return Sql("lower(" + " || '-' || ".join(f"substr({column}, {a}, {n})" for a, n in parts) + ")")


def day(column: str) -> Sql:
    """A date column as YYYY-MM-DD."""
    if connection.vendor == "postgresql":
        return Sql(f"to_char({column}, 'YYYY-MM-DD')")
    return Sql(f"date({column})")


def utc_day(column: str, *, plus: datetime.timedelta = datetime.timedelta(0)) -> Sql:
    """The UTC day (YYYY-MM-DD) of a timestamp column, ``plus`` whole days later."""
    if connection.vendor == "postgresql":
        return Sql(f"to_char(({column} + %s) AT TIME ZONE 'UTC', 'YYYY-MM-DD')", [plus])
    return Sql(f"date({column}, %s)", [f"+{plus.days} days"])
