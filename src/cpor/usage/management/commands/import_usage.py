"""``manage.py import_usage FILE``: import monthly usage from CSV or Parquet."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cpor.usage.services import usage_import


class Command(BaseCommand):
    help = (
        "Import monthly usage from a CSV or Parquet file: workload usage (tenant_id, "
        "workload, month, active_users, paid_units) or subscription usage "
        "(subscription_id, month, licensed_units, revenue, currency). Importing a month "
        "again updates it; bad rows are skipped and reported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--rejects",
            type=Path,
            metavar="CSV",
            help="Write every rejected row (row, column, reason) to this CSV file.",
        )
        parser.add_argument(
            "--batch-rows",
            type=int,
            default=None,
            metavar="N",
            help="Rows per record batch checked and loaded at once (Parquet, and CSV on "
            "PostgreSQL's fast path, read in blocks of at most 1 MiB), and per batch when "
            "a CSV file has to be parsed row by row (lines of the wrong width, SQLite). "
            "A CSV file the checked route stages streams to PostgreSQL in 1 MiB chunks.",
        )

    def handle(self, *args, file: Path, rejects: Path | None, batch_rows: int | None, **opts):
        file, rejects = Path(file), Path(rejects) if rejects else None
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        started = time.monotonic()
        size = file.stat().st_size
        interactive = self.stdout.isatty() if hasattr(self.stdout, "isatty") else False

        def progress(stage: str, rows: int) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            verb = "read" if stage == "read" else "written"
            line = f"{rows:,} rows {verb} · {rows / elapsed:,.0f} rows/s · {elapsed:.0f} s"
            if stage == "read" and size:
                done = min(handle.tell() / size, 1.0) if not handle.closed else 1.0
                filled = int(done * 30)
                line = f"[{'#' * filled}{'.' * (30 - filled)}] {done:4.0%} " + line
            # One line rewritten in place on a terminal; plain lines in a log.
            self.stdout.write(f"\r{line:<100}" if interactive else line, ending="")
            self.stdout.flush()
            if not interactive:
                self.stdout.write("")

        reject_file = rejects.open("w", newline="", encoding="utf-8") if rejects else None
        try:
            with file.open("rb") as handle:
                report = usage_import(
                    file=handle, batch_rows=batch_rows, rejects=reject_file, progress=progress
                )
        finally:
            if reject_file:
                reject_file.close()
        if interactive:
            self.stdout.write("")
        if report.error:
            raise CommandError(report.error.message)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"{report.kind} usage ({report.file_format}): {report.rows_read:,} rows read, "
            f"{report.rows_written:,} written in {len(report.months)} month(s), "
            f"{report.rejected_count:,} rejected ({elapsed:.1f} s)."
        )
        for month, count in report.months.items():
            self.stdout.write(f"  {month:%Y-%m}: {count:,} rows")
        for rejection in report.rejections[:20]:
            self.stdout.write(
                f"  row {rejection.row}: {rejection.column or '-'}: {rejection.reason}",
                self.style.WARNING,
            )
        if report.rejected_count > 20:
            more = report.rejected_count - 20
            where = f" (all in {rejects})" if rejects else " (use --rejects FILE for all)"
            self.stdout.write(f"  … and {more:,} more{where}", self.style.WARNING)
