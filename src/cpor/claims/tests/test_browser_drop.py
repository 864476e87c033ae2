"""A PoE file dropped onto the upload zone in a real browser (Debian's chromium)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cpor.claims import services
from cpor.partners.models import PartnerRoleName
from cpor.testing.browser import sign_in
from cpor.testing.factories import claim_input, customer_tenant, partner_user

pytestmark = pytest.mark.browser

# A File built in the page, in a DataTransfer as the operating system hands it over.
DATA_TRANSFER = """([name, body]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([body], name, { type: "application/pdf" }));
  return transfer;
}"""


def test_a_poe_dropped_on_the_zone_is_uploaded_to_the_claim(page, live_server):
    user = partner_user(PartnerRoleName.PARTNER_ADMIN)
    claim = services.claim_create(
        actor=user, data=claim_input(user, customer_tenant(), name="Contoso pilot")
    )
    sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/claims/{claim.pk}/")
    expect(page.get_by_text("No PoE yet.")).to_be_visible()

    zone = page.locator("[data-dropzone]")
    transfer = page.evaluate_handle(
        DATA_TRANSFER, ["dropped-sow.pdf", "%PDF-1.7\nSigned statement of work\n%%EOF\n"]
    )
    for event in ("dragenter", "dragover", "drop"):
        zone.dispatch_event(event, {"dataTransfer": transfer})
    # The dropped file is the one the form will send.
    assert page.get_by_label("PoE file").evaluate("input => input.files[0].name") == (
        "dropped-sow.pdf"
    )
    signed = timezone.localdate() - datetime.timedelta(days=2)
    page.get_by_label("Date signed by the customer").fill(signed.isoformat())
    page.get_by_label("Customer signatory").fill("Ana Silva, CIO")
    page.get_by_role("button", name="Upload PoE").click()

    expect(page.get_by_role("link", name="dropped-sow.pdf")).to_be_visible()
    expect(page.get_by_text("No PoE yet.")).to_have_count(0)
    assert [p.original_name for p in claim.proofs.all()] == ["dropped-sow.pdf"]
