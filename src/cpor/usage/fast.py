# SQL here is built only from this module's constants.
# ruff: noqa: S608
"""The usage import's fast path (PostgreSQL, workload files): checked in Arrow, loaded
by ``COPY`` of the resolved rows.

The file is read in Arrow record batches (``UsageSource.batches``) and each batch is
checked and resolved column by column with ``pyarrow.compute``, never row by row in
Python: trimmed values, the GUID pattern of ``rules.GUID``, tenant GUID → tenant id and
workload code → product id by ``index_in`` against the known values (read once), each
distinct month value checked once (format, first of the month, not in the future),
whole numbers in range. The resolved rows (ids, dates, integers) go as CSV straight into
the usage table by one ``COPY``, ended and begun again only where a month is first seen
(to ask whether it is stored already); keys repeated in the file are refused by the
table's primary key as they arrive.

The path is optimistic: the first thing it does not take as it is (any bad value, a line
of the wrong width, a key twice, a month already stored, which must be upserted) raises
``Refused``. The caller runs it inside a transaction, so everything it wrote is rolled
back, and then imports the file by the checked route of ``usage/staging.py``, which
reports every bad row by its number and upserts stored months.
"""

import contextlib
import datetime
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.db import DatabaseError, connection

from cpor.errors import DomainError
from cpor.usage.rules import GUID, MAX_UNITS
from cpor.usage.sources import UsageSource

TARGET = "usage_workloadusage"
TARGET_COLUMNS = ("tenant_id", "product_id", "month", "active_users", "paid_units")
# What the fast path takes as a whole number: plain digits that fit. "+12", "12.0" and
# the like are good too, but rare: the checked route takes them.
DIGITS = "^[0-9]{1,10}$"
MONTH_TEXT = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])(-01)?")


class Refused(Exception):
    """The fast path does not take this file as it is: the checked route imports it."""


def takes(source: UsageSource) -> bool:
    return connection.vendor == "postgresql" and source.kind == "workload"


class WorkloadLoad:
    """One fast import of a workload file. ``run()`` must be called inside a
    transaction that is rolled back when it raises."""

    def __init__(self, source: UsageSource, *, latest: datetime.date, batch_rows: int) -> None:
        self.source = source
        self.latest = f"{latest:%Y-%m}"
        self.batch_rows = batch_rows
        self.month_days: dict[str, datetime.date] = {}  # month text -> its first day
        self.counts: dict[datetime.date, int] = defaultdict(int)
        self.new_months: set[datetime.date] = set()
        self.batch_sizes: list[int] = []  # what each COPY write held, for the tests

    def run(self, progress: Callable[[int], None] | None = None) -> dict[datetime.date, int]:
        """Load every row; returns the rows written per month, or raises ``Refused``.

        PostgreSQL loads a batch from its socket's buffer while the next is prepared
        (measured on 1M rows: 1.45 s wall for 0.67 s app + 1.31 s PostgreSQL CPU); a
        reading thread of its own, two batches ahead, was no faster (1.50 s)."""
        with connection.cursor() as cursor:
            # One import of a kind at a time: the months found new stay new.
            cursor.execute(f"LOCK TABLE {TARGET} IN SHARE ROW EXCLUSIVE MODE")
            self._known(cursor)
            try:
                with contextlib.closing(self._resolved()) as resolved:
                    self._write(cursor, resolved, progress)
            except BaseException as error:
                self._end(error)  # a COPY under way is abandoned (CopyFail)
                raise
        return dict(sorted(self.counts.items()))

    def _write(
        self,
        cursor,
        resolved: Iterator[tuple[list[str], memoryview, int]],
        progress: Callable[[int], None] | None,
    ) -> None:
        rows = 0
        try:
            with connection.wrap_database_errors:
                for first_seen, data, count in resolved:
                    if first_seen:
                        # A month's first sight: is it stored already? Asked between
                        # COPYs, as a connection runs one statement at a time.
                        self._end()
                        self._check_new(cursor, first_seen)
                    self._copy(cursor).write(data)
                    self.batch_sizes.append(count)
                    rows += count
                    if progress:
                        progress(rows)
                self._end()
        except DatabaseError as error:
            # A key twice in the file (the primary key), a value the table refuses.
            raise Refused(str(error)) from error

    def _resolved(self) -> Iterator[tuple[list[str], memoryview, int]]:
        """For each batch: the month values seen for the first time, the resolved rows
        as CSV and their number. Closed on the way out, whatever happens: the file is
        not read after (the checked route reads it again)."""
        with contextlib.closing(self._batches()) as batches:
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                try:
                    months, first_seen = self._month_values(batch.column(2))
                    data = self._resolve(batch, months)
                except pa.ArrowException as error:  # a value Arrow cannot cast
                    raise Refused(str(error)) from error
                yield first_seen, data, batch.num_rows

    # --- reading ------------------------------------------------------------------------

    def _batches(self) -> Iterator[pa.RecordBatch]:
        with contextlib.closing(self.source.batches(self.batch_rows)) as batches:
            while True:
                try:
                    batch = next(batches)
                except StopIteration:
                    return
                except (pa.ArrowException, OSError, ValueError, DomainError) as error:
                    # A line of the wrong width, bytes that are not UTF-8, a file that
                    # breaks off: the checked route reports it (or refuses the file).
                    raise Refused(str(error)) from error
                yield batch

    def _known(self, cursor) -> None:
        """The tenants (GUID as PostgreSQL writes it: lower case with hyphens) and the
        workloads, as Arrow arrays that ``index_in`` looks values up in. Tenants are
        read by ``COPY`` into Arrow."""
        buffer = io.BytesIO()
        with cursor.copy(
            "COPY (SELECT tenant_id::text, id FROM customers_tenant) TO STDOUT (FORMAT csv)"
        ) as copy:
            for data in copy:
                buffer.write(data)
        buffer.seek(0)
        guids, ids = pa.array([], pa.string()), pa.array([], pa.int64())
        if buffer.getbuffer().nbytes:  # Arrow refuses an empty CSV file
            tenants = pa_csv.read_csv(
                buffer,
                read_options=pa_csv.ReadOptions(column_names=["guid", "id"]),
                convert_options=pa_csv.ConvertOptions(
                    column_types={"guid": pa.string(), "id": pa.int64()}
                ),
            )
            guids = tenants.column("guid").combine_chunks()
            ids = tenants.column("id").combine_chunks()
        self.tenant_guids, self.tenant_ids = guids, ids
        self.tenant_hex = _hex(guids)
        cursor.execute("SELECT code, id FROM catalog_product")
        products = cursor.fetchall()
        self.product_codes = pa.array([code for code, _ in products], pa.string())
        self.product_ids = pa.array([pk for _, pk in products], pa.int64())

    # --- checking and resolving ---------------------------------------------------------

    def _month_values(self, column: pa.Array) -> tuple[pa.Array, list[str]]:
        """The batch's months as first days (date32), each distinct value checked once;
        and the values seen for the first time."""
        if column.null_count:
            raise Refused("a missing month")
        if pa.types.is_timestamp(column.type):
            column = pc.cast(column, pa.date32())
        if pa.types.is_date(column.type):
            column = pc.cast(column, pa.string())
        elif not pa.types.is_string(column.type):
            raise Refused("a month that is not text or a date")
        encoded = pc.dictionary_encode(_text(column))
        values = encoded.dictionary.to_pylist()  # the distinct values: a handful
        first_seen = [value for value in values if value not in self.month_days]
        for value in first_seen:
            if not MONTH_TEXT.fullmatch(value) or value.startswith("0000"):
                raise Refused("a month that is not YYYY-MM or YYYY-MM-01")
            if value[:7] > self.latest:
                raise Refused("a future month")
            self.month_days[value] = datetime.date(int(value[:4]), int(value[5:7]), 1)
        days = pa.array([self.month_days[value] for value in values], pa.date32())
        return pc.take(days, encoded.indices), first_seen

    def _check_new(self, cursor, values: list[str]) -> None:
        """Each month seen for the first time must have no row stored yet: a stored
        month is upserted, by the checked route."""
        for value in values:
            day = datetime.date(int(value[:4]), int(value[5:7]), 1)
            if day not in self.new_months:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {TARGET} WHERE month = %s)", [day])
                if cursor.fetchone()[0]:
                    raise Refused("a month already stored")
                self.new_months.add(day)

    def _resolve(self, batch: pa.RecordBatch, months: pa.Array) -> bytes:
        """The batch as the table's rows, in CSV for ``COPY``; ``Refused`` at the
        first value that is not good as it is."""
        tenants = self._tenants(batch.column(0))
        products = _lookup(_text(batch.column(1)), self.product_codes, self.product_ids)
        table = pa.table(
            [
                tenants,
                products,
                months,
                _whole(batch.column(3)),
                _whole(batch.column(4)),
            ],
            names=list(TARGET_COLUMNS),
        )
        counts = pc.value_counts(months)
        for day, rows in zip(
            counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
        ):
            self.counts[day] += rows
        out = io.BytesIO()
        pa_csv.write_csv(table, out, pa_csv.WriteOptions(include_header=False))
        return out.getbuffer()

    def _tenants(self, column: pa.Array) -> pa.Array:
        """Tenant ids of GUIDs written any way PostgreSQL's uuid takes them. Most are
        written as PostgreSQL writes them and are found as they are; only the others
        are brought to 32 hex digits (a regex replace costs 0.4 s per 1M values)."""
        text = _text(column)
        if not pc.all(pc.match_substring_regex(text, GUID)).as_py():
            raise Refused("not a GUID")
        text = pc.utf8_lower(text)
        positions = pc.index_in(text, value_set=self.tenant_guids)
        if positions.null_count:
            missing = pc.is_null(positions)
            others = pc.index_in(_hex(pc.filter(text, missing)), value_set=self.tenant_hex)
            if others.null_count:
                raise Refused("an unknown tenant")
            positions = pc.replace_with_mask(positions, missing, others)
        return pc.take(self.tenant_ids, positions)

    # --- writing ------------------------------------------------------------------------

    _copying = None  # the COPY under way: its context manager and its Copy

    def _copy(self, cursor):
        if self._copying is None:
            context = cursor.copy(
                f"COPY {TARGET} ({', '.join(TARGET_COLUMNS)}) FROM STDIN (FORMAT csv)"
            )
            self._copying = (context, context.__enter__())
        return self._copying[1]

    def _end(self, error: BaseException | None = None) -> None:
        """End the COPY under way: sent whole, or abandoned when ``error`` is given."""
        if self._copying is not None:
            context, self._copying = self._copying[0], None
            if error is None:
                context.__exit__(None, None, None)
            else:
                with contextlib.suppress(Exception):  # the error being raised says more
                    context.__exit__(type(error), error, error.__traceback__)


def _text(column: pa.Array) -> pa.Array:
    if column.null_count or not pa.types.is_string(column.type):
        raise Refused("a missing value or a value that is not text")
    # As SQL's trim(): spaces only. A space byte is never part of a multi-byte UTF-8
    # character, so the ASCII kernel (five times faster) trims UTF-8 text rightly.
    return pc.ascii_trim(column, characters=" ")


def _hex(guids: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(guids, "[-{}]", "")


def _lookup(values: pa.Array, known: pa.Array, ids: pa.Array) -> pa.Array:
    positions = pc.index_in(values, value_set=known)
    if positions.null_count:
        raise Refused("an unknown tenant or workload")
    return pc.take(ids, positions)


def _whole(column: pa.Array) -> pa.Array:
    if pa.types.is_string(column.type):
        text = _text(column)
        if not pc.all(pc.match_substring_regex(text, DIGITS)).as_py():
            raise Refused("not plain digits")
        column = pc.cast(text, pa.int64())
    elif pa.types.is_integer(column.type) and not column.null_count:
        column = pc.cast(column, pa.int64())
    else:
        raise Refused("a number that is not an integer")
    bounds = pc.min_max(column)
    if bounds["min"].as_py() < 0 or bounds["max"].as_py() > MAX_UNITS:
        raise Refused("a number out of range")
    return column
