import time

import pytest
from playwright.sync_api import expect

from cpor.testing.browser import screenshot, sign_in
from cpor.testing.factories import PASSWORD, partner_user

pytestmark = pytest.mark.browser


def test_partner_signs_in_and_sees_the_role_guide(page, live_server):
    user = partner_user()
    sign_in(page, live_server, user)
    assert page.get_by_text(user.email).is_visible()
    assert page.get_by_role("rowheader", name="Use or consume").is_visible()
    screenshot(page, "home")


def test_partner_turns_on_two_factor_authentication(page, live_server, settings):
    from cpor.web.tests.test_accounts import totp_code

    # Accept the next 30-second code too, so the second sign-in need not wait for it.
    settings.MFA_TOTP_TOLERANCE = 1

    user = partner_user()
    sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/accounts/2fa/totp/activate/")
    if page.get_by_label("Password").count():  # allauth asks to confirm the password first
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text("Authenticator app activated.")).to_be_visible()
    page.goto(f"{live_server.url}/accounts/2fa/")
    screenshot(page, "account-two-factor")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, user)
    assert page.get_by_label("Code").is_visible()
    page.get_by_label("Code").fill(totp_code(secret, time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    assert page.get_by_role("link", name=user.email).is_visible()
