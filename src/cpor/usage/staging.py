# SQL here is built only from this module's constant identifiers and the file's column
# names mapped to constants (sources._named_columns); values are parameters.
# ruff: noqa: S608
"""The usage import's staging: raw rows in, checked in SQL, written month by month.

1. **Stage.** The file's rows go as text, untouched, into a temporary table that numbers
   them in file order (``row_no``): on PostgreSQL by one ``COPY`` straight from the file's
   bytes; on SQLite, and for a CSV file PostgreSQL's parser refuses (a line of the
   wrong width), as rows parsed by Python's ``csv``.
2. **Months.** One ``GROUP BY`` lists the file's month values with their row counts;
   each distinct value is checked and turned into a date once, and each month is marked
   new (no row of it stored yet) or existing.
3. **Write.** New months are inserted without ``ON CONFLICT`` (on PostgreSQL by ``COPY``
   of the resolved rows); only months that already have rows are upserted. Everything
   is written in one transaction: a month lands whole or not at all.

On PostgreSQL the write is first tried as it is (workload files, the large ones): the
column types, the table's constraints and the joins to tenants and workloads check
every value as it is written. When that write fails or drops a row, it is rolled
back and the careful path runs: **one statement classifies every bad row** (its row
number, column and problem; the first problem of a row wins, then keys repeated in the
file, then unknown tenants or subscriptions), the bad rows are removed and the write
runs again on what is left. SQLite and subscription files always take the careful path.
"""

import csv
import datetime
import tempfile
from collections.abc import Callable, Iterator
from io import StringIO

from django.conf import settings
from django.db import DatabaseError, DataError, connection, transaction

from cpor.usage.rules import GUID, MONTH, Dialect, SqliteDialect, blank, kinds
from cpor.usage.sources import CHUNK_BYTES, KINDS, UsageSource

STAGING = "usage_import_staging"
MONTHS = "usage_import_months"
REJECTS = "usage_import_rejects"


class UsageStaging:
    """The temporary tables of one import, in this connection's session."""

    def __init__(self, source: UsageSource) -> None:
        self.source = source
        self.dialect = Dialect() if connection.vendor == "postgresql" else SqliteDialect()
        self.kind = kinds(self.dialect)[source.kind]

    # --- set-up ----------------------------------------------------------------------

    def __enter__(self) -> "UsageStaging":
        with connection.cursor() as cursor:
            if self.dialect.postgres:
                self._tune(cursor)
            self._create_staging(cursor, self.source.columns)
            cursor.execute(f"DROP TABLE IF EXISTS {MONTHS}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {MONTHS} (text text, rows bigint, problem text, "
                "month date, existing integer)"
            )
            cursor.execute(f"DROP TABLE IF EXISTS {REJECTS}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {REJECTS} "
                "(row_no bigint PRIMARY KEY, problem text, found integer)"
            )
        return self

    def __exit__(self, *exc_info) -> None:
        with connection.cursor() as cursor:
            for table in (STAGING, MONTHS, REJECTS):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            if self.dialect.postgres:
                cursor.execute("RESET work_mem")

    def _create_staging(self, cursor, columns: list[str]) -> None:
        values = ", ".join(f"{name} text" for name in columns)
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} "
            f"({self.dialect.row_number()}, {values}, found integer)"
        )

    @staticmethod
    def _tune(cursor) -> None:
        """Room to group and join the staged rows in memory, and to keep the staging
        table in this session's buffers rather than in files. ``temp_buffers`` can only
        change before the session's first temporary table."""
        # set_config, not SET: with server-side binding SET takes no parameter.
        cursor.execute("SELECT set_config('work_mem', %s, false)", [settings.USAGE_IMPORT_WORK_MEM])
        try:
            with transaction.atomic():
                cursor.execute(
                    "SELECT set_config('temp_buffers', %s, false)", [settings.USAGE_IMPORT_WORK_MEM]
                )
        except DatabaseError:
            pass  # this session already used a temporary table: keep its buffers

    # --- 1. stage ----------------------------------------------------------------------

    def fill(self, *, batch_rows: int, progress: Callable[[int], None] | None = None) -> int:
        """Stage every row of the source; returns how many. A ``DomainError`` of the
        source (a file that breaks off) propagates."""
        if self.dialect.postgres:
            try:
                with transaction.atomic(), connection.wrap_database_errors:
                    return self._copy_raw(progress)
            except DataError:
                # PostgreSQL refused a line (wrong width, not UTF-8): parse in Python
                # instead, so that such a line is kept and reported by its number.
                with connection.cursor() as cursor:
                    self._create_staging(cursor, self.source.columns)
        return self._insert_rows(batch_rows, progress)

    def _copy_raw(self, progress: Callable[[int], None] | None) -> int:
        columns = ", ".join(self.source.columns)
        lines = 0
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY {STAGING} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                for chunk in self.source.read():
                    copy.write(chunk)
                    if progress:
                        lines += chunk.count(b"\n")
                        progress(lines)
            return cursor.rowcount  # known once the COPY has ended

    def _insert_rows(self, batch_rows: int, progress: Callable[[int], None] | None) -> int:
        names = [*KINDS[self.kind.name], "found"]
        rows = 0
        with connection.cursor() as cursor:
            for batch in self.source.rows(batch_rows):
                if self.dialect.postgres:
                    self._copy_rows(cursor, names, batch)
                else:
                    placeholders = ", ".join(["%s"] * len(names))
                    cursor.executemany(
                        f"INSERT INTO {STAGING} ({', '.join(names)}) VALUES ({placeholders})",
                        batch,
                    )
                rows += len(batch)
                if progress:
                    progress(rows)
        return rows

    @staticmethod
    def _copy_rows(cursor, names: list[str], batch: list[tuple]) -> None:
        text = StringIO()
        csv.writer(text, lineterminator="\n").writerows(batch)
        with cursor.copy(f"COPY {STAGING} ({', '.join(names)}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(text.getvalue())

    # --- 2. months ---------------------------------------------------------------------

    def _map_months(self, cursor, latest: datetime.date) -> None:
        """One row per distinct month value of the file: its row count, its problem or
        its date, and whether that month already has rows."""
        text = "trim(text)"
        cursor.execute(f"DELETE FROM {MONTHS}")
        cursor.execute(
            f"INSERT INTO {MONTHS} (text, rows) SELECT month, COUNT(*) FROM {STAGING} "
            "GROUP BY month"
        )
        cursor.execute(
            f"""
            UPDATE {MONTHS} SET problem = CASE
                WHEN {blank("text")} THEN 'missing'
                WHEN NOT {self.dialect.matches(text, MONTH)} THEN 'not_month'
                WHEN substr({text}, 1, 4) = '0000' THEN 'not_month'
                WHEN length({text}) = 10 AND substr({text}, 9, 2) <> '01' THEN 'not_first_day'
                WHEN substr({text}, 1, 7) > %s THEN 'future'
            END
            """,
            [f"{latest:%Y-%m}"],
        )
        first_day = self.dialect.date(f"substr({text}, 1, 7) || '-01'")
        cursor.execute(f"UPDATE {MONTHS} SET month = {first_day} WHERE problem IS NULL")
        cursor.execute(
            f"""
            UPDATE {MONTHS} SET existing = CASE WHEN EXISTS (
                SELECT 1 FROM {self.kind.target} u WHERE u.month = {MONTHS}.month
            ) THEN 1 ELSE 0 END
            WHERE problem IS NULL
            """
        )

    # --- 3. write ----------------------------------------------------------------------

    def write(self, *, latest: datetime.date) -> dict[datetime.date, int]:
        """Write every good row (see the module); returns the rows written per month.
        Must run inside a transaction."""
        with connection.cursor() as cursor:
            if self.dialect.postgres:
                # One import of a kind at a time: the months found new stay new. Readers
                # are not blocked.
                cursor.execute(f"LOCK TABLE {self.kind.target} IN SHARE ROW EXCLUSIVE MODE")
            self._map_months(cursor, latest)
            if self.kind.fast_path and self.dialect.postgres and self._months_ok(cursor):
                try:
                    with transaction.atomic():
                        written = self._load(cursor)
                        if written == self._expected(cursor):
                            return self._months(cursor)
                        raise _RowsDropped
                except (DatabaseError, _RowsDropped):
                    pass  # some row is bad: find it
            self._classify(cursor)
            self._drop_rejected(cursor)
            self._map_months(cursor, latest)
            written = self._load(cursor)
            if written != self._expected(cursor):
                raise RuntimeError("usage import: checked rows went missing while writing")
            return self._months(cursor)

    def _months_ok(self, cursor) -> bool:
        cursor.execute(f"SELECT COUNT(*) FROM {MONTHS} WHERE problem IS NOT NULL")
        return cursor.fetchone()[0] == 0

    def _expected(self, cursor) -> int:
        cursor.execute(f"SELECT COALESCE(SUM(rows), 0) FROM {MONTHS}")
        return int(cursor.fetchone()[0])

    def _months(self, cursor) -> dict[datetime.date, int]:
        cursor.execute(
            f"SELECT month, SUM(rows) FROM {MONTHS} WHERE problem IS NULL "
            "GROUP BY month ORDER BY month"
        )
        return {_as_date(month): int(rows) for month, rows in cursor.fetchall()}

    def _load(self, cursor) -> int:
        """Insert the months not stored yet, upsert the months already stored."""
        kind = self.kind
        owner = self.dialect.guid(f"s.{kind.owner_column}")
        rows = f"""
            SELECT {kind.select}
            FROM {STAGING} s
            JOIN {MONTHS} m ON m.text = s.month
            JOIN {kind.owner_table} o ON o.{kind.owner_column} = {owner}
            {kind.joins}
            WHERE m.existing = %s
        """
        insert = f"INSERT INTO {kind.target} ({kind.target_columns}) {rows}"
        if self.dialect.postgres:
            written = self._copy_resolved(cursor, rows.replace("%s", "0"))
        else:
            cursor.execute(insert, [0])
            written = cursor.rowcount
        updates = ", ".join(f"{column} = excluded.{column}" for column in kind.measures)
        cursor.execute(f"{insert} ON CONFLICT ({', '.join(kind.key)}) DO UPDATE SET {updates}", [1])
        return written + cursor.rowcount

    def _copy_resolved(self, cursor, rows: str) -> int:
        """``rows`` into the target by ``COPY``: PostgreSQL writes a ``COPY``'s rows to
        the table a page at a time, an ``INSERT … SELECT`` one row at a time (measured:
        a quarter more CPU for the same rows). The resolved rows pass through a
        temporary file, in PostgreSQL's binary format."""
        kind = self.kind
        with tempfile.TemporaryFile() as spool, connection.wrap_database_errors:
            with cursor.copy(f"COPY ({rows}) TO STDOUT (FORMAT binary)") as copy:
                for data in copy:
                    spool.write(data)
            spool.seek(0)
            with cursor.copy(
                f"COPY {kind.target} ({kind.target_columns}) FROM STDIN (FORMAT binary)"
            ) as copy:
                while chunk := spool.read(CHUNK_BYTES):
                    copy.write(chunk)
            return cursor.rowcount

    def _classify(self, cursor) -> None:
        """The one statement that finds every bad row: the first problem of each row,
        then every copy of a key repeated in the file, then unknown owners."""
        kind, dialect = self.kind, self.dialect
        owner = f"trim(s.{kind.owner_column})"
        cursor.execute(
            f"""
            WITH checked AS (
                SELECT s.row_no, s.found, {kind.key_parts},
                    CASE
                        WHEN s.found IS NOT NULL THEN ':width'
                        WHEN {blank(owner)} THEN '{kind.owner_column}:missing'
                        WHEN NOT {dialect.matches(owner, GUID)}
                            THEN '{kind.owner_column}:not_guid'
                        {kind.checks}
                    END AS problem,
                    CASE WHEN {dialect.matches(owner, GUID)} THEN {dialect.guid(owner)} END
                        AS guid
                FROM {STAGING} s
                LEFT JOIN {MONTHS} m ON m.text = s.month
                {kind.extra_joins}
            ),
            clean AS (
                SELECT row_no, guid, COUNT(*) OVER (PARTITION BY guid, {kind.key_parts_names})
                    AS copies
                FROM checked WHERE problem IS NULL
            )
            INSERT INTO {REJECTS} (row_no, problem, found)
            SELECT row_no, problem, found FROM checked WHERE problem IS NOT NULL
            UNION ALL
            SELECT row_no, '{kind.owner_column}:duplicate', NULL FROM clean WHERE copies > 1
            UNION ALL
            SELECT row_no, '{kind.owner_column}:{kind.unknown}', NULL FROM clean c
            WHERE copies = 1 AND NOT EXISTS (
                SELECT 1 FROM {kind.owner_table} o WHERE o.{kind.owner_column} = c.guid
            )
            """
        )

    def _drop_rejected(self, cursor) -> None:
        """Remove the rejected rows and give the rest the form the write expects."""
        cursor.execute(f"DELETE FROM {STAGING} WHERE row_no IN (SELECT row_no FROM {REJECTS})")
        for column in self.kind.trimmed:
            cursor.execute(
                f"UPDATE {STAGING} SET {column} = trim({column}) WHERE {column} <> trim({column})"
            )
        if self.dialect.postgres:  # integer input takes no decimals: "12.0" becomes "12"
            for column in self.kind.whole:
                cursor.execute(
                    f"UPDATE {STAGING} SET {column} = split_part(trim({column}), '.', 1) "
                    f"WHERE strpos({column}, '.') > 0"
                )

    # --- the report --------------------------------------------------------------------

    def rejections(self, page: int = 10_000) -> Iterator[tuple[int, str, str, int | None]]:
        """(row number, column, problem code, values found) of every rejected row, in
        row order, read page by page."""
        after = 0
        with connection.cursor() as cursor:
            while True:
                cursor.execute(
                    f"SELECT row_no, problem, found FROM {REJECTS} WHERE row_no > %s "
                    "ORDER BY row_no LIMIT %s",
                    [after, page],
                )
                rows = cursor.fetchall()
                if not rows:
                    return
                for row_no, problem, found in rows:
                    column, code = problem.split(":", 1)
                    yield row_no, column, code, found
                after = rows[-1][0]


class _RowsDropped(Exception):
    """The direct write wrote fewer rows than the file has: some row is bad."""


def _as_date(value) -> datetime.date:
    if isinstance(value, str):  # SQLite
        return datetime.date.fromisoformat(value)
    return value
