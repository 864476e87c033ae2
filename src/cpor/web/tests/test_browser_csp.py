"""The Content-Security-Policy in a real browser: the pages with the most script (the
wizard, the claim's drop zone and delete confirmation, the review screen's PDF preview,
the admin, the API reference, the mail log's e-mail preview) run without one violation."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cpor.claims import services
from cpor.notifications.models import OutboxMessage
from cpor.partners.models import PartnerRoleName
from cpor.testing.browser import sign_in
from cpor.testing.factories import (
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.browser


def watch(page) -> list[str]:
    """Console errors; the browser reports each refused script, style or frame as one."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def violations(errors: list[str]) -> list[str]:
    return [e for e in errors if "Content Security Policy" in e or "Refused to" in e]


def test_partner_pages_run_their_scripts_under_the_policy(page, live_server):
    errors = watch(page)
    user = partner_user(PartnerRoleName.PARTNER_ADMIN)
    claim = services.claim_create(
        actor=user, data=claim_input(user, customer_tenant(), name="Contoso pilot")
    )
    sign_in(page, live_server, user)
    page.goto(f"{live_server.url}{reverse('claims:new')}")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/claims/?status=draft")
    page.wait_for_load_state("networkidle")

    page.goto(f"{live_server.url}/claims/{claim.pk}/")
    # The delete confirmation comes from the static script, not an onsubmit attribute.
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Delete").first.click()
    page.wait_for_timeout(300)
    assert asked == ["Delete this draft?"]
    expect(page.get_by_text("Contoso pilot").first).to_be_visible()
    assert violations(errors) == []


def test_staff_pages_and_the_api_reference_under_the_policy(page, live_server, admin_user):
    errors = watch(page)
    claim = submitted_claim()
    message = OutboxMessage.objects.create(
        kind="email",
        dedupe_key="csp-browser",
        recipient="ana@example.com",
        subject="Hello",
        body_text="Hello",
        body_html='<p style="color: #dc3545">Hello</p>',
    )
    reviewer = operator_user()
    sign_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}{reverse('review:claim', args=[claim.pk])}")
    expect(page.locator("iframe.cpor-poe-preview")).to_be_visible()
    page.wait_for_load_state("networkidle")

    page.context.clear_cookies()
    sign_in(page, live_server, admin_user, password="password")
    for path, title in [
        ("/admin/", "Site administration"),
        (f"/admin/claims/claim/{claim.pk}/change/", "Django site admin"),
        (reverse("notifications:message_detail", args=[message.pk]), "Hello"),
    ]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert title in page.title(), (path, page.url)

    # Both references render the schema (Swagger UI's set-up script runs by its nonce).
    for path in ["/api/docs/", "/api/docs/redoc/"]:
        page.goto(f"{live_server.url}{path}")
        # The references render the schema in the browser: seconds on a loaded machine.
        expect(page.get_by_role("heading", name="CPOR API").first).to_be_visible(timeout=30_000)
    assert violations(errors) == []
