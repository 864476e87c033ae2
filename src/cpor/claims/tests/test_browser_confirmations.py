"""Withdrawing a claim and disassociating, in a browser with JavaScript off: the first
click shows what will happen and changes nothing; "Cancel" leaves; the confirm button
acts."""

import pytest

from cpor.claims import services
from cpor.claims.models import ClaimStatus
from cpor.testing.browser import sign_in
from cpor.testing.factories import operator_user, partner_user, submitted_claim

pytestmark = pytest.mark.browser


def test_withdraw_and_disassociate_ask_first_without_javascript(
    browser, live_server, seeded_catalog
):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="en-GB", java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        partner = partner_user()
        open_claim = submitted_claim(partner)
        approved = submitted_claim(partner, products=["intune"])
        services.claim_approve(actor=operator_user(), claim=approved)
        sign_in(page, live_server, partner)

        page.goto(f"{live_server.url}/claims/{open_claim.pk}/")
        page.get_by_text("Withdraw the claim").click()  # opens the <details>
        page.get_by_label("Why do you withdraw? (optional)").fill("Filed twice")
        page.get_by_role("button", name="Withdraw", exact=True).click()
        assert page.get_by_role("heading", name="Withdraw the claim").is_visible()
        assert page.get_by_text("Filed twice").is_visible()
        page.get_by_role("link", name="Cancel: change nothing").click()
        open_claim.refresh_from_db()
        assert open_claim.status == ClaimStatus.SUBMITTED
        assert page.url.endswith(f"/claims/{open_claim.pk}/")

        page.get_by_text("Withdraw the claim").click()
        page.get_by_role("button", name="Withdraw", exact=True).click()
        page.get_by_role("button", name="Yes, withdraw the claim").click()
        assert page.get_by_text("The claim was withdrawn.").is_visible()
        open_claim.refresh_from_db()
        assert open_claim.status == ClaimStatus.WITHDRAWN

        page.goto(f"{live_server.url}/claims/{approved.pk}/")
        page.locator("summary", has_text="Disassociate").click()
        page.get_by_label("Why do you disassociate?").fill("Contract ended")
        page.get_by_role("button", name="Disassociate", exact=True).click()
        assert page.get_by_role("heading", name="Disassociate from").is_visible()
        assert approved.associations.get().is_held
        page.get_by_role("button", name="Yes, disassociate").click()
        assert not approved.associations.get().is_held
        assert page.get_by_role("heading", name="Approved · disassociated").is_visible()
    finally:
        context.close()
