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

from collections.abc import Sequence

from django.db import transaction

from cpor.accounts.models import User
from cpor.claims.permissions import require_program_admin
from cpor.customers.models import Subscription, Tenant, TenantAdminContact, TenantDomain
from cpor.customers.services.formats import (
    IMPORT_FORMATS,
    LOOKUP_CHUNK,
    WRITE_ORDER,
    ImportFile,
    ImportReport,
    Progress,
    RowError,
    no_progress,
)
from cpor.customers.services.reading import read_file
from cpor.customers.services.validation import Plan, Validator, chunks, fetch

__all__ = [
    "IMPORT_FORMATS",
    "WRITE_ORDER",
    "ImportFile",
    "ImportReport",
    "RowError",
    "customers_import",
    "read_file",
]


# ---------------------------------------------------------------------------
# Writing


def _write(plan: Plan, report: ImportReport, progress: Progress) -> None:
    total = len(plan.tenants) + len(plan.domains) + len(plan.contacts) + len(plan.subscriptions)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress("write", done, total)

    tenants = fetch(Tenant, "tenant_id", plan.tenants)
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
    tenant_pk = {guid: t.pk for guid, t in fetch(Tenant, "tenant_id", needed).items()}

    domains = fetch(TenantDomain, "domain", plan.domains)
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
    for chunk in chunks(sorted({tenant_pk[key[0]] for key in plan.contacts})):
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

    subscriptions = fetch(Subscription, "subscription_id", plan.subscriptions)
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
            for s in fetch(
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
    progress: Progress = no_progress,
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
    plan = Validator(parsed, report.errors, progress).run()
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        _write(plan, report, progress)
    return report
