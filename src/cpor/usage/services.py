# SQL here is built only from this module's constant identifiers; values are parameters.
# ruff: noqa: S608
"""Bulk usage import: one service, ``usage_import``.

The file streams through in batches (constant memory, whatever its size):

1. each row is checked on its own (a GUID, a known workload, a first-of-month date not
   in the future, whole non-negative numbers…); bad rows are rejected with their row
   number, column and reason, good rows go to a staging table: ``COPY`` on PostgreSQL,
   ``executemany`` on SQLite;
2. once the whole file was read, SQL rejects what needs every row or the database:
   keys that appear more than once in the file (every copy is rejected: neither value
   can be trusted) and unknown tenants or subscriptions;
3. each month is written by one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` in its own
   transaction: all good rows of a month land together or not at all, and importing
   the same month again updates the same rows (idempotent).

A file that cannot be read to its end (a wrong header, a truncated Parquet file) writes
nothing at all. Row 1 is the first row after the header.
"""

import csv
import datetime
import decimal
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.catalog.models import Product
from cpor.claims.permissions import require_program_admin
from cpor.errors import DomainError
from cpor.usage.sources import MalformedLine, open_source

MAX_UNITS = 2_147_483_647  # PositiveIntegerField
MAX_REVENUE = decimal.Decimal("999999999999.99")  # max_digits=14, decimal_places=2
_WHOLE = re.compile(r"\s*\d+\s*")
_CURRENCY = re.compile(r"[A-Z]{3}")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Rejection:
    row: int
    column: str
    reason: str


@dataclass
class ImportReport:
    """What an import did: rows read, written per month, and what was rejected."""

    kind: str = ""
    file_format: str = ""
    rows_read: int = 0
    rows_written: int = 0
    months: dict[datetime.date, int] = field(default_factory=dict)
    rejected_count: int = 0
    # The first ``max_reported`` rejections; every one also goes to ``rejects`` if given.
    rejections: list[Rejection] = field(default_factory=list)
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class RejectionLog:
    """Counts every rejection, keeps the first few, streams all of them to a CSV."""

    def __init__(self, report: ImportReport, *, keep: int, out: TextIO | None) -> None:
        self.report = report
        self.keep = keep
        self.writer = csv.writer(out) if out is not None else None
        if self.writer:
            self.writer.writerow(["row", "column", "reason"])

    def add(self, row: int, column: str, reason: str) -> None:
        self.report.rejected_count += 1
        if len(self.report.rejections) < self.keep:
            self.report.rejections.append(Rejection(row, column, reason))
        if self.writer:
            self.writer.writerow([row, column, reason])


# --- checking one row --------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column = column
        self.reason = reason


class _Checker:
    def __init__(self, kind: str, today: datetime.date) -> None:
        self.latest_month = today.replace(day=1)
        self.months: dict[object, datetime.date] = {}
        self.products = dict(Product.objects.values_list("code", "pk"))
        self.check = self.workload_row if kind == "workload" else self.subscription_row

    def guid(self, value, column: str) -> str:
        if value is None or value == "":
            raise _Bad(column, _("missing value"))
        if isinstance(value, uuid.UUID):
            return str(value)
        if type(value) is str and _GUID.fullmatch(value):
            return value.lower()
        try:
            return str(uuid.UUID(str(value).strip()))
        except ValueError:
            raise _Bad(column, _("not a GUID")) from None

    def month(self, value) -> datetime.date:
        cached = self.months.get(value)
        if cached is not None:
            return cached
        if value is None or value == "":
            raise _Bad("month", _("missing value"))
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            month = value
        else:
            text = str(value).strip()
            try:
                month = datetime.date.fromisoformat(text if len(text) > 7 else f"{text}-01")
            except ValueError:
                raise _Bad("month", _("not a month (YYYY-MM or YYYY-MM-01)")) from None
        if month.day != 1:
            raise _Bad("month", _("not the first day of a month"))
        if month > self.latest_month:
            raise _Bad("month", _("a future month"))
        self.months[value] = month
        return month

    @staticmethod
    def whole(value, column: str) -> int:
        if type(value) is int:
            number = value
        elif type(value) is str and value.isdigit():
            number = int(value)
        elif value is None or value == "":
            raise _Bad(column, _("missing value"))
        elif isinstance(value, str) and _WHOLE.fullmatch(value):
            number = int(value)
        else:
            try:
                number = int(decimal.Decimal(str(value).strip()))
                if number != decimal.Decimal(str(value).strip()):
                    raise ValueError
            except (ValueError, decimal.InvalidOperation):
                raise _Bad(column, _("not a whole number")) from None
        if number < 0:
            raise _Bad(column, _("negative"))
        if number > MAX_UNITS:
            raise _Bad(column, _("too large"))
        return number

    def workload_row(self, row: tuple) -> tuple:
        tenant, workload, month, active, paid = row
        tenant = self.guid(tenant, "tenant_id")
        product_id = self.products.get(str(workload).strip() if workload is not None else "")
        if product_id is None:
            raise _Bad("workload", _("unknown workload"))
        return (
            tenant,
            product_id,
            self.month(month),
            self.whole(active, "active_users"),
            self.whole(paid, "paid_units"),
        )

    def subscription_row(self, row: tuple) -> tuple:
        subscription, month, units, revenue, currency = row
        subscription = self.guid(subscription, "subscription_id")
        month = self.month(month)
        units = self.whole(units, "licensed_units")
        if revenue is None or revenue == "":
            raise _Bad("revenue", _("missing value"))
        try:
            amount = decimal.Decimal(str(revenue).strip())
        except decimal.InvalidOperation:
            raise _Bad("revenue", _("not a number")) from None
        if not amount.is_finite():
            raise _Bad("revenue", _("not a number"))
        if amount < 0:
            raise _Bad("revenue", _("negative"))
        if amount > MAX_REVENUE or amount != amount.quantize(decimal.Decimal("0.01")):
            raise _Bad("revenue", _("more than 12 digits or 2 decimals"))
        currency = (currency or "").strip().upper() if isinstance(currency, str) else ""
        if not _CURRENCY.fullmatch(currency):
            raise _Bad("currency", _("not a three-letter currency code"))
        return subscription, month, units, str(amount), currency


# --- staging, per database -----------------------------------------------------------

# kind -> (staging columns with PostgreSQL types, key columns, target table, SQL to move
# one month from staging to the target)
_STAGING = {
    "workload": (
        "row_no bigint, tenant_guid uuid, product_id bigint, month date, "
        "active_users integer, paid_units integer",
        ("tenant_guid", "product_id", "month"),
    ),
    "subscription": (
        "row_no bigint, subscription_guid uuid, month date, licensed_units integer, "
        "revenue numeric(14,2), currency varchar(3)",
        ("subscription_guid", "month"),
    ),
}
_STAGING_TABLE = "usage_import_staging"

_UPSERT = {
    "workload": """
        INSERT INTO usage_workloadusage (tenant_id, product_id, month, active_users, paid_units)
        SELECT t.id, s.product_id, s.month, s.active_users, s.paid_units
        FROM usage_import_staging s JOIN customers_tenant t ON t.tenant_id = s.tenant_guid
        WHERE s.month = %s
        ORDER BY t.id, s.product_id
        ON CONFLICT (tenant_id, product_id, month) DO UPDATE
        SET active_users = excluded.active_users, paid_units = excluded.paid_units
    """,
    "subscription": """
        INSERT INTO usage_subscriptionusage
            (subscription_id, month, licensed_units, revenue, currency)
        SELECT u.id, s.month, s.licensed_units, s.revenue, s.currency
        FROM usage_import_staging s
        JOIN customers_subscription u ON u.subscription_id = s.subscription_guid
        WHERE s.month = %s
        ORDER BY u.id
        ON CONFLICT (subscription_id, month) DO UPDATE
        SET licensed_units = excluded.licensed_units, revenue = excluded.revenue,
            currency = excluded.currency
    """,
}

# kind -> (staging key column, referenced table and column, reported column and reason)
_UNKNOWN = {
    "workload": ("tenant_guid", "customers_tenant", "tenant_id", "tenant_id"),
    "subscription": (
        "subscription_guid",
        "customers_subscription",
        "subscription_id",
        "subscription_id",
    ),
}


class _Staging:
    """The staging table in this connection's session, filled batch by batch."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.columns_sql, self.key = _STAGING[kind]
        self.postgres = connection.vendor == "postgresql"

    def __enter__(self) -> "_Staging":
        columns = self.columns_sql
        if not self.postgres:
            # SQLite stores a UUIDField as 32 hex digits: stage GUIDs the same way.
            columns = columns.replace(" uuid", " char(32)").replace("numeric(14,2)", "text")
        with connection.cursor() as cursor:
            if self.postgres:
                self._tune(cursor)
            cursor.execute(f"DROP TABLE IF EXISTS {_STAGING_TABLE}")
            cursor.execute(f"CREATE TEMPORARY TABLE {_STAGING_TABLE} ({columns})")
        self.names = [part.split()[0] for part in self.columns_sql.split(", ")]
        return self

    def __exit__(self, *exc_info) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_STAGING_TABLE}")
            if self.postgres:
                cursor.execute("RESET work_mem")

    @staticmethod
    def _tune(cursor) -> None:
        """Room to group and sort the staged rows in memory, and to keep the staging
        table in this session's buffers: with the defaults (4 MB, 8 MB) a large file's
        checks spill to disk and each month's pass rereads the table from files.
        ``temp_buffers`` can only change before the session's first temporary table."""
        cursor.execute("SET work_mem = %s", [settings.USAGE_IMPORT_WORK_MEM])
        try:
            with transaction.atomic():
                cursor.execute("SET temp_buffers = %s", [settings.USAGE_IMPORT_WORK_MEM])
        except DatabaseError:
            pass  # this session already used a temporary table: keep its buffers

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                # Text COPY: none of the staged values can hold a tab, newline or backslash.
                text = "".join("\t".join(map(str, row)) + "\n" for row in rows)
                with cursor.copy(
                    f"COPY {_STAGING_TABLE} ({', '.join(self.names)}) FROM STDIN"
                ) as copy:
                    copy.write(text)
            else:
                placeholders = ", ".join(["%s"] * len(self.names))
                cursor.executemany(
                    f"INSERT INTO {_STAGING_TABLE} VALUES ({placeholders})",
                    [(row[0], row[1].replace("-", ""), *row[2:]) for row in rows],
                )

    def reject_duplicates(self, log: RejectionLog) -> None:
        """Index the staged rows by (month, key): a unique index both proves that no key
        appears twice and serves each month's pass. Only when it cannot be built are the
        duplicates looked for (and every copy rejected)."""
        key = ", ".join(self.key)
        by_month = ", ".join(["month", *(c for c in self.key if c != "month")])
        create = f"CREATE UNIQUE INDEX {_STAGING_TABLE}_key ON {_STAGING_TABLE} ({by_month})"
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(create)
            return
        except IntegrityError:
            pass
        duplicated = f"SELECT {key} FROM {_STAGING_TABLE} GROUP BY {key} HAVING COUNT(*) > 1"
        reason = _("the same key appears more than once in the file")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT row_no FROM {_STAGING_TABLE} WHERE ({key}) IN ({duplicated}) "
                "ORDER BY row_no"
            )
            for (row_no,) in _fetch_in_chunks(cursor):
                log.add(row_no, self.key[0].replace("_guid", "_id"), reason)
            cursor.execute(f"DELETE FROM {_STAGING_TABLE} WHERE ({key}) IN ({duplicated})")
            cursor.execute(create)

    def reject_unknown(self, log: RejectionLog) -> None:
        column, table, target, reported = _UNKNOWN[self.kind]
        missing = f"NOT EXISTS (SELECT 1 FROM {table} x WHERE x.{target} = s.{column})"
        reason = _("unknown tenant") if self.kind == "workload" else _("unknown subscription")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT row_no FROM {_STAGING_TABLE} s WHERE {missing} ORDER BY row_no")
            for (row_no,) in _fetch_in_chunks(cursor):
                log.add(row_no, reported, reason)
            cursor.execute(f"DELETE FROM {_STAGING_TABLE} AS s WHERE {missing}")

    def months(self) -> list[tuple[datetime.date, int]]:
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(f"ANALYZE {_STAGING_TABLE}")
            cursor.execute(
                f"SELECT month, COUNT(*) FROM {_STAGING_TABLE} GROUP BY month ORDER BY month"
            )
            return [(_as_date(month), count) for month, count in cursor.fetchall()]

    def write_month(self, month: datetime.date) -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_UPSERT[self.kind], [month])
            return cursor.rowcount


def _fetch_in_chunks(cursor, size: int = 10_000) -> Iterable[tuple]:
    while rows := cursor.fetchmany(size):
        yield from rows


def _as_date(value) -> datetime.date:
    if isinstance(value, str):  # SQLite
        return datetime.date.fromisoformat(value)
    return value


# --- the service ---------------------------------------------------------------------


def usage_import(
    *,
    file: BinaryIO,
    actor: User | None = None,
    today: datetime.date | None = None,
    batch_rows: int | None = None,
    keep_rejections: int | None = None,
    rejects: TextIO | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ImportReport:
    """Import a CSV or Parquet file of workload or subscription usage (see the module).

    ``actor`` is required to be a program admin when given (the upload page); the
    management command imports as the system. ``progress(stage, rows)`` is called after
    each batch read ("read") and each month written ("write"). Problems with the file
    as a whole come back as ``report.error`` with nothing written."""
    if actor is not None:
        require_program_admin(actor)
    today = today or timezone.localdate()
    report = ImportReport()
    keep = keep_rejections if keep_rejections is not None else settings.USAGE_REJECTIONS_SHOWN
    log = RejectionLog(report, keep=keep, out=rejects)
    try:
        source = open_source(file, batch_rows=batch_rows or settings.USAGE_IMPORT_BATCH_ROWS)
    except DomainError as error:
        report.error = error
        return report
    report.kind, report.file_format = source.kind, source.file_format
    checker = _Checker(source.kind, today)
    with _Staging(source.kind) as staging:
        try:
            for batch in source.batches:
                good = []
                for row in batch:
                    report.rows_read += 1
                    if type(row) is MalformedLine:
                        log.add(
                            report.rows_read,
                            "",
                            _("%(found)d values where the header has %(expected)d")
                            % {"found": row.values, "expected": row.expected},
                        )
                        continue
                    try:
                        good.append((report.rows_read, *checker.check(row)))
                    except _Bad as bad:
                        log.add(report.rows_read, bad.column, bad.reason)
                staging.write(good)
                if progress:
                    progress("read", report.rows_read)
        except DomainError as error:
            # The file broke off: no month can be known complete, so none is written.
            report.error = error
            return report
        staging.reject_duplicates(log)
        staging.reject_unknown(log)
        for month, _count in staging.months():
            written = staging.write_month(month)
            report.months[month] = written
            report.rows_written += written
            if progress:
                progress("write", report.rows_written)
    return report
