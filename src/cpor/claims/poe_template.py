"""The PoE template a partner downloads, pre-filled with the claim (SPEC §4).

Four sections: (1) the parties, (2) the customer's dated acknowledgment and signature,
(3) the activities performed and supporting documents, (4) the products or workloads by
activity. As a PDF (fpdf2) or a DOCX (a minimal WordprocessingML package, zipped).
"""

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from cpor.claims.models import Claim, ClaimLine

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def sections(claim: Claim, lines: Sequence[ClaimLine]) -> list[tuple[str, list[str]]]:
    """The template's text: a heading and its lines per section (pre-filled, or blanks)."""
    domain = claim.customer_contact_email.rpartition("@")[2]
    # The tenant's name only for a partner with a relationship (annotated by claim_list).
    tenant = claim.tenant.name if getattr(claim, "tenant_related", False) else ""
    customer = claim.customer_name or tenant or str(claim.tenant.tenant_id)
    blank = "______________________________"
    return [
        (
            _("1. Partner and customer"),
            [
                _("Partner company: %s") % claim.organisation.name,
                _("PartnerID: %s") % claim.location.partner_id,
                _("Customer company: %s") % customer,
                _("Customer domain: %s") % domain,
                _("Customer tenant ID: %s") % claim.tenant.tenant_id,
                _("Project name (optional): %s") % claim.name,
            ],
        ),
        (
            _("2. Customer acknowledgment"),
            [
                _(
                    "The customer acknowledges that %(partner)s performed the activities "
                    "below for %(customer)s and agrees to be associated with it as partner "
                    "of record for the products listed."
                )
                % {"partner": claim.organisation.name, "customer": customer},
                _("Name: %s") % claim.customer_contact_name,
                _("Title: %s") % claim.customer_contact_title,
                _("E-mail: %s") % claim.customer_contact_email,
                _("Date: %s") % blank,
                _("Signature: %s") % blank,
            ],
        ),
        (
            _("3. Activities performed and supporting documents"),
            [
                _("Partner role: %s") % claim.role.name,
                _("Activities performed: %s") % blank,
                _("Supporting documents (statement of work, reports): %s") % blank,
            ],
        ),
        (
            _("4. Products or workloads by activity"),
            [f"• {line}  —  {_('activity')}: {blank}" for line in lines]
            or [_("(no products chosen yet)")],
        ),
    ]


def _title(claim: Claim) -> str:
    return _("Proof of execution — %s") % claim.name


def pdf(claim: Claim, lines: Sequence[ClaimLine]) -> bytes:
    from fpdf import FPDF

    document = FPDF(format="A4")
    document.set_auto_page_break(auto=True, margin=15)
    document.add_page()
    if _FONT.exists() and _FONT_BOLD.exists():
        document.add_font("body", "", str(_FONT))
        document.add_font("body", "B", str(_FONT_BOLD))
        family, clean = "body", str
    else:  # core fonts know Latin-1 only
        family = "helvetica"

        def clean(text: str) -> str:
            text = text.replace("—", "-").replace("•", "-")
            return text.encode("latin-1", "replace").decode("latin-1")

    width = document.w - document.l_margin - document.r_margin
    document.set_font(family, "B", 15)
    document.multi_cell(width, 8, clean(_title(claim)))
    document.ln(3)
    for heading, body in sections(claim, lines):
        document.set_font(family, "B", 12)
        document.multi_cell(width, 7, clean(heading))
        document.set_font(family, "", 10)
        for text in body:
            document.multi_cell(width, 6, clean(text))
        document.ln(4)
    return bytes(document.output())


def _paragraph(text: str, *, bold: bool = False, size: int | None = None) -> str:
    props = ""
    if bold or size:
        props = "<w:rPr>" + ("<w:b/>" if bold else "")
        props += f'<w:sz w:val="{size * 2}"/>' if size else ""
        props += "</w:rPr>"
    return f'<w:p><w:r>{props}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'


def docx(claim: Claim, lines: Sequence[ClaimLine]) -> bytes:
    """A minimal but valid DOCX: content types, the package relationship, the document."""
    body = [_paragraph(_title(claim), bold=True, size=16)]
    for heading, texts in sections(claim, lines):
        body.append(_paragraph(heading, bold=True, size=13))
        body.extend(_paragraph(text) for text in texts)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{''.join(body)}<w:sectPr/></w:body></w:document>"
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        "</Types>"
    )
    relationships = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/>'
        "</Relationships>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", relationships)
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()
