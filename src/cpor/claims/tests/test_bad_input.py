"""Every service refuses bad input with an error naming the field and the rule,
and writes nothing."""

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cpor.catalog.models import ProgramSettings, PurchaseChannel
from cpor.claims import services
from cpor.claims.models import Claim, ClaimEvent, ClaimLine, ProofOfExecution
from cpor.errors import DomainError
from cpor.testing.factories import (
    SubscriptionFactory,
    TenantFactory,
    claim_input,
    docx_file,
    partner_user,
    pdf_file,
)

pytestmark = pytest.mark.django_db


def refused(partner, data, *, code, field):
    with pytest.raises(DomainError) as error:
        services.claim_create(actor=partner, data=data)
    assert (error.value.code, error.value.field) == (code, field), error.value.message
    assert not Claim.objects.exists()
    assert not ClaimLine.objects.exists()
    assert not ClaimEvent.objects.exists()
    return error.value


def test_role_from_the_other_solution_area(partner, tenant):
    refused(
        partner,
        claim_input(partner, tenant, role="use_or_consume", solution_area="business_applications"),
        code="role_wrong_solution_area",
        field="role",
    )


@pytest.mark.parametrize("program", ["csp", "Surface", "hosting", "managed_reseller"])
def test_out_of_scope_program_points_to_co_op_claims(partner, tenant, program):
    error = refused(
        partner,
        claim_input(partner, tenant, role=program),
        code="program_out_of_scope",
        field="role",
    )
    assert "co-op claims process" in error.message


def test_unknown_role(partner, tenant):
    refused(
        partner, claim_input(partner, tenant, role="reseller"), code="unknown_role", field="role"
    )


def test_unknown_tenant(partner, tenant):
    refused(
        partner,
        claim_input(partner, tenant, tenant_id="00000000-0000-4000-8000-000000000000"),
        code="unknown_tenant",
        field="tenant_id",
    )


@pytest.mark.parametrize("bad", ["contoso.onmicrosoft.com", "1234", "", "72f988bf-86f1-41af"])
def test_malformed_tenant_guid(partner, tenant, bad):
    refused(
        partner,
        claim_input(partner, tenant, tenant_id=bad),
        code="malformed_guid",
        field="tenant_id",
    )


def test_malformed_subscription_guid(partner, tenant):
    refused(
        partner,
        claim_input(partner, tenant, role="build_intent_advisor", subscription_ids=["nope"]),
        code="malformed_guid",
        field="subscription_ids",
    )


def test_subscription_of_another_tenant(partner, tenant):
    other = SubscriptionFactory(tenant=TenantFactory())
    refused(
        partner,
        claim_input(partner, tenant, role="build_intent_advisor", subscriptions=[other]),
        code="subscription_other_tenant",
        field="subscription_ids",
    )


def test_ended_subscription(partner, tenant):
    ended = SubscriptionFactory(
        tenant=tenant,
        starts_on=timezone.localdate() - datetime.timedelta(days=400),
        ends_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    refused(
        partner,
        claim_input(partner, tenant, role="usage_recognition", subscriptions=[ended]),
        code="subscription_ended",
        field="subscription_ids",
    )


@pytest.mark.parametrize(
    "role", ["build_intent_advisor", "usage_recognition", "influenced_revenue"]
)
def test_csp_subscription_for_a_business_applications_role(partner, tenant, role):
    csp = SubscriptionFactory(tenant=tenant, purchase_channel=PurchaseChannel.CSP)
    error = refused(
        partner,
        claim_input(partner, tenant, role=role, subscriptions=[csp]),
        code="channel_not_allowed",
        field="subscription_ids",
    )
    assert "Volume Licensing or Web Direct" in error.message


def test_workload_of_the_other_solution_area(partner, tenant):
    refused(
        partner,
        claim_input(partner, tenant, products=["teams", "d365_sales"]),
        code="product_wrong_solution_area",
        field="products",
    )


def test_unknown_workload(partner, tenant):
    refused(
        partner,
        claim_input(partner, tenant, products=["myspace"]),
        code="unknown_product",
        field="products",
    )


def test_no_workloads(partner, tenant):
    refused(
        partner,
        claim_input(partner, tenant, products=[]),
        code="products_required",
        field="products",
    )


def test_partner_id_of_another_organisation(partner, tenant):
    stranger = partner_user()
    foreign = stranger.partner_membership.organisation.locations.first().partner_id
    refused(
        partner,
        claim_input(partner, tenant, partner_id=foreign),
        code="partner_id_not_yours",
        field="partner_id",
    )


@pytest.mark.parametrize(
    "field",
    [
        "customer_contact_name",
        "customer_contact_title",
        "customer_contact_email",
        "partner_contact_name",
        "partner_contact_email",
        "name",
    ],
)
def test_every_contact_field_is_required(partner, tenant, field):
    refused(partner, claim_input(partner, tenant, **{field: "  "}), code="required", field=field)


@pytest.mark.parametrize("field", ["customer_contact_email", "partner_contact_email"])
@pytest.mark.parametrize("bad", ["ana", "ana@", "ana@@x.pt", "ana@x.pt\r\nBcc: evil@x.pt"])
def test_malformed_emails(partner, tenant, field, bad):
    refused(
        partner, claim_input(partner, tenant, **{field: bad}), code="invalid_email", field=field
    )


def test_header_injection_in_a_name(partner, tenant):
    refused(
        partner,
        claim_input(partner, tenant, customer_contact_name="Ana\r\nBcc: evil@example.com"),
        code="line_break",
        field="customer_contact_name",
    )


def test_business_applications_claim_without_subscriptions(partner, tenant):
    refused(
        partner,
        claim_input(partner, tenant, role="build_intent_advisor"),
        code="subscriptions_required",
        field="subscription_ids",
    )


@pytest.mark.parametrize("field", ["seller_name", "customer_name", "isv_solution_name"])
def test_revenue_only_claim_without_seller_customer_and_isv_names(partner, tenant, field):
    sub = SubscriptionFactory(tenant=tenant)
    refused(
        partner,
        claim_input(partner, tenant, role="influenced_revenue", subscriptions=[sub], **{field: ""}),
        code="required",
        field=field,
    )


def test_opt_out_only_for_modern_work(partner, tenant):
    sub = SubscriptionFactory(tenant=tenant)
    refused(
        partner,
        claim_input(
            partner,
            tenant,
            role="build_intent_advisor",
            subscriptions=[sub],
            incentive_opt_out=True,
        ),
        code="opt_out_not_allowed",
        field="incentive_opt_out",
    )


def test_every_problem_is_reported_at_once(partner, tenant):
    with pytest.raises(services.ValidationFailed) as error:
        services.claim_create(
            actor=partner,
            data=claim_input(
                partner,
                tenant,
                tenant_id="x",
                customer_contact_email="bad",
                partner_contact_name="",
            ),
        )
    assert {e.field for e in error.value.errors} == {
        "tenant_id",
        "customer_contact_email",
        "partner_contact_name",
    }


# --- PoE ---------------------------------------------------------------------


@pytest.fixture
def draft(partner, tenant):
    return services.claim_create(actor=partner, data=claim_input(partner, tenant))


def poe_refused(partner, draft, file, *, code, field="file", **kwargs):
    values = {
        "poe_type": "statement_of_work",
        "signed_on": timezone.localdate(),
        "signatory": "Ana Silva",
    }
    values.update(kwargs)
    with pytest.raises(DomainError) as error:
        services.poe_add(actor=partner, claim=draft, file=file, **values)
    assert (error.value.code, error.value.field) == (code, field)
    assert not ProofOfExecution.objects.exists()


def test_poe_over_the_size_limit(partner, draft):
    settings = ProgramSettings.load()
    settings.poe_max_bytes = 2048
    settings.save()
    poe_refused(partner, draft, pdf_file(body=b"x" * 4096), code="poe_too_large")


def test_empty_poe(partner, draft):
    poe_refused(partner, draft, SimpleUploadedFile("poe.pdf", b""), code="poe_empty")


def test_executable_renamed_pdf(partner, draft):
    poe_refused(
        partner,
        draft,
        SimpleUploadedFile("poe.pdf", b"MZ\x90\x00" + b"\x00" * 200),
        code="poe_type_not_accepted",
    )


def test_zip_that_is_not_a_docx(partner, draft):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", b"MZ")
    poe_refused(
        partner,
        draft,
        SimpleUploadedFile("poe.docx", buffer.getvalue()),
        code="poe_type_not_accepted",
    )


def test_zip_bomb_inside_a_docx(partner, draft):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/media/bomb.bin", b"\0" * (120 * 1024 * 1024))
    poe_refused(
        partner,
        draft,
        SimpleUploadedFile("poe.docx", buffer.getvalue()),
        code="poe_archive_too_large",
    )


def test_poe_dated_in_the_future(partner, draft):
    poe_refused(
        partner,
        draft,
        pdf_file(),
        code="poe_dated_in_future",
        field="signed_on",
        signed_on=timezone.localdate() + datetime.timedelta(days=1),
    )


def test_poe_of_unknown_type(partner, draft):
    poe_refused(
        partner, draft, pdf_file(), code="unknown_poe_type", field="poe_type", poe_type="napkin"
    )


def test_accepted_poe_is_stored_with_its_hash_and_real_type(partner, draft):
    import hashlib

    upload = docx_file(name="renamed.pdf")
    content = upload.read()
    proof = services.poe_add(
        actor=partner,
        claim=draft,
        file=upload,
        poe_type="statement_of_work",
        signed_on=timezone.localdate(),
        signatory="Ana Silva",
    )
    assert proof.content_type.endswith("wordprocessingml.document")
    assert proof.file.name.endswith(".docx")
    assert proof.sha256 == hashlib.sha256(content).hexdigest()
    assert proof.size == len(content)
