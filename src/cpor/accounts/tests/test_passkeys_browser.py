"""Passkeys in a real browser: Chromium's virtual authenticator (DevTools protocol,
``WebAuthn.addVirtualAuthenticator``) stands in for a phone or security key. A reviewer
who must use MFA enrols a passkey at the enrolment page they are sent to, then signs in
with it alone."""

import pytest
from playwright.sync_api import expect

from cpor.accounts.models import OperatorRole
from cpor.testing.browser import screenshot, sign_in
from cpor.testing.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.browser


def virtual_authenticator(page) -> None:
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_reviewer_enrols_a_passkey_then_signs_in_with_it(page, live_server):
    reviewer = UserFactory(operator_role=OperatorRole.REVIEWER, second_factor=False)
    virtual_authenticator(page)

    sign_in(page, live_server, reviewer)
    # Nothing else opens before enrolment.
    page.goto(f"{live_server.url}/review/")
    assert page.url == f"{live_server.url}/accounts/2fa/"
    expect(page.get_by_text("Your role requires two-factor authentication")).to_be_visible()

    page.goto(f"{live_server.url}/accounts/2fa/webauthn/add/")
    if page.get_by_label("Password").count():  # allauth asks to confirm the password first
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Name").fill("Laptop")
    page.get_by_label("Passwordless").check()
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "passkey-add-390")
    # The button runs the WebAuthn ceremony in script, then posts the form: wait for
    # that post's answer, not for the page that was already loaded.
    with page.expect_navigation():
        page.get_by_role("button", name="Add").click()
    assert reviewer.authenticator_set.filter(type="webauthn").exists()

    page.goto(f"{live_server.url}/review/")
    assert page.url == f"{live_server.url}/review/"

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/review/")
    assert page.url == f"{live_server.url}/review/"
