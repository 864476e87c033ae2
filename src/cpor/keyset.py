"""Keyset pagination for the web lists, and counts that stop early.

A page is the rows just after (or just before) a row the reader saw, in a total order
that ends on the primary key, so page 5,000 costs what the first page costs; OFFSET
would read and discard every row before it. The position travels in the query string
as an opaque cursor: the sort key values of that row, base64-encoded JSON. A cursor that
does not decode into values of the sort's fields is refused with ``InvalidCursor``.

Large lists never count every row: ``bounded_count`` counts up to a limit and says
whether there are more ("more than 1,000 claims"), ``bounded_counts`` several such counts
in one statement; the exact total is asked for separately.
"""

import base64
import binascii
import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections, transaction
from django.db.models import F, Model, OrderBy, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from cpor.errors import DomainError

AFTER, BEFORE = "a", "b"


class InvalidCursor(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "invalid_cursor",
            _("This page link is not valid (it may have been cut or edited)."),
            field="cursor",
        )


@dataclass(frozen=True)
class SortKey:
    """One column of a list's order: an ORM path, its direction, and whether it may be
    empty (empty values sort last in either direction)."""

    path: str
    descending: bool = False
    nullable: bool = False
    # For a key on an annotation: the model field whose type a cursor's value must have.
    field: str | None = None

    def order(self, *, reverse: bool = False) -> OrderBy:
        descending = self.descending != reverse
        expression = F(self.path)
        if not self.nullable:
            return expression.desc() if descending else expression.asc()
        # Empty last in the list's order, so first when walking it backwards.
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
        return expression.desc(**nulls) if descending else expression.asc(**nulls)


@dataclass
class KeysetPage:
    rows: list[Any]
    next_cursor: str | None
    previous_cursor: str | None
    # How many rows the whole list holds, when the caller counted: (count, more).
    total: tuple[int, bool] | None = None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def _fetch(window: QuerySet) -> list[Any]:
    """The page's rows. On PostgreSQL the joins are planned in the order written (the
    listed table first, then each row's relations), the plan it picks anyway: searching
    every order of a list's six to eight joins costs 11-18 ms of planning for 2 ms of
    execution (bench_review.py), on every page, since a keyset page is planned afresh.
    The setting lasts until the statement has run: the commit ends it, or inside a
    caller's transaction a reset."""
    connection = connections[window.db]
    if connection.vendor != "postgresql":
        return list(window)
    in_callers = connection.in_atomic_block
    with transaction.atomic(using=window.db, savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL join_collapse_limit = 1")
        rows = list(window)
        if in_callers:
            cursor.execute("SET LOCAL join_collapse_limit TO DEFAULT")
    return rows


def keyset_page(
    queryset: QuerySet, keys: Sequence[SortKey], *, cursor: str | None, size: int
) -> KeysetPage:
    """One page of ``queryset`` in the order of ``keys`` (the last key must be unique,
    normally ``pk``), starting after or ending before the row ``cursor`` names."""
    direction, values = decode_cursor(cursor, keys, queryset.model) if cursor else (None, None)
    if direction == BEFORE:
        window = queryset.filter(_before(keys, values)).order_by(
            *(key.order(reverse=True) for key in keys)
        )
        rows = _fetch(window[: size + 1])
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(
            rows,
            next_cursor=encode_cursor(AFTER, keys, rows[-1]) if rows else None,
            previous_cursor=encode_cursor(BEFORE, keys, rows[0]) if more_before else None,
        )
    if direction == AFTER:
        queryset = queryset.filter(_after(keys, values))
    rows = _fetch(queryset.order_by(*(key.order() for key in keys))[: size + 1])
    more_after = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows,
        next_cursor=encode_cursor(AFTER, keys, rows[-1]) if more_after else None,
        previous_cursor=encode_cursor(BEFORE, keys, rows[0]) if direction and rows else None,
    )


def _up_to(queryset: QuerySet, limit: int) -> QuerySet:
    """The first ``limit + 1`` keys of ``queryset``, in no order: one more than the limit
    says there are more."""
    return queryset.order_by().values("pk")[: limit + 1]


def bounded_count(queryset: QuerySet, limit: int) -> tuple[int, bool]:
    """How many rows, counting at most ``limit``: (count, whether there are more)."""
    found = _up_to(queryset, limit).count()
    return min(found, limit), found > limit


def bounded_counts(querysets: Mapping[str, QuerySet], limit: int) -> dict[str, tuple[int, bool]]:
    """``bounded_count`` of each queryset, in one statement (a page's badges): each count
    is a scalar subquery of its own, so each still stops at ``limit``."""
    parts, params = [], []
    for queryset in querysets.values():
        sql, values = _up_to(queryset, limit).query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) counted)")  # noqa: S608 (compiled by Django, values as parameters)
        params.extend(values)
    if not parts:
        return {}
    with connections[next(iter(querysets.values())).db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        found = cursor.fetchone()
    return {name: (min(n, limit), n > limit) for name, n in zip(querysets, found, strict=True)}


# ---------------------------------------------------------------------------
# Conditions


def _never() -> Q:
    return Q(pk__in=[])


def _past(key: SortKey, value: Any) -> Q:
    """Rows strictly after ``value`` on this key alone."""
    if value is None:
        return _never()  # empty values come last
    condition = Q(**{f"{key.path}__{'lt' if key.descending else 'gt'}": value})
    return condition | Q(**{f"{key.path}__isnull": True}) if key.nullable else condition


def _ahead(key: SortKey, value: Any) -> Q:
    """Rows strictly before ``value`` on this key alone."""
    if value is None:
        return Q(**{f"{key.path}__isnull": False})
    return Q(**{f"{key.path}__{'gt' if key.descending else 'lt'}": value})


def _same(key: SortKey, value: Any) -> Q:
    return Q(**{f"{key.path}__isnull": True}) if value is None else Q(**{key.path: value})


def _lexicographic(keys: Sequence[SortKey], values: Sequence[Any], beyond) -> Q:
    condition, equal = _never(), Q()
    for key, value in zip(keys, values, strict=True):
        condition |= equal & beyond(key, value)
        equal &= _same(key, value)
    return condition


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> Q:
    condition = _lexicographic(keys, values, _past)
    first, value = keys[0], values[0]
    if value is not None and not first.nullable:
        # The same bound again as a plain range, so the database starts its index scan
        # at the cursor instead of filtering every row before it.
        condition &= Q(**{f"{first.path}__{'lte' if first.descending else 'gte'}": value})
    return condition


def _before(keys: Sequence[SortKey], values: Sequence[Any]) -> Q:
    condition = _lexicographic(keys, values, _ahead)
    first, value = keys[0], values[0]
    if value is not None and not first.nullable:
        condition &= Q(**{f"{first.path}__{'gte' if first.descending else 'lte'}": value})
    return condition


# ---------------------------------------------------------------------------
# Cursors


def _value_of(row: Model | Mapping, path: str) -> Any:
    if isinstance(row, Mapping):  # a row of values(), keyed by the paths it was asked for
        return row[path]
    value: Any = row
    for part in path.split("__"):
        value = getattr(value, part)
        if value is None:
            return None
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def encode_cursor(direction: str, keys: Sequence[SortKey], row: Model | Mapping) -> str:
    payload = [direction, [_plain(_value_of(row, key.path)) for key in keys]]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _field(model: type[Model], path: str):
    parts = path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    return model._meta.pk if parts[-1] == "pk" else model._meta.get_field(parts[-1])


def decode_cursor(
    cursor: str, keys: Sequence[SortKey], model: type[Model]
) -> tuple[str, list[Any]]:
    """(direction, values) from a cursor, each value checked against its field."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        direction, values = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidCursor() from None
    if direction not in (AFTER, BEFORE) or not isinstance(values, list):
        raise InvalidCursor()
    if len(values) != len(keys):
        raise InvalidCursor()
    checked = []
    for key, value in zip(keys, values, strict=True):
        if value is None:
            if not key.nullable:
                raise InvalidCursor()
            checked.append(None)
            continue
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise InvalidCursor()
        try:
            checked.append(_field(model, key.field or key.path).to_python(value))
        except (ValidationError, FieldDoesNotExist, TypeError, ValueError):
            raise InvalidCursor() from None
    return direction, checked
