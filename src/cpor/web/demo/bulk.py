"""Volume for load tests and benchmarks: bulk-generated claims (COPY on PostgreSQL),
each on a unit of its own so the one-holder-per-unit invariant holds."""

import datetime
import hashlib
import random
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from cpor.catalog.models import PartnerRole, Product
from cpor.claims.models import (
    HELD_STATUSES,
    Association,
    AssociationStatus,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    EndReason,
    EventAction,
    LineStatus,
    PoEType,
    ProofOfExecution,
)
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.customers.models import Subscription, Tenant, TenantAdminContact, TenantDomain
from cpor.notifications import consumers
from cpor.web.demo.cast import (
    ORGANISATIONS,
    VL,
    WD,
    _ensure_cast,
    pdf_bytes,
)
from cpor.web.demo.rows import (
    _ASSOCIATION_FIELDS,
    _CLAIM_FIELDS,
    _EVENT_FIELDS,
    _PROOF_FIELDS,
    _BulkWriter,
)

# ---------------------------------------------------------------------------
# Volume: bulk-generated claims


# A realistic mix of where claims are (weights).
DEFAULT_MIX: Mapping[str, int] = {
    ClaimStatus.DRAFT: 8,
    ClaimStatus.SUBMITTED: 10,
    ClaimStatus.IN_REVIEW: 8,
    ClaimStatus.ACTION_REQUIRED: 5,
    ClaimStatus.APPROVED: 40,
    ClaimStatus.PARTIALLY_APPROVED: 5,
    ClaimStatus.REJECTED: 10,
    ClaimStatus.WITHDRAWN: 4,
    ClaimStatus.DECLINED: 3,
    ClaimStatus.EXPIRED: 5,
    ClaimStatus.DISPUTED: 2,
}
ROLE_MIX = {
    "use_or_consume": 50,
    "build_intent_advisor": 25,
    "usage_recognition": 15,
    "influenced_revenue": 10,
}
CLAIMS_PER_TENANT = 8

_LINE_STATUS = {
    ClaimStatus.APPROVED: LineStatus.APPROVED,
    ClaimStatus.REJECTED: LineStatus.REJECTED,
    ClaimStatus.DECLINED: LineStatus.DECLINED,
}
_FINAL_EVENT = {
    ClaimStatus.IN_REVIEW: (EventAction.START_REVIEW, ""),
    ClaimStatus.ACTION_REQUIRED: (EventAction.REQUEST_INFO, InfoRequestReason.DATES_MISSING),
    ClaimStatus.APPROVED: (EventAction.APPROVE, ""),
    ClaimStatus.PARTIALLY_APPROVED: (EventAction.APPROVE, ""),
    ClaimStatus.REJECTED: (EventAction.REJECT, RejectionReason.INSUFFICIENT_POE),
    ClaimStatus.WITHDRAWN: (EventAction.WITHDRAW, ""),
    ClaimStatus.DECLINED: (EventAction.DECLINE, RejectionReason.CUSTOMER_DECLINED),
}
_DECIDED = {
    ClaimStatus.APPROVED,
    ClaimStatus.PARTIALLY_APPROVED,
    ClaimStatus.REJECTED,
    ClaimStatus.DECLINED,
}
_REVIEWED = _DECIDED | {ClaimStatus.IN_REVIEW, ClaimStatus.ACTION_REQUIRED, ClaimStatus.DISPUTED}

_WORDS = (
    *("Atlantic", "Blue", "Coral", "Delta", "Evergreen", "Granite", "Harbor", "Iberia"),
    *("Juniper", "Lumen", "Meridian", "Nova", "Orchard", "Pioneer", "Quartz", "Summit"),
)
_SECTORS = ("Retail", "Logistics", "Health", "Energy", "Foods", "Insurance", "Media", "Travel")


def _weighted(rng: random.Random, mix: Mapping[str, int], count: int) -> list[str]:
    return rng.choices(list(mix), weights=list(mix.values()), k=count)


def _shared_poe() -> tuple[str, int, str]:
    """One stored PDF that every generated proof points at."""
    content = pdf_bytes("Statement of work - generated demo claim")
    name = default_storage.save("poe/generated-demo.pdf", ContentFile(content))
    return name, len(content), hashlib.sha256(content).hexdigest()


def generate_claims(
    count: int,
    *,
    mix: Mapping[str, int] | None = None,
    roles: Mapping[str, int] | None = None,
    seed: int | None = None,
) -> Counter[str]:
    """Add ``count`` claims with lines, PoE, history and associations in bulk.

    Each claim gets units of its own (new tenants, new subscriptions), so approved ones
    never compete for a unit. Rows are written as drafts, lines added, then statuses
    set, because the database refuses lines for a claim that left draft. Returns the
    rows written per table. ``seed`` fixes the mix, not the tenant and subscription IDs,
    which are always new."""
    with transaction.atomic():
        return _generate(count, mix=mix or DEFAULT_MIX, roles=roles or ROLE_MIX, seed=seed)


def _generate(
    count: int, *, mix: Mapping[str, int], roles: Mapping[str, int], seed: int | None
) -> Counter[str]:
    rng = random.Random(seed)  # noqa: S311 (demo data, not security)
    cast = _ensure_cast()
    writer = _BulkWriter()
    now = timezone.now()
    today = timezone.localdate()
    role_by_code = {
        r.code: r for r in PartnerRole.objects.select_related("engagement").filter(code__in=roles)
    }
    workloads = list(
        Product.objects.filter(solution_area__code="modern_work_security", active=True).values_list(
            "pk", flat=True
        )
    )
    bizapps = list(
        Product.objects.filter(
            solution_area__code="business_applications", active=True
        ).values_list("pk", flat=True)
    )
    partners = []
    for spec, organisation in zip(ORGANISATIONS, cast.organisations, strict=True):
        locations = list(organisation.locations.values_list("pk", flat=True))
        partners.append((organisation.pk, locations, cast.partner(spec, "incentives")))
    reviewer_id = cast.reviewer.pk
    poe_name, poe_size, poe_sha = _shared_poe()

    statuses = _weighted(rng, mix, count)
    role_codes = _weighted(rng, roles, count)
    line_counts = [2 if s == ClaimStatus.PARTIALLY_APPROVED else 1 for s in statuses]

    # Customers: a tenant for every few claims, a subscription for each subscription line.
    tenant_count = -(-count // CLAIMS_PER_TENANT)
    tenant_ids = writer.ids(Tenant, tenant_count)
    tenant_rows, domain_rows, contact_rows, domains = [], [], [], []
    for tenant_pk in tenant_ids:
        guid = uuid.uuid4()
        name = f"{rng.choice(_WORDS)} {rng.choice(_SECTORS)} {guid.hex[:4].upper()}"
        domain = f"{name.split()[0].lower()}-{guid.hex[:12]}.example"
        domains.append(domain)
        tenant_rows.append((tenant_pk, guid, name, "PT", "en", now))
    for tenant_pk, domain in zip(tenant_ids, domains, strict=True):
        domain_rows.append((tenant_pk, domain, True))
        contact_rows.append((tenant_pk, "IT administrator", f"it-admin@{domain}", "en"))
    writer.insert(
        Tenant, ("id", "tenant_id", "name", "country", "language", "created_at"), tenant_rows
    )
    writer.insert(TenantDomain, ("tenant_id", "domain", "verified"), domain_rows)
    writer.insert(TenantAdminContact, ("tenant_id", "name", "email", "language"), contact_rows)

    subscription_lines = sum(
        n
        for n, code in zip(line_counts, role_codes, strict=True)
        if role_by_code[code].engagement.claim_unit == "subscription"
    )
    subscription_ids = iter(writer.ids(Subscription, subscription_lines))
    claim_ids = writer.ids(Claim, count)
    line_ids = iter(writer.ids(ClaimLine, sum(line_counts)))
    approved_lines = sum(
        1 for s in statuses if s in (ClaimStatus.APPROVED, ClaimStatus.PARTIALLY_APPROVED)
    )
    association_ids = iter(writer.ids(Association, approved_lines))

    subscription_rows, claim_rows, line_rows, proof_rows = [], [], [], []
    event_rows, association_rows = [], []
    by_status: dict[str, list[int]] = {}
    tenant_index = -1
    free_workloads: list[int] = []
    for i, (claim_pk, status, code, n_lines) in enumerate(
        zip(claim_ids, statuses, role_codes, line_counts, strict=True)
    ):
        if i % CLAIMS_PER_TENANT == 0:
            tenant_index += 1
            free_workloads = rng.sample(workloads, len(workloads))
        tenant_pk = tenant_ids[tenant_index]
        domain = domains[tenant_index]
        tenant_name = tenant_rows[tenant_index][2]
        organisation_pk, locations, author = partners[i % len(partners)]
        role = role_by_code[code]
        revenue = role.engagement.requires_revenue_details

        # When things happened: decided claims long enough ago to have been reviewed.
        if status == ClaimStatus.DRAFT:
            created = now - datetime.timedelta(days=rng.uniform(0, 60))
        elif status == ClaimStatus.EXPIRED:
            created = now - datetime.timedelta(days=rng.uniform(100, 360))
        else:
            created = now - datetime.timedelta(days=rng.uniform(15, 360))
        submitted = created + datetime.timedelta(days=rng.uniform(0.1, 3))
        reviewed = submitted + datetime.timedelta(days=rng.uniform(0.5, 4))
        decided = reviewed + datetime.timedelta(days=rng.uniform(0.5, 6))
        if status in _DECIDED and rng.random() < 0.1:
            # Some decisions are fresh: their associations are still in the notice period.
            decided = now - datetime.timedelta(days=rng.uniform(0, 6))
            reviewed = min(reviewed, decided)
        is_draft = status in (ClaimStatus.DRAFT, ClaimStatus.EXPIRED)
        expired_at = created + datetime.timedelta(days=91)
        updated = (
            created
            if status == ClaimStatus.DRAFT
            else expired_at
            if status == ClaimStatus.EXPIRED
            else decided
            if status in _DECIDED or status == ClaimStatus.DISPUTED
            else reviewed
            if status in _REVIEWED
            else submitted
        )
        by_status.setdefault(status, []).append(claim_pk)
        claim_rows.append(
            (
                claim_pk,
                organisation_pk,
                locations[i % len(locations)],
                role.pk,
                tenant_pk,
                f"{role.name} · {tenant_name} #{claim_pk}",
                False,
                "IT administrator",
                "IT director",
                f"it-admin@{domain}",
                author.get_full_name(),
                author.email,
                "Marta Dias" if revenue else "",
                tenant_name if revenue else "",
                "FieldPro 365" if revenue else "",
                "",
                author.pk,
                created,
                updated,
                None if is_draft else submitted,
                decided if status in _DECIDED else None,
                reviewer_id if status in _REVIEWED else None,
                now + datetime.timedelta(days=3) if status == ClaimStatus.ACTION_REQUIRED else None,
                ClaimStatus.DRAFT,
            )
        )

        line_status = _LINE_STATUS.get(status, LineStatus.PENDING)
        for n in range(n_lines):
            line_pk = next(line_ids)
            if status == ClaimStatus.PARTIALLY_APPROVED:
                line_status = LineStatus.APPROVED if n == 0 else LineStatus.REJECTED
            if role.engagement.claim_unit == "subscription":
                product = rng.choice(bizapps)
                subscription_pk = next(subscription_ids)
                start = today - datetime.timedelta(days=rng.randint(370, 700))
                subscription_rows.append(
                    (
                        subscription_pk,
                        uuid.uuid4(),
                        tenant_pk,
                        product,
                        rng.choice((VL, WD)),
                        rng.randint(10, 500),
                        start,
                        today + datetime.timedelta(days=rng.randint(30, 700)),
                    )
                )
            else:
                product, subscription_pk = free_workloads.pop(), None
            line_rows.append((line_pk, claim_pk, product, subscription_pk, line_status))
            if line_status == LineStatus.APPROVED:
                association_rows.append(
                    _association(
                        rng,
                        next(association_ids),
                        claim_pk,
                        line_pk,
                        organisation_pk,
                        tenant_pk,
                        product,
                        subscription_pk,
                        decided,
                        now,
                        author.pk,
                        event_rows,
                    )
                )

        if not is_draft:
            signed = (created - datetime.timedelta(days=rng.randint(1, 60))).date()
            proof_rows.append(
                (
                    claim_pk,
                    poe_name,
                    "statement-of-work.pdf",
                    "application/pdf",
                    poe_size,
                    poe_sha,
                    PoEType.STATEMENT_OF_WORK,
                    signed,
                    "IT administrator",
                    "",
                    author.pk,
                    created,
                )
            )
        event_rows.append(_event(claim_pk, EventAction.CREATE, "", "draft", author.pk, created))
        if status == ClaimStatus.EXPIRED:
            event_rows.append(_event(claim_pk, EventAction.EXPIRE, "draft", status, None, updated))
        elif not is_draft:
            event_rows.append(
                _event(claim_pk, EventAction.SUBMIT, "draft", "submitted", author.pk, submitted)
            )
        if status in _FINAL_EVENT:
            action, reason = _FINAL_EVENT[status]
            actor = author.pk if status == ClaimStatus.WITHDRAWN else reviewer_id
            if status == ClaimStatus.DECLINED:
                actor = None
            at = (
                reviewed
                if status in (ClaimStatus.IN_REVIEW, ClaimStatus.ACTION_REQUIRED)
                else decided
            )
            event_rows.append(_event(claim_pk, action, "submitted", status, actor, at, reason))
        elif status == ClaimStatus.DISPUTED:
            event_rows.append(
                _event(
                    claim_pk,
                    EventAction.REJECT,
                    "submitted",
                    "rejected",
                    reviewer_id,
                    reviewed,
                    RejectionReason.INSUFFICIENT_POE,
                )
            )
            event_rows.append(
                _event(claim_pk, EventAction.DISPUTE, "rejected", status, author.pk, decided)
            )

    writer.insert(
        Subscription,
        (
            "id",
            "subscription_id",
            "tenant_id",
            "product_id",
            "purchase_channel",
            "seats",
            "starts_on",
            "ends_on",
        ),
        subscription_rows,
    )
    writer.insert(Claim, _CLAIM_FIELDS, claim_rows)  # every claim starts as a draft
    writer.insert(
        ClaimLine, ("id", "claim_id", "product_id", "subscription_id", "status"), line_rows
    )
    writer.insert(ProofOfExecution, _PROOF_FIELDS, proof_rows)
    chunk = 5000 if writer.postgres else 500
    for status, pks in by_status.items():
        if status == ClaimStatus.DRAFT:
            continue
        for start in range(0, len(pks), chunk):
            Claim.objects.filter(pk__in=pks[start : start + chunk]).update(status=status)
    writer.insert(Association, _ASSOCIATION_FIELDS, association_rows)
    writer.insert(ClaimEvent, _EVENT_FIELDS, event_rows)
    # Generated history tells nobody: the e-mail and webhook consumers start after it.
    consumers.skip_to_head()
    return writer.counts


def _event(
    claim_pk: int,
    action: str,
    from_status: str,
    to_status: str,
    actor_pk: int | None,
    at: datetime.datetime,
    reason: str = "",
    association_pk: int | None = None,
) -> tuple:
    customer = action == EventAction.DECLINE or reason == EndReason.DECLINED_BY_CUSTOMER
    label = "" if actor_pk else ("customer" if customer else "system")
    return (
        claim_pk,
        association_pk,
        action,
        from_status,
        to_status,
        reason,
        "",
        False,
        actor_pk,
        label,
        at,
    )


_ENDINGS = (
    (EndReason.WITHDRAWN, "The engagement finished."),
    (EndReason.DECLINED_BY_CUSTOMER, "We work with another partner now."),
    (EndReason.REVOKED, "Revoked after an audit."),
)


def _association(
    rng: random.Random,
    pk: int,
    claim_pk: int,
    line_pk: int,
    organisation_pk: int,
    tenant_pk: int,
    product_pk: int,
    subscription_pk: int | None,
    approved: datetime.datetime,
    now: datetime.datetime,
    partner_pk: int,
    events: list[tuple],
) -> tuple:
    notice_ends = approved + datetime.timedelta(days=7)
    status, end_reason, end_message, activated, ended = (
        AssociationStatus.PENDING_CUSTOMER,
        "",
        "",
        None,
        None,
    )
    if notice_ends <= now:
        status, activated = AssociationStatus.ACTIVE, notice_ends
        events.append(
            _event(
                claim_pk,
                EventAction.ACTIVATE,
                "pending_customer",
                status,
                None,
                activated,
                association_pk=pk,
            )
        )
        if rng.random() < 0.12:
            end_reason, end_message = rng.choice(_ENDINGS)
            ended = activated + (now - activated) * rng.random()
            actor = partner_pk if end_reason == EndReason.WITHDRAWN else None
            events.append(
                _event(
                    claim_pk,
                    EventAction.END,
                    status,
                    AssociationStatus.ENDED,
                    actor,
                    ended,
                    end_reason,
                    association_pk=pk,
                )
            )
            status = AssociationStatus.ENDED
    return (
        pk,
        claim_pk,
        line_pk,
        organisation_pk,
        tenant_pk,
        product_pk,
        subscription_pk,
        status,
        end_reason,
        end_message,
        None,
        approved,
        notice_ends,
        activated,
        ended,
        "",
    )


def held_units_with_two_holders() -> list[tuple]:
    """Units with more than one held association: always empty (the invariant)."""
    held = Association.objects.filter(status__in=HELD_STATUSES)
    workloads = (
        held.filter(subscription__isnull=True)
        .values("tenant_id", "product_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    subscriptions = (
        held.filter(subscription__isnull=False)
        .values("subscription_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    return [tuple(row.values()) for row in workloads] + [
        tuple(row.values()) for row in subscriptions
    ]


def describe(counts: Mapping[str, int] | Iterable[tuple[str, int]]) -> list[str]:
    items = counts.items() if isinstance(counts, Mapping) else counts
    return [f"{label:<40} {value:>9,}" for label, value in items]
