"""Playwright fixtures driving Debian's chromium (no browser download).

Use ``page`` with pytest-django's ``live_server``; ``sign_in(page, live_server, user)``
signs a user in through the real form. Screenshots go to ``var/screenshots/``
(``docs/screenshots/`` with ``make screenshots``).
"""

import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[3]
# Tests keep their screenshots under var/, so a test run leaves the tree as it was;
# `make screenshots` sets CPOR_SCREENSHOTS_DIR=docs/screenshots for the README's pictures.
SCREENSHOTS = ROOT / os.environ.get("CPOR_SCREENSHOTS_DIR", "var/screenshots")
# Chromium started without these tries to reach Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make chromium` (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the live server's database
    # work happens in its own threads, so Django's async guard does not apply here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, seeded_catalog):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, live_server, user, password: str | None = None) -> None:
    """Through the real form, in whatever language the page is in, with or without
    JavaScript; users whose role needs MFA type their authenticator's code next."""
    from cpor.testing.factories import PASSWORD

    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("[name=login]").fill(user.email)
    page.locator("[name=password]").fill(password or PASSWORD)
    page.locator("main form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()
    if "/accounts/2fa/authenticate/" in page.url:
        # Users whose role needs MFA have an authenticator app (factories.enrol_second_factor).
        page.locator("[name=code]").fill(current_totp_code(user))
        page.locator("form[action$='/2fa/authenticate/'] button[type=submit]").click()
        page.wait_for_load_state()


# A code typed this close to the end of its 30 s period may reach the server in the
# next one, where it is refused (no tolerance): wait for the next period instead.
TOTP_MARGIN_SECONDS = 5


def current_totp_code(user) -> str:
    """The code the user's authenticator app shows now, with at least
    ``TOTP_MARGIN_SECONDS`` of its period left to type it in."""
    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.models import Authenticator

    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return totp_code(get_adapter().decrypt(authenticator.data["secret"]))


def totp_code(secret: str) -> str:
    """The code of the TOTP ``secret`` now, with at least ``TOTP_MARGIN_SECONDS`` of its
    period left to type it in."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    left = 30 - time.time() % 30
    if left < TOTP_MARGIN_SECONDS:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))
