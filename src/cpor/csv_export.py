"""The one CSV writer of every export: streamed row by row, formulas neutralised.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as
a formula by spreadsheet programs (CSV injection: ``=HYPERLINK(...)`` in a customer's
name becomes a link in the partner's spreadsheet). Such text gets a leading apostrophe,
which spreadsheets show as plain text. Numbers stay numbers: ``-3`` is data.
"""

import csv
import datetime
import decimal
import uuid
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Values whose text a spreadsheet cannot take for a formula, written as they are.
PLAIN_TYPES = (int, float, decimal.Decimal, datetime.date, datetime.time, uuid.UUID)


def formula_safe(value: object) -> object:
    """The cell as it should be written: text that would start a formula is quoted."""
    if value is None or isinstance(value, PLAIN_TYPES):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def formula_safe_row(cells: Iterable[object]) -> list[object]:
    """A row for any ``csv.writer``, for reports written to a file rather than streamed."""
    return [formula_safe(cell) for cell in cells]


class _Echo:
    """A file that hands back what is written, so each row can be yielded."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable[object], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The header and the rows as CSV lines, every cell through ``formula_safe``."""
    writer = csv.writer(_Echo())
    yield writer.writerow(formula_safe_row(header))
    for row in rows:
        yield writer.writerow(formula_safe_row(row))


def csv_response(
    header: Iterable[object],
    rows: Iterable[Iterable[object]],
    *,
    filename: str,
    content_type: str = "text/csv; charset=utf-8",
) -> StreamingHttpResponse:
    """A download that streams the rows, so any size fits in constant memory."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
