"""Bulk CSV of draft claims, and CSV exports of claims and associations.

A bulk upload is validated row by row through ``claim_create`` itself, so the rules are
the same as for one claim. The dry run creates each row inside a transaction it then
rolls back (nothing is written). The real run creates every valid row, each in its own
transaction, and reports the invalid ones: it is atomic per row, not all-or-nothing.
"""

import csv
import io
from collections.abc import Iterator

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.claims.services import ClaimInput, ValidationFailed, claim_create
from cpor.csv_export import csv_lines
from cpor.errors import DomainError

COLUMNS = (
    "role",
    "partner_id",
    "tenant_id",
    "name",
    "customer_contact_name",
    "customer_contact_title",
    "customer_contact_email",
    "partner_contact_name",
    "partner_contact_email",
    "products",
    "subscription_ids",
    "incentive_opt_out",
    "seller_name",
    "customer_name",
    "isv_solution_name",
)
REQUIRED_COLUMNS = ("role", "partner_id", "tenant_id", "name")
LIST_SEPARATOR = ";"
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"", "0", "false", "no", "n"}


class _DryRun(Exception):
    """Rolls back the dry run's transaction."""


def _split(value: str) -> list[str]:
    return [item.strip() for item in (value or "").split(LIST_SEPARATOR) if item.strip()]


def _row_input(row: dict) -> ClaimInput:
    opt_out = (row.get("incentive_opt_out") or "").strip().lower()
    if opt_out not in _TRUE | _FALSE:
        raise DomainError(
            "invalid_boolean",
            _("Write true or false (or 1 or 0)."),
            field="incentive_opt_out",
        )
    values = {name: (row.get(name) or "").strip() for name in COLUMNS}
    values["products"] = _split(values["products"])
    values["subscription_ids"] = _split(values["subscription_ids"])
    values["incentive_opt_out"] = opt_out in _TRUE
    return ClaimInput(**values)


def read_rows(text: str) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and each data row with its line number; raises on a malformed file."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise DomainError(
            "csv_malformed", _("The CSV cannot be read: %s") % exc, field="file"
        ) from None
    if not header:
        raise DomainError("csv_empty", _("The CSV has no header row."), field="file")
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise DomainError(
            "unknown_column",
            _("Unknown column “%(name)s”. Known columns: %(known)s.")
            % {"name": unknown[0], "known": ", ".join(COLUMNS)},
            field=unknown[0],
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise DomainError(
            "missing_column", _("The column “%s” is required.") % missing[0], field=missing[0]
        )
    reader.fieldnames = header
    rows = []
    limit = settings.API_BULK_MAX_ROWS
    try:
        for row in reader:
            if None in row:
                raise DomainError(
                    "csv_extra_values",
                    _("Line %d has more values than the header has columns.") % reader.line_num,
                    field="file",
                )
            if len(rows) >= limit:
                raise DomainError(
                    "too_many_rows",
                    _("At most %d rows per upload.") % limit,
                    field="file",
                )
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise DomainError(
            "csv_malformed", _("The CSV cannot be read: %s") % exc, field="file"
        ) from None
    return header, rows


def _errors_of(error: DomainError) -> list[dict]:
    if isinstance(error, ValidationFailed):
        return [e.as_dict() for e in error.errors]
    return [error.as_dict()]


def claims_bulk_create(*, actor: User, text: str, dry_run: bool) -> dict:
    """Validate (dry run) or create the draft claims of a CSV; a report per row."""
    _header, rows = read_rows(text)
    report = []
    for line, row in rows:
        entry = {"row": line, "ok": True, "claim_id": None, "errors": []}
        try:
            data = _row_input(row)
            if dry_run:
                with transaction.atomic():
                    claim_create(actor=actor, data=data)
                    raise _DryRun
            else:
                entry["claim_id"] = claim_create(actor=actor, data=data).pk
        except _DryRun:
            pass
        except DomainError as error:
            entry.update(ok=False, errors=_errors_of(error))
        report.append(entry)
    valid = sum(1 for entry in report if entry["ok"])
    return {
        "dry_run": dry_run,
        "valid": valid,
        "invalid": len(report) - valid,
        "created": 0 if dry_run else valid,
        "rows": report,
    }


def claims_csv(claims) -> Iterator[str]:
    header = (
        "id",
        "name",
        "status",
        "partner_id",
        "role",
        "tenant_id",
        "tenant_name",
        "products",
        "subscription_ids",
        "incentive_opt_out",
        "created_at",
        "submitted_at",
        "decided_at",
    )

    def rows():
        for claim in claims.prefetch_related("lines__product", "lines__subscription").iterator(
            chunk_size=1000
        ):
            lines = list(claim.lines.all())
            yield (
                claim.pk,
                claim.name,
                claim.status,
                claim.location.partner_id,
                claim.role.code,
                claim.tenant.tenant_id,
                # Annotated by claim_list: a partner sees the name only with a relationship.
                claim.tenant.name if claim.tenant_related else "",
                LIST_SEPARATOR.join(line.product.code for line in lines),
                LIST_SEPARATOR.join(
                    str(line.subscription.subscription_id) for line in lines if line.subscription
                ),
                claim.incentive_opt_out,
                claim.created_at.isoformat(),
                claim.submitted_at.isoformat() if claim.submitted_at else "",
                claim.decided_at.isoformat() if claim.decided_at else "",
            )

    return csv_lines(header, rows())


def associations_csv(associations) -> Iterator[str]:
    header = (
        "id",
        "claim_id",
        "partner",
        "tenant_id",
        "tenant_name",
        "product",
        "subscription_id",
        "status",
        "end_reason",
        "approved_at",
        "activated_at",
        "ended_at",
    )

    def rows():
        for association in associations.iterator(chunk_size=1000):
            yield (
                association.pk,
                association.claim_id,
                association.organisation.name,
                association.tenant.tenant_id,
                association.tenant.name,
                association.product.code,
                association.subscription.subscription_id if association.subscription else "",
                association.status,
                association.end_reason,
                association.approved_at.isoformat(),
                association.activated_at.isoformat() if association.activated_at else "",
                association.ended_at.isoformat() if association.ended_at else "",
            )

    return csv_lines(header, rows())
