"""Import of customers from CSV: tenants, domains, admin contacts and subscriptions.

Format (see ``IMPORT_FORMATS`` and the help on the upload page): one CSV file per kind
of record, UTF-8 (a byte-order mark is allowed), comma-separated, a header row naming
the columns; the kind is recognised from the header. Several files can be imported
together (tenants first, then what refers to them): a domain, contact or subscription
may name a tenant of the same import or one already known.

All or nothing: every row of every file is validated first and each problem reported
as (file, row, column, rule); only when there is none are all rows written, in one
transaction. Row numbers count the header as row 1, like a spreadsheet. A row whose
key already exists updates that record (re-importing a file is harmless); the same key
twice in one import is an error.
"""

import csv
import datetime
import io
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cpor.accounts.models import User
from cpor.catalog.models import Product, PurchaseChannel
from cpor.claims.permissions import require_program_admin
from cpor.customers.models import Subscription, Tenant, TenantAdminContact, TenantDomain

# kind → (required columns in order, optional columns, description)
IMPORT_FORMATS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "tenants": (
        ("tenant_id", "name", "country"),
        ("language",),
        gettext_lazy(
            "tenant_id: directory ID (GUID); name; country: two letters or empty; "
            "language (optional): en or pt-pt."
        ),
    ),
    "domains": (
        ("tenant_id", "domain", "verified"),
        (),
        gettext_lazy("tenant_id; domain: a DNS name; verified: true/false (yes/no, 1/0)."),
    ),
    "contacts": (
        ("tenant_id", "name", "email", "language"),
        (),
        gettext_lazy("tenant_id; name; email; language: en or pt-pt (empty: en)."),
    ),
    "subscriptions": (
        (
            "subscription_id",
            "tenant_id",
            "product",
            "channel",
            "seats",
            "starts_on",
            "ends_on",
            "predecessor_id",
        ),
        (),
        gettext_lazy(
            "subscription_id (GUID); tenant_id; product: a catalog code such as "
            "d365_sales; channel: volume_licensing, web_direct or csp; seats: a whole "
            "number; starts_on, ends_on: YYYY-MM-DD; predecessor_id: the GUID of the "
            "subscription this one renews, or empty."
        ),
    ),
}
# Tenants first: the other kinds refer to them; subscriptions may refer to each other.
WRITE_ORDER = ("tenants", "domains", "contacts", "subscriptions")
LANGUAGES = {"": "en", "en": "en", "pt": "pt-pt", "pt-pt": "pt-pt"}
TRUE = {"true", "yes", "1", "y"}
FALSE = {"false", "no", "0", "n", ""}
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
LOOKUP_CHUNK = 500  # SQLite allows a limited number of query parameters


@dataclass(frozen=True)
class RowError:
    file: str
    row: int
    column: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message} [{self.rule}]"


@dataclass
class ImportFile:
    name: str
    content: bytes


@dataclass
class ParsedFile:
    name: str
    kind: str
    rows: list[tuple[int, dict[str, str]]]


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # per kind, rows read
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


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


# ---------------------------------------------------------------------------
# Validating


@dataclass
class _Plan:
    """What will be written, keyed by natural key; filled while validating."""

    tenants: dict[uuid.UUID, dict] = field(default_factory=dict)
    domains: dict[str, dict] = field(default_factory=dict)
    contacts: dict[tuple[uuid.UUID, str], dict] = field(default_factory=dict)
    subscriptions: dict[uuid.UUID, dict] = field(default_factory=dict)


def _guid_or_none(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _chunks(values: list, size: int = LOOKUP_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _fetch(model, field_name: str, keys: Iterable) -> dict:
    keys = list(set(keys))
    found = {}
    for chunk in _chunks(keys):
        for obj in model.objects.filter(**{f"{field_name}__in": chunk}):
            found[getattr(obj, field_name)] = obj
    return found


class _Validator:
    def __init__(self, files: list[ParsedFile], errors: list[RowError], progress: Progress):
        self.files = files
        self.errors = errors
        self.progress = progress
        self.plan = _Plan()
        self.total = sum(len(f.rows) for f in files)
        self.done = 0

    def error(self, file: ParsedFile, row: int, column: str, rule: str, message: str) -> None:
        self.errors.append(RowError(file.name, row, column, rule, message))

    def guid(self, file, row, values, column, *, required=True) -> uuid.UUID | None:
        raw = values.get(column, "")
        if not raw:
            if required:
                self.error(file, row, column, "required", _("A GUID is required."))
            return None
        try:
            return uuid.UUID(raw)
        except ValueError:
            self.error(
                file,
                row,
                column,
                "guid",
                _("“%s” is not a GUID (like 72f988bf-86f1-41af-91ab-2d7cd011db47).") % raw[:60],
            )
            return None

    def text(self, file, row, values, column, limit=200, *, required=True) -> str:
        value = values.get(column, "")
        if required and not value:
            self.error(file, row, column, "required", _("A value is required."))
        elif len(value) > limit:
            self.error(file, row, column, "too_long", _("At most %d characters.") % limit)
        return value

    def language(self, file, row, values, column) -> str:
        value = values.get(column, "").lower()
        if value not in LANGUAGES:
            self.error(file, row, column, "language", _("Use en or pt-pt."))
            return "en"
        return LANGUAGES[value]

    def date(self, file, row, values, column) -> datetime.date | None:
        raw = values.get(column, "")
        try:
            return datetime.date.fromisoformat(raw)
        except ValueError:
            self.error(file, row, column, "date", _("“%s” is not a date (YYYY-MM-DD).") % raw[:30])
            return None

    def tick(self) -> None:
        self.done += 1
        if self.done % 1000 == 0 or self.done == self.total:
            self.progress("validate", self.done, self.total)

    def tenant_known(self, file, row, tenant_id, existing_tenants) -> bool:
        if tenant_id is None:
            return False
        if tenant_id in self.plan.tenants or tenant_id in existing_tenants:
            return True
        self.error(
            file,
            row,
            "tenant_id",
            "unknown_tenant",
            _("No tenant %s: import it in a tenants file first (or in the same import).")
            % tenant_id,
        )
        return False

    def run(self) -> _Plan:
        by_kind = {kind: [f for f in self.files if f.kind == kind] for kind in WRITE_ORDER}
        all_rows = [(f, n, v) for f in self.files for n, v in f.rows]
        tenant_ids = {_guid_or_none(values.get("tenant_id", "")) for _f, _n, values in all_rows}
        tenant_ids.discard(None)
        existing_tenants = _fetch(Tenant, "tenant_id", tenant_ids)

        for file in by_kind["tenants"]:
            for row, values in file.rows:
                self.tick()
                tenant_id = self.guid(file, row, values, "tenant_id")
                name = self.text(file, row, values, "name")
                country = values.get("country", "").upper()
                if country and not COUNTRY_RE.match(country):
                    self.error(file, row, "country", "country", _("Use two letters, e.g. PT."))
                language = self.language(file, row, values, "language")
                if tenant_id is None:
                    continue
                if tenant_id in self.plan.tenants:
                    self.error(
                        file,
                        row,
                        "tenant_id",
                        "duplicate",
                        _("Tenant %(id)s is already on row %(row)d.")
                        % {"id": tenant_id, "row": self.plan.tenants[tenant_id]["_row"]},
                    )
                    continue
                self.plan.tenants[tenant_id] = {
                    "_row": row,
                    "name": name,
                    "country": country,
                    "language": language if "language" in values else None,
                }

        domain_names = [v.get("domain", "").lower() for f in by_kind["domains"] for _n, v in f.rows]
        existing_domains = _fetch(TenantDomain, "domain", domain_names)
        existing_tenant_pk = {t.pk: guid for guid, t in existing_tenants.items()}
        for file in by_kind["domains"]:
            for row, values in file.rows:
                self.tick()
                tenant_id = self.guid(file, row, values, "tenant_id")
                domain = values.get("domain", "").lower().rstrip(".")
                if not DOMAIN_RE.match(domain):
                    self.error(
                        file, row, "domain", "domain", _("“%s” is not a domain name.") % domain[:80]
                    )
                    domain = ""
                raw = values.get("verified", "").lower()
                if raw not in TRUE | FALSE:
                    self.error(file, row, "verified", "boolean", _("Use true or false."))
                known = self.tenant_known(file, row, tenant_id, existing_tenants)
                if not domain or not known:
                    continue
                if domain in self.plan.domains:
                    self.error(
                        file,
                        row,
                        "domain",
                        "duplicate",
                        _("The domain %(d)s is already on row %(row)d.")
                        % {"d": domain, "row": self.plan.domains[domain]["_row"]},
                    )
                    continue
                held = existing_domains.get(domain)
                if held is not None and existing_tenant_pk.get(held.tenant_id) != tenant_id:
                    self.error(
                        file,
                        row,
                        "domain",
                        "domain_other_tenant",
                        _("The domain %s belongs to another tenant.") % domain,
                    )
                    continue
                self.plan.domains[domain] = {
                    "_row": row,
                    "tenant_id": tenant_id,
                    "verified": raw in TRUE,
                }

        for file in by_kind["contacts"]:
            for row, values in file.rows:
                self.tick()
                tenant_id = self.guid(file, row, values, "tenant_id")
                name = self.text(file, row, values, "name")
                email = values.get("email", "")
                try:
                    validate_email(email)
                except ValidationError:
                    self.error(
                        file,
                        row,
                        "email",
                        "email",
                        _("“%s” is not an e-mail address.") % email[:80],
                    )
                    email = ""
                language = self.language(file, row, values, "language")
                if not self.tenant_known(file, row, tenant_id, existing_tenants) or not email:
                    continue
                key = (tenant_id, email.lower())
                if key in self.plan.contacts:
                    self.error(
                        file,
                        row,
                        "email",
                        "duplicate",
                        _("This contact is already on row %d.") % self.plan.contacts[key]["_row"],
                    )
                    continue
                self.plan.contacts[key] = {
                    "_row": row,
                    "name": name,
                    "email": email,
                    "language": language,
                }

        self._subscriptions(by_kind["subscriptions"], existing_tenants)
        return self.plan

    def _subscriptions(self, files: list[ParsedFile], existing_tenants: dict) -> None:
        products = {p.code: p for p in Product.objects.all()}
        ids = {
            _guid_or_none(values.get(column, ""))
            for file in files
            for _n, values in file.rows
            for column in ("subscription_id", "predecessor_id")
        }
        ids.discard(None)
        existing = {
            s.subscription_id: s
            for chunk in _chunks(list(set(ids)))
            for s in Subscription.objects.filter(subscription_id__in=chunk).select_related(
                "tenant", "predecessor", "renewal"
            )
        }
        renewed_by: dict[uuid.UUID, uuid.UUID] = {}
        for file in files:
            for row, values in file.rows:
                self.tick()
                sub_id = self.guid(file, row, values, "subscription_id")
                tenant_id = self.guid(file, row, values, "tenant_id")
                code = values.get("product", "")
                product = products.get(code)
                if product is None:
                    self.error(
                        file,
                        row,
                        "product",
                        "unknown_product",
                        _("Unknown product code “%s”.") % code[:60],
                    )
                channel = values.get("channel", "").lower()
                if channel not in PurchaseChannel.values:
                    self.error(
                        file,
                        row,
                        "channel",
                        "channel",
                        _("Use one of: %s.") % ", ".join(PurchaseChannel.values),
                    )
                seats_raw = values.get("seats", "")
                seats = int(seats_raw) if seats_raw.isdigit() else None
                if seats is None or seats > 10_000_000:
                    self.error(file, row, "seats", "seats", _("Use a whole number of seats."))
                starts_on = self.date(file, row, values, "starts_on")
                ends_on = self.date(file, row, values, "ends_on")
                if starts_on and ends_on and ends_on < starts_on:
                    self.error(
                        file, row, "ends_on", "ends_before_start", _("It ends before it starts.")
                    )
                predecessor = self.guid(file, row, values, "predecessor_id", required=False)
                known = self.tenant_known(file, row, tenant_id, existing_tenants)
                if sub_id is None:
                    continue
                if sub_id in self.plan.subscriptions:
                    self.error(
                        file,
                        row,
                        "subscription_id",
                        "duplicate",
                        _("Subscription %(id)s is already on row %(row)d.")
                        % {"id": sub_id, "row": self.plan.subscriptions[sub_id]["_row"]},
                    )
                    continue
                current = existing.get(sub_id)
                if current is not None and tenant_id and current.tenant.tenant_id != tenant_id:
                    self.error(
                        file,
                        row,
                        "tenant_id",
                        "subscription_other_tenant",
                        _("Subscription %s already belongs to another tenant.") % sub_id,
                    )
                    continue
                if predecessor is not None:
                    if predecessor == sub_id:
                        self.error(
                            file,
                            row,
                            "predecessor_id",
                            "predecessor_self",
                            _("A subscription cannot renew itself."),
                        )
                    elif predecessor in renewed_by:
                        self.error(
                            file,
                            row,
                            "predecessor_id",
                            "predecessor_taken",
                            _("Subscription %s is already renewed by another row.") % predecessor,
                        )
                    else:
                        renewed_by[predecessor] = sub_id
                        old = existing.get(predecessor)
                        renewal = getattr(old, "renewal", None) if old is not None else None
                        if renewal is not None and renewal.subscription_id != sub_id:
                            self.error(
                                file,
                                row,
                                "predecessor_id",
                                "predecessor_taken",
                                _("Subscription %s is already renewed by another subscription.")
                                % predecessor,
                            )
                self.plan.subscriptions[sub_id] = {
                    "_row": row,
                    "_file": file,
                    "tenant_id": tenant_id if known else None,
                    "product": product,
                    "purchase_channel": channel,
                    "seats": seats or 0,
                    "starts_on": starts_on,
                    "ends_on": ends_on,
                    "predecessor": predecessor,
                }
        # Predecessors must exist, here or already.
        for sub_id, values in self.plan.subscriptions.items():
            predecessor = values["predecessor"]
            if (
                predecessor is not None
                and predecessor != sub_id
                and predecessor not in self.plan.subscriptions
                and predecessor not in existing
            ):
                self.error(
                    values["_file"],
                    values["_row"],
                    "predecessor_id",
                    "unknown_predecessor",
                    _("No subscription %s to renew.") % predecessor,
                )


# ---------------------------------------------------------------------------
# Writing


def _write(plan: _Plan, report: ImportReport, progress: Progress) -> None:
    total = len(plan.tenants) + len(plan.domains) + len(plan.contacts) + len(plan.subscriptions)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress("write", done, total)

    tenants = _fetch(Tenant, "tenant_id", plan.tenants)
    new, changed = [], []
    for guid, values in plan.tenants.items():
        tenant = tenants.get(guid) or Tenant(tenant_id=guid)
        tenant.name, tenant.country = values["name"], values["country"]
        if values["language"] is not None:
            tenant.language = values["language"]
        (changed if tenant.pk else new).append(tenant)
    Tenant.objects.bulk_create(new, batch_size=LOOKUP_CHUNK)
    Tenant.objects.bulk_update(changed, ["name", "country", "language"], batch_size=LOOKUP_CHUNK)
    report.created["tenants"], report.updated["tenants"] = len(new), len(changed)
    advance(len(plan.tenants))

    needed = (
        {v["tenant_id"] for v in plan.domains.values()}
        | {key[0] for key in plan.contacts}
        | {v["tenant_id"] for v in plan.subscriptions.values()}
    )
    tenant_pk = {guid: t.pk for guid, t in _fetch(Tenant, "tenant_id", needed).items()}

    domains = _fetch(TenantDomain, "domain", plan.domains)
    new, changed = [], []
    for name, values in plan.domains.items():
        domain = domains.get(name) or TenantDomain(domain=name)
        domain.tenant_id = tenant_pk[values["tenant_id"]]
        domain.verified = values["verified"]
        (changed if domain.pk else new).append(domain)
    TenantDomain.objects.bulk_create(new, batch_size=LOOKUP_CHUNK)
    TenantDomain.objects.bulk_update(changed, ["verified"], batch_size=LOOKUP_CHUNK)
    report.created["domains"], report.updated["domains"] = len(new), len(changed)
    advance(len(plan.domains))

    existing_contacts = {}
    for chunk in _chunks(sorted({tenant_pk[key[0]] for key in plan.contacts})):
        for contact in TenantAdminContact.objects.filter(tenant_id__in=chunk):
            existing_contacts[(contact.tenant_id, contact.email.lower())] = contact
    new, changed = [], []
    for (guid, email_key), values in plan.contacts.items():
        contact = existing_contacts.get((tenant_pk[guid], email_key))
        if contact is None:
            contact = TenantAdminContact(tenant_id=tenant_pk[guid], email=values["email"])
        contact.name, contact.language = values["name"], values["language"]
        (changed if contact.pk else new).append(contact)
    TenantAdminContact.objects.bulk_create(new, batch_size=LOOKUP_CHUNK)
    TenantAdminContact.objects.bulk_update(changed, ["name", "language"], batch_size=LOOKUP_CHUNK)
    report.created["contacts"], report.updated["contacts"] = len(new), len(changed)
    advance(len(plan.contacts))

    subscriptions = _fetch(Subscription, "subscription_id", plan.subscriptions)
    new, changed = [], []
    fields = ["product", "purchase_channel", "seats", "starts_on", "ends_on"]
    for guid, values in plan.subscriptions.items():
        subscription = subscriptions.get(guid) or Subscription(
            subscription_id=guid, tenant_id=tenant_pk[values["tenant_id"]]
        )
        for name in fields:
            setattr(subscription, name, values[name])
        (changed if subscription.pk else new).append(subscription)
    Subscription.objects.bulk_create(new, batch_size=LOOKUP_CHUNK)
    Subscription.objects.bulk_update(changed, fields, batch_size=LOOKUP_CHUNK)
    renewals = {
        guid: v["predecessor"] for guid, v in plan.subscriptions.items() if v["predecessor"]
    }
    if renewals:
        pks = {
            s.subscription_id: s.pk
            for s in _fetch(
                Subscription, "subscription_id", set(renewals) | set(renewals.values())
            ).values()
        }
        linked = []
        for guid, predecessor in renewals.items():
            linked.append(Subscription(pk=pks[guid], predecessor_id=pks[predecessor]))
        Subscription.objects.bulk_update(linked, ["predecessor"], batch_size=LOOKUP_CHUNK)
    report.created["subscriptions"] = len(new)
    report.updated["subscriptions"] = len(changed)
    advance(len(plan.subscriptions))


def customers_import(
    *,
    actor: User | None,
    files: Sequence[ImportFile],
    progress: Progress = _no_progress,
    dry_run: bool = False,
) -> ImportReport:
    """Validate every row of every file; if nothing is wrong, write them all at once.

    ``actor`` is a program admin (``None`` only for the management command, which runs
    with the operator's shell access). Returns the report; nothing is written when it
    has errors or on ``dry_run``."""
    if actor is not None:
        require_program_admin(actor)
    report = ImportReport()
    parsed = [p for p in (read_file(f, report.errors) for f in files) if p is not None]
    for file in parsed:
        report.rows[file.kind] = report.rows.get(file.kind, 0) + len(file.rows)
    progress("read", report.total_rows, report.total_rows)
    plan = _Validator(parsed, report.errors, progress).run()
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        _write(plan, report, progress)
    return report
