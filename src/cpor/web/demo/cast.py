"""The demo's cast: people, organisations and customers, and their PoE files."""

import datetime
import uuid
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cpor.accounts.models import OperatorRole, User
from cpor.catalog.models import Product, PurchaseChannel
from cpor.consent.models import CustomerAdmin
from cpor.customers.models import Subscription, Tenant, TenantAdminContact, TenantDomain
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
            # Associated with Northwind before CPOR (a legacy association, imported).
            ("woodgrove-finance", "d365_finance", VL, -300, 65, None),
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
