"""The token and webhook pages in a real browser: shown once, accessible."""

import pytest

from cpor.api.models import ApiToken, WebhookEndpoint
from cpor.partners.models import PartnerRoleName
from cpor.testing.browser import screenshot, sign_in
from cpor.testing.factories import partner_user

pytestmark = pytest.mark.browser


def test_partner_makes_a_token_and_registers_a_webhook(page, live_server, settings):
    from axe_playwright_python.sync_playwright import Axe

    user = partner_user(PartnerRoleName.PARTNER_ADMIN)
    sign_in(page, live_server, user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    page.get_by_label("Token name").fill("CRM integration")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text()
    assert token.startswith("cpor_")
    assert ApiToken.objects.get(user=user).name == "CRM integration"
    screenshot(page, "api-tokens")
    problems = [
        (v["id"], [n["html"][:150] for n in v["nodes"]])
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]

    page.get_by_role("link", name="Webhooks").first.click()
    page.get_by_label("Endpoint URL").fill("https://crm.example/cpor")
    page.get_by_role("button", name="Add endpoint").click()
    assert page.locator("#new-secret").inner_text().startswith("whsec_")
    assert WebhookEndpoint.objects.get().url == "https://crm.example/cpor"
    screenshot(page, "api-webhooks")
    problems += [
        (v["id"], [n["html"][:150] for n in v["nodes"]])
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not problems, problems

    page.goto(f"{live_server.url}/api/tokens/")
    assert token not in page.content()
    page.get_by_role("button", name="Revoke CRM integration").click()
    assert ApiToken.objects.get(user=user).revoked_at is not None
