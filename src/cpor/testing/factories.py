"""factory_boy factories and small builders shared by the test suites."""

import datetime
import io
import uuid

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.utils import timezone

from cpor.accounts.models import OperatorRole, User
from cpor.catalog.models import PartnerRole, Product, PurchaseChannel
from cpor.claims import services
from cpor.claims.models import AssociationStatus, Claim, ClaimEvent, EventAction, PoEType
from cpor.customers.models import Subscription, Tenant, TenantAdminContact, TenantDomain
from cpor.partners.models import Membership, PartnerLocation, PartnerOrganisation, PartnerRoleName

PASSWORD = "correct-horse-battery-staple"


def enrol_second_factor(user: User) -> User:
    """Give the user an authenticator app (its secret on ``user.totp_secret``), as people
    whose role needs MFA have: the per-role rule (``CPOR_MFA_REQUIRED_ROLES``) then lets
    them in, and signing in through the form asks for the code (``browser.sign_in``)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        user.totp_secret = generate_totp_secret()
        TOTP.activate(user, user.totp_secret)
    return user


def _enrol_if_required(user: User, create: bool, extracted) -> None:
    """Post-generation hook: users whose role needs MFA are enrolled unless the test asks
    for an unenrolled one (``UserFactory(second_factor=False)``)."""
    from cpor.accounts.selectors import mfa_required

    if create and extracted is not False and mfa_required(user):
        enrol_second_factor(user)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)
    second_factor = factory.PostGeneration(_enrol_if_required)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerOrganisation

    name = factory.Sequence(lambda n: f"Partner {n} Consulting")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerLocation

    organisation = factory.SubFactory(OrganisationFactory)
    partner_id = factory.Sequence(lambda n: f"{4000000 + n}")
    name = factory.Sequence(lambda n: f"Location {n}")
    country = "PT"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = PartnerRoleName.INCENTIVES_ADMIN

    @factory.post_generation
    def second_factor(self, create, extracted, **kwargs):
        _enrol_if_required(self.user, create, extracted)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    tenant_id = factory.LazyFunction(uuid.uuid4)
    name = factory.Sequence(lambda n: f"Customer {n} Ltd")


class TenantDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantDomain

    tenant = factory.SubFactory(TenantFactory)
    domain = factory.Sequence(lambda n: f"customer{n}.example")
    verified = True


class AdminContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantAdminContact

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"admin{n}@customer.example")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    subscription_id = factory.LazyFunction(uuid.uuid4)
    tenant = factory.SubFactory(TenantFactory)
    product = factory.LazyFunction(lambda: Product.objects.get(code="d365_sales"))
    purchase_channel = PurchaseChannel.VOLUME_LICENSING
    seats = 50
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=100))
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=265))


def partner_user(role: str = PartnerRoleName.INCENTIVES_ADMIN, organisation=None) -> User:
    """A user of a partner organisation (a new one unless given) that has one location."""
    organisation = organisation or OrganisationFactory()
    if not organisation.locations.exists():
        LocationFactory(organisation=organisation)
    return MembershipFactory(organisation=organisation, role=role).user


def operator_user(role: str = OperatorRole.REVIEWER) -> User:
    return UserFactory(operator_role=role)


def customer_tenant(*, domain: str | None = None) -> Tenant:
    """A tenant with a verified domain, an admin contact and licences for every workload."""
    tenant = TenantFactory()
    TenantDomainFactory(tenant=tenant, domain=domain or f"t{tenant.pk}.example")
    AdminContactFactory(tenant=tenant)
    return tenant


def claim_input(
    actor: User,
    tenant: Tenant,
    *,
    role: str = "use_or_consume",
    products=("teams",),
    subscriptions=(),
    **overrides,
) -> services.ClaimInput:
    domain = tenant.domains.filter(verified=True).values_list("domain", flat=True).first()
    values = {
        "role": role,
        "partner_id": actor.partner_membership.organisation.locations.first().partner_id,
        "tenant_id": str(tenant.tenant_id),
        "name": f"Adoption programme for {tenant.name}",
        "customer_contact_name": "Ana Silva",
        "customer_contact_title": "CIO",
        "customer_contact_email": f"ana@{domain or 'customer.example'}",
        "partner_contact_name": "Rui Costa",
        "partner_contact_email": "rui@partner.example",
        "products": list(products),
        "subscription_ids": [str(s.subscription_id) for s in subscriptions],
    }
    if role == "influenced_revenue":
        values.update(
            seller_name="Marta Dias", customer_name=tenant.name, isv_solution_name="FieldPro 365"
        )
    values.update(overrides)
    return services.ClaimInput(**values)


def pdf_file(name: str = "poe.pdf", body: bytes = b"Statement of work") -> SimpleUploadedFile:
    content = b"%PDF-1.7\n" + body + b"\n%%EOF\n"
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def docx_file(name: str = "poe.docx") -> SimpleUploadedFile:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>Statement of work</w:document>")
    return SimpleUploadedFile(name, buffer.getvalue())


def add_poe(actor: User, claim: Claim, *, signed_on: datetime.date | None = None):
    return services.poe_add(
        actor=actor,
        claim=claim,
        file=pdf_file(),
        poe_type=PoEType.STATEMENT_OF_WORK,
        signed_on=signed_on or timezone.localdate() - datetime.timedelta(days=10),
        signatory="Ana Silva, CIO",
    )


def submitted_claim(
    actor: User | None = None,
    tenant: Tenant | None = None,
    *,
    signed_on: datetime.date | None = None,
    **input_overrides,
) -> Claim:
    """A claim created, given a PoE and submitted through the services."""
    actor = actor or partner_user()
    tenant = tenant or customer_tenant()
    claim = services.claim_create(actor=actor, data=claim_input(actor, tenant, **input_overrides))
    add_poe(actor, claim, signed_on=signed_on)
    return services.claim_submit(actor=actor, claim=claim, confirmed=True)


def role(code: str) -> PartnerRole:
    return PartnerRole.objects.select_related("engagement").get(code=code)


def active_associations(
    actor: User | None = None, tenant: Tenant | None = None, **input_overrides
) -> list:
    """A claim submitted, approved by a reviewer and made official at once: its
    associations, all ``active`` (one per line)."""
    claim = submitted_claim(actor, tenant, **input_overrides)
    services.claim_approve(actor=operator_user(), claim=claim)
    # As the activation job would at each notice period's end, for this claim only.
    pending = claim.associations.filter(status=AssociationStatus.PENDING_CUSTOMER)
    ClaimEvent.objects.bulk_create(
        ClaimEvent(
            claim=claim,
            association=association,
            action=EventAction.ACTIVATE,
            from_status=AssociationStatus.PENDING_CUSTOMER,
            to_status=AssociationStatus.ACTIVE,
            actor_label=services.SYSTEM,
            at=association.notice_ends_at,
        )
        for association in pending
    )
    pending.update(status=AssociationStatus.ACTIVE, activated_at=F("notice_ends_at"))
    return list(claim.associations.all())
