"""Reading usage files: CSV or Parquet, as a stream of CSV bytes for ``COPY``.

Whatever the format, a source hands its data rows (no header) on as CSV text in bounded
chunks, so the import never holds more than one chunk:

- a CSV file goes on as it is, from the byte after its header line: PostgreSQL's own
  CSV parser reads it, Python never splits it into rows;
- a Parquet file is read one record batch at a time (``ParquetFile.iter_batches``) and
  each batch is written out as CSV by Arrow, in the kind's column order.

``rows()`` reads the same data again as Python rows, for databases without ``COPY``
(SQLite) and for a CSV file that PostgreSQL refuses (a line with more or fewer values
than the header, bytes that are not UTF-8): a line of the wrong width becomes a row that
says how many values it had, so the import can report it by its row number.

A file whose header misses a required column, or a Parquet file that cannot be read
(truncated, not Parquet), raises ``DomainError`` before or while data is produced; the
import then writes nothing.
"""

import csv
import io
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from django.utils.translation import gettext as _

from cpor.errors import DomainError

if TYPE_CHECKING:
    import pyarrow as pa

WORKLOAD_COLUMNS = ("tenant_id", "workload", "month", "active_users", "paid_units")
SUBSCRIPTION_COLUMNS = ("subscription_id", "month", "licensed_units", "revenue", "currency")
KINDS = {"workload": WORKLOAD_COLUMNS, "subscription": SUBSCRIPTION_COLUMNS}

PARQUET_MAGIC = b"PAR1"
DEFAULT_BATCH_ROWS = 50_000
CHUNK_BYTES = 1 << 20


@dataclass
class UsageSource:
    """An opened usage file.

    ``columns`` names the data's columns in the file's order: the kind's columns by
    their names, any other column as ``extra_<position>``. ``read()`` yields the data
    rows as CSV bytes in chunks, each call from the first row again. ``batches(n)``
    reads them again as Arrow record batches of at most ``n`` rows, the kind's columns
    in ``KINDS[kind]`` order: a CSV file's values as text (Arrow's CSV reader over the
    same chunks), a Parquet file's as they are typed (a timestamp month as a date).
    Arrow's errors propagate (a line of the wrong width, bytes that are not UTF-8)."""

    kind: str
    file_format: str
    columns: list[str]
    read: Callable[[], Iterator[bytes]]
    # (read, batch_rows) -> record batches: how ``batches()`` reads this format.
    arrow: Callable[[Callable[[], Iterator[bytes]], int], Iterator["pa.RecordBatch"]]

    def batches(self, batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator["pa.RecordBatch"]:
        return self.arrow(self.read, batch_rows)

    def rows(self, batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[list[tuple]]:
        """The data again as batches of Python rows: the kind's values in
        ``KINDS[kind]`` order then ``None``; or, for a line with more or fewer values
        than the header, ``None`` for each value then the number of values found.
        Blank lines are skipped."""
        return _rows(self.read(), self.columns, self.kind, batch_rows)


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


def _named_columns(header: list[str], kind: str) -> list[str]:
    """The staged name of each header column: the first column of each required name
    keeps it, every other column is an extra."""
    wanted = set(KINDS[kind])
    names = []
    for position, name in enumerate(header):
        name = name.strip().lower()
        if name in wanted:
            wanted.discard(name)
            names.append(name)
        else:
            names.append(f"extra_{position}")
    return names


def open_source(file: BinaryIO, *, batch_rows: int = DEFAULT_BATCH_ROWS) -> UsageSource:
    """Open a seekable binary file of usage; Parquet is recognised by its magic bytes."""
    start = file.read(4)
    file.seek(0)
    if start == PARQUET_MAGIC:
        return _open_parquet(file, batch_rows)
    return _open_csv(file)


def _open_csv(file: BinaryIO) -> UsageSource:
    # The header is one line: a column name holding a line break is not supported.
    line = file.readline()
    data_start = file.tell()
    header = next(csv.reader([line.decode("utf-8-sig", errors="replace")]), [])
    kind = _kind_of(header)

    def read() -> Iterator[bytes]:
        file.seek(data_start)
        while chunk := file.read(CHUNK_BYTES):
            yield chunk

    columns = _named_columns(header, kind)

    def batches(read: Callable[[], Iterator[bytes]], batch_rows: int) -> Iterator["pa.RecordBatch"]:
        import pyarrow as pa
        import pyarrow.csv as pa_csv

        # Arrow reads the same bounded chunks as COPY does, from a thread of its own
        # that reads ahead: once these batches are abandoned, the stream is closed so
        # that no read of the file happens after (the checked route reads it again).
        stream = _Chunks(read())
        reader = pa_csv.open_csv(
            io.BufferedReader(stream, buffer_size=CHUNK_BYTES),
            read_options=pa_csv.ReadOptions(
                column_names=columns, block_size=_block_bytes(batch_rows)
            ),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                include_columns=list(KINDS[kind]),
                column_types=dict.fromkeys(KINDS[kind], pa.string()),
            ),
        )
        try:
            for batch in reader:
                yield from _sliced(batch, batch_rows)
        finally:
            stream.close()
            reader.close()

    return UsageSource(kind, "csv", columns, read, batches)


def _block_bytes(batch_rows: int) -> int:
    """Arrow's CSV block: about ``batch_rows`` rows (a usage line is ~70 bytes), at most
    512 KiB, as Arrow reads blocks ahead of the parser (measured on 1M rows, peak of the
    import: 177 MiB with 512 KiB blocks, 200 MiB with 1 MiB, 250 MiB with 4 MiB; 256 KiB
    saves 20 MiB more but costs 0.1 s more CPU)."""
    return min(max(batch_rows * 80, 1 << 16), CHUNK_BYTES // 2)


def _sliced(batch: "pa.RecordBatch", batch_rows: int) -> Iterator["pa.RecordBatch"]:
    for start in range(0, batch.num_rows, batch_rows):
        yield batch.slice(start, batch_rows)  # a view: no copy


def unreadable_parquet(exc: Exception) -> DomainError:
    return DomainError(
        "usage_file_unreadable",
        _("The Parquet file cannot be read (%(error)s); nothing was imported.")
        % {"error": str(exc)[:200]},
        field="file",
    )


def _open_parquet(file: BinaryIO, batch_rows: int) -> UsageSource:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(file)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise unreadable_parquet(exc) from exc
    header = parquet.schema_arrow.names
    kind = _kind_of(header)
    normalised = [name.strip().lower() for name in header]
    picked = [header[normalised.index(column)] for column in KINDS[kind]]
    options = pa_csv.WriteOptions(include_header=False)

    def read() -> Iterator[bytes]:
        try:
            for batch in parquet.iter_batches(batch_size=batch_rows, columns=picked):
                columns = []
                for column in batch.columns:
                    if pa.types.is_timestamp(column.type):
                        column = pc.cast(column, pa.date32())  # a month given as a timestamp
                    columns.append(column)
                out = io.BytesIO()
                pa_csv.write_csv(pa.table(columns, names=list(KINDS[kind])), out, options)
                yield out.getvalue()
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise unreadable_parquet(exc) from exc

    def batches(_read, batch_rows: int) -> Iterator["pa.RecordBatch"]:
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=picked):
            columns = [
                pc.cast(column, pa.date32()) if pa.types.is_timestamp(column.type) else column
                for column in batch.columns
            ]
            yield pa.RecordBatch.from_arrays(columns, names=list(KINDS[kind]))

    return UsageSource(kind, "parquet", list(KINDS[kind]), read, batches)


class _Chunks(io.RawIOBase):
    """A readable binary stream over an iterator of byte chunks. It may be read from
    another thread (Arrow's): ``close()`` waits for a read under way, and nothing is
    read after it."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = iter(chunks)
        self.rest = memoryview(b"")
        self.lock = threading.Lock()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        with self.lock:
            if self.closed:
                return 0
            while not self.rest:
                chunk = next(self.chunks, b"")
                if not chunk:
                    return 0
                self.rest = memoryview(chunk)
            size = min(len(buffer), len(self.rest))
            buffer[:size] = self.rest[:size]
            self.rest = self.rest[size:]
            return size

    def close(self) -> None:
        with self.lock:
            if not self.closed and hasattr(self.chunks, "close"):
                self.chunks.close()
            super().close()


def _rows(
    chunks: Iterable[bytes], columns: list[str], kind: str, batch_rows: int
) -> Iterator[list[tuple]]:
    text = io.TextIOWrapper(
        io.BufferedReader(_Chunks(chunks)), encoding="utf-8", errors="replace", newline=""
    )
    positions = [columns.index(column) for column in KINDS[kind]]
    width = len(columns)
    malformed = (None,) * len(positions)
    batch: list[tuple] = []
    # PostgreSQL text holds no NUL: it becomes U+FFFD, as bytes that are not UTF-8 do.
    for line in csv.reader(part.replace("\x00", "\ufffd") for part in text):
        if len(line) == width:
            batch.append((*(line[i] for i in positions), None))
        elif line:  # a blank line is skipped
            batch.append((*malformed, len(line)))
        if len(batch) >= batch_rows:
            yield batch
            batch = []
    if batch:
        yield batch
