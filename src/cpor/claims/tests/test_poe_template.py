"""The PoE template, pre-filled with the claim, in its four sections."""

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cpor.claims import poe_template, services
from cpor.testing.factories import claim_input
from cpor.testing.pdf_text import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(partner, tenant):
    data = claim_input(partner, tenant, name="Adoção do Teams — 東京 <pilot> & co")
    return services.claim_create(actor=partner, data=data)


def test_sections_carry_the_claims_details(claim):
    sections = poe_template.sections(claim, list(claim.lines.all()))
    assert [heading[:2] for heading, _lines in sections] == ["1.", "2.", "3.", "4."]
    text = "\n".join(line for _heading, lines in sections for line in lines)
    for expected in (
        claim.organisation.name,
        str(claim.tenant.tenant_id),
        claim.customer_contact_email.rpartition("@")[2],
        claim.customer_contact_name,
        "Microsoft Teams",
    ):
        assert expected in text


def test_pdf_is_made_whatever_the_characters(claim):
    body = poe_template.pdf(claim, list(claim.lines.all()))
    assert body.startswith(b"%PDF") and len(body) > 1000


def test_docx_is_a_valid_package_with_escaped_text(claim):
    body = poe_template.docx(claim, list(claim.lines.all()))
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert {"[Content_Types].xml", "_rels/.rels", "word/document.xml"} <= set(
            archive.namelist()
        )
        document = archive.read("word/document.xml").decode()
    assert "&lt;pilot&gt; &amp; co" in document and "<pilot>" not in document


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_the_filled_in_template_is_accepted_back_as_poe(partner, claim, kind):
    body = getattr(poe_template, kind)(claim, list(claim.lines.all()))
    proof = services.poe_add(
        actor=partner,
        claim=claim,
        file=SimpleUploadedFile(f"template.{kind}", body),
        poe_type="cpor_template",
        signed_on=timezone.localdate() - datetime.timedelta(days=1),
        signatory="Ana Silva",
    )
    assert proof.content_type.endswith(kind if kind == "pdf" else "document")


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        (
            "en",
            ("Proof of execution — ", "Partner company: ", "Customer company: ", "Date: "),
        ),
        (
            "pt-pt",
            ("Prova de execução — ", "Empresa parceira: ", "Empresa cliente: ", "Data: "),
        ),
    ],
)
def test_the_downloaded_pdf_reads_the_claims_parties_and_units(
    client, partner, tenant, language, labels
):
    claim = services.claim_create(
        actor=partner,
        data=claim_input(partner, tenant, name="Teams pilot"),
    )
    client.force_login(partner)
    client.cookies["django_language"] = language

    response = client.get(reverse("claims:poe_template", args=[claim.pk, "pdf"]))

    text = pdf_text(response.content)
    lines = text.splitlines()
    title, partner_line, customer_line, date_line = labels
    assert title + "Teams pilot" in lines
    assert partner_line + claim.organisation.name in lines
    assert f"PartnerID: {claim.location.partner_id}" in lines
    # Without a customer relationship the partner knows the customer by its tenant ID.
    assert customer_line + str(claim.tenant.tenant_id) in lines
    assert claim.customer_contact_name in text and claim.customer_contact_email in text
    for line in claim.lines.all():
        assert any(row.startswith(f"• {line}  —  ") for row in lines)
    # The customer dates the acknowledgment by hand: a labelled blank, in the language.
    assert any(row.startswith(date_line + "____") for row in lines)
