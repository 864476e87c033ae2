"""Demo data for ``manage.py seed_demo``.

Two parts. ``seed_demo`` tells a small story through the claim services, so every claim
status, every association state and their history are real. ``generate_claims`` adds
volume for load tests and benchmarks: plain bulk writes (COPY on PostgreSQL), each
generated claim on a unit of its own so the one-holder-per-unit invariant holds.
"""

import datetime
import hashlib
import random
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models, transaction
from django.db.models import Count
from django.utils import timezone

from cpor.accounts.models import OperatorRole, User
from cpor.catalog.models import PartnerRole, Product, ProgramSettings, PurchaseChannel
from cpor.claims import services
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
from cpor.consent.models import CustomerAdmin
from cpor.customers.models import Subscription, Tenant, TenantAdminContact, TenantDomain
from cpor.notifications import consumers
from cpor.partners.models import Membership, PartnerLocation, PartnerOrganisation, PartnerRoleName

DEMO_PASSWORD = "cpor-demo-2026"  # noqa: S105 (every demo user signs in with it)

# Fixed namespace: demo tenants and subscriptions get the same IDs on every machine.
_NAMESPACE = uuid.UUID("6f1c3b9e-2a43-4c55-9d0e-3cf0a1b2c3d4")

OPERATOR_DOMAIN = "cpor.example"
CUSTOMER_ADMIN_EMAIL = "it-admin@contoso-retail.example"


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    domain: str
    locations: tuple[tuple[str, str, str], ...]  # PartnerID, name, country


ORGANISATIONS = (
    DemoOrganisation(
        "Lisbon Cloud Partners",
        "lisbon-cloud.example",
        (("5100101", "Lisbon headquarters", "PT"), ("5100102", "Porto office", "PT")),
    ),
    DemoOrganisation(
        "Northwind Advisory",
        "northwind-advisory.example",
        (("5200201", "Seattle", "US"), ("5200202", "London", "GB")),
    ),
)

# mailbox, role, first name, last name
PARTNER_USERS = (
    ("admin", PartnerRoleName.PARTNER_ADMIN, "Inês", "Moreira"),
    ("incentives", PartnerRoleName.INCENTIVES_ADMIN, "Rui", "Costa"),
    ("viewer", PartnerRoleName.INCENTIVES_USER, "Sofia", "Lopes"),
)
OPERATOR_USERS = (
    ("reviewer", OperatorRole.REVIEWER, "Maria", "Reviewer", False),
    ("programadmin", OperatorRole.PROGRAM_ADMIN, "Paulo", "Admin", True),
)

VL = PurchaseChannel.VOLUME_LICENSING
WD = PurchaseChannel.WEB_DIRECT
CSP = PurchaseChannel.CSP


@dataclass(frozen=True)
class DemoTenant:
    key: str
    name: str
    country: str
    verified: tuple[str, ...]
    unverified: tuple[str, ...]
    admins: tuple[tuple[str, str], ...]
    # key, product code, channel, starts (days from today), ends (days from today), predecessor
    subscriptions: tuple[tuple[str, str, str, int, int, str | None], ...]


TENANTS = (
    DemoTenant(
        "contoso",
        "Contoso Retail",
        "PT",
        ("contoso-retail.example",),
        ("contoso-shop.example",),
        (("Joana Pereira", "it-admin@contoso-retail.example"),),
        (
            ("contoso-sales", "d365_sales", VL, -200, 165, None),
            ("contoso-service", "d365_customer_service", WD, -90, 275, None),
            ("contoso-powerapps", "power_apps", CSP, -30, 335, None),
            ("contoso-teams", "teams", CSP, -300, 65, None),
            ("contoso-exchange", "exchange_online", CSP, -300, 65, None),
            ("contoso-intune", "intune", CSP, -120, 245, None),
        ),
    ),
    DemoTenant(
        "fabrikam",
        "Fabrikam Manufacturing",
        "DE",
        ("fabrikam.example", "fabrikam-mfg.example"),
        (),
        (
            ("Jonas Becker", "admin@fabrikam.example"),
            ("Lena Vogel", "licensing@fabrikam.example"),
        ),
        (
            ("fabrikam-finance", "d365_finance", VL, -400, 330, None),
            ("fabrikam-scm", "d365_supply_chain", WD, -60, 305, None),
            # Ends during the story; the renewal below carries its association over.
            ("fabrikam-field-2025", "d365_field_service", VL, -350, 15, None),
            ("fabrikam-field-2026", "d365_field_service", VL, 0, 365, "fabrikam-field-2025"),
        ),
    ),
    DemoTenant(
        "adatum",
        "Adatum Health",
        "US",
        ("adatum-health.example",),
        ("adatum-old.example",),
        (("Chris Green", "cloud-admin@adatum-health.example"),),
        (
            ("adatum-bc", "d365_business_central", WD, -45, 320, None),
            ("adatum-automate", "power_automate", VL, -150, 215, None),
            ("adatum-copilot-studio", "copilot_studio", CSP, -20, 345, None),
            ("adatum-defender-endpoint", "defender_endpoint", CSP, -100, 265, None),
            ("adatum-defender-o365", "defender_office365", CSP, -100, 265, None),
        ),
    ),
    DemoTenant(
        "tailspin",
        "Tailspin Logistics",
        "GB",
        ("tailspin-logistics.example",),
        (),
        (("Amelia Hughes", "m365-admin@tailspin-logistics.example"),),
        (
            # Ends during the story with no renewal: its association expires.
            ("tailspin-sales", "d365_sales", VL, -360, 10, None),
            ("tailspin-pages", "power_pages", WD, -30, 335, None),
        ),
    ),
    DemoTenant(
        "woodgrove",
        "Woodgrove Bank",
        "PT",
        ("woodgrove.example",),
        ("woodgrove-legacy.example",),
        (
            ("Tiago Fernandes", "ti@woodgrove.example"),
            ("Carla Nunes", "seguranca@woodgrove.example"),
        ),
        (
            ("woodgrove-service", "d365_customer_service", VL, -10, 355, None),
            ("woodgrove-purview", "purview", CSP, -200, 165, None),
            ("woodgrove-exchange", "exchange_online", CSP, -500, 230, None),
        ),
    ),
    DemoTenant(
        "alpine",
        "Alpine Ski House",
        "CH",
        ("alpineskihouse.example",),
        ("alpine-ski.example",),
        (("Nina Keller", "admin@alpineskihouse.example"),),
        (
            ("alpine-field", "d365_field_service", WD, -15, 350, None),
            ("alpine-powerapps", "power_apps", CSP, -70, 295, None),
            ("alpine-teams-phone", "teams_phone", CSP, -80, 285, None),
        ),
    ),
)


def _demo_uuid(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{kind}:{key}")


def pdf_bytes(title: str) -> bytes:
    """A small valid one-page PDF saying ``title``."""
    text = title.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    text = text.replace(b"\\", b"/")
    stream = b"BT /F1 14 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def poe_upload(title: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "statement-of-work.pdf", pdf_bytes(title), content_type="application/pdf"
    )


# ---------------------------------------------------------------------------
# People, organisations and customers (get-or-create: safe to run again)


@dataclass
class DemoCast:
    organisations: list[PartnerOrganisation]
    users: dict[str, User]  # by e-mail
    tenants: dict[str, Tenant]  # by key
    subscriptions: dict[str, Subscription]  # by key

    def partner(self, organisation: DemoOrganisation, mailbox: str) -> User:
        return self.users[f"{mailbox}@{organisation.domain}"]

    @property
    def reviewer(self) -> User:
        return self.users[f"reviewer@{OPERATOR_DOMAIN}"]

    @property
    def program_admin(self) -> User:
        return self.users[f"programadmin@{OPERATOR_DOMAIN}"]


def _user(email: str, first: str, last: str, password: str, **extra) -> User:
    user, _created = User.objects.get_or_create(
        username=email,
        defaults={
            "email": email,
            "first_name": first,
            "last_name": last,
            "password": password,
            **extra,
        },
    )
    return user


def _ensure_cast() -> DemoCast:
    # One hash for all: hashing eleven times would dominate a plain seed.
    password = make_password(DEMO_PASSWORD)
    users: dict[str, User] = {}
    organisations = []
    for spec in ORGANISATIONS:
        organisation, _created = PartnerOrganisation.objects.get_or_create(name=spec.name)
        organisations.append(organisation)
        for partner_id, name, country in spec.locations:
            PartnerLocation.objects.get_or_create(
                partner_id=partner_id,
                defaults={"organisation": organisation, "name": name, "country": country},
            )
        for mailbox, role, first, last in PARTNER_USERS:
            user = _user(f"{mailbox}@{spec.domain}", first, last, password)
            Membership.objects.get_or_create(
                user=user, defaults={"organisation": organisation, "role": role}
            )
            users[user.email] = user
    for mailbox, role, first, last, staff in OPERATOR_USERS:
        user = _user(
            f"{mailbox}@{OPERATOR_DOMAIN}",
            first,
            last,
            password,
            operator_role=role,
            is_staff=staff,
        )
        users[user.email] = user

    today = timezone.localdate()
    products = {p.code: p for p in Product.objects.all()}
    tenants: dict[str, Tenant] = {}
    subscriptions: dict[str, Subscription] = {}
    for spec in TENANTS:
        tenant, _created = Tenant.objects.get_or_create(
            tenant_id=_demo_uuid("tenant", spec.key),
            defaults={"name": spec.name, "country": spec.country},
        )
        tenants[spec.key] = tenant
        for domain, verified in [(d, True) for d in spec.verified] + [
            (d, False) for d in spec.unverified
        ]:
            TenantDomain.objects.get_or_create(
                domain=domain, defaults={"tenant": tenant, "verified": verified}
            )
        for name, email in spec.admins:
            TenantAdminContact.objects.get_or_create(
                tenant=tenant, email=email, defaults={"name": name}
            )
        for key, code, channel, starts, ends, predecessor in spec.subscriptions:
            subscriptions[key], _created = Subscription.objects.get_or_create(
                subscription_id=_demo_uuid("subscription", key),
                defaults={
                    "tenant": tenant,
                    "product": products[code],
                    "purchase_channel": channel,
                    "seats": 25 + 5 * len(key),
                    "starts_on": today + datetime.timedelta(days=starts),
                    "ends_on": today + datetime.timedelta(days=ends),
                    "predecessor": subscriptions[predecessor] if predecessor else None,
                },
            )
    # Contoso's IT admin signs in to the customer view (and gets the request e-mails).
    customer = _user(CUSTOMER_ADMIN_EMAIL, "Joana", "Pereira", password)
    CustomerAdmin.objects.get_or_create(user=customer, defaults={"tenant": tenants["contoso"]})
    users[customer.email] = customer
    return DemoCast(organisations, users, tenants, subscriptions)


# ---------------------------------------------------------------------------
# The story: claims in every status, associations in every state


class _Story:
    def __init__(self, cast: DemoCast) -> None:
        self.cast = cast
        self.lisbon = cast.partner(ORGANISATIONS[0], "incentives")
        self.lisbon_admin = cast.partner(ORGANISATIONS[0], "admin")
        self.northwind = cast.partner(ORGANISATIONS[1], "incentives")
        self.reviewer = cast.reviewer
        self.today = timezone.localdate()

    def draft(
        self,
        actor: User,
        tenant_key: str,
        name: str,
        *,
        role: str = "use_or_consume",
        products: Sequence[str] = (),
        subscriptions: Sequence[str] = (),
        poe_days_ago: int | None = 12,
        location: int = 0,
    ) -> Claim:
        tenant = self.cast.tenants[tenant_key]
        spec = next(t for t in TENANTS if t.key == tenant_key)
        contact_name, contact_email = spec.admins[0]
        organisation = actor.partner_membership.organisation
        data = services.ClaimInput(
            role=role,
            partner_id=organisation.locations.order_by("partner_id")[location].partner_id,
            tenant_id=str(tenant.tenant_id),
            name=name,
            customer_contact_name=contact_name,
            customer_contact_title="IT director",
            customer_contact_email=contact_email,
            partner_contact_name=actor.get_full_name(),
            partner_contact_email=actor.email,
            products=list(products),
            subscription_ids=[
                str(self.cast.subscriptions[key].subscription_id) for key in subscriptions
            ],
        )
        if role == "influenced_revenue":
            data.seller_name = "Marta Dias"
            data.customer_name = tenant.name
            data.isv_solution_name = "FieldPro 365"
        claim = services.claim_create(actor=actor, data=data)
        if poe_days_ago is not None:
            services.poe_add(
                actor=actor,
                claim=claim,
                file=poe_upload(f"Statement of work - {name}"),
                poe_type=PoEType.STATEMENT_OF_WORK,
                signed_on=self.today - datetime.timedelta(days=poe_days_ago),
                signatory=f"{contact_name}, IT director",
                description="Signed statement of work describing the deployment services.",
            )
        return claim

    def submitted(self, actor: User, tenant_key: str, name: str, **kwargs) -> Claim:
        claim = self.draft(actor, tenant_key, name, **kwargs)
        return services.claim_submit(
            actor=actor, claim=claim, confirmed=True, comments="Workshops delivered on site."
        )

    def approved(
        self, actor: User, tenant_key: str, name: str, *, lines: int | None = None, **kwargs
    ) -> Claim:
        claim = self.submitted(actor, tenant_key, name, **kwargs)
        claim = services.claim_start_review(actor=self.reviewer, claim=claim)
        line_ids = None if lines is None else list(claim.lines.values_list("pk", flat=True))[:lines]
        return services.claim_approve(
            actor=self.reviewer, claim=claim, line_ids=line_ids, message="PoE checks out."
        )

    def tell(self) -> None:
        lisbon, northwind, reviewer = self.lisbon, self.northwind, self.reviewer

        # Approved, then official once the customer's notice period passed.
        teams = self.approved(
            lisbon,
            "contoso",
            "Contoso: Teams and Exchange adoption",
            products=["teams", "exchange_online"],
        )
        self.submitted(
            lisbon,
            "contoso",
            "Contoso: Dynamics 365 Sales advisory",
            role="build_intent_advisor",
            subscriptions=["contoso-sales"],
        )
        in_review = self.submitted(
            lisbon,
            "contoso",
            "Contoso: Customer Service usage",
            role="usage_recognition",
            subscriptions=["contoso-service"],
            location=1,
        )
        services.claim_start_review(actor=reviewer, claim=in_review)
        self.draft(lisbon, "contoso", "Contoso: Intune rollout", products=["intune"])
        stale = self.draft(
            lisbon,
            "contoso",
            "Contoso: Copilot pilot",
            products=["m365_copilot"],
            poe_days_ago=None,
        )

        asked = self.submitted(
            lisbon,
            "adatum",
            "Adatum: Business Central presales",
            role="build_intent_advisor",
            subscriptions=["adatum-bc"],
        )
        asked = services.claim_start_review(actor=reviewer, claim=asked)
        services.claim_request_info(
            actor=reviewer,
            claim=asked,
            reason_code=InfoRequestReason.CUSTOMER_SIGNATURE_MISSING,
            message="The statement of work is not signed by the customer. Please add it.",
        )
        self.approved(
            lisbon,
            "adatum",
            "Adatum: Defender for Endpoint and Office 365",
            products=["defender_endpoint", "defender_office365"],
            lines=1,
        )
        rejected = self.submitted(
            lisbon,
            "adatum",
            "Adatum: Power Automate usage",
            role="usage_recognition",
            subscriptions=["adatum-automate"],
        )
        services.claim_reject(
            actor=reviewer,
            claim=rejected,
            reason_code=RejectionReason.INSUFFICIENT_POE,
            message="The PoE describes a licence sale, not adoption work.",
        )
        disputed = self.submitted(lisbon, "woodgrove", "Woodgrove: Purview", products=["purview"])
        services.claim_reject(
            actor=reviewer, claim=disputed, reason_code=RejectionReason.NO_CUSTOMER_CONSENT
        )
        services.claim_dispute(
            actor=lisbon,
            claim=disputed,
            justification="The customer's consent is on page 3 of the statement of work.",
        )
        withdrawn = self.submitted(
            lisbon,
            "woodgrove",
            "Woodgrove: Customer Service revenue",
            role="influenced_revenue",
            subscriptions=["woodgrove-service"],
        )
        services.claim_withdraw(
            actor=lisbon, claim=withdrawn, message="Filed under the wrong role."
        )

        declined = self.submitted(
            northwind,
            "alpine",
            "Alpine: Field Service advisory",
            role="build_intent_advisor",
            subscriptions=["alpine-field"],
        )
        services.claim_decline_lines(
            claim=declined,
            actor_label="admin@alpineskihouse.example",
            reason="We did not work with this partner on Field Service.",
        )
        phone = self.approved(northwind, "alpine", "Alpine: Teams Phone", products=["teams_phone"])
        services.association_decline(
            association=phone.associations.get(),
            actor_label="admin@alpineskihouse.example",
            reason="Another partner runs our telephony.",
        )

        # Northwind's newer PoE wins Fabrikam's Finance subscription from Lisbon.
        self.approved(
            lisbon,
            "fabrikam",
            "Fabrikam: Finance advisory",
            role="build_intent_advisor",
            subscriptions=["fabrikam-finance"],
            poe_days_ago=300,
        )
        winner = self.approved(
            northwind,
            "fabrikam",
            "Fabrikam: Finance transformation",
            role="build_intent_advisor",
            subscriptions=["fabrikam-finance"],
            poe_days_ago=5,
        )
        pages = self.approved(
            northwind,
            "tailspin",
            "Tailspin: Power Pages portal",
            role="usage_recognition",
            subscriptions=["tailspin-pages"],
        )
        services.association_withdraw(
            actor=self.cast.partner(ORGANISATIONS[1], "admin"),
            association=pages.associations.get(),
            reason="The project was cancelled before go-live.",
        )
        self.approved(
            lisbon,
            "tailspin",
            "Tailspin: Sales advisory",
            role="build_intent_advisor",
            subscriptions=["tailspin-sales"],
        )
        field = self.approved(
            northwind,
            "fabrikam",
            "Fabrikam: Field Service usage",
            role="usage_recognition",
            subscriptions=["fabrikam-field-2025"],
        )
        exchange = self.approved(
            northwind,
            "woodgrove",
            "Woodgrove: Exchange Online migration",
            products=["exchange_online"],
        )
        services.association_revoke(
            actor=self.cast.program_admin,
            association=exchange.associations.get(),
            reason="The partner's PartnerID was found to belong to another company.",
        )

        # Time passes: these notice periods ran out ten days ago.
        now = timezone.now()
        official = Association.objects.filter(claim__in=[teams, winner, field])
        official.update(
            approved_at=now - datetime.timedelta(days=17),
            notice_ends_at=now - datetime.timedelta(days=10),
        )
        services.associations_activate_due(now=now)

        # Two subscriptions end: Fabrikam renewed Field Service, Tailspin did not renew Sales.
        Subscription.objects.filter(
            pk__in=[
                self.cast.subscriptions["fabrikam-field-2025"].pk,
                self.cast.subscriptions["tailspin-sales"].pk,
            ]
        ).update(ends_on=self.today - datetime.timedelta(days=1))
        services.associations_expire_ended_subscriptions(today=self.today)

        # A draft nobody touched for longer than the program allows.
        age = ProgramSettings.load().draft_expiry_days + 30
        Claim.objects.filter(pk=stale.pk).update(updated_at=now - datetime.timedelta(days=age))
        services.claims_expire_stale_drafts(now=now)


def seed_demo() -> bool:
    """Create the demo cast and story; returns False when the story was already told."""
    with transaction.atomic():
        cast = _ensure_cast()
        if Claim.objects.filter(organisation__in=cast.organisations).exists():
            return False
        _Story(cast).tell()
    return True


def summary() -> dict[str, int]:
    counts = {
        "partner organisations": PartnerOrganisation.objects.count(),
        "partner locations": PartnerLocation.objects.count(),
        "users": User.objects.count(),
        "tenants": Tenant.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "claims": Claim.objects.count(),
        "claim lines": ClaimLine.objects.count(),
        "proofs of execution": ProofOfExecution.objects.count(),
        "history events": ClaimEvent.objects.count(),
        "associations": Association.objects.count(),
    }
    for row in Claim.objects.values("status").annotate(n=Count("pk")).order_by("status"):
        counts[f"claims {row['status']}"] = row["n"]
    associations = Association.objects.values("status", "end_reason").annotate(n=Count("pk"))
    for row in associations.order_by("status", "end_reason"):
        label = row["status"] + (f" ({row['end_reason']})" if row["end_reason"] else "")
        counts[f"associations {label}"] = row["n"]
    return counts


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


class _BulkWriter:
    """Inserts rows with ids chosen up front: COPY on PostgreSQL, bulk_create elsewhere."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.counts: Counter[str] = Counter()

    def ids(self, model: type[models.Model], count: int) -> list[int]:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            table = connection.ops.quote_name(table)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))

    def insert(self, model: type[models.Model], fields: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        self.counts[model._meta.db_table] += len(rows)
        if not self.postgres:
            model.objects.bulk_create(
                [model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=500
            )
            return
        columns = ", ".join(
            connection.ops.quote_name(model._meta.get_field(name).column) for name in fields
        )
        sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


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


_CLAIM_FIELDS = (
    "id",
    "organisation_id",
    "location_id",
    "role_id",
    "tenant_id",
    "name",
    "incentive_opt_out",
    "customer_contact_name",
    "customer_contact_title",
    "customer_contact_email",
    "partner_contact_name",
    "partner_contact_email",
    "seller_name",
    "customer_name",
    "isv_solution_name",
    "comments",
    "created_by_id",
    "created_at",
    "updated_at",
    "submitted_at",
    "decided_at",
    "assigned_reviewer_id",
    "info_requested_until",
    "status",
)
_PROOF_FIELDS = (
    "claim_id",
    "file",
    "original_name",
    "content_type",
    "size",
    "sha256",
    "poe_type",
    "signed_on",
    "signatory",
    "description",
    "uploaded_by_id",
    "uploaded_at",
)
_EVENT_FIELDS = (
    "claim_id",
    "association_id",
    "action",
    "from_status",
    "to_status",
    "reason_code",
    "message",
    "internal",
    "actor_id",
    "actor_label",
    "at",
)
_ASSOCIATION_FIELDS = (
    "id",
    "claim_id",
    "line_id",
    "organisation_id",
    "tenant_id",
    "product_id",
    "subscription_id",
    "status",
    "end_reason",
    "end_message",
    "superseded_by_id",
    "approved_at",
    "notice_ends_at",
    "activated_at",
    "ended_at",
)


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
