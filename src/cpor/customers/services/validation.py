"""Validating every row of every file into a plan, keyed by natural key."""

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from cpor.catalog.models import Product, PurchaseChannel
from cpor.customers.models import Subscription, Tenant, TenantDomain
from cpor.customers.services.formats import (
    COUNTRY_RE,
    DOMAIN_RE,
    FALSE,
    LANGUAGES,
    LOOKUP_CHUNK,
    TRUE,
    WRITE_ORDER,
    ParsedFile,
    Progress,
    RowError,
)

# ---------------------------------------------------------------------------
# Validating


@dataclass
class Plan:
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


def chunks(values: list, size: int = LOOKUP_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def fetch(model, field_name: str, keys: Iterable) -> dict:
    keys = list(set(keys))
    found = {}
    for chunk in chunks(keys):
        for obj in model.objects.filter(**{f"{field_name}__in": chunk}):
            found[getattr(obj, field_name)] = obj
    return found


class Validator:
    def __init__(self, files: list[ParsedFile], errors: list[RowError], progress: Progress):
        self.files = files
        self.errors = errors
        self.progress = progress
        self.plan = Plan()
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

    def run(self) -> Plan:
        by_kind = {kind: [f for f in self.files if f.kind == kind] for kind in WRITE_ORDER}
        all_rows = [(f, n, v) for f in self.files for n, v in f.rows]
        tenant_ids = {_guid_or_none(values.get("tenant_id", "")) for _f, _n, values in all_rows}
        tenant_ids.discard(None)
        existing_tenants = fetch(Tenant, "tenant_id", tenant_ids)

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
        existing_domains = fetch(TenantDomain, "domain", domain_names)
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
            for chunk in chunks(list(set(ids)))
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
