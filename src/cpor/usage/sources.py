"""Reading usage files: CSV or Parquet, as a stream of row batches.

Neither reader ever holds more than one batch: CSV rows come from ``csv.reader`` over
the open file, Parquet rows from ``ParquetFile.iter_batches``. A file whose header
misses a required column, or a Parquet file that cannot be read (truncated, not
Parquet), raises ``DomainError`` before or while rows are produced; the import then
writes nothing.
"""

import contextlib
import csv
import io
import operator
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.translation import gettext as _

from cpor.errors import DomainError

WORKLOAD_COLUMNS = ("tenant_id", "workload", "month", "active_users", "paid_units")
SUBSCRIPTION_COLUMNS = ("subscription_id", "month", "licensed_units", "revenue", "currency")
KINDS = {"workload": WORKLOAD_COLUMNS, "subscription": SUBSCRIPTION_COLUMNS}

PARQUET_MAGIC = b"PAR1"
DEFAULT_BATCH_ROWS = 50_000


@dataclass
class UsageSource:
    """An opened usage file: its kind, its format and its rows in batches.

    Each row is a tuple in the order of ``KINDS[kind]``; a value is ``None`` where the
    row had no such column (a short CSV line) or a null (Parquet)."""

    kind: str
    file_format: str
    batches: Iterator[list[tuple]]


def header_error(found: list[str]) -> DomainError:
    return DomainError(
        "usage_wrong_header",
        _(
            "The header must name the columns %(workload)s (workload usage) or "
            "%(subscription)s (subscription usage); the file has: %(found)s."
        )
        % {
            "workload": ", ".join(WORKLOAD_COLUMNS),
            "subscription": ", ".join(SUBSCRIPTION_COLUMNS),
            "found": ", ".join(found) or _("no header"),
        },
        field="file",
    )


def _kind_of(header: list[str]) -> str:
    names = {name.strip().lower() for name in header}
    for kind, columns in KINDS.items():
        if set(columns) <= names:
            return kind
    raise header_error(header)


def _positions(header: list[str], kind: str) -> list[int]:
    normalised = [name.strip().lower() for name in header]
    return [normalised.index(column) for column in KINDS[kind]]


def open_source(file: BinaryIO, *, batch_rows: int = DEFAULT_BATCH_ROWS) -> UsageSource:
    """Open a binary file of usage; Parquet is recognised by its magic bytes."""
    start = file.read(4)
    file.seek(0)
    if start == PARQUET_MAGIC:
        return _open_parquet(file, batch_rows)
    return _open_csv(file, batch_rows)


def _open_csv(file: BinaryIO, batch_rows: int) -> UsageSource:
    text = io.TextIOWrapper(file, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    header = next(reader, [])
    try:
        kind = _kind_of(header)
    except DomainError:
        text.detach()
        raise
    pick = operator.itemgetter(*_positions(header, kind))
    width = len(header)

    def batches() -> Iterator[list[tuple]]:
        batch: list = []
        try:
            for line in reader:
                if len(line) == width:
                    batch.append(pick(line))
                elif line:  # a blank line is skipped
                    batch.append(MalformedLine(values=len(line), expected=width))
                if len(batch) >= batch_rows:
                    yield batch
                    batch = []
            if batch:
                yield batch
        finally:
            # Hand the caller's file back open: the wrapper would close it when collected.
            with contextlib.suppress(ValueError):
                text.detach()

    return UsageSource(kind, "csv", batches())


@dataclass(frozen=True)
class MalformedLine:
    """A CSV line with more or fewer values than the header: rejected whole."""

    values: int
    expected: int


def unreadable_parquet(exc: Exception) -> DomainError:
    return DomainError(
        "usage_file_unreadable",
        _("The Parquet file cannot be read (%(error)s); nothing was imported.")
        % {"error": str(exc)[:200]},
        field="file",
    )


def _open_parquet(file: BinaryIO, batch_rows: int) -> UsageSource:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(file)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise unreadable_parquet(exc) from exc
    header = parquet.schema_arrow.names
    kind = _kind_of(header)
    columns = [header[i] for i in _positions(header, kind)]

    def batches() -> Iterator[list[tuple]]:
        try:
            for record_batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
                values = [record_batch.column(i).to_pylist() for i in range(len(columns))]
                yield list(zip(*values, strict=True))
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise unreadable_parquet(exc) from exc

    return UsageSource(kind, "parquet", batches())
