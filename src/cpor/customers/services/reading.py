"""Reading the uploaded files: encoding, CSV and which kind each file is."""

import csv
import io
from collections.abc import Sequence

from django.utils.translation import gettext as _

from cpor.customers.services.formats import IMPORT_FORMATS, ImportFile, ParsedFile, RowError

# ---------------------------------------------------------------------------
# Reading


def _decode(file: ImportFile, errors: list[RowError]) -> str | None:
    try:
        return file.content.decode("utf-8-sig")  # strict, with or without a BOM
    except UnicodeDecodeError as error:
        line = file.content[: error.start].count(b"\n") + 1
        errors.append(
            RowError(
                file.name,
                line,
                "",
                "encoding",
                _(
                    "The file is not UTF-8 (byte %(pos)d on line %(line)d). Save it as “CSV "
                    "UTF-8” and try again."
                )
                % {"pos": error.start + 1, "line": line},
            )
        )
        return None


def _kind_of(header: Sequence[str]) -> str | None:
    columns = set(header)
    for kind, (required, optional, _help) in IMPORT_FORMATS.items():
        if set(required) <= columns and columns <= set(required) | set(optional):
            return kind
    return None


def read_file(file: ImportFile, errors: list[RowError]) -> ParsedFile | None:
    text = _decode(file, errors)
    if text is None:
        return None
    if "\x00" in text:
        errors.append(RowError(file.name, 1, "", "encoding", _("The file is not a CSV text file.")))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        errors.append(RowError(file.name, 1, "", "empty", _("The file is empty.")))
        return None
    except csv.Error as error:
        errors.append(RowError(file.name, 1, "", "csv", str(error)))
        return None
    kind = _kind_of(header)
    if kind is None:
        expected = "; ".join(
            f"{k}: {','.join(required + optional)}"
            for k, (required, optional, _h) in IMPORT_FORMATS.items()
        )
        errors.append(
            RowError(
                file.name,
                1,
                "",
                "unknown_header",
                _(
                    "The header “%(header)s” matches no import format. Expected one of: "
                    "%(expected)s."
                )
                % {"header": ",".join(header), "expected": expected},
            )
        )
        return None
    rows = []
    try:
        for values in reader:
            number = reader.line_num
            if not any(value.strip() for value in values):
                continue  # blank lines are harmless
            if len(values) != len(header):
                errors.append(
                    RowError(
                        file.name,
                        number,
                        "",
                        "column_count",
                        _("%(n)d values for %(m)d columns.") % {"n": len(values), "m": len(header)},
                    )
                )
                continue
            rows.append((number, {k: v.strip() for k, v in zip(header, values, strict=True)}))
    except csv.Error as error:
        errors.append(RowError(file.name, reader.line_num, "", "csv", str(error)))
    return ParsedFile(file.name, kind, rows)
