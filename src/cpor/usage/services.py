"""Bulk usage import: one service, ``usage_import``.

On PostgreSQL a workload file is first tried on the fast path (``usage/fast.py``): read
in Arrow record batches, checked and resolved column by column (vectorised, no loop
per row in Python), and ``COPY``ed as resolved rows straight into the usage table. The
fast path is optimistic: at the first value it does not take as it is (a bad row, a key
twice, a month already stored), everything it wrote is rolled back and the file goes
the checked route below, which reports every bad row. ``ImportReport.route`` says which
route wrote the file.

The checked route puts the file into the database as it is and checks it there
(``usage/staging.py``):

1. its rows are staged, numbered in file order: on PostgreSQL by one ``COPY`` of the
   file's own bytes (a Parquet file: Arrow's CSV of each record batch), so memory stays
   the same whatever the file's size;
2. SQL checks them: a GUID, a known workload, a first-of-month not in the future, whole
   non-negative numbers, no key twice in the file (every copy is rejected: neither
   value can be trusted), a known tenant or subscription. Each bad row is reported with
   its row number, column and reason; the good rows are written;
3. months not stored yet are inserted, months already stored are updated (importing a
   month again is idempotent), all in one transaction: nothing is half-written.

A file that cannot be read to its end (a wrong header, a truncated Parquet file) writes
nothing at all. Row 1 is the first row after the header; blank lines are not rows.
"""

import csv
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.claims.permissions import require_program_admin
from cpor.csv_export import formula_safe_row
from cpor.errors import DomainError
from cpor.usage import fast
from cpor.usage.sources import open_source
from cpor.usage.staging import UsageStaging


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
    # "fast": checked in Arrow and COPYed (usage/fast.py); "checked": staged and
    # checked in SQL (usage/staging.py).
    route: str = ""

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
            self.writer.writerow(formula_safe_row([row, column, reason]))


# --- the service ---------------------------------------------------------------------


def _reason(code: str, found: int | None, expected: int) -> str:
    """The words for a problem code of ``usage/staging.py``."""
    if code == "width":
        return _("%(found)d values where the header has %(expected)d") % {
            "found": found,
            "expected": expected,
        }
    reasons = {
        "missing": _("missing value"),
        "not_guid": _("not a GUID"),
        "unknown_workload": _("unknown workload"),
        "not_month": _("not a month (YYYY-MM or YYYY-MM-01)"),
        "not_first_day": _("not the first day of a month"),
        "future": _("a future month"),
        "not_whole": _("not a whole number"),
        "negative": _("negative"),
        "too_large": _("too large"),
        "not_number": _("not a number"),
        "too_precise": _("more than 12 digits or 2 decimals"),
        "not_currency": _("not a three-letter currency code"),
        "duplicate": _("the same key appears more than once in the file"),
        "unknown_tenant": _("unknown tenant"),
        "unknown_subscription": _("unknown subscription"),
    }
    return reasons[code]


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
    management command imports as the system. ``progress(stage, rows)`` is called while
    the file is read ("read", rows so far) and once it is written ("write"). Problems
    with the file as a whole come back as ``report.error`` with nothing written.
    ``batch_rows`` sizes Parquet record batches and the rows parsed in Python."""
    if actor is not None:
        require_program_admin(actor)
    today = today or timezone.localdate()
    batch_rows = batch_rows or settings.USAGE_IMPORT_BATCH_ROWS
    report = ImportReport()
    keep = keep_rejections if keep_rejections is not None else settings.USAGE_REJECTIONS_SHOWN
    log = RejectionLog(report, keep=keep, out=rejects)
    try:
        source = open_source(file, batch_rows=batch_rows)
    except DomainError as error:
        report.error = error
        return report
    report.kind, report.file_format = source.kind, source.file_format
    if fast.takes(source):
        load = fast.WorkloadLoad(source, latest=today.replace(day=1), batch_rows=batch_rows)
        try:
            with transaction.atomic():
                report.months = load.run(progress and (lambda rows: progress("read", rows)))
        except fast.Refused:
            pass  # rolled back whole: the checked route below reports what is wrong
        else:
            report.route = "fast"
            report.rows_read = report.rows_written = sum(report.months.values())
            if progress:
                progress("write", report.rows_written)
            return report
    report.route = "checked"
    with UsageStaging(source) as staging:
        try:
            report.rows_read = staging.fill(
                batch_rows=batch_rows, progress=progress and (lambda rows: progress("read", rows))
            )
        except DomainError as error:
            # The file broke off: no month can be known complete, so none is written.
            report.error = error
            return report
        with transaction.atomic():
            report.months = staging.write(latest=today.replace(day=1))
        report.rows_written = sum(report.months.values())
        expected = len(source.columns)
        for row_no, column, code, found in staging.rejections():
            log.add(row_no, column, _reason(code, found, expected))
    if progress:
        progress("write", report.rows_written)
    return report
