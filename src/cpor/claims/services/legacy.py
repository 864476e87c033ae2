"""Legacy associations: Dynamics 365 associations made before CPOR (SPEC §10).

A program admin uploads them as CSV (``LEGACY_COLUMNS``). Every row is checked first and
each problem reported with its line number, column and rule; only when there is none is
anything written, all rows in one transaction (a dry run stops after the checks). A row
becomes an approved one-line claim with an active association marked ``legacy``, with
its source and the day it was made, and one ``legacy_import`` history event (the partner
is told from it). The association holds its subscription like any other (the unique
index on held associations); it ends when the subscription ends, never carried over to
a renewal, and the partner is told ``CPOR_LEGACY_NOTICE_DAYS`` before that to claim the
unit again (``jobs.legacy_warn_reassociation``). Re-association is an ordinary claim:
its approval ends the legacy association as ``reassociated``.

Rows are validated with a constant number of queries (lookups by key for the whole
file) and written with bulk inserts.
"""

import csv
import datetime
import hashlib
import io
import re
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.catalog.models import ClaimUnit, PartnerRole
from cpor.claims import events
from cpor.claims.models import (
    HELD_STATUSES,
    Association,
    AssociationStatus,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    EventAction,
    LegacyImport,
    LineStatus,
)
from cpor.claims.permissions import require_program_admin
from cpor.customers.models import Subscription, Tenant
from cpor.errors import DomainError
from cpor.partners.models import PartnerLocation

LEGACY_COLUMNS = (
    "partner_id",
    "tenant_id",
    "subscription_id",
    "role",
    "associated_on",
    "source",
    "partner_contact_email",
)
LEGACY_OPTIONAL_COLUMNS = ("partner_contact_name",)
MAX_ROWS = 10_000
LOOKUP_CHUNK = 500  # SQLite allows a limited number of query parameters
# What a spreadsheet would run as a formula (the same set cpor.csv_export escapes).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PARTNER_ID_RE = re.compile(r"^\d{1,12}$")


@dataclass(frozen=True)
class LegacyRowError:
    line: int
    column: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class LegacyReport:
    """The answer to an upload: every problem, or what was (or would be) written."""

    dry_run: bool
    rows: int = 0
    errors: list[LegacyRowError] = field(default_factory=list)
    created: int = 0
    batch: LegacyImport | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "rows": self.rows,
            "created": self.created,
            "import": self.batch.pk if self.batch else None,
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass
class _Row:
    line: int
    location: PartnerLocation
    tenant: Tenant
    subscription: Subscription
    role: PartnerRole
    associated_on: datetime.date
    source: str
    contact_email: str
    contact_name: str


# ---------------------------------------------------------------------------
# Reading


def _read(content: bytes, report: LegacyReport) -> list[tuple[int, dict[str, str]]]:
    """The rows of the file by line number (the header is line 1), or whole-file errors."""

    def whole(code: str, message: str, line: int = 1) -> list:
        report.errors.append(LegacyRowError(line, "", code, message))
        return []

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        return whole("encoding", _("The file is not UTF-8. Save it as “CSV UTF-8”."), line)
    if "\x00" in text:
        return whole("encoding", _("The file is not a CSV text file."))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        return whole("empty", _("The file is empty."))
    except csv.Error as error:
        return whole("csv", _("The CSV cannot be read: %s.") % error)
    missing = [c for c in LEGACY_COLUMNS if c not in header]
    unknown = [c for c in header if c not in LEGACY_COLUMNS + LEGACY_OPTIONAL_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        return whole(
            "header",
            _("The header must name the columns %(columns)s (and optionally %(optional)s).")
            % {
                "columns": ",".join(LEGACY_COLUMNS),
                "optional": ",".join(LEGACY_OPTIONAL_COLUMNS),
            },
        )
    rows = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(value.strip() for value in values):
                continue  # blank lines are harmless
            if len(values) != len(header):
                report.errors.append(
                    LegacyRowError(
                        line,
                        "",
                        "column_count",
                        _("%(n)d values for %(m)d columns.") % {"n": len(values), "m": len(header)},
                    )
                )
                continue
            rows.append((line, {k: v.strip() for k, v in zip(header, values, strict=True)}))
            if len(rows) > MAX_ROWS:
                return whole("too_many_rows", _("Import at most %d rows at once.") % MAX_ROWS, line)
    except csv.Error as error:
        report.errors.append(
            LegacyRowError(reader.line_num, "", "csv", _("The CSV cannot be read: %s.") % error)
        )
    return rows


# ---------------------------------------------------------------------------
# Checking


def _chunks(values: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _by(model, key: str, values, *related: str) -> dict:
    found = {}
    for chunk in _chunks(sorted(set(values), key=str)):
        query = model.objects.filter(**{f"{key}__in": chunk}).select_related(*related)
        found.update({getattr(obj, key): obj for obj in query})
    return found


def _guid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class _Checker:
    def __init__(self, rows: list[tuple[int, dict[str, str]]], report: LegacyReport, today):
        self.rows, self.report, self.today = rows, report, today

    def error(self, line: int, column: str, code: str, message: str) -> None:
        self.report.errors.append(LegacyRowError(line, column, code, message))

    def run(self) -> list[_Row]:
        rows = self.rows
        locations = _by(
            PartnerLocation,
            "partner_id",
            [v["partner_id"] for _, v in rows if PARTNER_ID_RE.match(v["partner_id"])],
            "organisation",
        )
        tenants = _by(Tenant, "tenant_id", filter(None, (_guid(v["tenant_id"]) for _, v in rows)))
        subscriptions = _by(
            Subscription,
            "subscription_id",
            filter(None, (_guid(v["subscription_id"]) for _, v in rows)),
            "product__solution_area",
        )
        roles = {
            r.code: r for r in PartnerRole.objects.select_related("engagement", "solution_area")
        }
        holders = self._holders(list(subscriptions.values()))
        seen: dict[uuid.UUID, int] = {}
        planned = []
        for line, values in rows:
            row = self._row(line, values, locations, tenants, subscriptions, roles, holders, seen)
            if row is not None:
                planned.append(row)
        return planned

    def _holders(self, subscriptions: list[Subscription]) -> dict[int, Association]:
        held = {}
        for chunk in _chunks([s.pk for s in subscriptions]):
            query = Association.objects.filter(
                subscription_id__in=chunk, status__in=HELD_STATUSES
            ).select_related("organisation")
            held.update({a.subscription_id: a for a in query})
        return held

    def _row(self, line, values, locations, tenants, subscriptions, roles, holders, seen):
        errors_before = len(self.report.errors)
        for column, value in values.items():
            if value.startswith(FORMULA_START):
                self.error(
                    line,
                    column,
                    "formula_like",
                    _("A value may not start with =, +, -, @ or a tab (spreadsheet formula)."),
                )
        if len(self.report.errors) > errors_before:
            return None  # nothing else is read from a row that looks like an attack

        location = locations.get(values["partner_id"])
        if location is None:
            self.error(
                line,
                "partner_id",
                "unknown_partner_id",
                _("No partner location has this PartnerID."),
            )
        elif not (location.active and location.organisation.active):
            self.error(
                line, "partner_id", "inactive_partner_id", _("This PartnerID is not active.")
            )

        tenant = tenants.get(_guid(values["tenant_id"]))
        if tenant is None:
            self.error(
                line, "tenant_id", "unknown_tenant", _("No customer tenant has this directory ID.")
            )

        subscription = subscriptions.get(_guid(values["subscription_id"]))
        if subscription is None:
            self.error(
                line, "subscription_id", "unknown_subscription", _("No subscription has this ID.")
            )
        elif tenant is not None and subscription.tenant_id != tenant.pk:
            self.error(
                line,
                "subscription_id",
                "subscription_of_other_tenant",
                _("This subscription belongs to another tenant."),
            )
        elif subscription.ends_on < self.today:
            self.error(
                line,
                "subscription_id",
                "subscription_ended",
                _("The subscription ended on %s: its legacy association is over.")
                % date_format(subscription.ends_on),
            )

        role = roles.get(values["role"])
        if role is None or role.engagement.claim_unit != ClaimUnit.SUBSCRIPTION:
            self.error(
                line,
                "role",
                "unknown_role",
                _("Give the code of a Business Applications partner role (per subscription)."),
            )
        elif (
            subscription is not None
            and subscription.product.solution_area_id != role.solution_area_id
        ):
            self.error(
                line,
                "role",
                "role_mismatch",
                _("The role is not of the solution area of the subscription."),
            )

        try:
            associated_on = datetime.date.fromisoformat(values["associated_on"])
        except ValueError:
            associated_on = None
            self.error(line, "associated_on", "invalid_date", _("Give the date as YYYY-MM-DD."))
        else:
            if associated_on > self.today:
                self.error(line, "associated_on", "date_in_future", _("The date is in the future."))

        source = values["source"]
        if not source or len(source) > 100:
            self.error(
                line, "source", "invalid_source", _("Name the source in 1 to 100 characters.")
            )
        contact_name = values.get("partner_contact_name", "")
        if len(contact_name) > 200:
            self.error(line, "partner_contact_name", "too_long", _("At most 200 characters."))
        email = values["partner_contact_email"]
        try:
            validate_email(email)
        except ValidationError:
            self.error(
                line, "partner_contact_email", "invalid_email", _("Give a valid e-mail address.")
            )

        if subscription is not None:
            first = seen.setdefault(subscription.subscription_id, line)
            holder = holders.get(subscription.pk)
            if first != line:
                self.error(
                    line,
                    "subscription_id",
                    "duplicate_row",
                    _("The same subscription is already on line %d of this file.") % first,
                )
            elif (
                holder is not None
                and location is not None
                and holder.organisation_id == location.organisation_id
            ):
                self.error(
                    line,
                    "subscription_id",
                    "already_held",
                    _("This partner already holds the subscription."),
                )
            elif holder is not None:
                self.error(
                    line,
                    "subscription_id",
                    "unit_held",
                    _("Another partner (%s) holds this subscription: one partner per subscription.")
                    % holder.organisation.name,
                )
        if len(self.report.errors) > errors_before:
            return None
        return _Row(
            line, location, tenant, subscription, role, associated_on, source, email, contact_name
        )


# ---------------------------------------------------------------------------
# Writing


def legacy_associations_import(
    *, actor: User, content: bytes, file_name: str, dry_run: bool = False
) -> LegacyReport:
    """Check every row; unless ``dry_run`` or any row is wrong, write them all at once."""
    require_program_admin(actor)
    report = LegacyReport(dry_run=dry_run)
    rows = _read(content, report)
    report.rows = len(rows)
    if report.errors:
        return report
    if not rows:
        report.errors.append(LegacyRowError(1, "", "empty", _("The file has no rows.")))
        return report
    planned = _Checker(rows, report, timezone.localdate()).run()
    if report.errors or dry_run:
        report.created = 0 if report.errors else len(planned)
        return report
    try:
        with transaction.atomic():
            report.batch = _write(
                actor=actor, planned=planned, file_name=file_name, content=content
            )
    except IntegrityError:
        # A claim approved between the checks and the write took one of the units: the
        # unique index refused, and the whole import rolled back.
        raise DomainError(
            "unit_held",
            _(
                "A subscription of this file was claimed while it was imported. Nothing "
                "was written; import it again to see which."
            ),
            field="file",
        ) from None
    report.created = len(planned)
    return report


def _write(*, actor: User, planned: list[_Row], file_name: str, content: bytes) -> LegacyImport:
    now = timezone.now()
    batch = LegacyImport.objects.create(
        file_name=file_name[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        rows=len(planned),
        imported_by=actor,
        imported_at=now,
    )
    # Drafts first: the triggers accept lines only on a draft; then approved at once.
    claims = Claim.objects.bulk_create(
        Claim(
            organisation_id=row.location.organisation_id,
            location=row.location,
            role=row.role,
            tenant=row.tenant,
            name=(_("Legacy association: %s") % row.subscription.product.name)[:200],
            partner_contact_name=row.contact_name or row.location.organisation.name,
            partner_contact_email=row.contact_email,
            comments=_("Imported from %(source)s, associated on %(day)s.")
            % {"source": row.source, "day": date_format(row.associated_on)},
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        for row in planned
    )
    lines = ClaimLine.objects.bulk_create(
        ClaimLine(
            claim=claim,
            product_id=row.subscription.product_id,
            subscription=row.subscription,
            status=LineStatus.APPROVED,
        )
        for claim, row in zip(claims, planned, strict=True)
    )
    Claim.objects.filter(pk__in=[c.pk for c in claims]).update(
        status=ClaimStatus.APPROVED, decided_at=now
    )
    associations = Association.objects.bulk_create(
        Association(
            claim=claim,
            line=line,
            organisation_id=claim.organisation_id,
            tenant=row.tenant,
            product_id=row.subscription.product_id,
            subscription=row.subscription,
            status=AssociationStatus.ACTIVE,
            approved_at=now,
            notice_ends_at=now,
            activated_at=now,
            legacy=True,
            legacy_source=row.source,
            legacy_since=row.associated_on,
            legacy_import=batch,
        )
        for claim, line, row in zip(claims, lines, planned, strict=True)
    )
    ClaimEvent.objects.bulk_create(
        ClaimEvent(
            claim=claim,
            association=association,
            action=EventAction.LEGACY_IMPORT,
            to_status=AssociationStatus.ACTIVE,
            message=_(
                "Legacy association imported from %(source)s (associated on %(day)s). It "
                "lasts until subscription %(sub)s ends on %(end)s; claim the subscription "
                "again to stay partner of record after that."
            )
            % {
                "source": row.source,
                "day": date_format(row.associated_on),
                "sub": row.subscription.subscription_id,
                "end": date_format(row.subscription.ends_on),
            },
            actor=actor,
            at=now,
        )
        for claim, association, row in zip(claims, associations, planned, strict=True)
    )
    events.announce()
    return batch
