"""A customer declines from the link in an e-mail the SMTP server received; the
partner then sees the association ended."""

import pytest

from cpor.claims import services
from cpor.claims.models import AssociationStatus, EndReason
from cpor.consent.tests.helpers import decline_links_in
from cpor.notifications.tests.smtp import parts
from cpor.testing.browser import screenshot, sign_in
from cpor.testing.factories import customer_tenant, operator_user, partner_user, submitted_claim

pytestmark = pytest.mark.browser


def test_customer_declines_from_the_emailed_link_and_the_partner_sees_it_ended(
    page, live_server, smtp_server, settings
):
    settings.CPOR_BASE_URL = live_server.url
    partner = partner_user()
    tenant = customer_tenant()
    claim = submitted_claim(partner, tenant)
    services.claim_approve(actor=operator_user(), claim=claim)
    admin_email = tenant.admin_contacts.get().email

    (request_mail,) = smtp_server.to(admin_email)
    text, html = parts(request_mail)
    (link,) = decline_links_in(text)
    assert link in html and claim.organisation.name in text

    page.goto(link)
    assert page.get_by_role("heading", name="Partner of record request").is_visible()
    assert page.get_by_text(claim.location.partner_id).first.is_visible()
    # Nothing is chosen in advance, and the first click only asks.
    checkbox = page.get_by_role("checkbox")
    assert not checkbox.is_checked()
    checkbox.check()
    page.get_by_label("Reason (optional)").fill("We do not work with this partner.")
    screenshot(page, "customer-decline")
    page.get_by_role("button", name="Decline the chosen units").click()
    page.wait_for_load_state()
    heading = page.get_by_role("heading", name=f"Decline {claim.organisation.name}?")
    assert heading.is_visible()
    assert page.get_by_text("This cannot be undone").is_visible()
    assert claim.associations.get().is_held
    page.get_by_role("button", name="Yes, decline").click()
    page.wait_for_load_state()
    assert page.get_by_text("Done: you declined what you chose.").is_visible()

    association = claim.associations.get()
    assert association.status == AssociationStatus.ENDED
    assert association.end_reason == EndReason.DECLINED_BY_CUSTOMER
    told = [m for m in smtp_server.to(claim.partner_contact_email) if "declined" in m["Subject"]]
    assert told, [m["Subject"] for m in smtp_server.messages]

    page.context.clear_cookies()
    sign_in(page, live_server, partner)
    page.goto(f"{live_server.url}/claims/{claim.pk}/")
    assert page.get_by_text("Declined by the customer").first.is_visible()
    assert page.get_by_role("heading", name="Approved · declined by the customer").is_visible()
    assert page.get_by_text("Add newer PoE").count() == 0
