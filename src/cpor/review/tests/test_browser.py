"""A reviewer settles a competing claim in the browser; both partners see the outcome."""

import datetime

import pytest
from django.utils import timezone

from cpor.accounts.models import OperatorRole
from cpor.claims import services
from cpor.testing.browser import screenshot, sign_in
from cpor.testing.factories import customer_tenant, operator_user, partner_user, submitted_claim

pytestmark = pytest.mark.browser


def test_reviewer_approves_a_conflicting_claim_and_both_partners_see_it(browser, page, live_server):
    reviewer = operator_user()
    tenant = customer_tenant()
    today = timezone.localdate()
    holder_user, newcomer_user = partner_user(), partner_user()
    holder = submitted_claim(
        holder_user, tenant, signed_on=today - datetime.timedelta(days=200), name="Teams (holder)"
    )
    services.claim_approve(actor=reviewer, claim=holder)
    newcomer = submitted_claim(
        newcomer_user, tenant, signed_on=today - datetime.timedelta(days=5), name="Teams (newcomer)"
    )

    sign_in(page, live_server, reviewer)
    page.get_by_role("link", name="Review queue").first.click()
    screenshot(page, "review-queue")
    row = page.get_by_role("row").filter(has_text="Teams (newcomer)")
    assert row.get_by_text("Conflict").is_visible()
    row.get_by_role("link", name="Teams (newcomer)").click()
    assert page.get_by_text(holder.organisation.name).first.is_visible()
    assert page.get_by_text("most recent", exact=True).is_visible()
    screenshot(page, "review-conflict")
    page.get_by_role("button", name="Approve").click()
    assert page.get_by_text("The claim is approved.").is_visible()
    assert page.locator("[data-status]").inner_text() == "Approved"

    for user, claim, expected in (
        (holder_user, holder, "Superseded by another partner"),
        (newcomer_user, newcomer, "Pending customer"),
    ):
        context = browser.new_context(locale="en-GB")
        partner_page = context.new_page()
        partner_page.set_default_timeout(10_000)
        sign_in(partner_page, live_server, user)
        partner_page.goto(f"{live_server.url}/claims/{claim.pk}/")
        assert partner_page.locator("#associations").get_by_text(expected).first.is_visible()
        context.close()


def test_operator_pages_have_no_serious_accessibility_violations(page, live_server):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    claim = submitted_claim()
    admin = operator_user(OperatorRole.PROGRAM_ADMIN)
    sign_in(page, live_server, admin)
    problems = []
    for path in (
        "/review/",
        f"/review/claims/{claim.pk}/",
        "/review/admin/",
        "/review/admin/catalog/",
        f"/review/admin/catalog/engagements/{claim.role.engagement_id}/",
        "/review/admin/partners/new/",
        f"/review/admin/partners/{claim.organisation_id}/",
        "/review/admin/import/",
    ):
        page.goto(f"{live_server.url}{path}")
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(
                    (path, violation["id"], [n["html"][:120] for n in violation["nodes"]])
                )
    screenshot(page, "review-admin-import")
    assert problems == [], "\n".join(map(str, problems))
