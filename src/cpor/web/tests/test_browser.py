import time

import pytest
from playwright.sync_api import expect

from cpor.testing.browser import screenshot, sign_in
from cpor.testing.factories import PASSWORD, partner_user

pytestmark = pytest.mark.browser


def test_partner_signs_in_and_sees_the_role_guide(page, live_server):
    user = partner_user()
    sign_in(page, live_server, user)
    expect(page.get_by_label(f"Account: {user.email}")).to_be_visible()
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
    page.locator(".cpor-user-menu > summary").click()
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail", exact=True).fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()
    assert page.get_by_label("Code").is_visible()
    page.get_by_label("Code").fill(totp_code(secret, time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_label(f"Account: {user.email}")).to_be_visible()


def _sign_in_demo(page, live_server, email: str) -> None:
    from cpor.web.demo import DEMO_PASSWORD

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()


def _phone_screenshot(page, name: str) -> None:
    """What a phone shows first (a whole phone-width list would be a very long picture)."""
    from cpor.testing.browser import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_shell_at_desktop_and_phone_width(page, live_server):
    """The README's pictures of the shell: left navigation at 1366 px, the menu button and
    its offcanvas at 390 px, the wizard's stepper and summary, the customer's start page."""
    from cpor.web.demo import seed_demo

    seed_demo()
    page.set_default_timeout(30_000)
    page.set_viewport_size({"width": 1366, "height": 900})
    _sign_in_demo(page, live_server, "incentives@lisbon-cloud.example")
    page.goto(f"{live_server.url}/claims/")
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Customer claims")).to_have_attribute(
        "aria-current", "page"
    )
    identity = page.get_by_text("Lisbon Cloud Partners · Incentives administrator")
    expect(identity.first).to_be_visible()  # in the top bar; the user menu repeats it
    assert _overflow(page) <= 0
    screenshot(page, "shell-desktop-claims")
    page.get_by_role("link", name="Add customer · Business Applications").click()
    expect(page.get_by_text("Step 2 of 6")).to_be_visible()
    screenshot(page, "shell-desktop-wizard")

    page.set_viewport_size({"width": 390, "height": 844})
    expect(navigation).to_be_hidden()
    assert _overflow(page) <= 0
    _phone_screenshot(page, "shell-phone-wizard")
    page.goto(f"{live_server.url}/claims/")
    assert _overflow(page) <= 0
    _phone_screenshot(page, "shell-phone-claims")
    page.get_by_role("button", name="Menu").click()
    expect(navigation.get_by_role("link", name="Customer usage")).to_be_visible()
    page.wait_for_timeout(500)  # the menu slides in
    _phone_screenshot(page, "shell-phone-menu")

    page.get_by_role("button", name="Close").click()
    page.locator(".cpor-user-menu > summary").click()  # a <details>: opens without script
    page.get_by_role("button", name="Sign out").click()
    _sign_in_demo(page, live_server, "it-admin@contoso-retail.example")
    assert page.url.endswith("/customer/")  # the customer's own start page
    expect(page.get_by_role("heading", level=1)).to_contain_text("Partners of record")
    assert _overflow(page) <= 0
    _phone_screenshot(page, "shell-phone-customer")


def test_navigation_and_user_menu_work_without_javascript_on_a_phone(
    browser, live_server, seeded_catalog
):
    user = partner_user()
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("E-mail", exact=True).fill(user.email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in", exact=True).click()
        # No script to open the offcanvas: the navigation is shown above the content.
        navigation = page.get_by_role("navigation", name="Main")
        expect(navigation.get_by_role("link", name="Customer claims")).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        page.locator(".cpor-user-menu > summary").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        assert _overflow(page) <= 0
    finally:
        context.close()
