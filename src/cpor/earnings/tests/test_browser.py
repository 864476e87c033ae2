"""The earnings pages in a real browser: a partner on a phone in Portuguese, a program
admin keeping rate cards; no page wider than the screen, no serious accessibility issue."""

import datetime

import pytest
from playwright.sync_api import expect

from cpor.earnings.models import RateCard
from cpor.testing.browser import current_totp_code, screenshot
from cpor.testing.factories import PASSWORD

# Live-server tests flush the database afterwards: seeded_catalog lets SQLite do it and
# puts the catalog back.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("seeded_catalog")]


@pytest.fixture(autouse=True)
def _in_2026(monkeypatch):
    from cpor.earnings import selectors
    from cpor.usage import selectors as usage_selectors

    real = usage_selectors.month_window
    monkeypatch.setattr(
        selectors, "month_window", lambda n, today=None: real(n, datetime.date(2026, 4, 20))
    )


def serious_violations(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    return [
        (violation["id"], [node["html"][:120] for node in violation["nodes"]])
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def sign_in(page, live_server, user) -> None:
    """Through the real form in any language (Enter submits it), with the second factor
    when the role needs one."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("[name=login]").fill(user.email)
    page.locator("[name=password]").fill(PASSWORD)
    page.locator("[name=password]").press("Enter")
    page.wait_for_load_state()
    if "/accounts/2fa/authenticate/" in page.url:
        page.locator("[name=code]").fill(current_totp_code(user))
        page.locator("[name=code]").press("Enter")
        page.wait_for_load_state()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_partner_reads_estimates_on_a_phone_in_portuguese(browser, live_server, people, book):
    context = browser.new_context(locale="pt-PT", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        people.partner.language = "pt-pt"
        people.partner.save(update_fields=["language"])
        sign_in(page, live_server, people.partner)
        page.goto(f"{live_server.url}/earnings/?months=6")
        expect(page.get_by_role("heading", name="Estimativas de ganhos")).to_be_visible()
        expect(page.locator("#earnings-total")).to_have_text("1.249,68 EUR")
        expect(page.get_by_role("img", name="Ganhos estimados por mês (EUR)")).to_be_visible()
        assert fits_the_screen(page)
        assert serious_violations(page) == []
        screenshot(page, "earnings-partner-phone")
        page.get_by_role("link", name="Contoso Earnings · Microsoft Teams").click()
        expect(page.get_by_role("cell", name="17/31")).to_be_visible()
        expect(page.locator("#association-total")).to_have_text("709,68 EUR")
        assert fits_the_screen(page)
        assert serious_violations(page) == []
    finally:
        context.close()


def test_program_admin_keeps_a_rate_card(page, live_server, people, book):
    sign_in(page, live_server, people.program_admin)
    page.get_by_role("link", name="Rate cards").click()
    expect(page.get_by_role("heading", name="Rate cards", exact=True)).to_be_visible()
    page.get_by_role("link", name="Add a rate card").click()
    page.get_by_label("Engagement").select_option(label="Modern Work and Security Usage")
    page.get_by_label("Effective from").fill("2026-05-01")
    page.get_by_label("Incentive base").select_option("pau")
    page.get_by_label("Rate per unit").fill("-2")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_rate_error")).to_have_text("The rate cannot be negative.")
    assert serious_violations(page) == []
    page.get_by_label("Rate per unit").fill("2.5")
    page.get_by_label("Volume Licensing").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Rate card saved.")).to_be_visible()
    expect(page.get_by_role("link", name="May 1, 2026 \u2013 \u2026")).to_be_visible()
    assert RateCard.objects.filter(effective_from=datetime.date(2026, 5, 1)).exists()
    screenshot(page, "earnings-rate-cards")
    page.get_by_role("link", name="Estimated liability").first.click()
    expect(page.get_by_role("heading", name="Estimated liability")).to_be_visible()
    assert serious_violations(page) == []
